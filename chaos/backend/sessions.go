package backend

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Session statuses, as reported in session objects and Stats.Sessions.
const (
	SessionActive    = "active"
	SessionEnded     = "ended"
	SessionExpired   = "expired"
	SessionAbandoned = "abandoned"
	SessionRevoked   = "revoked"
	SessionRemoved   = "removed"
)

// sessionStatuses lists every status in a fixed order.
var sessionStatuses = [...]string{SessionActive, SessionEnded, SessionExpired, SessionAbandoned, SessionRevoked, SessionRemoved,
	SessionPending, SessionReplaced}

// sessionShards is the number of independently locked parts of the store.
const sessionShards = 64

// errClientToken reports a client token that was never the session's.
var errClientToken = errors.New("client token is invalid")

// reuseError reports a retired client token presented outside the grace
// period; the session has been revoked.
type reuseError struct {
	sid    string
	detail string
}

// Error describes the reuse.
func (e *reuseError) Error() string {
	return "client token of session " + e.sid + " was reused " + e.detail + "; the session is revoked"
}

// inactiveError reports a session whose status is not active.
type inactiveError struct {
	sid    string
	status string
	task   string // the session task of a pending session
}

// Error returns "session <sid> is <status>", and its task when pending.
func (e *inactiveError) Error() string {
	if e.task != "" {
		return fmt.Sprintf("session %s is %s: task %s", e.sid, e.status, e.task)
	}
	return fmt.Sprintf("session %s is %s", e.sid, e.status)
}

// session is one signed-in client's session. Fields are guarded by the
// shard lock.
type session struct {
	id          string
	userID      string
	clientToken string    // current client token
	gen         uint64    // generation of clientToken, 0 at sign-in
	prevToken   string    // the token retired last, "" if none
	retiredAt   time.Time // when prevToken was retired (real clock)
	created     time.Time
	lastActive  time.Time
	status      string // stored status; active sessions may have lapsed, see statusAt
	task        string // the session task while pending (pending.go)
}

// sessionView is a consistent copy of a session at one instant.
type sessionView struct {
	ID         string
	UserID     string
	Status     string
	ExpireAt   time.Time
	AbandonAt  time.Time // zero when inactivity is off
	LastActive time.Time
}

// sessionJSON is the wire form of a session.
type sessionJSON struct {
	ID           string `json:"id"`
	Status       string `json:"status"`
	UserID       string `json:"user_id"`
	ExpireAt     int64  `json:"expire_at"`
	AbandonAt    *int64 `json:"abandon_at"`
	LastActiveAt int64  `json:"last_active_at"`
}

// json returns the wire form of v, dates in Unix milliseconds.
func (v sessionView) json() sessionJSON {
	out := sessionJSON{
		ID:           v.ID,
		Status:       v.Status,
		UserID:       v.UserID,
		ExpireAt:     v.ExpireAt.UnixMilli(),
		LastActiveAt: v.LastActive.UnixMilli(),
	}
	if !v.AbandonAt.IsZero() {
		ms := v.AbandonAt.UnixMilli()
		out.AbandonAt = &ms
	}
	return out
}

// sessionShard is one locked part of the store, padded to its own cache line.
type sessionShard struct {
	mu sync.Mutex
	m  map[string]*session
	_  [48]byte
}

// sessionStore holds every session in memory. Statuses that follow from
// time (expired, abandoned) are evaluated lazily when a session is read.
type sessionStore struct {
	maxLifetime time.Duration
	inactivity  time.Duration // 0 = off
	signer      *clientTokenSigner
	shards      [sessionShards]sessionShard

	usersMu  sync.Mutex
	users    map[string]string // identifier → user id
	current  map[string]string // user id → the user's latest session (pending.go)
	lastUser atomic.Int64
}

// newSessionStore returns an empty store.
func newSessionStore(maxLifetime, inactivity time.Duration) *sessionStore {
	s := &sessionStore{maxLifetime: maxLifetime, inactivity: inactivity, signer: newClientTokenSigner(), users: make(map[string]string)}
	for i := range s.shards {
		s.shards[i].m = make(map[string]*session)
	}
	return s
}

// shard returns the shard that holds sid (FNV-1a).
func (s *sessionStore) shard(sid string) *sessionShard {
	h := uint32(2166136261)
	for i := 0; i < len(sid); i++ {
		h ^= uint32(sid[i])
		h *= 16777619
	}
	return &s.shards[h%sessionShards]
}

// userFor returns the user id for identifier, allocating a new user for an
// unseen or empty identifier.
func (s *sessionStore) userFor(identifier string) string {
	if identifier == "" {
		return "user_" + strconv.FormatInt(s.lastUser.Add(1), 10)
	}
	s.usersMu.Lock()
	defer s.usersMu.Unlock()
	id, ok := s.users[identifier]
	if !ok {
		id = "user_" + strconv.FormatInt(s.lastUser.Add(1), 10)
		s.users[identifier] = id
	}
	return id
}

// create adds an active session for identifier and returns it with its
// client token.
func (s *sessionStore) create(identifier string, now time.Time) (view sessionView, clientToken string) {
	se := &session{
		id:         "sess_" + strings.ToLower(rand.Text()),
		userID:     s.userFor(identifier),
		created:    now,
		lastActive: now,
		status:     SessionActive,
	}
	se.clientToken = s.signer.token(se.id, 0)
	if identifier != "" {
		s.replace(se.userID, se.id, now)
	}
	sh := s.shard(se.id)
	sh.mu.Lock()
	sh.m[se.id] = se
	view = s.viewLocked(se, now)
	sh.mu.Unlock()
	return view, se.clientToken
}

// statusLocked evaluates se's status at now, storing lapsed statuses so that
// they are final. When both have lapsed by now, whichever came first wins:
// a session abandoned before its maximum lifetime is abandoned however
// late it is read (a phone back after hours), as the SDK's abandonAt says.
func (s *sessionStore) statusLocked(se *session, now time.Time) string {
	if se.status != SessionActive && se.status != SessionPending {
		return se.status
	}
	expireAt, abandonAt := se.created.Add(s.maxLifetime), se.lastActive.Add(s.inactivity)
	switch {
	case s.inactivity > 0 && !now.Before(abandonAt) && abandonAt.Before(expireAt):
		se.status = SessionAbandoned // abandoned first: read late, it stays abandoned
	case !now.Before(expireAt):
		se.status = SessionExpired
	case s.inactivity > 0 && !now.Before(abandonAt):
		se.status = SessionAbandoned
	}
	return se.status
}

// viewLocked returns a copy of se at now.
func (s *sessionStore) viewLocked(se *session, now time.Time) sessionView {
	v := sessionView{
		ID:         se.id,
		UserID:     se.userID,
		Status:     s.statusLocked(se, now),
		ExpireAt:   se.created.Add(s.maxLifetime),
		LastActive: se.lastActive,
	}
	if s.inactivity > 0 {
		v.AbandonAt = se.lastActive.Add(s.inactivity)
	}
	return v
}

// clientAction is what a client request does to its session.
type clientAction int

const (
	actionMint  clientAction = iota // token mint: marks activity, may rotate the client token
	actionTouch                     // touch: marks activity
	actionEnd                       // sign out: status → ended
)

// tokenKind classifies a presented client token.
type tokenKind int

const (
	tokenCurrent  tokenKind = iota
	tokenPrevious           // the token retired last
	tokenOlder              // an earlier generation of the session's tokens
)

// accessResult is a successful access.
type accessResult struct {
	view sessionView
	// clientToken is the client token to hand back: the new one after a
	// rotation, the current one when a previous token was accepted within
	// grace, "" otherwise.
	clientToken string
}

// classifyLocked tells which of se's tokens tok is. Comparisons with the
// current and previous token are constant-time; older generations are
// recognised by their MAC.
func (s *sessionStore) classifyLocked(se *session, tok string) (tokenKind, error) {
	if subtle.ConstantTimeCompare([]byte(tok), []byte(se.clientToken)) == 1 {
		return tokenCurrent, nil
	}
	if se.prevToken != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(se.prevToken)) == 1 {
		return tokenPrevious, nil
	}
	if gen, ok := s.signer.generation(se.id, tok); ok && gen < se.gen {
		return tokenOlder, nil
	}
	return 0, errClientToken
}

// access authenticates clientToken against session sid under the rotation
// settings rot and applies action if the session is active (see Rotation
// for the rules). Errors: ErrSessionNotFound, errClientToken,
// *inactiveError or *reuseError.
func (s *sessionStore) access(sid, clientToken string, action clientAction, rot Rotation, now time.Time) (accessResult, error) {
	sh := s.shard(sid)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	se, ok := sh.m[sid]
	if !ok {
		return accessResult{}, fmt.Errorf("session %s: %w", sid, ErrSessionNotFound)
	}
	kind, err := s.classifyLocked(se, clientToken)
	if err != nil {
		return accessResult{}, err
	}
	if status := s.statusLocked(se, now); status != SessionActive {
		return accessResult{}, &inactiveError{sid: sid, status: status, task: se.task}
	}
	var res accessResult
	switch kind {
	case tokenPrevious:
		deadline := se.retiredAt.Add(rot.Grace)
		if !now.Before(deadline) {
			se.status = SessionRevoked
			return accessResult{}, &reuseError{sid: sid,
				detail: fmt.Sprintf("%v after its retirement (grace %v)", now.Sub(se.retiredAt), rot.Grace)}
		}
		res.clientToken = se.clientToken
	case tokenOlder:
		se.status = SessionRevoked
		return accessResult{}, &reuseError{sid: sid, detail: "after a later token was retired too"}
	}
	switch action {
	case actionMint:
		se.lastActive = now
		if kind == tokenCurrent && rot.Enabled {
			se.prevToken, se.retiredAt = se.clientToken, now
			se.gen++
			se.clientToken = s.signer.token(se.id, se.gen)
			res.clientToken = se.clientToken
		}
	case actionTouch:
		se.lastActive = now
	case actionEnd:
		se.status = SessionEnded
	}
	res.view = s.viewLocked(se, now)
	return res, nil
}

// setStatus applies an administrative status to session sid. Revoking
// affects active sessions only (other statuses are final); removal applies
// to any session.
func (s *sessionStore) setStatus(sid, status string, now time.Time) (sessionView, error) {
	sh := s.shard(sid)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	se, ok := sh.m[sid]
	if !ok {
		return sessionView{}, fmt.Errorf("session %s: %w", sid, ErrSessionNotFound)
	}
	if st := s.statusLocked(se, now); status == SessionRemoved || st == SessionActive || st == SessionPending {
		se.status = status
	}
	return s.viewLocked(se, now), nil
}

// counts returns the number of sessions per status at now; statuses without
// sessions are left out.
func (s *sessionStore) counts(now time.Time) map[string]int64 {
	out := make(map[string]int64, len(sessionStatuses))
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for _, se := range sh.m {
			out[s.statusLocked(se, now)]++
		}
		sh.mu.Unlock()
	}
	return out
}

// revokeFraction revokes round(fraction × active sessions), chosen at random
// among the sessions active at now, and returns how many it revoked. Sessions
// that stop being active while it runs are skipped, so the count can fall
// short under concurrent traffic.
func (s *sessionStore) revokeFraction(fraction float64, now time.Time) int {
	var active []string
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for sid, se := range sh.m {
			if s.statusLocked(se, now) == SessionActive {
				active = append(active, sid)
			}
		}
		sh.mu.Unlock()
	}
	want := int(math.Round(fraction * float64(len(active))))
	mrand.Shuffle(len(active), func(i, j int) { active[i], active[j] = active[j], active[i] })
	revoked := 0
	for _, sid := range active {
		if revoked == want {
			break
		}
		sh := s.shard(sid)
		sh.mu.Lock()
		if se := sh.m[sid]; s.statusLocked(se, now) == SessionActive {
			se.status = SessionRevoked
			revoked++
		}
		sh.mu.Unlock()
	}
	return revoked
}
