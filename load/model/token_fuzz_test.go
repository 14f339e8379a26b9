package model

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

// maxSaneExp is 9999-12-31T23:59:59Z in seconds: the exp claims within
// [0, maxSaneExp] must map to that very second.
const maxSaneExp = 253402300799

// FuzzParseTokenTimes holds ParseTokenTimes to its contract on any string
// a target may send as a token: no panic; an error leaves TokenTimes zero;
// success means the payload has a numeric exp within years 1970..9999, read
// to the second it names (rounded to the millisecond), so a past exp stays
// in the past and a future one in the future; any other exp is an error.
func FuzzParseTokenTimes(f *testing.F) {
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	header := enc(`{"alg":"RS256","typ":"JWT","kid":"k1"}`)
	for _, payload := range []string{
		`{"sub":"user_1","sid":"sess_1","iat":1700000000.123,"nbf":1700000000,"exp":1700000060.25}`,
		`{"exp":1700000060}`, `{"exp":0}`, `{"exp":-1}`, `{"exp":1}`, `{"exp":253402300799.9996}`,
		`{"exp":1e300}`, `{"exp":-1e300}`, `{"exp":9.3e18}`, `{"exp":1700000060,"iat":1e19}`,
		`{"exp":null}`, `{"exp":"1700000060"}`, `{}`, `[]`, `null`, `{"exp":1,"exp":2}`,
	} {
		f.Add(header + "." + enc(payload) + ".c2ln")
	}
	f.Add(enc(`{"alg":"none"}`) + "." + enc(`{"exp":1700000060}`) + ".")
	f.Add(header + "." + base64.URLEncoding.EncodeToString([]byte(`{"exp":1700000060}`)) + ".sig")
	for _, s := range []string{"", ".", "..", "a.b", "opaque-client-token", header + ".!!!.sig", "x.=.y", "x.e30.y.z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, jwt string) {
		tt, err := ParseTokenTimes(jwt)
		if err != nil {
			if tt != (TokenTimes{}) || err.Error() == "" {
				t.Fatalf("%q: error %v with times %+v", jwt, err, tt)
			}
			return
		}
		exp, ok := refExp(jwt)
		if !ok {
			t.Fatalf("%q: accepted without a numeric exp: %+v", jwt, tt)
		}
		if !(exp >= 0 && exp < maxSaneExp+1) {
			t.Fatalf("%q: exp %v outside 1970..9999 accepted as %v", jwt, exp, tt.ExpiresAt)
		}
		if exp >= 0 && exp <= maxSaneExp {
			sec := math.Floor(exp)
			want := time.Unix(int64(sec), int64(math.Round((exp-sec)*1e3))*int64(time.Millisecond))
			if d := tt.ExpiresAt.Sub(want); d < -time.Millisecond || d > time.Millisecond {
				t.Fatalf("%q: exp %v read as %v, want %v", jwt, exp, tt.ExpiresAt, want)
			}
		}
	})
}

// refExp reads exp from a JWT's payload the plain way, for comparison.
func refExp(jwt string) (float64, bool) {
	parts := strings.SplitN(jwt, ".", 3)
	if len(parts) < 3 {
		return 0, false
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return 0, false
	}
	var c struct {
		Exp *float64 `json:"exp"`
	}
	if json.Unmarshal(b, &c) != nil || c.Exp == nil {
		return 0, false
	}
	return *c.Exp, true
}
