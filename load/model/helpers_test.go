package model

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The client model is tested by feeding events and reading the actions back:
// no network, no goroutines, no clock. Every time is an offset from cmT0.
// This file holds the helpers the model's tests share.

var cmT0 = time.Unix(1_700_000_000, 0)

// cmAt is cmT0 plus d.
func cmAt(d time.Duration) time.Time { return cmT0.Add(d) }

// cmConfig is the configuration most tests use: 60 s tokens are polled at
// exp−17 s (43 s in) and are stale from exp−10 s (50 s in).
func cmConfig() ClientConfig {
	return ClientConfig{
		RefreshAhead: 17 * time.Second,
		StaleWindow:  10 * time.Second,
		APIInterval:  5 * time.Second,
		ThinkTime:    30 * time.Second,
		RetryBase:    time.Second,
		RetryCap:     10 * time.Second,
		RetryJitter:  time.Second,
		MaxRetries:   3,
	}
}

// cmSeconds formats t as JWT NumericDate seconds, milliseconds kept.
func cmSeconds(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMilli())/1e3, 'f', -1, 64)
}

// cmJWTPayload builds header.payload.signature around a raw JSON payload;
// the signature is junk, the model never verifies it.
func cmJWTPayload(payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + enc([]byte(payload)) + ".c2lnbmF0dXJl"
}

// cmJWT is a session token issued at iat that expires at exp.
func cmJWT(iat, exp time.Time) string {
	return cmJWTPayload(fmt.Sprintf(`{"sub":"user_1","sid":"sess_1","iat":%s,"exp":%s}`, cmSeconds(iat), cmSeconds(exp)))
}

// Tokens of the scenarios: tokA comes with the sign-in at cmT0, tokB with the
// refresh polled at 43 s, tokShort lives 10 s, shorter than RefreshAhead.
var (
	tokA     = cmJWT(cmT0, cmAt(60*time.Second))
	tokB     = cmJWT(cmAt(43*time.Second), cmAt(103*time.Second))
	tokC     = cmJWT(cmAt(61*time.Second), cmAt(121*time.Second))
	tokShort = cmJWT(cmAt(44*time.Second), cmAt(54*time.Second))
	tokBad   = "not-a-jwt"
)

const (
	cmSession     = "sess_1"
	cmClientToken = "ct_1"
	cmSeed        = 42
	cmIndex       = 7
)

// fx drives one client and remembers the request ids it was asked to send.
type fx struct {
	t          *testing.T
	cfg        *ClientConfig
	c          *Client
	now        time.Time
	signInReq  uint64   // the last ActSignIn
	refreshReq uint64   // the last ActRefresh
	apiReqs    []uint64 // every ActAPI, in order
	log        []Action // every action so far
}

func newFx(t *testing.T, cfg ClientConfig) *fx {
	t.Helper()
	return &fx{t: t, cfg: &cfg, c: NewClient(&cfg, cmSeed, cmIndex)}
}

// do feeds ev at now and returns a copy of the actions (Step reuses its slice).
func (f *fx) do(now time.Time, ev Event) []Action {
	f.t.Helper()
	if now.Before(f.now) {
		f.t.Fatalf("test drives time backwards: %v after %v", now.Sub(cmT0), f.now.Sub(cmT0))
	}
	f.now = now
	acts := slices.Clone(f.c.Step(now, ev))
	for _, a := range acts {
		switch a.Kind {
		case ActSignIn:
			f.signInReq = a.Req
		case ActRefresh:
			f.refreshReq = a.Req
		case ActAPI:
			f.apiReqs = append(f.apiReqs, a.Req)
		}
	}
	f.log = append(f.log, acts...)
	return acts
}

// lastAPI is the id of the latest ActAPI.
func (f *fx) lastAPI() uint64 {
	f.t.Helper()
	if len(f.apiReqs) == 0 {
		f.t.Fatal("no ActAPI was sent")
	}
	return f.apiReqs[len(f.apiReqs)-1]
}

// Events.

func evStart(at time.Time) Event { return Event{Kind: EvStart, At: at} }
func evTimer(k TimerKind, at time.Time) Event {
	return Event{Kind: EvTimer, Timer: k, At: at}
}
func evStop() Event { return Event{Kind: EvStop} }
func evSignInOK(req uint64, tok string) Event {
	return Event{Kind: EvSignInDone, Req: req, Outcome: Outcome{Class: ClassOK, Status: 200},
		Token: tok, SessionID: cmSession, ClientToken: cmClientToken}
}
func evSignIn(req uint64, o Outcome) Event { return Event{Kind: EvSignInDone, Req: req, Outcome: o} }
func evRefreshOK(req uint64, tok string) Event {
	return Event{Kind: EvRefreshDone, Req: req, Outcome: Outcome{Class: ClassOK, Status: 200}, Token: tok}
}
func evRefresh(req uint64, o Outcome) Event { return Event{Kind: EvRefreshDone, Req: req, Outcome: o} }
func evAPI(req uint64, o Outcome) Event     { return Event{Kind: EvAPIDone, Req: req, Outcome: o} }

// Outcomes.
var (
	ok200     = Outcome{Class: ClassOK, Status: 200}
	o400      = Outcome{Class: ClassOther, Status: 400, Code: "form_param_missing"}
	o401      = Outcome{Class: Class401, Status: 401, Code: "token_expired"}
	o429      = Outcome{Class: Class429, Status: 429}
	o503      = Outcome{Class: Class5xx, Status: 503}
	oNetwork  = Outcome{Class: ClassNetwork}
	oTimeout  = Outcome{Class: ClassTimeout}
	oCancel   = Outcome{Class: ClassCancelled}
	oRevoked  = Outcome{Class: Class401, Status: 401, Code: "session_revoked"}
	oNotFound = Outcome{Class: ClassOther, Status: 404, Code: "session_not_found"}
)

// States. Each drives a fresh fx from idle; times are absolute offsets from
// cmT0 so a table row knows when it may feed its event.

// stIdle: before the ramp slot.
func stIdle(*fx) {}

// stSigningIn: the first sign-in (req 1) is in flight since 0 s.
func stSigningIn(f *fx) { f.do(cmT0, evStart(cmT0)) }

// stSignInRetry: the first sign-in failed with a 503 at 0.1 s; its retry timer is armed.
func stSignInRetry(f *fx) {
	stSigningIn(f)
	f.do(cmAt(100*time.Millisecond), evSignIn(f.signInReq, o503))
}

// stSignInFailed: the first sign-in got a 400 at 0.1 s: signed out, "sign_in_failed".
func stSignInFailed(f *fx) {
	stSigningIn(f)
	f.do(cmAt(100*time.Millisecond), evSignIn(f.signInReq, o400))
}

// stSignedIn: signed in at 0 s with tokA (exp 60 s); poll armed for 43 s.
func stSignedIn(f *fx) {
	stSigningIn(f)
	f.do(cmT0, evSignInOK(f.signInReq, tokA))
}

// stInflight: signed in, one API call sent with tokA at 5 s.
func stInflight(f *fx) {
	stSignedIn(f)
	f.do(cmAt(5*time.Second), evTimer(TimerAPI, cmAt(5*time.Second)))
}

// stRefreshing: signed in, the poller's refresh is in flight since 43 s.
func stRefreshing(f *fx) {
	stSignedIn(f)
	f.do(cmAt(43*time.Second), evTimer(TimerRefresh, cmAt(43*time.Second)))
}

// stRetryPending: the poller's refresh got a 503 at 43.5 s; its retry timer is armed.
func stRetryPending(f *fx) {
	stRefreshing(f)
	f.do(cmAt(43500*time.Millisecond), evRefresh(f.refreshReq, o503))
}

// stWaiting: the app woke up at 61 s with tokA expired: one API call waits
// for the refresh that call started.
func stWaiting(f *fx) {
	stSignedIn(f)
	f.do(cmAt(61*time.Second), evTimer(TimerAPI, cmAt(61*time.Second)))
}

// stSignedOut: the poller's refresh found the session revoked at 43.5 s.
func stSignedOut(f *fx) {
	stRefreshing(f)
	f.do(cmAt(43500*time.Millisecond), evRefresh(f.refreshReq, oRevoked))
}

// stStopped: signed in, then the run ended at 1 s.
func stStopped(f *fx) {
	stSignedIn(f)
	f.do(cmAt(time.Second), evStop())
}

// Reading actions.

var cmMetricNames = map[Metric]string{
	MetricGetToken:       "get_token",
	MetricRequestIssued:  "issued",
	MetricRequestSettled: "settled",
	MetricForcedSignOut:  "forced",
	MetricReSignIn:       "re_sign_in",
	MetricRefreshRetry:   "refresh_retry",
}

// describe renders one action compactly: "sign_in/0", "refresh/1", "api/0",
// "set:api", "cancel:retry", "rec:get_token:ok", "rec:settled:http_5xx",
// "rec:forced:session_revoked", "rec:issued".
func describe(a Action) string {
	switch a.Kind {
	case ActSignIn:
		return fmt.Sprintf("sign_in/%d", a.Attempt)
	case ActRefresh:
		return fmt.Sprintf("refresh/%d", a.Attempt)
	case ActAPI:
		return fmt.Sprintf("api/%d", a.Attempt)
	case ActSetTimer:
		return "set:" + a.Timer.String()
	case ActCancelTimer:
		return "cancel:" + a.Timer.String()
	case ActRecord:
		s := "rec:" + cmMetricNames[a.Metric]
		switch a.Metric {
		case MetricGetToken, MetricRequestSettled:
			if a.OK {
				s += ":ok"
			} else {
				s += ":" + a.Class.String()
			}
		case MetricForcedSignOut:
			s += ":" + a.Code
		}
		return s
	}
	return fmt.Sprintf("kind(%d)", a.Kind)
}

// summary renders actions as space-separated describe()s.
func summary(acts []Action) string {
	parts := make([]string, len(acts))
	for i, a := range acts {
		parts[i] = describe(a)
	}
	return strings.Join(parts, " ")
}

func ofKind(acts []Action, k ActionKind) []Action {
	var out []Action
	for _, a := range acts {
		if a.Kind == k {
			out = append(out, a)
		}
	}
	return out
}

// one is the only action of kind k.
func one(t *testing.T, acts []Action, k ActionKind) Action {
	t.Helper()
	got := ofKind(acts, k)
	if len(got) != 1 {
		t.Fatalf("want exactly one action of kind %d, got %d in [%s]", k, len(got), summary(acts))
	}
	return got[0]
}

// timerSet is the deadline of the only ActSetTimer for k.
func timerSet(t *testing.T, acts []Action, k TimerKind) time.Time {
	t.Helper()
	var got []time.Time
	for _, a := range acts {
		if a.Kind == ActSetTimer && a.Timer == k {
			got = append(got, a.At)
		}
	}
	if len(got) != 1 {
		t.Fatalf("want exactly one set:%v, got %d in [%s]", k, len(got), summary(acts))
	}
	return got[0]
}

func records(acts []Action, m Metric) []Action {
	var out []Action
	for _, a := range acts {
		if a.Kind == ActRecord && a.Metric == m {
			out = append(out, a)
		}
	}
	return out
}

// wantBackoff checks a backoff drawn for retry number n (0-based):
// min(base·2^n, cap) ≤ d ≤ min(base·2^n + jitter, cap), and d ≥ retryAfter.
func wantBackoff(t *testing.T, cfg *ClientConfig, n int, retryAfter, d time.Duration) {
	t.Helper()
	exp := cfg.RetryBase << n
	lo, hi := min(exp, cfg.RetryCap), min(exp+cfg.RetryJitter, cfg.RetryCap)
	lo, hi = max(lo, retryAfter), max(hi, retryAfter)
	if d < lo || d > hi {
		t.Errorf("backoff for retry %d = %v, want within [%v, %v]", n, d, lo, hi)
	}
}

// wantState checks what the client reports about itself.
func wantState(t *testing.T, c *Client, phase Phase, status string, pending int) {
	t.Helper()
	if got := c.Phase(); got != phase {
		t.Errorf("Phase() = %v, want %v", got, phase)
	}
	if got := c.SessionStatus(); got != status {
		t.Errorf("SessionStatus() = %q, want %q", got, status)
	}
	if got := c.Pending(); got != pending {
		t.Errorf("Pending() = %d, want %d", got, pending)
	}
}
