package backend

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// testClaims returns valid claims for b at its current time.
func testClaims(b *Backend) *sessionClaims {
	now := b.cfg.Now()
	return &sessionClaims{
		Issuer: b.cfg.Issuer, Subject: "user_1", SessionID: "sess_1",
		IssuedAt: newNumericTime(now), NotBefore: newNumericTime(now),
		ExpiresAt: newNumericTime(now.Add(b.cfg.TokenLifetime)), FVA: []int{0, -1},
	}
}

// signToken signs claims with method and key, setting kid unless empty.
func signToken(t testing.TB, method jwt.SigningMethod, key any, kid string, claims jwt.Claims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	raw, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign %s token: %v", method.Alg(), err)
	}
	return raw
}

// payload returns the decoded claims segment of a JWT.
func payload(t testing.TB, raw string) map[string]json.RawMessage {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q has %d segments", raw, len(parts))
	}
	seg, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(seg, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSubSecondTokenLifetimeKeepsMilliseconds(t *testing.T) {
	b, clock := newTestBackend(t, Config{Signing: SigningEdDSA, TokenLifetime: 250 * time.Millisecond})
	clock.Set(epoch.Add(500 * time.Millisecond))
	si := signIn(t, b)
	claims := payload(t, si.JWT)
	if got := string(claims["iat"]); got != "1700000000.5" {
		t.Errorf("iat = %s, want 1700000000.5", got)
	}
	if got := string(claims["exp"]); got != "1700000000.75" {
		t.Errorf("exp = %s, want 1700000000.75", got)
	}
	clock.Set(epoch.Add(749 * time.Millisecond))
	if rec := callAPI(t, b, si.JWT); rec.Code != http.StatusOK {
		t.Errorf("1ms before exp: status %d, body %s", rec.Code, rec.Body)
	}
	clock.Set(epoch.Add(750 * time.Millisecond))
	expectTokenRejected(t, callAPI(t, b, si.JWT), CodeTokenExpired)
}

func TestRS256(t *testing.T) {
	clock := newFakeClock()
	b, err := New(Config{Now: clock.Now}) // RS256 is the default
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Config().Signing; got != SigningRS256 {
		t.Fatalf("default Signing = %q, want RS256", got)
	}
	si := signIn(t, b)
	checkTokenAccepted(t, b, si, si.JWT)
	checkJWKSVerifies(t, b, si.JWT)

	// Algorithm confusion: HS256 keyed with the RSA public key.
	current := b.keys.load().signing
	for _, encode := range []func(any) ([]byte, error){x509.MarshalPKIXPublicKey, func(k any) ([]byte, error) {
		return []byte(current.jwk.N), nil
	}} {
		secret, err := encode(current.public)
		if err != nil {
			t.Fatal(err)
		}
		forged := signToken(t, jwt.SigningMethodHS256, secret, current.kid, testClaims(b))
		expectTokenRejected(t, callAPI(t, b, forged), CodeTokenInvalid)
	}
	// RS256 verification keys do not accept PS256 either.
	pss := signToken(t, jwt.SigningMethodPS256, current.private, current.kid, testClaims(b))
	expectTokenRejected(t, callAPI(t, b, pss), CodeTokenInvalid)
}

func BenchmarkSign(b *testing.B) {
	for _, alg := range []string{SigningRS256, SigningES256, SigningEdDSA} {
		b.Run(alg, func(b *testing.B) {
			be, _ := newTestBackend(b, Config{Signing: alg})
			b.ReportAllocs()
			reportCPU(b)
			for b.Loop() {
				if _, err := be.tokens.sign("user_1", "sess_1"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
