package load

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// TokenTimes are the validity claims of a session JWT.
type TokenTimes struct {
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// Lifetime is exp − iat.
func (t TokenTimes) Lifetime() time.Duration { return t.ExpiresAt.Sub(t.IssuedAt) }

// ParseTokenTimes reads iat and exp from a JWT's payload without verifying it:
// the client only needs to know when its token goes stale. exp is required;
// sub-second values are kept.
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
	if !scanFlat(payload, []flatField{{key: "exp", num: &claims.Exp}, {key: "iat", num: &claims.Iat}}) {
		claims.Exp, claims.Iat = nil, nil
		if err := json.Unmarshal(payload, &claims); err != nil {
			return TokenTimes{}, fmt.Errorf("token payload is not JSON: %w", err)
		}
	}
	if claims.Exp == nil {
		return TokenTimes{}, errors.New("token has no exp claim")
	}
	t := TokenTimes{ExpiresAt: fromSeconds(*claims.Exp)}
	if claims.Iat != nil {
		t.IssuedAt = fromSeconds(*claims.Iat)
	}
	return t, nil
}

func fromSeconds(f float64) time.Time {
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e3))*int64(time.Millisecond))
}
