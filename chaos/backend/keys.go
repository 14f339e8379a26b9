package backend

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/golang-jwt/jwt/v5"
)

// Signing algorithms accepted in Config.Signing.
const (
	SigningRS256 = "RS256"
	SigningES256 = "ES256"
	SigningEdDSA = "EdDSA"
)

// rsaKeyBits is the size of generated RS256 keys.
const rsaKeyBits = 2048

// signingKey is one generated key pair with its identity.
type signingKey struct {
	kid     string
	private crypto.Signer
	public  crypto.PublicKey
	jwk     jwk
}

// jwk is a public JSON Web Key (RFC 7517) for RSA, EC P-256 or OKP Ed25519.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
}

// jwkSet is the body of the JWKS endpoint.
type jwkSet struct {
	Keys []jwk `json:"keys"`
}

// keySet is an immutable snapshot of the key material: the key that signs
// new tokens and every public key that verifies them.
type keySet struct {
	signing *signingKey
	verify  map[string]crypto.PublicKey
	jwks    []byte
}

// keyring holds the current keySet and replaces it on rotation.
type keyring struct {
	alg     string
	method  jwt.SigningMethod
	rotate  sync.Mutex // serialises rotations
	current atomic.Pointer[keySet]
}

// newKeyring returns a keyring for alg holding one freshly generated key.
func newKeyring(alg string) (*keyring, error) {
	k := &keyring{alg: alg, method: jwt.GetSigningMethod(alg)}
	if k.method == nil {
		return nil, fmt.Errorf("signing method %q is not available", alg)
	}
	if _, err := k.rotateKeys(false); err != nil {
		return nil, err
	}
	return k, nil
}

// load returns the current key set.
func (k *keyring) load() *keySet {
	return k.current.Load()
}

// rotateKeys generates a new signing key and returns its kid. With
// keepPrevious the key that signed until now stays valid for verification;
// keys older than that are dropped either way.
func (k *keyring) rotateKeys(keepPrevious bool) (string, error) {
	key, err := generateKey(k.alg)
	if err != nil {
		return "", err
	}
	k.rotate.Lock()
	defer k.rotate.Unlock()
	keys := []*signingKey{key}
	if prev := k.current.Load(); keepPrevious && prev != nil {
		keys = append(keys, prev.signing)
	}
	set := &keySet{signing: key, verify: make(map[string]crypto.PublicKey, len(keys))}
	var doc jwkSet
	for _, sk := range keys {
		set.verify[sk.kid] = sk.public
		doc.Keys = append(doc.Keys, sk.jwk)
	}
	if set.jwks, err = json.Marshal(doc); err != nil {
		return "", fmt.Errorf("encode JWKS: %w", err)
	}
	set.jwks = append(set.jwks, '\n')
	k.current.Store(set)
	return key.kid, nil
}

// generateKey creates a key pair for alg with its JWK; the kid is the
// RFC 7638 thumbprint of the public key.
func generateKey(alg string) (*signingKey, error) {
	b64 := base64.RawURLEncoding.EncodeToString
	var (
		key   = &signingKey{}
		thumb string
	)
	switch alg {
	case SigningRS256:
		priv, err := rsa.GenerateKey(rand.Reader, rsaKeyBits)
		if err != nil {
			return nil, fmt.Errorf("generate RSA key: %w", err)
		}
		key.private, key.public = priv, &priv.PublicKey
		key.jwk = jwk{Kty: "RSA", N: b64(priv.N.Bytes()), E: b64(big.NewInt(int64(priv.E)).Bytes())}
		thumb = fmt.Sprintf(`{"e":%q,"kty":"RSA","n":%q}`, key.jwk.E, key.jwk.N)
	case SigningES256:
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("generate EC key: %w", err)
		}
		point, err := priv.PublicKey.Bytes()
		if err != nil {
			return nil, fmt.Errorf("encode EC public key: %w", err)
		}
		key.private, key.public = priv, &priv.PublicKey
		// point is 0x04 || X || Y, 32 bytes each for P-256.
		key.jwk = jwk{Kty: "EC", Crv: "P-256", X: b64(point[1:33]), Y: b64(point[33:])}
		thumb = fmt.Sprintf(`{"crv":"P-256","kty":"EC","x":%q,"y":%q}`, key.jwk.X, key.jwk.Y)
	case SigningEdDSA:
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("generate Ed25519 key: %w", err)
		}
		key.private, key.public = priv, pub
		key.jwk = jwk{Kty: "OKP", Crv: "Ed25519", X: b64(pub)}
		thumb = fmt.Sprintf(`{"crv":"Ed25519","kty":"OKP","x":%q}`, key.jwk.X)
	default:
		return nil, fmt.Errorf("unknown signing algorithm %q", alg)
	}
	sum := sha256.Sum256([]byte(thumb))
	key.kid = b64(sum[:])
	key.jwk.Kid, key.jwk.Alg, key.jwk.Use = key.kid, alg, "sig"
	return key, nil
}

// handleJWKS serves the current verification keys.
func (b *Backend) handleJWKS(w http.ResponseWriter, _ *http.Request, _ string) {
	body := b.keys.load().jwks
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// RotateKeys replaces the signing key with a new one. With keepPrevious the
// old public key keeps verifying tokens it signed; without, those tokens are
// rejected from now on. Keys older than the previous one are always dropped.
func (b *Backend) RotateKeys(keepPrevious bool) error {
	_, err := b.keys.rotateKeys(keepPrevious)
	if err != nil {
		return fmt.Errorf("backend: rotate keys: %w", err)
	}
	return nil
}
