package backend

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"math/big"
	"net/http"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// fetchJWKS returns the served JWKS.
func fetchJWKS(t testing.TB, b *Backend) jwkSet {
	t.Helper()
	rec := do(t, b, http.MethodGet, "/.well-known/jwks.json", "", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("jwks: status %d, body %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("jwks Content-Type = %q", ct)
	}
	return decode[jwkSet](t, rec)
}

// publicKeyFromJWK parses a JWK back into a public key, as a relying party would.
func publicKeyFromJWK(k jwk) (crypto.PublicKey, error) {
	b64 := base64.RawURLEncoding.DecodeString
	switch {
	case k.Kty == "RSA" && k.Alg == SigningRS256:
		n, err := b64(k.N)
		if err != nil {
			return nil, err
		}
		e, err := b64(k.E)
		if err != nil {
			return nil, err
		}
		return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}, nil
	case k.Kty == "EC" && k.Crv == "P-256" && k.Alg == SigningES256:
		x, err := b64(k.X)
		if err != nil {
			return nil, err
		}
		y, err := b64(k.Y)
		if err != nil {
			return nil, err
		}
		return ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	case k.Kty == "OKP" && k.Crv == "Ed25519" && k.Alg == SigningEdDSA:
		x, err := b64(k.X)
		if err != nil {
			return nil, err
		}
		return ed25519.PublicKey(x), nil
	}
	return nil, fmt.Errorf("unsupported JWK %+v", k)
}

// checkJWKSVerifies asserts that the served JWKS verifies raw through an
// independent parser.
func checkJWKSVerifies(t testing.TB, b *Backend, raw string) {
	t.Helper()
	set := fetchJWKS(t, b)
	keys := make(map[string]crypto.PublicKey)
	for _, k := range set.Keys {
		if k.Use != "sig" || k.Kid == "" {
			t.Errorf("JWK %+v: want use sig and a kid", k)
		}
		pub, err := publicKeyFromJWK(k)
		if err != nil {
			t.Fatalf("parse JWK: %v", err)
		}
		keys[k.Kid] = pub
	}
	_, err := jwt.Parse(raw, func(tok *jwt.Token) (any, error) {
		kid, _ := tok.Header["kid"].(string)
		if key, ok := keys[kid]; ok {
			return key, nil
		}
		return nil, fmt.Errorf("kid %q not in JWKS", kid)
	}, jwt.WithValidMethods([]string{b.cfg.Signing}), jwt.WithTimeFunc(b.cfg.Now))
	if err != nil {
		t.Errorf("verify with JWKS: %v", err)
	}
}

func TestJWKSVerifiesTokens(t *testing.T) {
	for _, alg := range []string{SigningES256, SigningEdDSA} { // RS256: TestRS256
		t.Run(alg, func(t *testing.T) {
			b, _ := newTestBackend(t, Config{Signing: alg})
			si := signIn(t, b)
			checkJWKSVerifies(t, b, si.JWT)
			set := fetchJWKS(t, b)
			if len(set.Keys) != 1 || set.Keys[0].Alg != alg {
				t.Errorf("JWKS = %+v, want one %s key", set, alg)
			}
		})
	}
}

func TestRotationWithoutKeepingPreviousKey(t *testing.T) {
	b, _ := newTestBackend(t, Config{})
	si := signIn(t, b)
	oldKid := b.keys.load().signing.kid
	rec := do(t, b, http.MethodPost, "/admin/keys/rotate", "", `{"keep_previous":false}`)
	if rec.Code != http.StatusOK {
		t.Fatalf("rotate: status %d, body %s", rec.Code, rec.Body)
	}
	newKid := decode[map[string]string](t, rec)["kid"]
	if newKid == "" || newKid == oldKid || newKid != b.keys.load().signing.kid {
		t.Fatalf("rotate returned kid %q; old %q, current %q", newKid, oldKid, b.keys.load().signing.kid)
	}
	expectTokenRejected(t, callAPI(t, b, si.JWT), CodeTokenInvalid)

	fresh := decode[tokenResponse](t, mintToken(t, b, si)).JWT
	if rec := callAPI(t, b, fresh); rec.Code != http.StatusOK {
		t.Errorf("token minted after rotation: status %d, body %s", rec.Code, rec.Body)
	}
	if set := fetchJWKS(t, b); len(set.Keys) != 1 || set.Keys[0].Kid != newKid {
		t.Errorf("JWKS = %+v, want only %s", set, newKid)
	}
}

func TestRotationKeepingPreviousKey(t *testing.T) {
	b, _ := newTestBackend(t, Config{Signing: SigningEdDSA})
	si := signIn(t, b)
	first := b.keys.load().signing.kid
	if err := b.RotateKeys(true); err != nil {
		t.Fatal(err)
	}
	second := b.keys.load().signing.kid
	if rec := callAPI(t, b, si.JWT); rec.Code != http.StatusOK {
		t.Errorf("token of the previous key: status %d, body %s", rec.Code, rec.Body)
	}
	fresh := decode[tokenResponse](t, mintToken(t, b, si)).JWT
	if rec := callAPI(t, b, fresh); rec.Code != http.StatusOK {
		t.Errorf("token of the new key: status %d, body %s", rec.Code, rec.Body)
	}
	checkJWKSVerifies(t, b, si.JWT)
	checkJWKSVerifies(t, b, fresh)
	if set := fetchJWKS(t, b); len(set.Keys) != 2 || set.Keys[0].Kid != second || set.Keys[1].Kid != first {
		t.Errorf("JWKS = %+v, want [%s %s]", set, second, first)
	}

	// Only one previous key is kept: a second rotation drops the first key.
	if err := b.RotateKeys(true); err != nil {
		t.Fatal(err)
	}
	expectTokenRejected(t, callAPI(t, b, si.JWT), CodeTokenInvalid)
	if rec := callAPI(t, b, fresh); rec.Code != http.StatusOK {
		t.Errorf("token of the previous key after second rotation: status %d, body %s", rec.Code, rec.Body)
	}
}
