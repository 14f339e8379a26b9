package flatjson

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
	ok := Scan(b, []Field{{Key: "jwt", Str: &p.JWT}, {Key: "exp", Num: &p.Exp}})
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
		{in: `{"fva":[0,-1],"aud":["a", "b"],"x":[],"exp":3}`, ok: true, exp: 3},
		{in: `{"exp":[1]}`},                                            // an array where a field is
		{in: `{"fva":[[0]]}`}, {in: `{"fva":[0,]}`}, {in: `{"fva":[0`}, // nested, trailing comma, cut short
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

// FuzzScanFlat: whatever Scan accepts, encoding/json accepts too and
// decodes to the same values.
func FuzzScanFlat(f *testing.F) {
	for _, s := range []string{`{"jwt":"a.b.c","exp":1700000000.5}`, `{"exp":-0.0e+1}`, `{"Jwt":"x"}`, `{"a":"b","jwt":"c"}`, `{}`, `{"fva":[1,-1],"aud":["x"],"exp":2}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fast, ok := scanProbe(b)
		if !ok {
			return
		}
		var std flatProbe
		if err := json.Unmarshal(b, &std); err != nil {
			t.Fatalf("Scan accepted %q, encoding/json refuses it: %v", b, err)
		}
		if fast.JWT != std.JWT || (fast.Exp == nil) != (std.Exp == nil) || fast.Exp != nil && *fast.Exp != *std.Exp {
			t.Fatalf("%q: Scan %+v, encoding/json %+v", b, fast, std)
		}
	})
}

// benchAnswer is a token answer as the embedded backend sends it.
var benchAnswer = []byte(`{"object":"token","jwt":"eyJhbGciOiJFZERTQSIsImtpZCI6ImsxIiwidHlwIjoiSldUIn0.eyJleHAiOjE3OTY2NDQwMDAsImlhdCI6MTc5NjY0Mzk0MCwic3ViIjoidXNlcl8xIn0.c2lnbmF0dXJl","client_token":"ct_0123456789abcdef0123456789abcdef","expires_in":60,"scopes":["openid","profile"]}`)

// BenchmarkScan decodes a token answer's two string fields with Scan.
func BenchmarkScan(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		var jwt, ct string
		if !Scan(benchAnswer, []Field{{Key: "jwt", Str: &jwt}, {Key: "client_token", Str: &ct}}) {
			b.Fatal("not flat")
		}
	}
}

// BenchmarkEncodingJSON decodes the same answer into a struct with
// encoding/json, as the targets would without Scan.
func BenchmarkEncodingJSON(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		var a struct {
			JWT         string `json:"jwt"`
			ClientToken string `json:"client_token"`
		}
		if err := json.Unmarshal(benchAnswer, &a); err != nil {
			b.Fatal(err)
		}
	}
}
