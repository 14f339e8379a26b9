package backend

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// tokenIssuer signs session JWTs with the current key and verifies them
// against the current verification keys.
type tokenIssuer struct {
	keys     *keyring
	issuer   string
	lifetime time.Duration
	now      func() time.Time
	parser   *jwt.Parser
	keyFunc  jwt.Keyfunc
}

// newTokenIssuer returns a tokenIssuer for keys with the given issuer and
// token lifetime, reading time from now.
func newTokenIssuer(keys *keyring, issuer string, lifetime time.Duration, now func() time.Time) *tokenIssuer {
	t := &tokenIssuer{keys: keys, issuer: issuer, lifetime: lifetime, now: now}
	t.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{keys.alg}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithIssuer(issuer),
		jwt.WithTimeFunc(now),
	)
	t.keyFunc = t.verificationKey
	return t
}

// errMissingKid reports a token header without a kid.
var errMissingKid = errors.New("token header has no kid")

// verificationKey returns the public key named by the token's kid.
func (t *tokenIssuer) verificationKey(tok *jwt.Token) (any, error) {
	kid, _ := tok.Header["kid"].(string)
	if kid == "" {
		return nil, errMissingKid
	}
	key, ok := t.keys.load().verify[kid]
	if !ok {
		return nil, fmt.Errorf("unknown kid %q", kid)
	}
	return key, nil
}

// sign returns a session JWT for user sub and session sid, valid from now
// (truncated to the millisecond) for the token lifetime.
func (t *tokenIssuer) sign(sub, sid string) (string, error) {
	ks := t.keys.load()
	iat := t.now().Truncate(time.Millisecond)
	claims := &sessionClaims{
		Issuer:    t.issuer,
		Subject:   sub,
		SessionID: sid,
		IssuedAt:  newNumericTime(iat),
		NotBefore: newNumericTime(iat),
		ExpiresAt: newNumericTime(iat.Add(t.lifetime)),
		FVA:       []int{0, -1},
	}
	tok := jwt.NewWithClaims(t.keys.method, claims)
	tok.Header["kid"] = ks.signing.kid
	raw, err := tok.SignedString(ks.signing.private)
	if err != nil {
		return "", fmt.Errorf("sign session token: %w", err)
	}
	return raw, nil
}

// verify checks raw's signature, algorithm, issuer and validity window and
// returns its claims.
func (t *tokenIssuer) verify(raw string) (*sessionClaims, error) {
	claims := &sessionClaims{}
	if _, err := t.parser.ParseWithClaims(raw, claims, t.keyFunc); err != nil {
		return nil, err
	}
	if claims.Subject == "" || claims.SessionID == "" {
		return nil, fmt.Errorf("%w: sub and sid are required", jwt.ErrTokenRequiredClaimMissing)
	}
	return claims, nil
}

// tokenErrorCode maps a verification error to its error code. Tokens that
// would stay invalid after a refresh (wrong issuer, missing claims) are
// token_invalid even when they are also expired.
func tokenErrorCode(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenInvalidIssuer), errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return CodeTokenInvalid
	case errors.Is(err, jwt.ErrTokenExpired):
		return CodeTokenExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return CodeTokenNotYetValid
	default:
		return CodeTokenInvalid
	}
}
