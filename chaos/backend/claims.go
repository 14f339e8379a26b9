package backend

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// sessionClaims are the claims of a session JWT. Unlike jwt.RegisteredClaims
// its dates keep millisecond precision, which time-scaled token lifetimes need.
type sessionClaims struct {
	Issuer    string       `json:"iss,omitempty"`
	Subject   string       `json:"sub,omitempty"`
	SessionID string       `json:"sid,omitempty"`
	IssuedAt  *numericTime `json:"iat,omitempty"`
	NotBefore *numericTime `json:"nbf,omitempty"`
	ExpiresAt *numericTime `json:"exp,omitempty"`
	// FVA is Clerk's factor-verification age: minutes since the first and
	// second factor were verified, -1 for never.
	FVA []int `json:"fva,omitempty"`
}

var _ jwt.Claims = (*sessionClaims)(nil)

// GetExpirationTime returns the exp claim.
func (c *sessionClaims) GetExpirationTime() (*jwt.NumericDate, error) {
	return c.ExpiresAt.numericDate(), nil
}

// GetIssuedAt returns the iat claim.
func (c *sessionClaims) GetIssuedAt() (*jwt.NumericDate, error) {
	return c.IssuedAt.numericDate(), nil
}

// GetNotBefore returns the nbf claim.
func (c *sessionClaims) GetNotBefore() (*jwt.NumericDate, error) {
	return c.NotBefore.numericDate(), nil
}

// GetIssuer returns the iss claim.
func (c *sessionClaims) GetIssuer() (string, error) { return c.Issuer, nil }

// GetSubject returns the sub claim.
func (c *sessionClaims) GetSubject() (string, error) { return c.Subject, nil }

// GetAudience returns no audience: session tokens carry none.
func (c *sessionClaims) GetAudience() (jwt.ClaimStrings, error) { return nil, nil }

// numericTime is a JWT NumericDate (seconds since the Unix epoch) with
// millisecond precision: whole seconds encode as an integer, other times as
// seconds with up to three decimals. It does not depend on jwt.TimePrecision.
type numericTime struct {
	time.Time
}

// newNumericTime returns t truncated to the millisecond.
func newNumericTime(t time.Time) *numericTime {
	return &numericTime{Time: t.Truncate(time.Millisecond)}
}

// numericDate returns n as a jwt.NumericDate without losing precision.
func (n *numericTime) numericDate() *jwt.NumericDate {
	if n == nil {
		return nil
	}
	return &jwt.NumericDate{Time: n.Time}
}

// MarshalJSON encodes the time as seconds with up to three decimals.
func (n numericTime) MarshalJSON() ([]byte, error) {
	return appendNumericTime(nil, n.Time), nil
}

// appendNumericTime appends t as seconds since the epoch, millisecond
// precision, without trailing zeros.
func appendNumericTime(b []byte, t time.Time) []byte {
	ms := t.UnixMilli()
	if ms < 0 {
		b = append(b, '-')
		ms = -ms
	}
	b = strconv.AppendInt(b, ms/1000, 10)
	frac := ms % 1000
	if frac == 0 {
		return b
	}
	digits := [3]byte{byte('0' + frac/100), byte('0' + frac/10%10), byte('0' + frac%10)}
	n := 3
	for digits[n-1] == '0' {
		n--
	}
	b = append(b, '.')
	return append(b, digits[:n]...)
}

// errNumericTime reports a date claim that is not a usable JSON number.
var errNumericTime = errors.New("numeric date must be a finite JSON number")

// UnmarshalJSON decodes any JSON number of seconds, keeping sub-second digits.
func (n *numericTime) UnmarshalJSON(b []byte) error {
	t, err := parseNumericTime(string(b))
	if err != nil {
		return fmt.Errorf("%w: %q", err, b)
	}
	n.Time = t
	return nil
}

// parseNumericTime parses seconds since the epoch. Plain decimals are parsed
// exactly (to the nanosecond); exponent forms go through float64 and are
// rounded to the microsecond.
func parseNumericTime(s string) (time.Time, error) {
	if sec, nsec, ok := parseDecimalSeconds(s); ok {
		return time.Unix(sec, nsec), nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1<<53 {
		return time.Time{}, errNumericTime
	}
	whole, frac := math.Modf(f)
	return time.Unix(int64(whole), int64(math.Round(frac*1e6))*1e3), nil
}

// parseDecimalSeconds parses [-]digits[.digits] into seconds and nanoseconds
// (negative for negative input); ok is false for any other form.
func parseDecimalSeconds(s string) (sec, nsec int64, ok bool) {
	neg := false
	if len(s) > 0 && s[0] == '-' {
		neg = true
		s = s[1:]
	}
	intPart, fracPart, hasDot := strings.Cut(s, ".")
	if len(intPart) == 0 || len(intPart) > 15 || (hasDot && len(fracPart) == 0) {
		return 0, 0, false
	}
	for i := 0; i < len(intPart); i++ {
		c := intPart[i]
		if c < '0' || c > '9' {
			return 0, 0, false
		}
		sec = sec*10 + int64(c-'0')
	}
	scale := int64(1e8)
	for i := 0; i < len(fracPart); i++ {
		c := fracPart[i]
		if c < '0' || c > '9' {
			return 0, 0, false
		}
		nsec += int64(c-'0') * scale
		scale /= 10
	}
	if neg {
		sec, nsec = -sec, -nsec
	}
	return sec, nsec, true
}
