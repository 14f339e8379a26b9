package model

import (
	"encoding/base64"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestParseTokenTimes(t *testing.T) {
	enc := base64.RawURLEncoding.EncodeToString
	header := enc([]byte(`{"alg":"RS256","typ":"JWT"}`))
	ms := time.Millisecond
	cases := []struct {
		name    string
		jwt     string
		iat     time.Time // zero when the token has none
		exp     time.Time
		wantErr string // substring of the error; "" for success
	}{
		{name: "integer claims",
			jwt: cmJWTPayload(`{"sub":"user_1","sid":"sess_1","iat":1700000000,"exp":1700000060,"nbf":1700000000}`),
			iat: time.Unix(1_700_000_000, 0), exp: time.Unix(1_700_000_060, 0)},
		{name: "fractional claims keep milliseconds",
			jwt: cmJWTPayload(`{"iat":1700000000.123,"exp":1700000060.25}`),
			iat: time.Unix(1_700_000_000, 0).Add(123 * ms), exp: time.Unix(1_700_000_060, 0).Add(250 * ms)},
		{name: "sub-millisecond digits are rounded to the millisecond",
			jwt: cmJWTPayload(`{"iat":1700000000.0004,"exp":1700000059.9996}`),
			iat: time.Unix(1_700_000_000, 0), exp: time.Unix(1_700_000_060, 0)},
		{name: "exponent notation",
			jwt: cmJWTPayload(`{"iat":1.7e9,"exp":1.70000006e9}`),
			iat: time.Unix(1_700_000_000, 0), exp: time.Unix(1_700_000_060, 0)},
		{name: "exp without iat",
			jwt: cmJWTPayload(`{"exp":1700000060}`),
			exp: time.Unix(1_700_000_060, 0)},
		{name: "built by the test helper",
			jwt: cmJWT(cmAt(1500*ms), cmAt(61500*ms)),
			iat: cmAt(1500 * ms), exp: cmAt(61500 * ms)},
		{name: "padded base64url payload is accepted",
			jwt: header + "." + base64.URLEncoding.EncodeToString([]byte(`{"exp":1700000060}`)) + ".sig",
			exp: time.Unix(1_700_000_060, 0)},
		{name: "empty signature is fine (not verified)",
			jwt: header + "." + enc([]byte(`{"iat":1700000000,"exp":1700000060}`)) + ".",
			iat: time.Unix(1_700_000_000, 0), exp: time.Unix(1_700_000_060, 0)},
		{name: "last second of year 9999",
			jwt: cmJWTPayload(`{"exp":253402300799}`),
			exp: time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)},
		{name: "exp 0 is 1970",
			jwt: cmJWTPayload(`{"exp":0}`),
			exp: time.Unix(0, 0)},
		{name: "unknown claims are ignored",
			jwt: cmJWTPayload(`{"exp":1700000060,"fva":[1,-1],"iss":"https://x","extra":{"a":1}}`),
			exp: time.Unix(1_700_000_060, 0)},

		{name: "missing exp", jwt: cmJWTPayload(`{"iat":1700000000,"sub":"user_1"}`), wantErr: "exp"},
		{name: "null exp", jwt: cmJWTPayload(`{"exp":null}`), wantErr: "exp"},
		{name: "empty claims", jwt: cmJWTPayload(`{}`), wantErr: "exp"},
		{name: "empty string", jwt: "", wantErr: "not a JWT"},
		{name: "no dot", jwt: "opaque-session-token", wantErr: "not a JWT"},
		{name: "one dot", jwt: header + "." + enc([]byte(`{"exp":1700000060}`)), wantErr: "not a JWT"},
		{name: "bad base64", jwt: header + ".!!!not*base64!!!.sig", wantErr: "base64"},
		{name: "standard base64 alphabet", jwt: header + "." + "eyJleHAiOjE3MDAwMDAwNjB9+/+/" + ".sig", wantErr: "base64"},
		{name: "bad JSON", jwt: header + "." + enc([]byte(`{"exp":`)) + ".sig", wantErr: "JSON"},
		{name: "JSON array", jwt: cmJWTPayload(`[1700000060]`), wantErr: "JSON"},
		{name: "empty payload", jwt: header + "..sig", wantErr: "JSON"},
		{name: "exp as a string", jwt: cmJWTPayload(`{"exp":"1700000060"}`), wantErr: "JSON"},
		{name: "payload is the header's place", jwt: enc([]byte(`{"exp":1700000060}`)) + ".x.y", wantErr: "base64"},

		// Times no date type holds are refused, never wrapped or clamped.
		{name: "exp 1e18", jwt: cmJWTPayload(`{"exp":1e18}`), wantErr: "outside"},
		{name: "exp 1e300", jwt: cmJWTPayload(`{"exp":1e300}`), wantErr: "outside"},
		{name: "exp beyond int64", jwt: cmJWTPayload(`{"exp":1e19}`), wantErr: "outside"},
		{name: "exp in milliseconds by mistake", jwt: cmJWTPayload(`{"iat":1700000000,"exp":1700000060000}`), wantErr: "outside"},
		{name: "exp one second past year 9999", jwt: cmJWTPayload(`{"exp":253402300800}`), wantErr: "outside"},
		{name: "exp before 1970", jwt: cmJWTPayload(`{"exp":-1}`), wantErr: "outside"},
		{name: "exp -1e300", jwt: cmJWTPayload(`{"exp":-1e300}`), wantErr: "outside"},
		{name: "iat 1e19", jwt: cmJWTPayload(`{"iat":1e19,"exp":1700000060}`), wantErr: "iat"},
		{name: "huge number literal", jwt: cmJWTPayload(`{"exp":1` + strings.Repeat("0", 400) + `}`), wantErr: "JSON"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseTokenTimes(tc.jwt)
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("ParseTokenTimes = %+v, want an error mentioning %q", got, tc.wantErr)
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("error %q does not mention %q", err, tc.wantErr)
				}
				if got != (TokenTimes{}) {
					t.Errorf("on error got %+v, want zero TokenTimes", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseTokenTimes: %v", err)
			}
			if !got.ExpiresAt.Equal(tc.exp) {
				t.Errorf("ExpiresAt = %v, want %v", got.ExpiresAt.UTC(), tc.exp.UTC())
			}
			if tc.iat.IsZero() {
				if !got.IssuedAt.IsZero() {
					t.Errorf("IssuedAt = %v, want zero (no iat)", got.IssuedAt.UTC())
				}
			} else if !got.IssuedAt.Equal(tc.iat) {
				t.Errorf("IssuedAt = %v, want %v", got.IssuedAt.UTC(), tc.iat.UTC())
			}
		})
	}
}

func TestTokenTimesLifetime(t *testing.T) {
	base := time.Unix(1_700_000_000, 0)
	cases := []struct {
		name string
		tt   TokenTimes
		want time.Duration
	}{
		{"60 s token", TokenTimes{IssuedAt: base, ExpiresAt: base.Add(time.Minute)}, time.Minute},
		{"fractional", TokenTimes{IssuedAt: base.Add(123 * time.Millisecond), ExpiresAt: base.Add(60250 * time.Millisecond)},
			60127 * time.Millisecond},
		{"zero length", TokenTimes{IssuedAt: base, ExpiresAt: base}, 0},
		{"exp before iat", TokenTimes{IssuedAt: base.Add(time.Second), ExpiresAt: base}, -time.Second},
		{"zero value", TokenTimes{}, 0},
	}
	for _, tc := range cases {
		if got := tc.tt.Lifetime(); got != tc.want {
			t.Errorf("%s: Lifetime() = %v, want %v", tc.name, got, tc.want)
		}
	}

	// Parsed tokens: Lifetime is exp − iat, milliseconds included.
	for _, c := range []struct {
		payload string
		want    time.Duration
	}{
		{`{"iat":1700000000,"exp":1700000060}`, time.Minute},
		{`{"iat":1700000000.5,"exp":1700003600.75}`, time.Hour + 250*time.Millisecond},
		{`{"iat":1700000000,"exp":1700000010}`, 10 * time.Second},
	} {
		tt, err := ParseTokenTimes(cmJWTPayload(c.payload))
		if err != nil {
			t.Fatalf("%s: %v", c.payload, err)
		}
		if got := tt.Lifetime(); got != c.want {
			t.Errorf("%s: Lifetime() = %v, want %v", c.payload, got, c.want)
		}
	}
}

func TestParseTokenTimesRangeErrorIsTyped(t *testing.T) {
	_, err := ParseTokenTimes(cmJWTPayload(`{"exp":1e18}`))
	if !errors.Is(err, ErrTokenTimeRange) {
		t.Fatalf("err = %v, want ErrTokenTimeRange", err)
	}
}

func TestCheckSessionToken(t *testing.T) {
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	now := time.Unix(1_700_000_030, 0)
	withHeader := func(header, payload string) string { return enc(header) + "." + enc(payload) + ".c2ln" }
	cases := []struct {
		name string
		jwt  string
		code string // "" for a usable token
		exp  time.Time
	}{
		{"usable", cmJWTPayload(`{"iat":1700000000,"exp":1700000060}`), "", time.Unix(1_700_000_060, 0)},
		{"usable without iat", cmJWTPayload(`{"exp":1700000060}`), "", time.Unix(1_700_000_060, 0)},
		// Expired by now but not dead in the issuer's clock (a skewed
		// clock): usable; the client's clock decides when it refreshes.
		{"issuer's clock behind now", cmJWTPayload(`{"iat":1699990000,"exp":1699990060}`), "", time.Unix(1_699_990_060, 0)},
		{"exp far ahead but before 9999", cmJWTPayload(`{"iat":1700000000,"exp":230000000000}`), "", time.Unix(230_000_000_000, 0)},
		{"signature not verified", cmJWTPayload(`{"exp":1700000060}`) + "garbage", "", time.Unix(1_700_000_060, 0)},

		{"alg none", withHeader(`{"alg":"none","typ":"JWT"}`, `{"exp":1700000060}`), CodeTokenAlgNone, time.Time{}},
		{"alg None", withHeader(`{"alg":"None"}`, `{"exp":1700000060}`), CodeTokenAlgNone, time.Time{}},
		{"alg NONE, empty signature", enc(`{"alg":"NONE"}`) + "." + enc(`{"exp":1700000060}`) + ".", CodeTokenAlgNone, time.Time{}},
		{"alg none, escaped", withHeader(`{"alg":"\u006eone"}`, `{"exp":1700000060}`), CodeTokenAlgNone, time.Time{}},
		{"alg none, no exp", withHeader(`{"alg":"none"}`, `{}`), CodeTokenAlgNone, time.Time{}},
		{"exp before iat", cmJWTPayload(`{"iat":1700000000,"exp":1699996400}`), CodeTokenExpired, time.Time{}},
		{"exp equal to iat", cmJWTPayload(`{"iat":1700000000,"exp":1700000000}`), CodeTokenExpired, time.Time{}},
		{"no iat, exp in the past", cmJWTPayload(`{"exp":1700000000}`), CodeTokenExpired, time.Time{}},
		{"no iat, exp 0", cmJWTPayload(`{"exp":0}`), CodeTokenExpired, time.Time{}},
		{"exp 1e18", cmJWTPayload(`{"iat":1700000000,"exp":1e18}`), CodeTokenTimeRange, time.Time{}},
		{"iat 1e18", cmJWTPayload(`{"iat":1e18,"exp":1700000060}`), CodeTokenTimeRange, time.Time{}},
		{"exp negative", cmJWTPayload(`{"exp":-5}`), CodeTokenTimeRange, time.Time{}},
		{"no exp", cmJWTPayload(`{"iat":1700000000}`), CodeBadToken, time.Time{}},
		{"opaque", "opaque-token", CodeBadToken, time.Time{}},
		{"empty", "", CodeBadToken, time.Time{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tt, code := CheckSessionToken(tc.jwt, now)
			if code != tc.code {
				t.Fatalf("code %q, want %q (times %+v)", code, tc.code, tt)
			}
			if !tt.ExpiresAt.Equal(tc.exp) {
				t.Errorf("ExpiresAt %v, want %v", tt.ExpiresAt.UTC(), tc.exp.UTC())
			}
		})
	}
}

func TestExpiresAfterNeverOverflows(t *testing.T) {
	now := time.Date(2026, 11, 28, 9, 30, 0, 250_000_000, time.UTC)
	for _, tc := range []struct {
		secs float64
		want time.Time
		ok   bool
	}{
		{60, now.Add(time.Minute), true},
		{0.5, now.Add(500 * time.Millisecond), true},
		{9e9, now.Add(9_000_000_000 * time.Second), true},            // 285 years: near time.Duration's 292
		{1e11, time.Unix(now.Unix()+1e11, now.UnixNano()%1e9), true}, // year ≈ 5195
		{MaxTokenSeconds - float64(now.Unix()), time.Date(9999, 12, 31, 23, 59, 59, 250_000_000, time.UTC), true},
		{MaxTokenSeconds - float64(now.Unix()) + 1, time.Time{}, false},
		{1e300, time.Time{}, false},
		{0, time.Time{}, false},
		{-1, time.Time{}, false},
		{math.NaN(), time.Time{}, false},
		{math.Inf(1), time.Time{}, false},
	} {
		got, ok := ExpiresAfter(now, tc.secs)
		if ok != tc.ok || !got.Equal(tc.want) {
			t.Errorf("ExpiresAfter(%g) = %v %v, want %v %v", tc.secs, got.UTC(), ok, tc.want.UTC(), tc.ok)
		}
	}
}
