package load

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/stampede-load/stampede/profiles"
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

// FuzzScanFlat: whatever scanFlat accepts, encoding/json accepts too and
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
			t.Fatalf("scanFlat accepted %q, encoding/json refuses it: %v", b, err)
		}
		if fast.JWT != std.JWT || (fast.Exp == nil) != (std.Exp == nil) || fast.Exp != nil && *fast.Exp != *std.Exp {
			t.Fatalf("%q: scanFlat %+v, encoding/json %+v", b, fast, std)
		}
	})
}

// TestEmbeddedBackendAnswersTakeTheFlatPath: the embedded backend's refresh
// answers and JWT payloads are what scanFlat decodes, so the clients' hot
// path skips encoding/json.
func TestEmbeddedBackendAnswersTakeTheFlatPath(t *testing.T) {
	be := newBackend(t, profiles.Default())
	f := &FAPI{Base: "http://backend.test", Client: &http.Client{Transport: handlerTransport{be}}}
	cr, o := f.SignIn(context.Background(), "flat")
	if o.Class != ClassOK {
		t.Fatalf("sign-in: %+v", o)
	}
	req, _ := http.NewRequest(http.MethodPost, "http://backend.test/v1/client/sessions/"+cr.SessionID+"/tokens", nil)
	req.Header.Set("Authorization", "Bearer "+cr.ClientToken)
	resp, err := f.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var ans tokenAnswer
	if !ans.decodeFlat(body) || ans.JWT == "" {
		t.Fatalf("the refresh answer did not take the flat path: %d bytes", len(body))
	}
	parts := strings.Split(ans.JWT, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var exp, iat *float64
	if !scanFlat(payload, []flatField{{key: "exp", num: &exp}, {key: "iat", num: &iat}}) || exp == nil || iat == nil {
		t.Fatalf("the JWT payload did not take the flat path (claims %s)", claimNames(payload))
	}
}

// claimNames lists a JWT payload's claim names, never their values.
func claimNames(payload []byte) []string {
	var m map[string]json.RawMessage
	_ = json.Unmarshal(payload, &m)
	return slices.Sorted(maps.Keys(m))
}
