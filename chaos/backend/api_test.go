package backend

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestMintedTokensPassTheAPI(t *testing.T) {
	for _, alg := range []string{SigningES256, SigningEdDSA} {
		t.Run(alg, func(t *testing.T) {
			b, _ := newTestBackend(t, Config{Signing: alg})
			si := signIn(t, b)
			checkTokenAccepted(t, b, si, si.JWT)
			rec := mintToken(t, b, si)
			if rec.Code != http.StatusOK {
				t.Fatalf("mint: status %d, body %s", rec.Code, rec.Body)
			}
			tr := decode[tokenResponse](t, rec)
			if tr.Object != "token" {
				t.Errorf("object = %q, want token", tr.Object)
			}
			checkTokenAccepted(t, b, si, tr.JWT)
		})
	}
}

// checkTokenAccepted asserts that the API accepts jwt and that its header
// and claims are as minted for si.
func checkTokenAccepted(t testing.TB, b *Backend, si signInResponse, raw string) {
	t.Helper()
	for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		rec := do(t, b, method, "/api/v1/things/42", raw, "")
		if rec.Code != http.StatusOK {
			t.Fatalf("%s /api: status %d, body %s", method, rec.Code, rec.Body)
		}
		got := decode[apiResponse](t, rec)
		if want := (apiResponse{OK: true, Sub: si.Session.UserID, Sid: si.Session.ID}); got != want {
			t.Errorf("api response = %+v, want %+v", got, want)
		}
	}
	tok, _, err := jwt.NewParser().ParseUnverified(raw, &sessionClaims{})
	if err != nil {
		t.Fatal(err)
	}
	if tok.Header["alg"] != b.cfg.Signing || tok.Header["kid"] != b.keys.load().signing.kid {
		t.Errorf("header = %v, want alg %s and current kid", tok.Header, b.cfg.Signing)
	}
	c := tok.Claims.(*sessionClaims)
	now := b.cfg.Now()
	if c.Issuer != b.cfg.Issuer || c.Subject != si.Session.UserID || c.SessionID != si.Session.ID ||
		!c.IssuedAt.Equal(now) || !c.NotBefore.Equal(now) || !c.ExpiresAt.Equal(now.Add(b.cfg.TokenLifetime)) ||
		len(c.FVA) != 2 || c.FVA[0] != 0 || c.FVA[1] != -1 {
		t.Errorf("claims = %+v", c)
	}
}

func TestAPIRejectsBadTokens(t *testing.T) {
	b, _ := newTestBackend(t, Config{Signing: SigningES256})
	current := b.keys.load().signing
	other, err := generateKey(SigningES256)
	if err != nil {
		t.Fatal(err)
	}
	valid := signToken(t, jwt.SigningMethodES256, current.private, current.kid, testClaims(b))
	parts := strings.Split(valid, ".")

	tamperedSig := []byte(parts[2])
	if tamperedSig[10] == 'A' {
		tamperedSig[10] = 'B'
	} else {
		tamperedSig[10] = 'A'
	}
	forged := testClaims(b)
	forged.Subject = "user_admin"
	forgedPayload, _ := json.Marshal(forged)
	pubDER, err := x509.MarshalPKIXPublicKey(current.public)
	if err != nil {
		t.Fatal(err)
	}
	wrongIssuer := testClaims(b)
	wrongIssuer.Issuer = "someone-else"
	noExp := testClaims(b)
	noExp.ExpiresAt = nil
	noSid := testClaims(b)
	noSid.SessionID = ""

	tests := map[string]string{
		"malformed":             "not-a-jwt",
		"two segments":          parts[0] + "." + parts[1],
		"alg none":              signToken(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, current.kid, testClaims(b)),
		"empty signature":       parts[0] + "." + parts[1] + ".",
		"tampered signature":    parts[0] + "." + parts[1] + "." + string(tamperedSig),
		"tampered payload":      parts[0] + "." + base64.RawURLEncoding.EncodeToString(forgedPayload) + "." + parts[2],
		"HS256 with public key": signToken(t, jwt.SigningMethodHS256, pubDER, current.kid, testClaims(b)),
		"unknown kid":           signToken(t, jwt.SigningMethodES256, other.private, other.kid, testClaims(b)),
		"other key, known kid":  signToken(t, jwt.SigningMethodES256, other.private, current.kid, testClaims(b)),
		"no kid":                signToken(t, jwt.SigningMethodES256, current.private, "", testClaims(b)),
		"wrong issuer":          signToken(t, jwt.SigningMethodES256, current.private, current.kid, wrongIssuer),
		"no exp":                signToken(t, jwt.SigningMethodES256, current.private, current.kid, noExp),
		"no sid":                signToken(t, jwt.SigningMethodES256, current.private, current.kid, noSid),
	}
	for name, raw := range tests {
		t.Run(name, func(t *testing.T) {
			expectTokenRejected(t, callAPI(t, b, raw), CodeTokenInvalid)
		})
	}
	if rec := callAPI(t, b, valid); rec.Code != http.StatusOK {
		t.Errorf("untampered token: status %d, body %s", rec.Code, rec.Body)
	}
}

func TestAPIRequiresAToken(t *testing.T) {
	b, _ := newTestBackend(t, Config{})
	for _, header := range []string{"", "Bearer", "Bearer   ", "Basic dXNlcjpwYXNz"} {
		req := httptest.NewRequest(http.MethodGet, "/api/me", nil)
		if header != "" {
			req.Header.Set("Authorization", header)
		}
		rec := httptest.NewRecorder()
		b.ServeHTTP(rec, req)
		expectError(t, rec, http.StatusUnauthorized, CodeTokenMissing)
		if got := rec.Header().Get("WWW-Authenticate"); got != "Bearer" {
			t.Errorf("Authorization %q: WWW-Authenticate = %q, want Bearer", header, got)
		}
	}
}

func TestAPITokenValidityWindow(t *testing.T) {
	b, clock := newTestBackend(t, Config{Signing: SigningEdDSA})
	si := signIn(t, b)
	exp := epoch.Add(60 * time.Second)

	clock.Set(exp.Add(-time.Millisecond))
	if rec := callAPI(t, b, si.JWT); rec.Code != http.StatusOK {
		t.Errorf("1ms before exp: status %d, body %s", rec.Code, rec.Body)
	}
	clock.Set(exp)
	expectTokenRejected(t, callAPI(t, b, si.JWT), CodeTokenExpired)
	clock.Set(exp.Add(time.Hour))
	expectTokenRejected(t, callAPI(t, b, si.JWT), CodeTokenExpired)

	clock.Set(epoch.Add(-time.Millisecond))
	expectTokenRejected(t, callAPI(t, b, si.JWT), CodeTokenNotYetValid)
	clock.Set(epoch)
	if rec := callAPI(t, b, si.JWT); rec.Code != http.StatusOK {
		t.Errorf("at nbf: status %d, body %s", rec.Code, rec.Body)
	}
}

// callAPI calls the protected API with jwt.
func callAPI(t testing.TB, b *Backend, jwt string) *httptest.ResponseRecorder {
	t.Helper()
	return do(t, b, http.MethodGet, "/api/me", jwt, "")
}

// expectTokenRejected asserts a 401 from the API with code and the
// invalid_token challenge.
func expectTokenRejected(t testing.TB, rec *httptest.ResponseRecorder, code string) {
	t.Helper()
	expectError(t, rec, http.StatusUnauthorized, code)
	if got := rec.Header().Get("WWW-Authenticate"); got != `Bearer error="invalid_token"` {
		t.Errorf(`WWW-Authenticate = %q, want Bearer error="invalid_token"`, got)
	}
}

// BenchmarkAPIVerify measures the API endpoint's handler, which verifies the
// session JWT on every call, as BenchmarkMint measures the token endpoint's;
// BenchmarkVerify is the verification alone.
func BenchmarkAPIVerify(b *testing.B) {
	for _, alg := range []string{SigningRS256, SigningES256, SigningEdDSA} {
		b.Run(alg, func(b *testing.B) {
			be, _ := newTestBackend(b, Config{Signing: alg})
			si := signIn(b, be)
			req := httptest.NewRequest(http.MethodGet, "/api/me", nil)
			req.Header.Set("Authorization", "Bearer "+si.JWT)
			serveLoop(b, be, req)
		})
	}
}

// BenchmarkVerify measures verifying a session JWT alone.
func BenchmarkVerify(b *testing.B) {
	for _, alg := range []string{SigningRS256, SigningES256, SigningEdDSA} {
		b.Run(alg, func(b *testing.B) {
			be, _ := newTestBackend(b, Config{Signing: alg})
			raw, err := be.tokens.sign("user_1", "sess_1")
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			reportCPU(b)
			for b.Loop() {
				if _, err := be.tokens.verify(raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
