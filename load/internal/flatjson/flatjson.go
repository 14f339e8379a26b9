package flatjson

import (
	"bytes"
	"strconv"
)

// Field is a field Scan looks for: a string or a number, by exact
// key.
type Field struct {
	Key string
	Str *string   // the field is a string: where it goes
	Num **float64 // the field is a number: where it goes
}

// Scan decodes a JSON object whose values are plain ASCII strings (no
// escapes), numbers and, under keys it does not look for, arrays of those,
// into fields, as encoding/json would decode it into a
// struct with those fields: unknown keys are skipped, a repeated key keeps
// its last value. It reports false, with fields possibly half filled, for
// anything else (objects, escapes, non-ASCII, literals, a key that differs
// from a field's only in case, a value of the wrong type, bad syntax); the
// caller then decodes with encoding/json. It is the hot path of every
// answer and token the clients read: the targets' answers are flat.
func Scan(b []byte, fields []Field) bool {
	i := skipSpace(b, 0)
	if i == len(b) || b[i] != '{' {
		return false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return skipSpace(b, i+1) == len(b)
	}
	for {
		key, next, ok := plainString(b, i)
		if !ok {
			return false
		}
		i = skipSpace(b, next)
		if i == len(b) || b[i] != ':' {
			return false
		}
		i = skipSpace(b, i+1)
		if i == len(b) {
			return false
		}
		f := matchField(fields, key)
		if f == nil && foldMatch(fields, key) {
			return false // encoding/json matches keys regardless of case
		}
		if b[i] == '[' {
			// An array of plain strings and numbers, skipped under a key
			// that is no field's (a JWT's fva, aud).
			next, ok := skipFlatArray(b, i)
			if !ok || f != nil {
				return false
			}
			i = next
		} else if b[i] == '"' {
			val, next, ok := plainString(b, i)
			if !ok || f != nil && f.Str == nil {
				return false
			}
			if f != nil {
				*f.Str = string(val)
			}
			i = next
		} else {
			end := numberEnd(b, i)
			if !validNumber(b[i:end]) || f != nil && f.Num == nil {
				return false
			}
			if f != nil {
				v, err := strconv.ParseFloat(string(b[i:end]), 64)
				if err != nil {
					return false // out of range: encoding/json fails too, let it say so
				}
				*f.Num = &v
			}
			i = end
		}
		i = skipSpace(b, i)
		if i == len(b) {
			return false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return skipSpace(b, i+1) == len(b)
		default:
			return false
		}
	}
}

// skipFlatArray skips the array starting at b[i] ('['), of plain strings
// and JSON numbers only, returning the index after it.
func skipFlatArray(b []byte, i int) (int, bool) {
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, true
	}
	for i < len(b) {
		if b[i] == '"' {
			_, next, ok := plainString(b, i)
			if !ok {
				return 0, false
			}
			i = next
		} else {
			end := numberEnd(b, i)
			if !validNumber(b[i:end]) {
				return 0, false
			}
			i = end
		}
		i = skipSpace(b, i)
		if i == len(b) {
			return 0, false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case ']':
			return i + 1, true
		default:
			return 0, false
		}
	}
	return 0, false
}

// numberEnd is the index after the run of number characters from b[i].
func numberEnd(b []byte, i int) int {
	for i < len(b) && (b[i] >= '0' && b[i] <= '9' || b[i] == '-' || b[i] == '+' || b[i] == '.' || b[i] == 'e' || b[i] == 'E') {
		i++
	}
	return i
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// plainString reads the string starting at b[i] (a quote): printable ASCII
// without escapes. It returns its contents and the index after it.
func plainString(b []byte, i int) ([]byte, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, 0, false
	}
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return b[i+1 : j], j + 1, true
		case c == '\\' || c < 0x20 || c >= 0x80:
			return nil, 0, false
		}
	}
	return nil, 0, false
}

// validNumber reports whether s is a JSON number.
func validNumber(s []byte) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	return i == len(s)
}

func matchField(fields []Field, key []byte) *Field {
	for k := range fields {
		if string(key) == fields[k].Key {
			return &fields[k]
		}
	}
	return nil
}

func foldMatch(fields []Field, key []byte) bool {
	for k := range fields {
		if bytes.EqualFold(key, []byte(fields[k].Key)) {
			return true
		}
	}
	return false
}
