// Package model is the simulated client as a pure state machine: two
// tokens, getToken modes, the poller, retries, interceptors, lifecycle and
// network reactions (docs/client-model.md). Client.Step takes the time and
// an event and returns actions; the package does no I/O, reads no clock and
// starts no goroutine, so every engine drives the same model.
package model

import "time"

// EventKind says what happened to a client.
type EventKind uint8

// Events fed to Client.Step.
const (
	// EvStart: the client's ramp slot arrived; At is the slot.
	EvStart EventKind = iota + 1
	// EvTimer: a timer set by ActSetTimer fired; At is its deadline.
	EvTimer
	// EvSignInDone: the answer to an ActSignIn.
	EvSignInDone
	// EvRefreshDone: the answer to an ActRefresh.
	EvRefreshDone
	// EvAPIDone: the answer to an ActAPI.
	EvAPIDone
	// EvStop: the run is over; the client sends nothing more.
	EvStop
	// EvBackground: the app went to the background; its timers stop.
	EvBackground
	// EvForeground: the app came back; ColdStart says it had been killed
	// and restarts from the persisted client token alone.
	EvForeground
	// EvOffline: the device lost its network.
	EvOffline
	// EvOnline: the device's network came back.
	EvOnline
)

// TimerKind names one of a client's timers; a client has at most one of each.
type TimerKind uint8

// Client timers.
const (
	// TimerSignIn fires a sign-in retry or a re-sign-in after think time.
	TimerSignIn TimerKind = iota
	// TimerRefresh is the poller: the refresh ahead of expiry.
	TimerRefresh
	// TimerRetry fires a refresh retry after backoff.
	TimerRetry
	// TimerAPI fires the app's next protected API call.
	TimerAPI
	// NumTimers is the number of timer kinds.
	NumTimers
)

var timerNames = [NumTimers]string{"sign_in", "refresh", "retry", "api"}

func (k TimerKind) String() string {
	if k < NumTimers {
		return timerNames[k]
	}
	return "timer?"
}

// ErrorClass classifies the outcome of one HTTP request (docs/results.md).
type ErrorClass uint8

// Outcome classes; ClassOK is success.
const (
	ClassOK ErrorClass = iota
	Class401
	Class429
	Class5xx
	ClassNetwork
	ClassTimeout
	ClassOther
	// ClassCancelled: the run ended before the answer came.
	ClassCancelled
	// ClassSuperseded: an API call answered 4xx (not 429) that carried a
	// token older than the one its client held when the answer came: a
	// refresh had superseded it, and a server that revokes the previous
	// access token on refresh refuses it. The engines' driver classifies
	// it; the client handles it as the 4xx it was.
	ClassSuperseded
	// NumClasses is the number of classes.
	NumClasses
)

var classNames = [NumClasses]string{"ok", "http_401", "http_429", "http_5xx", "network", "timeout", "other", "cancelled", "superseded_token"}

func (c ErrorClass) String() string {
	if c < NumClasses {
		return classNames[c]
	}
	return "class?"
}

// Retryable reports whether the retry policy retries this class: 429, 5xx,
// network errors and timeouts; never other 4xx.
func (c ErrorClass) Retryable() bool {
	return c == Class429 || c == Class5xx || c == ClassNetwork || c == ClassTimeout
}

// Outcome is what one HTTP request came to.
type Outcome struct {
	Class      ErrorClass
	Status     int           // HTTP status; 0 when no response arrived
	Code       string        // the server's error code, e.g. "session_revoked"
	RetryAfter time.Duration // from a Retry-After header
	// Said is the server's own error code when Code is stampede's reading
	// of it (refresh_token_reused for an invalid_grant whose description
	// tells of reuse); "" when Code is the server's.
	Said string
	// Body is the head of a failed answer's body, raw (transport.BodyHead):
	// what reaches any output goes through reports.SampleBody, which
	// redacts it; "" for a success or when no body came.
	Body string
}

// Event is one input to Client.Step.
type Event struct {
	Kind  EventKind
	Timer TimerKind // EvTimer
	// ColdStart marks an EvForeground after the app was killed.
	ColdStart bool
	At        time.Time // EvStart, EvTimer: the intended time
	Req       uint64    // Ev*Done: the request id of the action answered
	Outcome   Outcome   // Ev*Done
	// Token is the session JWT an EvSignInDone or EvRefreshDone carried.
	Token string
	// SessionID and ClientToken come with a successful EvSignInDone; a
	// server that rotates client tokens sends a new ClientToken with
	// EvRefreshDone too.
	SessionID   string
	ClientToken string
	// ExpiresAt, when set, is when Token expires (an OAuth 2.0 expires_in);
	// otherwise the client reads exp from the JWT.
	ExpiresAt time.Time
	// Times, when its ExpiresAt is set, are Token's iat and exp as the
	// transport read and checked them (CheckTokenTimes), so that the
	// client need not read them again.
	Times TokenTimes
}

// ActionKind says what a client asks its engine to do.
type ActionKind uint8

// Actions returned by Client.Step.
const (
	// ActSignIn: send a sign-in request.
	ActSignIn ActionKind = iota + 1
	// ActRefresh: send a token refresh for SessionID with ClientToken.
	ActRefresh
	// ActAPI: call the protected API with Token.
	ActAPI
	// ActSetTimer: (re)arm Timer for At.
	ActSetTimer
	// ActCancelTimer: disarm Timer.
	ActCancelTimer
	// ActRecord: count Metric.
	ActRecord
)

// Metric names what an ActRecord counts.
type Metric uint8

// Metrics the client model records.
const (
	// MetricGetToken: a getToken call resolved after Latency; OK says whether it gave a token.
	MetricGetToken Metric = iota + 1
	// MetricRequestIssued: the app issued an API request.
	MetricRequestIssued
	// MetricRequestSettled: an API request ended; OK, or Class says why not.
	MetricRequestSettled
	// MetricForcedSignOut: the session ended server-side (Code) and the user must sign in again.
	MetricForcedSignOut
	// MetricReSignIn: a user signed in again after a forced sign-out.
	MetricReSignIn
	// MetricRefreshRetry: a refresh retry was scheduled.
	MetricRefreshRetry
	// MetricForegroundRecovery: back in the foreground, the app held a valid
	// token after Latency (OK), or lost its session (not OK).
	MetricForegroundRecovery
	// MetricRetryLoop: a request was retried past the interceptor's bound
	// of one retry. At is when the app issued it, Attempt the retry,
	// TokenSeq the token generation its last attempt carried, NewestSeq
	// the client's newest, State what the interceptor was doing.
	MetricRetryLoop
	// MetricStaleRetry: a retry was sent with a token older than the
	// client's newest; its fields as MetricRetryLoop's.
	MetricStaleRetry
	// MetricSignInCancelled: a user dismissed the sign-in flow and left.
	MetricSignInCancelled
	// MetricSignInFlowFailed: the sign-in flow failed before its request
	// (an error screen); the user tries again after think time.
	MetricSignInFlowFailed
)

// Action is one output of Client.Step. Which fields matter depends on Kind.
type Action struct {
	Kind  ActionKind
	Timer TimerKind
	// Metric, OK, Class and State: see below (the small fields come
	// first, together, so that an Action takes fewer words).
	Metric Metric
	OK     bool
	Class  ErrorClass
	State  CallState
	Req    uint64    // Act{SignIn,Refresh,API}: the id the answer must carry
	At     time.Time // ActSetTimer: deadline; Act{SignIn,Refresh,API}: intended start
	// Attempt is 0 for a first try and n for the nth retry.
	Attempt     int
	SessionID   string
	ClientToken string
	Token       string // ActAPI: the bearer token
	// Call is an ActAPI's app call: a number of the client's, the same on
	// every retry of one call and new for each call the app makes (sent
	// as X-Request-Id, so a proxy tells a retry from a new call).
	Call uint64

	// Metric (an ActRecord's), OK, Class, Latency and Code: see the
	// Metric* constants.
	Latency time.Duration
	Code    string
	// TokenSeq, NewestSeq and State: see MetricRetryLoop. An ActAPI's
	// TokenSeq is the generation of the token it carries.
	TokenSeq, NewestSeq uint64
}
