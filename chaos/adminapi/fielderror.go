package adminapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// FieldError reports an invalid field of Faults, Rotation or the backend's
// Config: a value out of range, a value of the wrong JSON type, or an
// unknown JSON field (Field empty).
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
		return "backend: " + e.Type + ": " + e.WireMessage()
	}
	s := "backend: " + e.Type + "." + e.Field
	if e.JSONField != "" {
		s += " (" + e.JSONField + ")"
	}
	return s + " " + e.Problem
}

// WireMessage is the message in a 400 answer: it names the JSON field.
func (e *FieldError) WireMessage() string {
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
