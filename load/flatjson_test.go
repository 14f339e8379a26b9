package load

import (
	"encoding/json"
	"testing"
)

// flatProbe is what FuzzScanFlat compares: strings and numbers, as both
// decoders fill them.
type flatProbe struct {
	JWT string   `json:"jwt"`
	Exp *float64 `json:"exp"`
}

func scanProbe(b []byte) (flatProbe, bool) {
	var p flatProbe
	ok := scanFlat(b, []flatField{{key: "jwt", str: &p.JWT}, {key: "exp", num: &p.Exp}})
	return p, ok
}

func TestScanFlat(t *testing.T) {
	for _, tc := range []struct {
		in   string
		ok   bool
		jwt  string
		exp  float64
		none bool // exp absent
	}{
		{in: `{"jwt":"a.b.c","exp":1700000000.5,"client_token":"ct"}`, ok: true, jwt: "a.b.c", exp: 1700000000.5},
		{in: " {\n\"exp\" : -1e3 , \"jwt\":\"\"}\t", ok: true, exp: -1000},
		{in: `{}`, ok: true, none: true},
		{in: `{"jwt":"x","jwt":"y","exp":1,"exp":2}`, ok: true, jwt: "y", exp: 2},
		{in: `{"jwt":"a\u0062"}`},              // escapes: encoding/json decides
		{in: `{"JWT":"a"}`},                    // another case of a field's key
		{in: `{"jwt":"é"}`},                    // non-ASCII
		{in: `{"jwt":1}`},                      // wrong type
		{in: `{"exp":"1"}`},                    // wrong type
		{in: `{"jwt":null}`},                   // literals
		{in: `{"session":{"id":"s"}}`},         // nesting
		{in: `{"exp":01}`}, {in: `{"exp":1.}`}, // not JSON numbers
		{in: `{"exp":1e999}`},                     // out of range
		{in: `{"jwt":"a"} x`}, {in: `{"jwt":"a"`}, // trailing data, cut short
		{in: `{"jwt":"a",}`}, {in: `[]`}, {in: ``},
	} {
		p, ok := scanProbe([]byte(tc.in))
		if ok != tc.ok {
			t.Errorf("%q: ok = %v, want %v", tc.in, ok, tc.ok)
			continue
		}
		if !ok {
			continue
		}
		if p.JWT != tc.jwt || tc.none != (p.Exp == nil) || p.Exp != nil && *p.Exp != tc.exp {
			t.Errorf("%q: got %+v", tc.in, p)
		}
	}
}

// FuzzScanFlat: whatever scanFlat accepts, encoding/json accepts too and
// decodes to the same values.
func FuzzScanFlat(f *testing.F) {
	for _, s := range []string{`{"jwt":"a.b.c","exp":1700000000.5}`, `{"exp":-0.0e+1}`, `{"Jwt":"x"}`, `{"a":"b","jwt":"c"}`, `{}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fast, ok := scanProbe(b)
		if !ok {
			return
		}
		var std flatProbe
		if err := json.Unmarshal(b, &std); err != nil {
			t.Fatalf("scanFlat accepted %q, encoding/json refuses it: %v", b, err)
		}
		if fast.JWT != std.JWT || (fast.Exp == nil) != (std.Exp == nil) || fast.Exp != nil && *fast.Exp != *std.Exp {
			t.Fatalf("%q: scanFlat %+v, encoding/json %+v", b, fast, std)
		}
	})
}
