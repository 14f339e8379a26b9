package sim

import (
	"context"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/stampede-load/stampede/chaos"
	"github.com/stampede-load/stampede/chaos/adminapi"
	"github.com/stampede-load/stampede/load/model"
	"github.com/stampede-load/stampede/profiles"
)

// Session statuses of the modelled backend, as the embedded backend names
// them (sessions.server_by_status).
const (
	stActive uint8 = iota
	stPending
	stRevoked
	stEnded
	stExpired
	stAbandoned
	stReplaced
)

var statusNames = []string{"active", "pending", "revoked", "ended", "expired", "abandoned", "replaced"}

// session is one session of the modelled backend: 32 bytes.
type session struct {
	created, lastActive int64 // virtual ns
	retiredAt           int64 // when the previous client token was retired
	gen                 uint32
	status              uint8
	hasPrev             bool
}

// backend is the modelled backend's state: its sessions, signing keys,
// injected faults and client-token rotation, with the embedded backend's
// semantics (chaos/backend) in virtual time. It implements chaos.Admin
// and chaos.TaskAdmin, so fleet events act on it as on the real one.
type backend struct {
	now         int64 // virtual ns, set by the simulator before each call
	lifetime    int64
	maxLifetime int64
	inactivity  int64
	sessions    []session
	latest      []int32 // per client, its latest session + 1 (0: none)

	keyGen   uint16
	keepPrev bool // the previous key still verifies (key_rotation overlap)
	// minted is the last token minted, word its 8 bytes: the tokens minted
	// in the same millisecond with the same key are one string, shared.
	minted   string
	word     uint64
	faults   adminapi.Faults
	rotation adminapi.Rotation
	dice     *rand.Rand
}

var errSessionNotFound = errors.New("session not found")

// newBackend is the backend of a partition's clients (its slots in the
// partition's driver), its dice seeded by seed and the partition.
func newBackend(p profiles.Profile, clients int, seed, part uint64) *backend {
	return &backend{
		lifetime: int64(p.Backend.TokenLifetime.D()), maxLifetime: int64(p.Backend.MaxLifetime.D()),
		inactivity: int64(p.Backend.InactivityTimeout.D()),
		latest:     make([]int32, clients),
		dice:       rand.New(rand.NewPCG(seed, 0x6261636b656e64+part)),
	}
}

// sid names session i: "s" and its index in base 36.
func sid(i int) string { return "s" + strconv.FormatUint(uint64(i), 36) }

func parseSID(s string) (int, bool) {
	if len(s) < 2 || s[0] != 's' {
		return 0, false
	}
	n, err := strconv.ParseUint(s[1:], 36, 32)
	return int(n), err == nil
}

// clientToken is session i's client token of generation gen.
func clientToken(i int, gen uint32) string {
	return sid(i) + "." + strconv.FormatUint(uint64(gen), 36)
}

// tokenBias keeps a skewed iat positive in a token's 48 bits.
const tokenBias = int64(1) << 46

// mint returns a session token issued now on the JWT clock (now plus the
// faults' clock offset), in the token's 8 bytes: the signing key's
// generation and the iat in milliseconds. Its lifetime is the profile's.
func (b *backend) mint() (string, model.TokenTimes) {
	iatMs := (b.now + int64(b.faults.ClockOffset)) / int64(time.Millisecond)
	if w := uint64(b.keyGen)<<48 | uint64(iatMs+tokenBias)&(1<<48-1); w != b.word || b.minted == "" {
		var buf [8]byte
		binary.BigEndian.PutUint64(buf[:], w)
		b.minted, b.word = string(buf[:]), w
	}
	iat := epoch.Add(time.Duration(iatMs) * time.Millisecond)
	return b.minted, model.TokenTimes{IssuedAt: iat, ExpiresAt: iat.Add(time.Duration(b.lifetime))}
}

// status evaluates s's status now, storing a lapse as the embedded
// backend does (abandoned when inactivity came before the maximum lifetime).
func (b *backend) status(s *session) uint8 {
	if s.status != stActive && s.status != stPending {
		return s.status
	}
	expireAt, abandonAt := s.created+b.maxLifetime, s.lastActive+b.inactivity
	switch {
	case b.inactivity > 0 && b.now >= abandonAt && abandonAt < expireAt:
		s.status = stAbandoned
	case b.maxLifetime > 0 && b.now >= expireAt:
		s.status = stExpired
	case b.inactivity > 0 && b.now >= abandonAt:
		s.status = stAbandoned
	}
	return s.status
}

func unauthorized(code string) model.Outcome {
	return model.Outcome{Class: model.Class401, Status: http.StatusUnauthorized, Code: code}
}

// signIn creates client's session, replacing its previous one, and mints
// its first token.
func (b *backend) signIn(client int, ev *model.Event) {
	if prev := b.latest[client]; prev > 0 {
		if s := &b.sessions[prev-1]; b.status(s) == stActive || s.status == stPending {
			s.status = stReplaced
		}
	}
	i := len(b.sessions)
	b.sessions = append(b.sessions, session{created: b.now, lastActive: b.now})
	b.latest[client] = int32(i + 1)
	ev.Outcome = model.Outcome{Class: model.ClassOK, Status: http.StatusOK}
	ev.SessionID, ev.ClientToken = sid(i), clientToken(i, 0)
	ev.Token, ev.Times = b.mint()
}

// refresh mints a token for the session of the client token presented,
// rotating the client token when rotation is on (reuse detection as the
// embedded backend's: a previous token after its grace, or an older one,
// revokes the session).
func (b *backend) refresh(sessionID, ct string, ev *model.Event) {
	i, ok := parseSID(sessionID)
	if !ok || i >= len(b.sessions) {
		ev.Outcome = model.Outcome{Class: model.ClassOther, Status: http.StatusNotFound, Code: "session_not_found"}
		return
	}
	s := &b.sessions[i]
	dot := strings.LastIndexByte(ct, '.')
	g, err := strconv.ParseUint(ct[dot+1:], 36, 32)
	if dot < 0 || ct[:dot] != sessionID || err != nil || uint32(g) > s.gen {
		ev.Outcome = unauthorized("client_token_invalid")
		return
	}
	gen := uint32(g)
	kind := 0 // current
	switch {
	case gen == s.gen:
	case gen+1 == s.gen && s.hasPrev:
		kind = 1 // previous
	default:
		kind = 2 // older
	}
	if st := b.status(s); st != stActive {
		ev.Outcome = unauthorized("session_" + statusNames[st])
		return
	}
	switch kind {
	case 1:
		if b.now >= s.retiredAt+int64(b.rotation.Grace) {
			s.status = stRevoked
			ev.Outcome = unauthorized("client_token_reused")
			return
		}
		ev.ClientToken = clientToken(i, s.gen)
	case 2:
		s.status = stRevoked
		ev.Outcome = unauthorized("client_token_reused")
		return
	}
	s.lastActive = b.now
	if kind == 0 && b.rotation.Enabled {
		s.hasPrev, s.retiredAt = true, b.now
		s.gen++
		ev.ClientToken = clientToken(i, s.gen)
	}
	ev.Outcome = model.Outcome{Class: model.ClassOK, Status: http.StatusOK}
	ev.Token, ev.Times = b.mint()
}

// api verifies a session token locally, as the embedded backend's API:
// its signing key, its validity window on the JWT clock, then the
// spurious-401 fault.
func (b *backend) api(tok string) model.Outcome {
	if len(tok) != 8 {
		return unauthorized("token_invalid")
	}
	v := binary.BigEndian.Uint64([]byte(tok))
	gen, iatMs := uint16(v>>48), int64(v&(1<<48-1))-tokenBias
	if gen != b.keyGen && !(b.keepPrev && gen+1 == b.keyGen) {
		return unauthorized("token_invalid")
	}
	clock := (b.now + int64(b.faults.ClockOffset)) / int64(time.Millisecond)
	switch {
	case clock >= iatMs+b.lifetime/int64(time.Millisecond):
		return unauthorized("token_expired")
	case clock < iatMs:
		return unauthorized("token_not_yet_valid")
	}
	if f := b.faults.Spurious401; f > 0 && b.dice.Float64() < f {
		return unauthorized("token_invalid")
	}
	return model.Outcome{Class: model.ClassOK, Status: http.StatusOK}
}

// tokenFault draws the brownout's 429 or 503 for a token request; ok
// false when neither applies.
func (b *backend) tokenFault() (model.Outcome, bool) {
	f := b.faults
	if f.Rate429 == 0 && f.Rate503 == 0 {
		return model.Outcome{}, false
	}
	switch u := b.dice.Float64(); {
	case u < f.Rate429:
		ra := time.Duration(0)
		if f.RetryAfter > 0 {
			ra = (f.RetryAfter + time.Second - 1) / time.Second * time.Second
		}
		return model.Outcome{Class: model.Class429, Status: http.StatusTooManyRequests, Code: "rate_limited", RetryAfter: ra}, true
	case u < f.Rate429+f.Rate503:
		return model.Outcome{Class: model.Class5xx, Status: http.StatusServiceUnavailable, Code: "unavailable"}, true
	}
	return model.Outcome{}, false
}

// byStatus counts the sessions by status now.
func (b *backend) byStatus() map[string]int64 {
	out := map[string]int64{}
	for i := range b.sessions {
		out[statusNames[b.status(&b.sessions[i])]]++
	}
	return out
}

// The admin API, in virtual time.

var _ chaos.Admin = (*backend)(nil)
var _ chaos.TaskAdmin = (*backend)(nil)

func (b *backend) RotateKeys(_ context.Context, keepPrevious bool) error {
	b.keyGen++
	b.keepPrev = keepPrevious
	return nil
}

func (b *backend) session(id string) (*session, error) {
	i, ok := parseSID(id)
	if !ok || i >= len(b.sessions) {
		return nil, errSessionNotFound
	}
	return &b.sessions[i], nil
}

func (b *backend) Revoke(_ context.Context, id string) error {
	s, err := b.session(id)
	if err != nil {
		return err
	}
	if st := b.status(s); st == stActive || st == stPending {
		s.status = stRevoked
	}
	return nil
}

func (b *backend) SetFaults(_ context.Context, f adminapi.Faults) error {
	b.faults = f
	return nil
}

func (b *backend) SetRotation(_ context.Context, r adminapi.Rotation) error {
	b.rotation = r
	return nil
}

func (b *backend) SetPending(_ context.Context, id, _ string) error {
	s, err := b.session(id)
	if err != nil {
		return err
	}
	if b.status(s) == stActive {
		s.status = stPending
	}
	return nil
}

func (b *backend) CompleteTask(_ context.Context, id string) error {
	s, err := b.session(id)
	if err != nil {
		return err
	}
	if b.status(s) == stPending {
		s.status, s.lastActive = stActive, b.now
	}
	return nil
}

// end ends a session through the end endpoint; counted reports whether the
// session_end event counts it (a session over already is not).
func (b *backend) end(id, ct string) bool {
	s, err := b.session(id)
	if err != nil || b.status(s) != stActive {
		return false
	}
	dot := strings.LastIndexByte(ct, '.')
	if dot < 0 || ct[:dot] != id {
		return false
	}
	s.status = stEnded
	return true
}
