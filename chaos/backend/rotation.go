package backend

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"net/http"

	"github.com/stampede-load/stampede/chaos/adminapi"
)

// Rotation configures client-token rotation: Enabled, every successful
// token mint issues a new client token and retires the presented one, which
// stays accepted for Grace. See adminapi.Rotation for the wire behaviour of
// the client endpoints.
type Rotation = adminapi.Rotation

// SetRotation replaces the client-token rotation settings. Turning rotation
// off keeps every session's current and previous token; the grace rules
// still apply to previous tokens. The error is a *FieldError: Grace must not
// be negative.
func (b *Backend) SetRotation(r Rotation) error {
	if err := r.Validate(); err != nil {
		return err
	}
	b.rotation.Store(&r)
	return nil
}

// Rotation returns the client-token rotation settings.
func (b *Backend) Rotation() Rotation {
	return *b.rotation.Load()
}

// handleRotation serves /admin/rotation: GET (and HEAD) the settings, PUT
// to replace them. Every answer is the settings in effect.
func (b *Backend) handleRotation(w http.ResponseWriter, r *http.Request, _ string) {
	if r.Method == http.MethodPut {
		var rot Rotation
		if !readSettings(w, r, &rot, "rotation") {
			return
		}
		if err := b.SetRotation(rot); err != nil {
			writeFieldError(w, "rotation", err)
			return
		}
	}
	writeJSON(w, http.StatusOK, b.Rotation())
}

// Client token layout: 8 bytes of masked generation, then a truncated MAC.
const (
	clientTokenGenBytes = 8
	clientTokenMACBytes = 24
	clientTokenBytes    = clientTokenGenBytes + clientTokenMACBytes
)

// Domain separation of the HMAC inputs.
const (
	macDomainMask byte = 1
	macDomainGen  byte = 2
)

// clientTokenSigner makes and recognises client tokens: generation gen of
// session sid is mask(sid) XOR gen, then HMAC(key, 2‖sid‖gen)[:24].
type clientTokenSigner struct {
	key [32]byte
}

// newClientTokenSigner returns a signer with a random key.
func newClientTokenSigner() *clientTokenSigner {
	s := &clientTokenSigner{}
	_, _ = rand.Read(s.key[:]) // crypto/rand.Read never fails
	return s
}

// mac returns HMAC-SHA256(key, domain‖sid‖suffix).
func (s *clientTokenSigner) mac(domain byte, sid string, suffix []byte) []byte {
	h := hmac.New(sha256.New, s.key[:])
	h.Write([]byte{domain})
	h.Write([]byte(sid))
	h.Write(suffix)
	return h.Sum(nil)
}

// mask returns the per-session mask of the generation field.
func (s *clientTokenSigner) mask(sid string) uint64 {
	return binary.BigEndian.Uint64(s.mac(macDomainMask, sid, nil))
}

// token returns the client token of generation gen of session sid.
func (s *clientTokenSigner) token(sid string, gen uint64) string {
	var raw [clientTokenBytes]byte
	binary.BigEndian.PutUint64(raw[:clientTokenGenBytes], gen)
	mac := s.mac(macDomainGen, sid, raw[:clientTokenGenBytes])
	binary.BigEndian.PutUint64(raw[:clientTokenGenBytes], gen^s.mask(sid))
	copy(raw[clientTokenGenBytes:], mac[:clientTokenMACBytes])
	return base64.RawURLEncoding.EncodeToString(raw[:])
}

// generation returns the generation of tok if it is a client token of
// session sid; ok is false otherwise. The MAC is compared in constant time.
func (s *clientTokenSigner) generation(sid, tok string) (gen uint64, ok bool) {
	var raw [clientTokenBytes]byte
	if base64.RawURLEncoding.EncodedLen(clientTokenBytes) != len(tok) {
		return 0, false
	}
	if n, err := base64.RawURLEncoding.Decode(raw[:], []byte(tok)); err != nil || n != clientTokenBytes {
		return 0, false
	}
	gen = binary.BigEndian.Uint64(raw[:clientTokenGenBytes]) ^ s.mask(sid)
	var genBytes [clientTokenGenBytes]byte
	binary.BigEndian.PutUint64(genBytes[:], gen)
	mac := s.mac(macDomainGen, sid, genBytes[:])
	return gen, hmac.Equal(raw[clientTokenGenBytes:], mac[:clientTokenMACBytes])
}
