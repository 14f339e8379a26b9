package backend

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"time"
)

// Rotation configures client-token rotation. Enabled: every successful token
// mint issues a new client token and retires the presented one.
//
// Wire behaviour of the client endpoints (tokens, touch, end), which
// authenticate with "Authorization: Bearer <client_token>". Each session
// keeps its current client token and the one retired last, with the time it
// was retired (Config.Now, never skewed by Faults.ClockOffset):
//
//   - Current token, rotation on: POST .../tokens retires it and answers 200
//     {"object":"token","jwt":"<jwt>","client_token":"<new>"}; the retired
//     token becomes the previous one. touch and end do not rotate.
//   - Current token, rotation off: 200 {"object":"token","jwt":"<jwt>"}, no
//     client_token field, nothing rotates.
//   - Previous token, less than Grace after its retirement (now <
//     retired+Grace, Grace read when the token is presented): accepted as the
//     current one would be, but nothing rotates; the token endpoint answers
//     200 {"object":"token","jwt":"<jwt>","client_token":"<current>"} (with
//     the field even when rotation has since been turned off), so a client
//     that lost a response recovers.
//   - Previous token at or after retired+Grace, or any older token of the
//     session (only one generation is remembered, so an older token counts
//     as reuse even within Grace): reuse. The session becomes revoked and
//     the answer is 401 code "client_token_reused"; from then on every
//     token of the session, current ones included, is answered 401
//     "session_revoked".
//   - A token that was never the session's: 401 "client_token_invalid";
//     unknown session: 404 "session_not_found".
//
// A session that is not active answers 401 "session_<status>" to its
// current, previous and older tokens alike. Comparisons are constant-time.
// Client tokens are 43 characters of base64url (32 bytes: the generation
// masked, then an HMAC-SHA256 of session id and generation under a key of
// the Backend), so older generations are recognised without storing them.
type Rotation struct {
	Enabled bool `json:"enabled"`
	// Grace: a retired client token presented within Grace of its
	// retirement is still accepted (Auth0 "reuse interval", Okta leeway);
	// after that, its reuse revokes the session (the whole family). 0: any
	// reuse revokes.
	Grace time.Duration `json:"grace"`
}

// rotationFields are the JSON names of the Rotation fields.
var rotationFields = []string{"enabled", "grace"}

// validate returns an error naming the first invalid field.
func (r Rotation) validate() error {
	if r.Grace < 0 {
		return negativeDuration("Rotation", "Grace", "grace", r.Grace)
	}
	return nil
}

// rotationWire is the JSON form of Rotation.
type rotationWire struct {
	Enabled bool   `json:"enabled"`
	Grace   string `json:"grace"`
}

// MarshalJSON writes {"enabled":true,"grace":"2s"}.
func (r Rotation) MarshalJSON() ([]byte, error) {
	return json.Marshal(rotationWire{Enabled: r.Enabled, Grace: r.Grace.String()})
}

// UnmarshalJSON reads the form MarshalJSON writes. Missing fields and null
// are zero; grace is a Go duration string; unknown fields are errors. The
// error is a *FieldError naming the field.
func (r *Rotation) UnmarshalJSON(data []byte) error {
	members, err := decodeObject(data, "Rotation", rotationFields)
	if err != nil || members == nil {
		return err
	}
	var out Rotation
	if raw, ok := members["enabled"]; ok {
		if out.Enabled, err = decodeBool("Rotation", "Enabled", "enabled", raw); err != nil {
			return err
		}
	}
	if raw, ok := members["grace"]; ok {
		if out.Grace, err = decodeDuration("Rotation", "Grace", "grace", raw); err != nil {
			return err
		}
	}
	*r = out
	return nil
}

// SetRotation replaces the client-token rotation settings. Turning rotation
// off keeps every session's current and previous token; the grace rules
// still apply to previous tokens. The error is a *FieldError: Grace must not
// be negative.
func (b *Backend) SetRotation(r Rotation) error {
	if err := r.validate(); err != nil {
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
