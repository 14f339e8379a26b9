package backend

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/stampede-load/stampede/chaos/adminapi"
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
type FieldError = adminapi.FieldError

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
