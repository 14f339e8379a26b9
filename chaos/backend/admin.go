package backend

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// rotateRequest is the optional body of POST /admin/keys/rotate.
type rotateRequest struct {
	KeepPrevious bool `json:"keep_previous"`
}

// revokeFractionRequest is the body of POST /admin/revoke.
type revokeFractionRequest struct {
	Fraction *float64 `json:"fraction"`
}

// Revoke sets session sid to revoked if it is active; sessions in another
// status keep it. The error wraps ErrSessionNotFound for an unknown sid.
func (b *Backend) Revoke(sid string) error {
	if _, err := b.sessions.setStatus(sid, SessionRevoked, b.cfg.Now()); err != nil {
		return fmt.Errorf("backend: revoke: %w", err)
	}
	return nil
}

// Remove sets session sid to removed, whatever its status. The error wraps
// ErrSessionNotFound for an unknown sid.
func (b *Backend) Remove(sid string) error {
	if _, err := b.sessions.setStatus(sid, SessionRemoved, b.cfg.Now()); err != nil {
		return fmt.Errorf("backend: remove: %w", err)
	}
	return nil
}

// RevokeFraction revokes round(fraction × active sessions), chosen at random,
// and returns how many it revoked. fraction must be within [0,1].
func (b *Backend) RevokeFraction(fraction float64) (int, error) {
	if !(fraction >= 0 && fraction <= 1) { // also rejects NaN
		return 0, fmt.Errorf("backend: fraction must be within [0,1], got %v", fraction)
	}
	return b.sessions.revokeFraction(fraction, b.cfg.Now()), nil
}

// handleRotate rotates the signing key and returns the new kid.
func (b *Backend) handleRotate(w http.ResponseWriter, r *http.Request, _ string) {
	var req rotateRequest
	if !readJSON(w, r, &req) {
		return
	}
	kid, err := b.keys.rotateKeys(req.KeepPrevious)
	if err != nil {
		writeError(w, http.StatusInternalServerError, CodeInternal, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"kid": kid})
}

// handleRevoke revokes one session.
func (b *Backend) handleRevoke(w http.ResponseWriter, r *http.Request, sid string) {
	b.adminSetStatus(w, r, sid, SessionRevoked)
}

// handleRemove removes one session.
func (b *Backend) handleRemove(w http.ResponseWriter, r *http.Request, sid string) {
	b.adminSetStatus(w, r, sid, SessionRemoved)
}

// adminSetStatus applies status to session sid and returns the session.
func (b *Backend) adminSetStatus(w http.ResponseWriter, r *http.Request, sid, status string) {
	if _, ok := readBody(w, r); !ok {
		return
	}
	view, err := b.sessions.setStatus(sid, status, b.cfg.Now())
	if err != nil {
		writeError(w, http.StatusNotFound, CodeSessionNotFound, "session "+sid+" not found")
		return
	}
	writeJSON(w, http.StatusOK, view.json())
}

// handleRevokeFraction revokes a share of the active sessions.
func (b *Backend) handleRevokeFraction(w http.ResponseWriter, r *http.Request, _ string) {
	var req revokeFractionRequest
	if !readJSON(w, r, &req) {
		return
	}
	if req.Fraction == nil {
		writeError(w, http.StatusBadRequest, CodeInvalidRequest, "fraction is required, a number within [0,1]")
		return
	}
	n, err := b.RevokeFraction(*req.Fraction)
	if err != nil {
		writeError(w, http.StatusBadRequest, CodeInvalidRequest,
			"fraction must be within [0,1], got "+strconv.FormatFloat(*req.Fraction, 'g', -1, 64))
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"revoked": n})
}

// KeyID returns the kid of the key that signs new session tokens, as
// POST /admin/keys/rotate reports it.
func (b *Backend) KeyID() string {
	return b.keys.load().signing.kid
}

// FieldError reports an invalid field of Faults, Rotation or Config: a
// value out of range, a value of the wrong JSON type, or an unknown JSON
// field (Field empty).
type FieldError struct {
	// Type is the settings type: "Faults", "Rotation" or "Config".
	Type string
	// Field is the Go field name ("Rate429"); empty for an unknown field.
	Field string
	// JSONField is the JSON name ("rate_429"), or the unknown name.
	JSONField string
	// Problem says what is wrong and what is allowed.
	Problem string
}

// Error returns "backend: Faults.Rate429 (rate_429) must be within [0,1],
// got 1.5" or, for an unknown field, "backend: Faults: unknown field
// "foo"; allowed: ...".
func (e *FieldError) Error() string {
	if e.Field == "" {
		return "backend: " + e.Type + ": " + e.wireMessage()
	}
	s := "backend: " + e.Type + "." + e.Field
	if e.JSONField != "" {
		s += " (" + e.JSONField + ")"
	}
	return s + " " + e.Problem
}

// wireMessage is the message in a 400 answer: it names the JSON field.
func (e *FieldError) wireMessage() string {
	if e.Field == "" {
		return "unknown field " + strconv.Quote(e.JSONField) + "; " + e.Problem
	}
	return e.JSONField + " " + e.Problem
}

// negativeDuration returns the error for a negative duration field.
func negativeDuration(typ, goName, jsonName string, d time.Duration) *FieldError {
	return &FieldError{Type: typ, Field: goName, JSONField: jsonName, Problem: "must not be negative, got " + d.String()}
}

// quoteRaw shortens a raw JSON value for an error message.
func quoteRaw(raw json.RawMessage) string {
	const max = 40
	if len(raw) > max {
		return string(raw[:max]) + "..."
	}
	return string(raw)
}

// decodeObject decodes a JSON object into its members, rejecting names not
// in known with a *FieldError. null gives nil members and no error.
func decodeObject(data []byte, typ string, known []string) (map[string]json.RawMessage, error) {
	data = bytes.TrimSpace(data)
	if string(data) == "null" {
		return nil, nil
	}
	var members map[string]json.RawMessage
	if len(data) == 0 || data[0] != '{' || json.Unmarshal(data, &members) != nil {
		return nil, fmt.Errorf("backend: %s must be a JSON object with the fields %s, got %s",
			typ, strings.Join(known, ", "), quoteRaw(data))
	}
	for _, name := range slices.Sorted(maps.Keys(members)) {
		if !slices.Contains(known, name) {
			return nil, &FieldError{Type: typ, JSONField: name, Problem: "allowed: " + strings.Join(known, ", ")}
		}
	}
	return members, nil
}

// isNull reports whether raw is the JSON null.
func isNull(raw json.RawMessage) bool {
	return string(bytes.TrimSpace(raw)) == "null"
}

// decodeDuration decodes a Go duration string; null is 0.
func decodeDuration(typ, goName, jsonName string, raw json.RawMessage) (time.Duration, error) {
	if isNull(raw) {
		return 0, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return 0, &FieldError{Type: typ, Field: goName, JSONField: jsonName,
			Problem: `must be a duration string such as "300ms" or "2s", got ` + quoteRaw(raw)}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, &FieldError{Type: typ, Field: goName, JSONField: jsonName,
			Problem: `must be a duration such as "300ms" or "2s", got ` + strconv.Quote(s)}
	}
	return d, nil
}

// decodeRate decodes a JSON number; null is 0. The range is checked later.
func decodeRate(typ, goName, jsonName string, raw json.RawMessage) (float64, error) {
	var v float64
	if err := json.Unmarshal(raw, &v); err != nil {
		return 0, &FieldError{Type: typ, Field: goName, JSONField: jsonName,
			Problem: "must be a number within [0,1], got " + quoteRaw(raw)}
	}
	return v, nil
}

// decodeBool decodes a JSON boolean; null is false.
func decodeBool(typ, goName, jsonName string, raw json.RawMessage) (bool, error) {
	var v bool
	if err := json.Unmarshal(raw, &v); err != nil {
		return false, &FieldError{Type: typ, Field: goName, JSONField: jsonName,
			Problem: "must be true or false, got " + quoteRaw(raw)}
	}
	return v, nil
}

// readSettings decodes the required JSON body of a settings PUT into v. On
// failure it writes a 400 invalid_request answer naming the field and
// returns false.
func readSettings(w http.ResponseWriter, r *http.Request, v json.Unmarshaler, what string) bool {
	body, ok := readBody(w, r)
	if !ok {
		return false
	}
	if len(bytes.TrimSpace(body)) == 0 {
		writeError(w, http.StatusBadRequest, CodeInvalidRequest, "a JSON body with the "+what+" is required; {} for none")
		return false
	}
	if !json.Valid(body) {
		writeError(w, http.StatusBadRequest, CodeInvalidRequest, "malformed JSON body for the "+what)
		return false
	}
	if err := v.UnmarshalJSON(body); err != nil {
		if _, ok := errors.AsType[*FieldError](err); ok {
			writeFieldError(w, what, err)
		} else {
			writeError(w, http.StatusBadRequest, CodeInvalidRequest, "invalid "+what+": "+strings.TrimPrefix(err.Error(), "backend: "))
		}
		return false
	}
	return true
}
