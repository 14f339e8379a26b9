package model

import (
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/stampede-load/stampede/profiles"
)

// ClientConfig is the client model's behaviour in wall-clock time: the
// profile's simulated durations already divided by the time scale.
type ClientConfig struct {
	Blocking     bool          // getToken waits inside the stale window instead of serving the cached token
	RefreshAhead time.Duration // the poller refreshes this long before exp
	StaleWindow  time.Duration // a cached token is stale this long before exp
	APIInterval  time.Duration // mean time between API calls; 0 disables them
	ThinkTime    time.Duration // before signing in again after a forced sign-out
	RetryBase    time.Duration
	RetryCap     time.Duration
	RetryJitter  time.Duration // the spread of the additive strategy
	// MaxRetries is how many times a failed sign-in or refresh is retried:
	// the profile's max_retries counts attempts, so it is one less.
	MaxRetries int
	// RetryMultiplier is the backoff growth per attempt; 0 means 2.
	RetryMultiplier float64
	// RetryStrategy is the jitter strategy (profiles.Jitter*); "" is additive.
	RetryStrategy string
	// NetworkOnly retries network errors and timeouts only.
	NetworkOnly bool
	// OfflineCache serves the cached token, even an expired one, while offline.
	OfflineCache bool
	// RefreshOnReconnect refreshes when the network comes back.
	RefreshOnReconnect bool
	// Interceptor is the 401 interceptor's strategy (profiles.Interceptor*); "" is single_flight.
	Interceptor string
	// Burst is how many API calls a screen load fires at once; 0 means 1.
	Burst int
	// The session's statuses, the token cache and the sign-in flow
	// (session.go).
	Session SessionConfig
}

// NewClientConfig derives the client model's configuration from a profile.
func NewClientConfig(p profiles.Profile) ClientConfig {
	c := ClientConfig{
		Blocking:     p.SDK.TokenMode == profiles.TokenModeBlocking,
		RefreshAhead: p.Scale(p.SDK.RefreshAhead),
		StaleWindow:  p.Scale(p.SDK.StaleWindow),
		ThinkTime:    p.Scale(p.App.ThinkTime),
		RetryBase:    p.Scale(p.SDK.Retry.Base),
		RetryCap:     p.Scale(p.SDK.Retry.Cap),
		RetryJitter:  p.Scale(p.SDK.Retry.Spread),
		MaxRetries:   retriesOf(p.SDK.Retry.MaxRetries),

		RetryMultiplier:    p.SDK.Retry.Multiplier,
		RetryStrategy:      p.SDK.Retry.Jitter,
		NetworkOnly:        p.SDK.Retry.NetworkOnly,
		OfflineCache:       p.SDK.OfflineCache,
		RefreshOnReconnect: p.SDK.RefreshOnReconnect,
		Interceptor:        p.SDK.Interceptor,
		Burst:              p.App.Burst,
		Session:            newSessionConfig(p),
	}
	if p.App.APICallsPerMinute > 0 {
		c.APIInterval = p.Scale(profiles.Duration(float64(time.Minute) / p.App.APICallsPerMinute))
	}
	return c
}

// Phase is where a client is in its session's life.
type Phase uint8

// Client phases.
const (
	PhaseIdle      Phase = iota // before its ramp slot
	PhaseSigningIn              // a sign-in is in flight or waiting to be retried
	PhaseSignedIn               // holds a session
	PhaseSignedOut              // lost its session; signs in again after think time
	PhaseStopped                // the run is over
)

var phaseNames = [...]string{"idle", "signing_in", "signed_in", "signed_out", "stopped"}

func (p Phase) String() string {
	if int(p) < len(phaseNames) {
		return phaseNames[p]
	}
	return "phase?"
}

// apiCall is one API request of the app, from getToken to its final answer.
type apiCall struct {
	req      uint64    // id of the HTTP attempt in flight; 0 while waiting for a token
	intended time.Time // when the app wanted to make the call
	since    time.Time // when its current getToken started
	tokenSeq uint64    // which token the attempt in flight carries
	token    string    // and that token itself
	id       uint64    // the app's call: the same on every retry of it (Action.Call)
	retries  int32     // how often it was retried after a 401 (at most maxLoop)
	owner    bool      // it started the interceptor's refresh (isRefreshing)
}

// Client is one simulated mobile app and its auth SDK, as a state machine:
// Step(now, event) returns the actions its engine must carry out. It does no
// I/O, reads no clock and owns no goroutine; the same seed and the same
// events give the same actions.
type Client struct {
	cfg *ClientConfig

	// The fields a step reads most come first, so that they share the
	// fewest cache lines: a large fleet's steps are memory-bound.
	phase        Phase
	pending      bool // the session waits for a session task (session.go)
	rejected     bool // the target answered 401 to the current token
	retryPending bool // a refresh retry is waiting for its backoff
	background   bool // the app is in the background: its timers do not run
	offline      bool // the device has no network
	recovering   bool // back in the foreground, waiting for a valid token
	lostSession  bool // it was signed out by the server, so its next sign-in is a re-sign-in
	inFlow       bool // the user is in the sign-in flow, its latency running
	left         bool // the user dismissed the sign-in flow and left
	// The 401 interceptor's flags (see intercept).
	irefreshing bool // isRefreshing
	stuck       bool // bug_stuck_flag: isRefreshing was never reset

	rng        rand.PCG
	nextReq    uint64
	refreshReq uint64 // the refresh in flight, 0 if none
	tokenSeq   uint64

	token     string
	expiresAt time.Time // of token (zero if none)
	inflight  []apiCall // API calls whose HTTP attempt is in flight

	// 128 bytes on: what fewer steps read.
	out       []Action  // the actions of the Step in progress
	waiting   []apiCall // API calls waiting for a token
	nextCall  uint64    // the last app call's id (apiCall.id)
	signInReq uint64
	lifetime  time.Duration // of the last token received, kept after a cold start
	// The 401 interceptor's queues (see intercept), nil until it needs
	// them: most clients never do.
	iq             *interceptorQueues
	signInAttempt  int
	refreshAttempt int // retries so far of the current refresh
	sessionID      string
	clientToken    string

	// 256 bytes on: what few steps read.
	lastBackoff time.Duration // for the decorrelated strategy
	status      string
	foreAt      time.Time // when it came to the foreground

	own *[]Action // Step's buffer (StepInto callers bring theirs)
}

// NewClient returns a client in PhaseIdle. seed and index pick its random stream.
func NewClient(cfg *ClientConfig, seed uint64, index int) *Client {
	c := new(Client)
	c.Init(cfg, seed, index)
	return c
}

// Init makes c the client NewClient(cfg, seed, index) returns, in place:
// an engine keeps a fleet's clients in one array instead of one
// allocation each.
func (c *Client) Init(cfg *ClientConfig, seed uint64, index int) {
	*c = Client{cfg: cfg, status: "none"}
	c.rng.Seed(seed, uint64(index))
}

// Phase reports where the client is.
func (c *Client) Phase() Phase { return c.phase }

// SessionStatus is the last known status of the client's session: "none"
// before the first sign-in, "active" while signed in, the server's status
// (e.g. "revoked") after a forced sign-out, "sign_in_failed" after a failed sign-in.
func (c *Client) SessionStatus() string { return c.status }

// Pending is how many API calls are waiting for a token or for their answer.
func (c *Client) Pending() int { return len(c.waiting) + len(c.inflight) }

// Step feeds one event to the client and returns the actions it takes. The
// returned slice is reused by the next Step.
func (c *Client) Step(now time.Time, ev Event) []Action {
	if c.own == nil {
		c.own = new([]Action)
	}
	*c.own = c.StepInto(*c.own, now, ev)
	return *c.own
}

// StepInto is Step writing the actions into buf (from its start): an engine
// driving many clients shares one buffer among them instead of each client
// keeping its own.
func (c *Client) StepInto(buf []Action, now time.Time, ev Event) []Action {
	c.out = buf[:0]
	switch ev.Kind {
	case EvStart:
		if c.phase == PhaseIdle {
			c.phase = PhaseSigningIn
			c.sendSignIn(ev.At)
		}
	case EvTimer:
		c.onTimer(now, ev)
	case EvSignInDone:
		c.onSignIn(now, ev)
	case EvRefreshDone:
		c.onRefresh(now, ev)
	case EvAPIDone:
		c.onAPI(now, ev)
	case EvStop:
		c.stop(now)
	case EvBackground:
		c.toBackground()
	case EvForeground:
		c.toForeground(now, ev.ColdStart)
	case EvOffline:
		c.offline = true
	case EvOnline:
		c.onOnline(now)
	}
	out := c.out
	c.out = nil
	return out
}

// SessionID is the client's session, "" when it holds none.
func (c *Client) SessionID() string { return c.sessionID }

// Background reports whether the app is in the background.
func (c *Client) Background() bool { return c.background }

// Offline reports whether the device has no network.
func (c *Client) Offline() bool { return c.offline }

// toBackground pauses the app: every timer stops; requests in flight still
// answer. Nothing refreshes until the app comes back.
func (c *Client) toBackground() {
	if c.background || c.phase == PhaseIdle || c.phase == PhaseStopped {
		return
	}
	c.background = true
	c.inFlow = false
	c.retryPending = false
	c.refreshAttempt = 0
	for k := TimerKind(0); k < NumTimers; k++ {
		c.cancelTimer(k)
	}
}

// toForeground resumes the app: getToken(skip_cache) for a signed-in app,
// the interrupted sign-in otherwise.
func (c *Client) toForeground(now time.Time, cold bool) {
	if !c.background || c.phase == PhaseStopped {
		return
	}
	c.background = false
	if cold {
		// The process was killed: the session token lived in memory unless
		// the token cache kept it (coldStart), and the interceptor's flag
		// and queue did (its calls are lost).
		if c.iq != nil {
			c.drop(c.iq.iqueue, CallDroppedKilled)
			c.iq.iqueue = nil
		}
		c.irefreshing, c.stuck = false, false
		if c.coldStart(now) {
			return
		}
	}
	switch c.phase {
	case PhaseSignedIn:
		c.recovering, c.foreAt = true, now
		if c.refreshReq == 0 {
			c.sendRefresh(now) // getToken({skipCache: true})
		}
		if c.cfg.APIInterval > 0 {
			c.setTimer(TimerAPI, now.Add(c.apiGap()))
		}
	case PhaseSigningIn:
		if c.signInReq == 0 {
			c.sendSignIn(now)
		}
	case PhaseSignedOut:
		if !c.left && !c.Exhausted() {
			c.setTimer(TimerSignIn, now.Add(c.cfg.ThinkTime))
		}
	}
}

// onOnline is the NetInfo restore callback: refresh at once, whatever the
// backoff said.
func (c *Client) onOnline(now time.Time) {
	if !c.offline {
		return
	}
	c.offline = false
	if !c.cfg.RefreshOnReconnect || c.background || c.phase != PhaseSignedIn || c.refreshReq != 0 {
		return
	}
	if c.retryPending {
		c.retryPending = false
		c.cancelTimer(TimerRetry)
	}
	c.refreshAttempt = 0
	c.sendRefresh(now)
}

func (c *Client) onTimer(now time.Time, ev Event) {
	switch ev.Timer {
	case TimerSignIn:
		if c.phase == PhaseSignedOut && !c.Exhausted() && c.userSignIn(now, ev.At) {
			return
		}
		if (c.phase == PhaseSigningIn || c.phase == PhaseSignedOut) && !c.Exhausted() {
			c.phase = PhaseSigningIn
			c.sendSignIn(ev.At)
		}
	case TimerRefresh:
		if c.phase == PhaseSignedIn && c.refreshReq == 0 && !c.retryPending {
			c.sendRefresh(ev.At)
		}
	case TimerRetry:
		if c.phase == PhaseSignedIn && c.retryPending {
			c.retryPending = false
			c.sendRefresh(ev.At)
		}
	case TimerAPI:
		if c.phase != PhaseSignedIn || c.pending {
			return
		}
		for range max(c.cfg.Burst, 1) {
			c.record(Action{Metric: MetricRequestIssued})
			c.nextCall++
			c.getToken(now, apiCall{intended: ev.At, since: now, id: c.nextCall})
		}
		c.setTimer(TimerAPI, ev.At.Add(c.apiGap()))
	}
}

func (c *Client) onSignIn(now time.Time, ev Event) {
	if ev.Req != c.signInReq || c.phase != PhaseSigningIn {
		return
	}
	c.signInReq = 0
	o := ev.Outcome
	var times TokenTimes
	if o.Class == ClassOK {
		var code string
		times, code = eventTokenTimes(now, ev)
		switch {
		case code != "":
			o = Outcome{Class: ClassOther, Status: o.Status, Code: code}
		case ev.SessionID == "":
			o = Outcome{Class: ClassOther, Status: o.Status, Code: "bad_sign_in_response"}
		}
	}
	switch {
	case o.Class == ClassOK:
		c.phase = PhaseSignedIn
		c.status = "active"
		c.signInAttempt = 0
		c.sessionID, c.clientToken = ev.SessionID, ev.ClientToken
		c.setToken(now, ev.Token, times)
		if c.lostSession {
			c.lostSession = false
			c.record(Action{Metric: MetricReSignIn})
		}
		c.setTimer(TimerRefresh, c.nextPoll(now))
		if c.cfg.APIInterval > 0 {
			c.setTimer(TimerAPI, now.Add(c.apiGap()))
		}
	case o.Class == ClassCancelled:
	case o.Code == CodeCredentialsExhausted:
		// Nothing left to sign in with: the client stops trying.
		c.phase = PhaseSignedOut
		c.status = StatusCredentialsExhausted
		c.signInAttempt = 0
	case c.retryable(o.Class) && c.signInAttempt < c.maxRetries():
		c.setTimer(TimerSignIn, now.Add(c.backoff(c.signInAttempt, o.RetryAfter)))
		c.signInAttempt++
	default:
		c.phase = PhaseSignedOut
		c.status = "sign_in_failed"
		c.signInAttempt = 0
		c.setTimer(TimerSignIn, now.Add(c.cfg.ThinkTime))
	}
}

func (c *Client) onRefresh(now time.Time, ev Event) {
	if c.onPrivateRefresh(now, ev) {
		return
	}
	if ev.Req != c.refreshReq || c.phase != PhaseSignedIn {
		return
	}
	c.refreshReq = 0
	o, times := refreshAnswer(now, ev)
	switch {
	case o.Class == ClassOK:
		c.refreshAttempt = 0
		if ev.ClientToken != "" {
			c.clientToken = ev.ClientToken // the server rotated it
		}
		c.setToken(now, ev.Token, times)
		c.setTimer(TimerRefresh, c.nextPoll(now))
		c.taskDone(now)
		if c.recovering {
			c.recovering = false
			c.record(Action{Metric: MetricForegroundRecovery, OK: true, Latency: now.Sub(c.foreAt)})
		}
		c.serveWaiting(now)
	case o.Class == ClassCancelled:
	case o.Code == CodePendingSession:
		c.onPending(now, o)
	case SessionLost(o):
		c.signOut(now, o)
	case c.retryable(o.Class) && c.refreshAttempt < c.maxRetries() && !c.background:
		c.retryPending = true
		c.setTimer(TimerRetry, now.Add(c.backoff(c.refreshAttempt, o.RetryAfter)))
		c.refreshAttempt++
		c.record(Action{Metric: MetricRefreshRetry})
	default:
		// The refresh failed for good (or the app is in the background, where
		// nothing retries): callers waiting for a token see an error, and the
		// poller tries again one refresh interval later.
		c.refreshAttempt = 0
		if c.recovering {
			c.recovering = false
			c.record(Action{Metric: MetricForegroundRecovery, OK: false, Class: o.Class, Latency: now.Sub(c.foreAt)})
		}
		c.failWaiting(now, o.Class)
		c.setTimer(TimerRefresh, now.Add(c.pollGap()))
	}
}

func (c *Client) onAPI(now time.Time, ev Event) {
	i := c.findInflight(ev.Req)
	if i < 0 {
		return
	}
	call := c.inflight[i]
	c.inflight = append(c.inflight[:i], c.inflight[i+1:]...)
	call.req = 0
	switch o := ev.Outcome; {
	case o.Class == ClassOK:
		c.settle(true, ClassOK)
	case o.Class == ClassCancelled:
		c.settle(false, ClassCancelled)
	case o.Class == Class401 && c.phase == PhaseSignedIn:
		if call.tokenSeq == c.tokenSeq {
			c.rejected = true
		}
		c.intercept(now, call)
	default:
		c.settle(false, o.Class)
	}
}

// SessionLost reports whether a refresh answer means the session is over
// server-side (a terminal status, an unknown session, a rejected client
// token): the user is signed out and must sign in again. 429, 5xx and
// network failures never are: they are retried.
func SessionLost(o Outcome) bool {
	if o.Class == ClassOK || o.Class == ClassCancelled || o.Class.Retryable() {
		return false
	}
	if strings.HasPrefix(o.Code, "session_") || strings.HasPrefix(o.Code, "client_token_") || o.Code == "invalid_grant" || o.Code == "refresh_token_reused" {
		return true // the embedded backend's terminal statuses; OAuth 2.0's dead refresh token
	}
	return o.Status == 401 || o.Status == 403 || o.Status == 404
}

// getToken serves an API call a token: at once when the cached one will do,
// otherwise once the single refresh in flight brings one.
func (c *Client) getToken(now time.Time, call apiCall) {
	if c.offline && c.offlineCache() && c.token != "" {
		// The resource cache: offline, the cached token is served as it is.
		c.record(Action{Metric: MetricGetToken, OK: true})
		c.sendAPI(call, now)
		return
	}
	valid := c.token != "" && now.Before(c.expiresAt)
	fresh := valid && now.Before(c.expiresAt.Add(-c.cfg.StaleWindow))
	if fresh || (valid && !c.cfg.Blocking) {
		c.record(Action{Metric: MetricGetToken, OK: true})
		c.sendAPI(call, now)
		if !fresh && c.refreshReq == 0 && !c.retryPending {
			c.sendRefresh(now) // stale-while-revalidate
		}
		return
	}
	c.waiting = append(c.waiting, call)
	if c.refreshReq == 0 && !c.retryPending {
		c.sendRefresh(now)
	}
}

func (c *Client) serveWaiting(now time.Time) {
	owner := false
	for _, call := range c.waiting {
		c.record(Action{Metric: MetricGetToken, OK: true, Latency: now.Sub(call.since)})
		c.sendAPI(call, now)
		owner = owner || call.owner
	}
	c.waiting = c.waiting[:0]
	if owner {
		c.processQueue(now, true)
	}
}

func (c *Client) failWaiting(now time.Time, class ErrorClass) {
	owner := false
	for _, call := range c.waiting {
		c.record(Action{Metric: MetricGetToken, OK: false, Class: class, Latency: now.Sub(call.since)})
		c.settle(false, class)
		owner = owner || call.owner
	}
	c.waiting = c.waiting[:0]
	if owner {
		c.processQueue(now, false)
	}
}

func (c *Client) signOut(now time.Time, o Outcome) { c.loseSession(now, o, true) }

// loseSession drops the client's session; forced: the server (or a lost
// token cache) ended it and the user must sign in again, counted as a
// forced sign-out and the next sign-in as a re-sign-in.
func (c *Client) loseSession(now time.Time, o Outcome, forced bool) {
	code := o.Code
	status := "signed_out"
	switch s := strings.TrimPrefix(code, "session_"); s {
	case "expired", "abandoned", "revoked", "ended", "removed", "replaced", StatusPending:
		status = s
	}
	c.phase = PhaseSignedOut
	c.status = status
	c.pending, c.inFlow = false, false
	if forced {
		c.lostSession = true
		c.record(Action{Metric: MetricForcedSignOut, Code: code})
	}
	if c.recovering {
		c.recovering = false
		c.record(Action{Metric: MetricForegroundRecovery, OK: false, Class: o.Class, Latency: now.Sub(c.foreAt)})
	}
	c.failWaiting(now, o.Class)
	c.sessionID, c.clientToken, c.token = "", "", ""
	c.expiresAt = time.Time{}
	c.refreshAttempt, c.retryPending = 0, false
	c.cancelTimer(TimerRefresh)
	c.cancelTimer(TimerRetry)
	c.cancelTimer(TimerAPI)
	c.setTimer(TimerSignIn, now.Add(c.cfg.ThinkTime))
}

func (c *Client) stop(now time.Time) {
	if c.phase == PhaseStopped {
		return
	}
	c.phase = PhaseStopped
	c.recovering = false
	for k := TimerKind(0); k < NumTimers; k++ {
		c.cancelTimer(k)
	}
	for _, call := range c.waiting {
		c.record(Action{Metric: MetricGetToken, OK: false, Class: ClassCancelled, Latency: now.Sub(call.since)})
		c.settle(false, ClassCancelled)
	}
	c.waiting = c.waiting[:0]
	c.retryPending = false
	// Calls queued behind a refresh that will still answer would have
	// settled: they are cancelled. Calls queued behind a stuck flag would
	// never have: they stay unsettled, lost.
	if c.iq == nil {
		return
	}
	if !c.stuck {
		for range c.iq.iqueue {
			c.settle(false, ClassCancelled)
		}
		c.iq.iqueue = nil
	}
	for range c.iq.private {
		c.settle(false, ClassCancelled)
	}
	c.iq.private = nil
}

// Lost is how many API calls the client dropped without settling them:
// those its interceptor's bugs left behind.
func (c *Client) Lost() int {
	if c.iq == nil {
		return 0
	}
	n := c.iq.orphans
	if c.stuck {
		n += len(c.iq.iqueue)
	}
	return n
}

func (c *Client) settle(ok bool, class ErrorClass) {
	c.record(Action{Metric: MetricRequestSettled, OK: ok, Class: class})
}

// refreshAnswer reads a refresh answer: its outcome, and when the token it
// carried expires; a token the client cannot hold (CheckTokenTimes) makes it
// a failure of class other, which is not retried: the poller tries again
// one refresh interval later, so a target answering dead tokens is not
// hammered.
func refreshAnswer(now time.Time, ev Event) (Outcome, TokenTimes) {
	o := ev.Outcome
	if o.Class != ClassOK {
		return o, TokenTimes{}
	}
	times, code := eventTokenTimes(now, ev)
	if code != "" {
		return Outcome{Class: ClassOther, Status: o.Status, Code: code}, TokenTimes{}
	}
	return o, times
}

// eventTokenTimes is when the token an answer carried expires: the
// answer's ExpiresAt (an OAuth 2.0 expires_in) if given, else the JWT's
// exp; code says why the token is refused, "" when it is not.
func eventTokenTimes(now time.Time, ev Event) (TokenTimes, string) {
	if !ev.ExpiresAt.IsZero() {
		return TokenTimes{IssuedAt: now, ExpiresAt: ev.ExpiresAt}, ""
	}
	if !ev.Times.ExpiresAt.IsZero() {
		return ev.Times, "" // read and checked by the transport
	}
	return CheckTokenTimes(ev.Token, now)
}

// ValidToken reports whether the client holds a session token that has not
// expired by now and that the target has not rejected.
func (c *Client) ValidToken(now time.Time) bool {
	return c.phase == PhaseSignedIn && c.token != "" && !c.rejected && now.Before(c.expiresAt)
}

// TokenExpiry is when the cached session token expires (zero if none).
func (c *Client) TokenExpiry() time.Time { return c.expiresAt }

func (c *Client) setToken(now time.Time, token string, times TokenTimes) {
	c.rejected = false
	if times.IssuedAt.IsZero() || times.IssuedAt.After(times.ExpiresAt) {
		times.IssuedAt = now // no usable iat: the lifetime counts from receipt
	}
	c.token = token
	c.expiresAt = times.ExpiresAt
	c.lifetime = times.Lifetime()
	c.tokenSeq++
}

func (c *Client) sendSignIn(intended time.Time) {
	c.nextReq++
	c.signInReq = c.nextReq
	c.out = append(c.out, Action{Kind: ActSignIn, Req: c.nextReq, At: intended, Attempt: c.signInAttempt})
}

func (c *Client) sendRefresh(intended time.Time) {
	c.nextReq++
	c.refreshReq = c.nextReq
	c.out = append(c.out, Action{Kind: ActRefresh, Req: c.nextReq, At: intended, Attempt: c.refreshAttempt,
		SessionID: c.sessionID, ClientToken: c.clientToken})
}

func (c *Client) sendAPI(call apiCall, now time.Time) {
	c.sendAPIWith(call, now, c.token, c.tokenSeq, CallIdle)
}

// sendAPIWith sends call carrying token (number seq); a retry sent with a
// token older than the newest is counted as a stale-token retry, the
// interceptor doing what state says.
func (c *Client) sendAPIWith(call apiCall, now time.Time, token string, seq uint64, state CallState) {
	c.nextReq++
	call.req = c.nextReq
	call.tokenSeq, call.token = seq, token
	intended := call.intended
	if call.retries > 0 {
		intended = now
		if call.retries == 2 {
			// The second retry goes out: a retry loop, counted once per
			// call when it is sent (as a proxy in front of the target
			// sees it), not when the interceptor decides it.
			c.record(Action{Metric: MetricRetryLoop, At: call.intended, Attempt: int(call.retries),
				TokenSeq: seq, NewestSeq: c.tokenSeq, State: CallRetryNoFlag})
		}
		if seq < c.tokenSeq {
			c.record(Action{Metric: MetricStaleRetry, At: call.intended, Attempt: int(call.retries),
				TokenSeq: seq, NewestSeq: c.tokenSeq, State: state})
		}
	}
	c.inflight = append(c.inflight, call)
	c.out = append(c.out, Action{Kind: ActAPI, Req: call.req, At: intended, Attempt: int(call.retries), Token: token, TokenSeq: seq, Call: call.id})
}

func (c *Client) findInflight(req uint64) int {
	for i := range c.inflight {
		if c.inflight[i].req == req {
			return i
		}
	}
	return -1
}

// setTimer arms a timer, except in the background, where no timer runs:
// coming back to the foreground re-arms what is needed.
func (c *Client) setTimer(k TimerKind, at time.Time) {
	if c.background {
		if k == TimerRetry {
			c.retryPending = false
		}
		return
	}
	c.out = append(c.out, Action{Kind: ActSetTimer, Timer: k, At: at})
}

func (c *Client) cancelTimer(k TimerKind) {
	c.out = append(c.out, Action{Kind: ActCancelTimer, Timer: k})
}

func (c *Client) record(a Action) {
	a.Kind = ActRecord
	c.out = append(c.out, a)
}

// nextPoll is when the poller refreshes the token just received: RefreshAhead
// before exp, but never sooner than a tenth of the token's lifetime from now,
// so a token shorter than RefreshAhead cannot make the client refresh in a loop.
func (c *Client) nextPoll(now time.Time) time.Time {
	at := c.expiresAt.Add(-c.cfg.RefreshAhead)
	if floor := now.Add(c.minGap()); at.Before(floor) {
		return floor
	}
	return at
}

// pollGap is the poller's period after a refresh that failed for good.
func (c *Client) pollGap() time.Duration {
	if g := c.lifetime - c.cfg.RefreshAhead; g > c.minGap() {
		return g
	}
	return c.minGap()
}

// minGap is the least time between two polls: a tenth of the last token's
// lifetime, or of RefreshAhead before any token arrived.
func (c *Client) minGap() time.Duration {
	l := c.lifetime
	if l <= 0 {
		l = c.cfg.RefreshAhead
	}
	return max(l/10, time.Millisecond)
}

// apiGap draws the time to the next API call: exponential, mean APIInterval.
func (c *Client) apiGap() time.Duration {
	u := c.uniform()
	return time.Duration(-math.Log(1-u) * float64(c.cfg.APIInterval))
}

// retryable reports whether the retry policy retries an outcome class.
func (c *Client) retryable(class ErrorClass) bool {
	if c.cfg.NetworkOnly {
		return class == ClassNetwork || class == ClassTimeout
	}
	return class.Retryable()
}

// backoff is the wait before retry number attempt+1 under the jitter
// strategy, and at least retryAfter:
//
//	additive      min(cap, base·m^n + U(0, spread))   (docs/profiles.md#sdk-presets)
//	none          min(cap, base·m^n)
//	full          U(0, min(cap, base·m^n))
//	equal         v/2 + U(0, v/2) with v = min(cap, base·m^n)
//	decorrelated  min(cap, U(base, 3·previous wait))
func (c *Client) backoff(attempt int, retryAfter time.Duration) time.Duration {
	base, limit := float64(c.cfg.RetryBase), float64(c.cfg.RetryCap)
	m := c.cfg.RetryMultiplier
	if m <= 0 {
		m = 2
	}
	v := math.Min(base*math.Pow(m, float64(attempt)), limit)
	var d float64
	switch c.cfg.RetryStrategy {
	case profiles.JitterNone:
		d = v
	case profiles.JitterFull:
		d = c.uniform() * v
	case profiles.JitterEqual:
		d = v/2 + c.uniform()*v/2
	case profiles.JitterDecorrelated:
		prev := float64(c.lastBackoff)
		if attempt == 0 || prev < base {
			prev = base
		}
		d = math.Min(limit, base+c.uniform()*(3*prev-base))
	default:
		d = math.Min(base*math.Pow(m, float64(attempt))+c.uniform()*float64(c.cfg.RetryJitter), limit)
	}
	c.lastBackoff = time.Duration(d)
	return max(time.Duration(d), retryAfter)
}

func (c *Client) uniform() float64 {
	return float64(c.rng.Uint64()>>11) / (1 << 53)
}
