package proxy

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"
)

// tokenHash is what the proxy keeps of a token: a SHA-256 digest, never
// the token itself (docs/proxy.md#privacy).
type tokenHash [16]byte

// hashToken digests a token; the zero hash stands for no token.
func hashToken(tok string) tokenHash {
	var h tokenHash
	if tok == "" {
		return h
	}
	// Through a pooled buffer: the conversion to []byte would allocate.
	bp := keyBufs.Get().(*[]byte)
	b := append((*bp)[:0], tok...)
	sum := sha256.Sum256(b)
	if cap(b) <= 64<<10 {
		*bp = b
		keyBufs.Put(bp)
	}
	copy(h[:], sum[:16])
	return h
}

// short names a hash in a session key: its first 8 bytes in hex.
func (h tokenHash) short() string { return hex.EncodeToString(h[:8]) }

// claims are the JWT claims the proxy reads, decoded without verifying
// the signature: the proxy only tells sessions apart, it trusts nothing.
type claims struct {
	Sid string
	Sub string
	Iat time.Time
}

// maxJWT bounds the token the proxy decodes.
const maxJWT = 16 << 10

// decodeJWT reads the claims of a compact JWS; ok is false for anything
// that is not one (an opaque token, a malformed one).
func decodeJWT(tok string) (c claims, ok bool) {
	if len(tok) > maxJWT || strings.Count(tok, ".") != 2 {
		return c, false
	}
	payload := tok[strings.IndexByte(tok, '.')+1 : strings.LastIndexByte(tok, '.')]
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(payload, "="))
	if err != nil {
		return c, false
	}
	var v struct {
		Sid any `json:"sid"`
		Sub any `json:"sub"`
		Iat any `json:"iat"`
	}
	if json.Unmarshal(raw, &v) != nil {
		return c, false
	}
	c.Sid, _ = v.Sid.(string)
	c.Sub, _ = v.Sub.(string)
	if f, isNum := v.Iat.(float64); isNum && f > 0 && f < 1e11 {
		c.Iat = time.Unix(int64(f), 0)
	}
	return c, true
}

// sessionOf is the session a token names: "sid:…" or "sub:…" of a JWT,
// else "" (an opaque token).
func sessionOf(c claims) string {
	switch {
	case c.Sid != "":
		return "sid:" + c.Sid
	case c.Sub != "":
		return "sub:" + c.Sub
	}
	return ""
}

// bearer is the token of an "Authorization: Bearer" header, "" if none.
func bearer(h string) string {
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}
