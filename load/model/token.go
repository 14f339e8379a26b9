package model

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/stampede-load/stampede/load/internal/flatjson"
)

// TokenTimes are the validity claims of a session JWT.
type TokenTimes struct {
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// Lifetime is exp − iat.
func (t TokenTimes) Lifetime() time.Duration { return t.ExpiresAt.Sub(t.IssuedAt) }

// MaxTokenSeconds is 9999-12-31T23:59:59Z in Unix seconds: the last
// instant a token's exp or iat may name (the last an RFC 3339 date can
// write). Later ones (an exp of 1e18, a timestamp in milliseconds by
// mistake) are refused rather than clamped: they come from a broken issuer,
// and a client that took one would never refresh. Converting the largest
// (beyond 2^63 s) to int64 would also wrap them into the past.
const MaxTokenSeconds = 253402300799

// ErrTokenTimeRange is the error of an exp or iat outside 1970-01-01 ..
// 9999-12-31 (0 .. MaxTokenSeconds).
var ErrTokenTimeRange = errors.New("outside 1970-01-01T00:00:00Z .. 9999-12-31T23:59:59Z")

// ParseTokenTimes reads iat and exp from a JWT's payload without verifying it:
// the client only needs to know when its token goes stale. exp is required;
// sub-second values are kept (to the millisecond). An exp or iat outside
// 0 .. MaxTokenSeconds is an error wrapping ErrTokenTimeRange.
func ParseTokenTimes(jwt string) (TokenTimes, error) {
	first := strings.IndexByte(jwt, '.')
	if first < 0 {
		return TokenTimes{}, errors.New("token is not a JWT: no '.'")
	}
	rest := jwt[first+1:]
	second := strings.IndexByte(rest, '.')
	if second < 0 {
		return TokenTimes{}, errors.New("token is not a JWT: one '.'")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(rest[:second], "="))
	if err != nil {
		return TokenTimes{}, fmt.Errorf("token payload is not base64url: %w", err)
	}
	var claims struct {
		Exp *float64 `json:"exp"`
		Iat *float64 `json:"iat"`
	}
	if !flatjson.Scan(payload, []flatjson.Field{{Key: "exp", Num: &claims.Exp}, {Key: "iat", Num: &claims.Iat}}) {
		claims.Exp, claims.Iat = nil, nil
		if err := json.Unmarshal(payload, &claims); err != nil {
			return TokenTimes{}, fmt.Errorf("token payload is not JSON: %w", err)
		}
	}
	if claims.Exp == nil {
		return TokenTimes{}, errors.New("token has no exp claim")
	}
	if !InTokenRange(*claims.Exp) {
		return TokenTimes{}, fmt.Errorf("token exp %g: %w", *claims.Exp, ErrTokenTimeRange)
	}
	t := TokenTimes{ExpiresAt: FromSeconds(*claims.Exp)}
	if claims.Iat != nil {
		if !InTokenRange(*claims.Iat) {
			return TokenTimes{}, fmt.Errorf("token iat %g: %w", *claims.Iat, ErrTokenTimeRange)
		}
		t.IssuedAt = FromSeconds(*claims.Iat)
	}
	return t, nil
}

// InTokenRange reports whether f seconds is an instant a token may name.
func InTokenRange(f float64) bool { return f >= 0 && f < MaxTokenSeconds+1 }

func FromSeconds(f float64) time.Time {
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e3))*int64(time.Millisecond))
}

// Codes of the session tokens a client refuses (Outcome.Code, class other).
const (
	// CodeBadToken: the token is not a JWT with a readable exp.
	CodeBadToken = "bad_token"
	// CodeTokenAlgNone: the token's header says "alg": "none" (any case):
	// it carries no signature, so no client uses it, whatever it claims.
	CodeTokenAlgNone = "token_alg_none"
	// CodeTokenTimeRange: exp or iat lies outside 1970 .. 9999 (ErrTokenTimeRange).
	CodeTokenTimeRange = "token_time_out_of_range"
	// CodeTokenExpired: the token expired when or before it was issued
	// (exp ≤ iat), or, without iat, before it arrived.
	CodeTokenExpired = "token_expired"
)

// CheckSessionToken says why a client of the session API refuses a session
// token received at now: one of the Code* constants, or "" when it is
// usable. It refuses an unsigned token ("alg": "none") and whatever
// CheckTokenTimes refuses. The signature is not verified (mobile SDKs read
// exp without verifying); a bad one shows when the target answers 401 to
// the token.
func CheckSessionToken(jwt string, now time.Time) (TokenTimes, string) {
	if algNone(jwt) {
		return TokenTimes{}, CodeTokenAlgNone
	}
	return CheckTokenTimes(jwt, now)
}

// CheckTokenTimes reads the times of a JWT received at now and says why a
// client cannot hold it: CodeTokenTimeRange, CodeTokenExpired, CodeBadToken,
// or "" when it can. Expiry is judged in the issuer's own clock (exp
// against iat), so a device or server whose clock is off still holds a
// token the issuer meant to last (the client's clock then decides when it
// refreshes); only a token without iat is judged by now.
func CheckTokenTimes(jwt string, now time.Time) (TokenTimes, string) {
	t, err := ParseTokenTimes(jwt)
	switch {
	case errors.Is(err, ErrTokenTimeRange):
		return TokenTimes{}, CodeTokenTimeRange
	case err != nil:
		return TokenTimes{}, CodeBadToken
	}
	born := t.IssuedAt
	if born.IsZero() {
		born = now
	}
	if !t.ExpiresAt.After(born) {
		return TokenTimes{}, CodeTokenExpired
	}
	return t, ""
}

// algNone reports whether a JWT's header names the "none" algorithm.
func algNone(jwt string) bool {
	dot := strings.IndexByte(jwt, '.')
	if dot < 0 {
		return false
	}
	header, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(jwt[:dot], "="))
	if err != nil {
		return false
	}
	var alg string
	if !flatjson.Scan(header, []flatjson.Field{{Key: "alg", Str: &alg}}) {
		var h struct {
			Alg string `json:"alg"`
		}
		if json.Unmarshal(header, &h) != nil {
			return false
		}
		alg = h.Alg
	}
	return strings.EqualFold(alg, "none")
}

// ExpiresAfter is now plus secs seconds (an expires_in); ok is false unless
// secs > 0 and the sum lies within MaxTokenSeconds. It never overflows
// time.Duration, which holds 292 years at most.
func ExpiresAfter(now time.Time, secs float64) (time.Time, bool) {
	if !(secs > 0) || !InTokenRange(float64(now.Unix())+secs) {
		return time.Time{}, false
	}
	if secs < 1e9 { // well within time.Duration
		return now.Add(time.Duration(secs * float64(time.Second))), true
	}
	whole, frac := math.Modf(secs)
	return time.Unix(now.Unix()+int64(whole), int64(now.Nanosecond())+int64(math.Round(frac*1e9))), true
}
