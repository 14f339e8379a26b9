package model

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/profiles"
)

// transition is one (state, event) pair and what it must do.
type transition struct {
	name    string
	tweak   func(*ClientConfig) // optional change to cmConfig
	state   func(*fx)
	at      time.Duration                    // when the event is fed, from cmT0
	ev      func(f *fx, now time.Time) Event // built once the state is reached
	want    string                           // summary of the actions
	phase   Phase
	status  string
	pending int
	check   func(t *testing.T, f *fx, now time.Time, acts []Action) // optional
}

func runTransitions(t *testing.T, cases []transition) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := cmConfig()
			if tc.tweak != nil {
				tc.tweak(&cfg)
			}
			f := newFx(t, cfg)
			tc.state(f)
			now := cmAt(tc.at)
			acts := f.do(now, tc.ev(f, now))
			if got := summary(acts); got != tc.want {
				t.Errorf("actions:\n got [%s]\nwant [%s]", got, tc.want)
			}
			wantState(t, f.c, tc.phase, tc.status, tc.pending)
			if tc.check != nil && !t.Failed() {
				tc.check(t, f, now, acts)
			}
		})
	}
}

// Event builders for table rows.

func start() func(*fx, time.Time) Event {
	return func(_ *fx, now time.Time) Event { return evStart(now) }
}
func fire(k TimerKind) func(*fx, time.Time) Event {
	return func(_ *fx, now time.Time) Event { return evTimer(k, now) }
}

// fireLate fires timer k with a deadline lag before now (a late engine).
func fireLate(k TimerKind, lag time.Duration) func(*fx, time.Time) Event {
	return func(_ *fx, now time.Time) Event { return evTimer(k, now.Add(-lag)) }
}
func stop() func(*fx, time.Time) Event {
	return func(*fx, time.Time) Event { return evStop() }
}
func signInOK(tok string) func(*fx, time.Time) Event {
	return func(f *fx, _ time.Time) Event { return evSignInOK(f.signInReq, tok) }
}
func signInAns(o Outcome) func(*fx, time.Time) Event {
	return func(f *fx, _ time.Time) Event { return evSignIn(f.signInReq, o) }
}
func refreshOK(tok string) func(*fx, time.Time) Event {
	return func(f *fx, _ time.Time) Event { return evRefreshOK(f.refreshReq, tok) }
}
func refreshAns(o Outcome) func(*fx, time.Time) Event {
	return func(f *fx, _ time.Time) Event { return evRefresh(f.refreshReq, o) }
}
func apiAns(o Outcome) func(*fx, time.Time) Event {
	return func(f *fx, _ time.Time) Event { return evAPI(f.lastAPI(), o) }
}

// firstAPIAns answers the first ActAPI the client sent.
func firstAPIAns(o Outcome) func(*fx, time.Time) Event {
	return func(f *fx, _ time.Time) Event {
		if len(f.apiReqs) == 0 {
			f.t.Fatal("no ActAPI was sent")
		}
		return evAPI(f.apiReqs[0], o)
	}
}

// apiReq answers request req as an API call, whatever the client sent.
func apiReq(req uint64, o Outcome) func(*fx, time.Time) Event {
	return func(*fx, time.Time) Event { return evAPI(req, o) }
}

// withReq overrides the request id of an answer: stale or unknown ids.
func withReq(req uint64, ev func(*fx, time.Time) Event) func(*fx, time.Time) Event {
	return func(f *fx, now time.Time) Event {
		e := ev(f, now)
		e.Req = req
		return e
	}
}

// ---------------------------------------------------------------------------
// Sign-in.

func TestClientIdleStart(t *testing.T) {
	slot := cmAt(3 * time.Second)
	f := newFx(t, cmConfig())
	wantState(t, f.c, PhaseIdle, "none", 0)
	// The engine is 20 ms late: the sign-in's intended start is still the slot.
	acts := f.do(slot.Add(20*time.Millisecond), evStart(slot))
	if got := summary(acts); got != "sign_in/0" {
		t.Fatalf("actions [%s], want [sign_in/0]", got)
	}
	a := acts[0]
	if !a.At.Equal(slot) || a.Req == 0 {
		t.Errorf("ActSignIn At=%v Req=%d, want At=slot and a non-zero Req", a.At.Sub(cmT0), a.Req)
	}
	wantState(t, f.c, PhaseSigningIn, "none", 0)
}

func TestClientSignInTransitions(t *testing.T) {
	checkSignedIn := func(t *testing.T, f *fx, now time.Time, acts []Action) {
		if at := timerSet(t, acts, TimerRefresh); !at.Equal(cmAt(43 * time.Second)) {
			t.Errorf("poll at %v, want exp−RefreshAhead = 43s", at.Sub(cmT0))
		}
		if at := timerSet(t, acts, TimerAPI); at.Before(now) {
			t.Errorf("api timer at %v, before now %v", at.Sub(cmT0), now.Sub(cmT0))
		}
		if len(records(acts, MetricReSignIn)) != 0 {
			t.Error("the first sign-in recorded MetricReSignIn")
		}
	}
	failedFor := func(t *testing.T, f *fx, now time.Time, acts []Action) {
		if at := timerSet(t, acts, TimerSignIn); !at.Equal(now.Add(f.cfg.ThinkTime)) {
			t.Errorf("re-sign-in at %v, want now+ThinkTime = %v", at.Sub(cmT0), now.Add(f.cfg.ThinkTime).Sub(cmT0))
		}
	}
	retryIn := func(retryAfter time.Duration) func(*testing.T, *fx, time.Time, []Action) {
		return func(t *testing.T, f *fx, now time.Time, acts []Action) {
			wantBackoff(t, f.cfg, 0, retryAfter, timerSet(t, acts, TimerSignIn).Sub(now))
		}
	}
	noEmptySession := func(f *fx, _ time.Time) Event {
		e := evSignInOK(f.signInReq, tokA)
		e.SessionID = ""
		return e
	}
	cases := []transition{
		{name: "ok arms poll and api timers", state: stSigningIn, at: 0, ev: signInOK(tokA),
			want: "set:refresh set:api", phase: PhaseSignedIn, status: "active", check: checkSignedIn},
		{name: "ok without api calls arms only the poll", state: stSigningIn, at: 0, ev: signInOK(tokA),
			tweak: func(c *ClientConfig) { c.APIInterval = 0 },
			want:  "set:refresh", phase: PhaseSignedIn, status: "active"},
		{name: "ok with an unparseable token fails", state: stSigningIn, at: 200 * time.Millisecond, ev: signInOK(tokBad),
			want: "set:sign_in", phase: PhaseSignedOut, status: "sign_in_failed", check: failedFor},
		{name: "ok without a session id fails", state: stSigningIn, at: 200 * time.Millisecond, ev: noEmptySession,
			want: "set:sign_in", phase: PhaseSignedOut, status: "sign_in_failed", check: failedFor},
		{name: "503 retries after backoff", state: stSigningIn, at: 200 * time.Millisecond, ev: signInAns(o503),
			want: "set:sign_in", phase: PhaseSigningIn, status: "none", check: retryIn(0)},
		{name: "429 retries after backoff", state: stSigningIn, at: 200 * time.Millisecond, ev: signInAns(o429),
			want: "set:sign_in", phase: PhaseSigningIn, status: "none", check: retryIn(0)},
		{name: "429 honours Retry-After", state: stSigningIn, at: 200 * time.Millisecond,
			ev:   signInAns(Outcome{Class: Class429, Status: 429, RetryAfter: 7 * time.Second}),
			want: "set:sign_in", phase: PhaseSigningIn, status: "none", check: retryIn(7 * time.Second)},
		{name: "Retry-After beyond the cap is still honoured", state: stSigningIn, at: 200 * time.Millisecond,
			ev:   signInAns(Outcome{Class: Class5xx, Status: 503, RetryAfter: time.Minute}),
			want: "set:sign_in", phase: PhaseSigningIn, status: "none", check: retryIn(time.Minute)},
		{name: "network error retries", state: stSigningIn, at: 200 * time.Millisecond, ev: signInAns(oNetwork),
			want: "set:sign_in", phase: PhaseSigningIn, status: "none", check: retryIn(0)},
		{name: "timeout retries", state: stSigningIn, at: 200 * time.Millisecond, ev: signInAns(oTimeout),
			want: "set:sign_in", phase: PhaseSigningIn, status: "none", check: retryIn(0)},
		{name: "400 is not retried", state: stSigningIn, at: 200 * time.Millisecond, ev: signInAns(o400),
			want: "set:sign_in", phase: PhaseSignedOut, status: "sign_in_failed", check: failedFor},
		{name: "401 is not retried", state: stSigningIn, at: 200 * time.Millisecond, ev: signInAns(o401),
			want: "set:sign_in", phase: PhaseSignedOut, status: "sign_in_failed", check: failedFor},
		{name: "other without status is not retried", state: stSigningIn, at: 200 * time.Millisecond,
			ev:   signInAns(Outcome{Class: ClassOther}),
			want: "set:sign_in", phase: PhaseSignedOut, status: "sign_in_failed", check: failedFor},
		{name: "cancelled does nothing", state: stSigningIn, at: 200 * time.Millisecond, ev: signInAns(oCancel),
			want: "", phase: PhaseSigningIn, status: "none"},
		{name: "retry timer sends attempt 1 at its deadline", state: stSignInRetry, at: 2 * time.Second,
			ev:   fireLate(TimerSignIn, 30*time.Millisecond),
			want: "sign_in/1", phase: PhaseSigningIn, status: "none",
			check: func(t *testing.T, f *fx, now time.Time, acts []Action) {
				if a := acts[0]; !a.At.Equal(now.Add(-30*time.Millisecond)) || a.Req != 2 {
					t.Errorf("ActSignIn At=%v Req=%d, want the timer's deadline and Req 2", a.At.Sub(cmT0), a.Req)
				}
			}},
		{name: "retried sign-in ok", state: func(f *fx) {
			stSignInRetry(f)
			f.do(cmAt(2*time.Second), evTimer(TimerSignIn, cmAt(2*time.Second)))
		}, at: 2100 * time.Millisecond, ev: signInOK(cmJWT(cmAt(2*time.Second), cmAt(62*time.Second))),
			want: "set:refresh set:api", phase: PhaseSignedIn, status: "active",
			check: func(t *testing.T, f *fx, now time.Time, acts []Action) {
				if at := timerSet(t, acts, TimerRefresh); !at.Equal(cmAt(45 * time.Second)) {
					t.Errorf("poll at %v, want 45s", at.Sub(cmT0))
				}
			}},
		{name: "think time over after a failed sign-in signs in again", state: stSignInFailed, at: 31 * time.Second,
			ev: fire(TimerSignIn), want: "sign_in/0", phase: PhaseSigningIn, status: "sign_in_failed"},
		{name: "think time over after a forced sign-out signs in again", state: stSignedOut, at: 74 * time.Second,
			ev: fire(TimerSignIn), want: "sign_in/0", phase: PhaseSigningIn, status: "revoked",
			check: func(t *testing.T, f *fx, now time.Time, acts []Action) {
				if !acts[0].At.Equal(now) {
					t.Errorf("ActSignIn At = %v, want the timer's deadline %v", acts[0].At.Sub(cmT0), now.Sub(cmT0))
				}
			}},
	}
	runTransitions(t, cases)
}

func TestClientSignInRetriesExhausted(t *testing.T) {
	for _, class := range []Outcome{o503, o429, oNetwork, oTimeout} {
		t.Run(class.Class.String(), func(t *testing.T) {
			f := newFx(t, cmConfig())
			now := cmT0
			acts := f.do(now, evStart(now))
			for n := 0; n < f.cfg.MaxRetries; n++ {
				if a := one(t, acts, ActSignIn); a.Attempt != n {
					t.Fatalf("sign-in attempt %d carries Attempt %d", n, a.Attempt)
				}
				now = now.Add(100 * time.Millisecond)
				acts = f.do(now, evSignIn(f.signInReq, class))
				if got := summary(acts); got != "set:sign_in" {
					t.Fatalf("failure %d: actions [%s], want [set:sign_in]", n, got)
				}
				at := timerSet(t, acts, TimerSignIn)
				wantBackoff(t, f.cfg, n, 0, at.Sub(now))
				wantState(t, f.c, PhaseSigningIn, "none", 0)
				now = at
				acts = f.do(now, evTimer(TimerSignIn, at))
			}
			if a := one(t, acts, ActSignIn); a.Attempt != f.cfg.MaxRetries {
				t.Fatalf("last sign-in carries Attempt %d, want %d", a.Attempt, f.cfg.MaxRetries)
			}
			now = now.Add(100 * time.Millisecond)
			acts = f.do(now, evSignIn(f.signInReq, class))
			if got := summary(acts); got != "set:sign_in" {
				t.Fatalf("final failure: actions [%s]", got)
			}
			if at := timerSet(t, acts, TimerSignIn); !at.Equal(now.Add(f.cfg.ThinkTime)) {
				t.Errorf("re-sign-in at now+%v, want now+ThinkTime", at.Sub(now))
			}
			wantState(t, f.c, PhaseSignedOut, "sign_in_failed", 0)

			// After think time the count starts over, and a later success is
			// not a re-sign-in: the user was never signed out by the server.
			now = now.Add(f.cfg.ThinkTime)
			acts = f.do(now, evTimer(TimerSignIn, now))
			if a := one(t, acts, ActSignIn); a.Attempt != 0 {
				t.Errorf("sign-in after think time carries Attempt %d, want 0", a.Attempt)
			}
			acts = f.do(now, evSignInOK(f.signInReq, cmJWT(now, now.Add(time.Minute))))
			if got := summary(acts); got != "set:refresh set:api" {
				t.Errorf("actions [%s], want [set:refresh set:api]", got)
			}
			wantState(t, f.c, PhaseSignedIn, "active", 0)
		})
	}
}

func TestClientBackoffCapped(t *testing.T) {
	cfg := cmConfig()
	cfg.RetryCap = 3 * time.Second
	cfg.MaxRetries = 5
	f := newFx(t, cfg)
	now := cmT0
	f.do(now, evStart(now))
	for n := 0; n < cfg.MaxRetries; n++ {
		acts := f.do(now, evSignIn(f.signInReq, o503))
		d := timerSet(t, acts, TimerSignIn).Sub(now)
		wantBackoff(t, f.cfg, n, 0, d)
		if d > cfg.RetryCap {
			t.Errorf("retry %d waits %v, above the cap %v", n, d, cfg.RetryCap)
		}
		if n >= 2 && d != cfg.RetryCap {
			t.Errorf("retry %d waits %v, want the cap %v (base·2^n ≥ cap)", n, d, cfg.RetryCap)
		}
		now = now.Add(d)
		f.do(now, evTimer(TimerSignIn, now))
	}
}

func TestClientBackoffWithoutJitterIsExact(t *testing.T) {
	cfg := cmConfig()
	cfg.RetryJitter = 0
	f := newFx(t, cfg)
	now := cmT0
	f.do(now, evStart(now))
	for n, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		acts := f.do(now, evSignIn(f.signInReq, oNetwork))
		if d := timerSet(t, acts, TimerSignIn).Sub(now); d != want {
			t.Errorf("retry %d waits %v, want %v", n, d, want)
		}
		now = now.Add(want)
		f.do(now, evTimer(TimerSignIn, now))
	}
}

// ---------------------------------------------------------------------------
// Signed in: timers and getToken.

func TestClientSignedInTimers(t *testing.T) {
	blocking := func(c *ClientConfig) { c.Blocking = true }
	cases := []transition{
		{name: "poll sends a refresh at its deadline", state: stSignedIn, at: 43 * time.Second,
			ev:   fireLate(TimerRefresh, 40*time.Millisecond),
			want: "refresh/0", phase: PhaseSignedIn, status: "active",
			check: func(t *testing.T, f *fx, now time.Time, acts []Action) {
				a := acts[0]
				if a.SessionID != cmSession || a.ClientToken != cmClientToken {
					t.Errorf("ActRefresh carries session %q client token %q", a.SessionID, a.ClientToken)
				}
				if !a.At.Equal(now.Add(-40 * time.Millisecond)) {
					t.Errorf("ActRefresh At = %v, want the deadline", a.At.Sub(cmT0))
				}
			}},
		{name: "poll while a refresh is in flight does nothing", state: stRefreshing, at: 44 * time.Second,
			ev: fire(TimerRefresh), want: "", phase: PhaseSignedIn, status: "active"},
		{name: "poll while a retry waits does nothing", state: stRetryPending, at: 44 * time.Second,
			ev: fire(TimerRefresh), want: "", phase: PhaseSignedIn, status: "active"},
		{name: "api with a fresh token is sent at once", state: stSignedIn, at: 5 * time.Second,
			ev:   fireLate(TimerAPI, 10*time.Millisecond),
			want: "rec:issued rec:get_token:ok api/0 set:api", phase: PhaseSignedIn, status: "active", pending: 1,
			check: func(t *testing.T, f *fx, now time.Time, acts []Action) {
				api := one(t, acts, ActAPI)
				if api.Token != tokA || !api.At.Equal(now.Add(-10*time.Millisecond)) {
					t.Errorf("ActAPI token ok=%v At=%v, want tokA at the intended time", api.Token == tokA, api.At.Sub(cmT0))
				}
				if gt := records(acts, MetricGetToken)[0]; gt.Latency != 0 {
					t.Errorf("getToken latency %v, want 0", gt.Latency)
				}
				if next := timerSet(t, acts, TimerAPI); !next.After(api.At) {
					t.Errorf("next api at %v, not after this one", next.Sub(cmT0))
				}
			}},
		{name: "api in the stale window (swr) sends the cached token and refreshes", state: stSignedIn, at: 52 * time.Second,
			ev:   fire(TimerAPI),
			want: "rec:issued rec:get_token:ok api/0 refresh/0 set:api", phase: PhaseSignedIn, status: "active", pending: 1,
			check: func(t *testing.T, f *fx, now time.Time, acts []Action) {
				if one(t, acts, ActAPI).Token != tokA {
					t.Error("swr did not serve the cached token")
				}
				r := one(t, acts, ActRefresh)
				if !r.At.Equal(now) || r.SessionID != cmSession || r.ClientToken != cmClientToken {
					t.Errorf("background refresh %+v", r)
				}
			}},
		{name: "api in the stale window (swr) with a refresh in flight refreshes no more", state: stRefreshing, at: 52 * time.Second,
			ev:   fire(TimerAPI),
			want: "rec:issued rec:get_token:ok api/0 set:api", phase: PhaseSignedIn, status: "active", pending: 1},
		{name: "api in the stale window (blocking) waits and refreshes", tweak: blocking, state: stSignedIn, at: 52 * time.Second,
			ev:   fire(TimerAPI),
			want: "rec:issued refresh/0 set:api", phase: PhaseSignedIn, status: "active", pending: 1},
		{name: "api in the stale window (blocking) with a refresh in flight just waits", tweak: blocking, state: stRefreshing, at: 52 * time.Second,
			ev:   fire(TimerAPI),
			want: "rec:issued set:api", phase: PhaseSignedIn, status: "active", pending: 1},
		{name: "api with a fresh token (blocking) is sent at once", tweak: blocking, state: stSignedIn, at: 49 * time.Second,
			ev:   fire(TimerAPI),
			want: "rec:issued rec:get_token:ok api/0 set:api", phase: PhaseSignedIn, status: "active", pending: 1},
		{name: "api with an expired token waits and refreshes", state: stSignedIn, at: 60 * time.Second,
			ev:   fire(TimerAPI),
			want: "rec:issued refresh/0 set:api", phase: PhaseSignedIn, status: "active", pending: 1},
		{name: "api with an expired token while a retry waits just waits", state: stRetryPending, at: 61 * time.Second,
			ev:   fire(TimerAPI),
			want: "rec:issued set:api", phase: PhaseSignedIn, status: "active", pending: 1},
		{name: "api while another call waits joins it", state: stWaiting, at: 62 * time.Second,
			ev:   fire(TimerAPI),
			want: "rec:issued set:api", phase: PhaseSignedIn, status: "active", pending: 2},
		{name: "retry timer sends attempt 1", state: stRetryPending, at: 45 * time.Second,
			ev:   fireLate(TimerRetry, 5*time.Millisecond),
			want: "refresh/1", phase: PhaseSignedIn, status: "active",
			check: func(t *testing.T, f *fx, now time.Time, acts []Action) {
				if a := acts[0]; !a.At.Equal(now.Add(-5*time.Millisecond)) || a.SessionID != cmSession || a.ClientToken != cmClientToken {
					t.Errorf("retry %+v", a)
				}
			}},
	}
	runTransitions(t, cases)
}

// The next API call is drawn from the intended time of the last one, so an
// engine running late does not slow the app's call rate down.
func TestClientAPITimerFromIntendedTime(t *testing.T) {
	intended := cmAt(5 * time.Second)
	var next []time.Time
	for _, lag := range []time.Duration{0, 700 * time.Millisecond} {
		f := newFx(t, cmConfig())
		stSignedIn(f)
		acts := f.do(intended.Add(lag), evTimer(TimerAPI, intended))
		next = append(next, timerSet(t, acts, TimerAPI))
	}
	if !next[0].Equal(next[1]) {
		t.Errorf("next api at %v on time but %v when late", next[0].Sub(cmT0), next[1].Sub(cmT0))
	}
	if !next[0].After(intended) {
		t.Errorf("next api at %v, not after %v", next[0].Sub(cmT0), intended.Sub(cmT0))
	}
}

// API gaps are exponential with mean APIInterval.
func TestClientAPIGapMean(t *testing.T) {
	f := newFx(t, cmConfig())
	stSigningIn(f)
	// A day-long token: the test is about the gaps, not about refreshes.
	acts := f.do(cmT0, evSignInOK(f.signInReq, cmJWT(cmT0, cmAt(24*time.Hour))))
	at := timerSet(t, acts, TimerAPI)
	const n = 2000
	var sum time.Duration
	for range n {
		acts := f.do(at, evTimer(TimerAPI, at))
		if got := summary(acts); got != "rec:issued rec:get_token:ok api/0 set:api" {
			t.Fatalf("api timer at %v: [%s]", at.Sub(cmT0), got)
		}
		next := timerSet(t, acts, TimerAPI)
		if next.Before(at) {
			t.Fatalf("api gap negative: %v", next.Sub(at))
		}
		f.do(at, evAPI(f.lastAPI(), ok200))
		sum += next.Sub(at)
		at = next
	}
	if mean := sum / n; mean < 4*time.Second || mean > 6*time.Second {
		t.Errorf("mean api gap %v over %d draws, want ≈ %v", mean, n, f.cfg.APIInterval)
	}
	wantState(t, f.c, PhaseSignedIn, "active", 0)
}

func TestClientSWRSingleBackgroundRefresh(t *testing.T) {
	f := newFx(t, cmConfig())
	stSignedIn(f)
	var refreshes, apis int
	for i, at := range []time.Duration{50 * time.Second, 51 * time.Second, 52 * time.Second, 53 * time.Second} {
		acts := f.do(cmAt(at), evTimer(TimerAPI, cmAt(at)))
		refreshes += len(ofKind(acts, ActRefresh))
		for _, a := range ofKind(acts, ActAPI) {
			apis++
			if a.Token != tokA {
				t.Errorf("call %d not served the cached token", i)
			}
		}
	}
	if refreshes != 1 || apis != 4 {
		t.Errorf("%d calls in the stale window: %d ActAPI, %d ActRefresh; want 4 and 1", 4, apis, refreshes)
	}
	// The background refresh lands: no waiting call, just the next poll.
	acts := f.do(cmAt(54*time.Second), evRefreshOK(f.refreshReq, cmJWT(cmAt(54*time.Second), cmAt(114*time.Second))))
	if got := summary(acts); got != "set:refresh" {
		t.Errorf("actions [%s], want [set:refresh]", got)
	}
	if at := timerSet(t, acts, TimerRefresh); !at.Equal(cmAt(97 * time.Second)) {
		t.Errorf("poll at %v, want 97s", at.Sub(cmT0))
	}
	// The new token is fresh: the next call neither waits nor refreshes.
	acts = f.do(cmAt(55*time.Second), evTimer(TimerAPI, cmAt(55*time.Second)))
	if got := summary(acts); got != "rec:issued rec:get_token:ok api/0 set:api" {
		t.Errorf("actions [%s]", got)
	}
}

func TestClientWaitingCallsGetTheNewToken(t *testing.T) {
	for _, mode := range []struct {
		name     string
		blocking bool
		first    time.Duration // the first call: stale (blocking) or expired (swr)
	}{
		{"blocking stale", true, 52 * time.Second},
		{"swr expired", false, 61 * time.Second},
	} {
		t.Run(mode.name, func(t *testing.T) {
			cfg := cmConfig()
			cfg.Blocking = mode.blocking
			f := newFx(t, cfg)
			stSignedIn(f)
			calls := []time.Duration{mode.first, mode.first + time.Second, mode.first + 1500*time.Millisecond}
			refreshes := 0
			for _, at := range calls {
				acts := f.do(cmAt(at), evTimer(TimerAPI, cmAt(at)))
				if n := len(ofKind(acts, ActAPI)); n != 0 {
					t.Fatalf("call at %v sent at once", at)
				}
				refreshes += len(ofKind(acts, ActRefresh))
			}
			if refreshes != 1 {
				t.Fatalf("%d ActRefresh for %d waiting calls, want 1", refreshes, len(calls))
			}
			wantState(t, f.c, PhaseSignedIn, "active", 3)
			done := cmAt(mode.first + 2*time.Second)
			fresh := cmJWT(done, done.Add(time.Minute))
			acts := f.do(done, evRefreshOK(f.refreshReq, fresh))
			want := "set:refresh rec:get_token:ok api/0 rec:get_token:ok api/0 rec:get_token:ok api/0"
			if got := summary(acts); got != want {
				t.Fatalf("actions:\n got [%s]\nwant [%s]", got, want)
			}
			gts, apis := records(acts, MetricGetToken), ofKind(acts, ActAPI)
			for i, at := range calls {
				if waited := done.Sub(cmAt(at)); gts[i].Latency != waited {
					t.Errorf("call %d getToken latency %v, want %v waited", i, gts[i].Latency, waited)
				}
				if apis[i].Token != fresh {
					t.Errorf("call %d sent with the old token", i)
				}
				if !apis[i].At.Equal(cmAt(at)) || apis[i].Attempt != 0 {
					t.Errorf("call %d At=%v Attempt=%d, want its intended time and attempt 0", i, apis[i].At.Sub(cmT0), apis[i].Attempt)
				}
			}
			wantState(t, f.c, PhaseSignedIn, "active", 3)
		})
	}
}

// ---------------------------------------------------------------------------
// Refresh answers.

func TestClientRefreshAnswers(t *testing.T) {
	pollAt := func(want time.Duration) func(*testing.T, *fx, time.Time, []Action) {
		return func(t *testing.T, f *fx, now time.Time, acts []Action) {
			if at := timerSet(t, acts, TimerRefresh); !at.Equal(cmAt(want)) {
				t.Errorf("poll at %v, want %v", at.Sub(cmT0), want)
			}
		}
	}
	retryAfter := func(ra time.Duration) func(*testing.T, *fx, time.Time, []Action) {
		return func(t *testing.T, f *fx, now time.Time, acts []Action) {
			wantBackoff(t, f.cfg, 0, ra, timerSet(t, acts, TimerRetry).Sub(now))
		}
	}
	forced := func() func(*testing.T, *fx, time.Time, []Action) {
		return func(t *testing.T, f *fx, now time.Time, acts []Action) {
			if at := timerSet(t, acts, TimerSignIn); !at.Equal(now.Add(f.cfg.ThinkTime)) {
				t.Errorf("re-sign-in at now+%v, want now+ThinkTime", at.Sub(now))
			}
		}
	}
	const signOut = "cancel:refresh cancel:retry cancel:api set:sign_in"
	cases := []transition{
		{name: "ok caches the token and arms the next poll", state: stRefreshing, at: 43200 * time.Millisecond,
			ev: refreshOK(tokB), want: "set:refresh", phase: PhaseSignedIn, status: "active",
			check: func(t *testing.T, f *fx, now time.Time, acts []Action) {
				pollAt(86*time.Second)(t, f, now, acts)
				// The cached token is now tokB: a call at 60 s (tokA expired) goes at once.
				acts = f.do(cmAt(60*time.Second), evTimer(TimerAPI, cmAt(60*time.Second)))
				if one(t, acts, ActAPI).Token != tokB {
					t.Error("the call after the refresh did not carry the new token")
				}
			}},
		{name: "ok with a token shorter than RefreshAhead polls no sooner than lifetime/10", state: stRefreshing,
			at: 44 * time.Second, ev: refreshOK(tokShort), want: "set:refresh", phase: PhaseSignedIn, status: "active",
			check: pollAt(45 * time.Second)},
		{name: "ok with an unparseable token is a failure for good", state: stRefreshing, at: 44 * time.Second,
			ev: refreshOK(tokBad), want: "set:refresh", phase: PhaseSignedIn, status: "active",
			// pollGap of tokA: lifetime 60 s − RefreshAhead 17 s.
			check: pollAt(87 * time.Second)},
		{name: "ok with an unparseable token fails the waiting call", state: stWaiting, at: 62 * time.Second,
			ev: refreshOK(tokBad), want: "rec:get_token:other rec:settled:other set:refresh", phase: PhaseSignedIn, status: "active",
			check: pollAt(105 * time.Second)},
		{name: "503 schedules a retry", state: stRefreshing, at: 44 * time.Second, ev: refreshAns(o503),
			want: "set:retry rec:refresh_retry", phase: PhaseSignedIn, status: "active", check: retryAfter(0)},
		{name: "429 schedules a retry", state: stRefreshing, at: 44 * time.Second, ev: refreshAns(o429),
			want: "set:retry rec:refresh_retry", phase: PhaseSignedIn, status: "active", check: retryAfter(0)},
		{name: "429 honours Retry-After", state: stRefreshing, at: 44 * time.Second,
			ev:   refreshAns(Outcome{Class: Class429, Status: 429, RetryAfter: 5 * time.Second}),
			want: "set:retry rec:refresh_retry", phase: PhaseSignedIn, status: "active", check: retryAfter(5 * time.Second)},
		{name: "503 overloaded keeps the session and honours Retry-After", state: stRefreshing, at: 44 * time.Second,
			ev:   refreshAns(Outcome{Class: Class5xx, Status: 503, Code: "overloaded", RetryAfter: 2 * time.Second}),
			want: "set:retry rec:refresh_retry", phase: PhaseSignedIn, status: "active", check: retryAfter(2 * time.Second)},
		{name: "network error schedules a retry", state: stRefreshing, at: 44 * time.Second, ev: refreshAns(oNetwork),
			want: "set:retry rec:refresh_retry", phase: PhaseSignedIn, status: "active", check: retryAfter(0)},
		{name: "timeout schedules a retry", state: stRefreshing, at: 44 * time.Second, ev: refreshAns(oTimeout),
			want: "set:retry rec:refresh_retry", phase: PhaseSignedIn, status: "active", check: retryAfter(0)},
		{name: "503 with a waiting call keeps it waiting", state: stWaiting, at: 62 * time.Second, ev: refreshAns(o503),
			want: "set:retry rec:refresh_retry", phase: PhaseSignedIn, status: "active", pending: 1, check: retryAfter(0)},
		{name: "400 is not retried", state: stRefreshing, at: 44 * time.Second, ev: refreshAns(o400),
			want: "set:refresh", phase: PhaseSignedIn, status: "active", check: pollAt(87 * time.Second)},
		{name: "400 fails the waiting call", state: stWaiting, at: 62 * time.Second, ev: refreshAns(o400),
			want: "rec:get_token:other rec:settled:other set:refresh", phase: PhaseSignedIn, status: "active",
			check: pollAt(105 * time.Second)},
		{name: "cancelled does nothing", state: stRefreshing, at: 44 * time.Second, ev: refreshAns(oCancel),
			want: "", phase: PhaseSignedIn, status: "active"},
		{name: "revoked signs out", state: stRefreshing, at: 44 * time.Second, ev: refreshAns(oRevoked),
			want: "rec:forced:session_revoked " + signOut, phase: PhaseSignedOut, status: "revoked", check: forced()},
		{name: "revoked fails the waiting call", state: stWaiting, at: 62 * time.Second, ev: refreshAns(oRevoked),
			want:  "rec:forced:session_revoked rec:get_token:http_401 rec:settled:http_401 " + signOut,
			phase: PhaseSignedOut, status: "revoked", check: forced()},
		{name: "revoked during a retry (403 in flight)", state: func(f *fx) {
			stRetryPending(f)
			f.do(cmAt(45*time.Second), evTimer(TimerRetry, cmAt(45*time.Second)))
		}, at: 45500 * time.Millisecond, ev: refreshAns(Outcome{Class: ClassOther, Status: 403}),
			want: "rec:forced: " + signOut, phase: PhaseSignedOut, status: "signed_out", check: forced()},
		{name: "session not found (404) signs out", state: stRefreshing, at: 44 * time.Second, ev: refreshAns(oNotFound),
			want: "rec:forced:session_not_found " + signOut, phase: PhaseSignedOut, status: "signed_out"},
		{name: "404 without a code signs out", state: stRefreshing, at: 44 * time.Second,
			ev:   refreshAns(Outcome{Class: ClassOther, Status: 404}),
			want: "rec:forced: " + signOut, phase: PhaseSignedOut, status: "signed_out"},
		{name: "client token invalid signs out", state: stRefreshing, at: 44 * time.Second,
			ev:   refreshAns(Outcome{Class: Class401, Status: 401, Code: "client_token_invalid"}),
			want: "rec:forced:client_token_invalid " + signOut, phase: PhaseSignedOut, status: "signed_out"},
		{name: "session expired signs out", state: stRefreshing, at: 44 * time.Second,
			ev:   refreshAns(Outcome{Class: Class401, Status: 401, Code: "session_expired"}),
			want: "rec:forced:session_expired " + signOut, phase: PhaseSignedOut, status: "expired"},
		{name: "session ended signs out", state: stRefreshing, at: 44 * time.Second,
			ev:   refreshAns(Outcome{Class: Class401, Status: 401, Code: "session_ended"}),
			want: "rec:forced:session_ended " + signOut, phase: PhaseSignedOut, status: "ended"},
		{name: "session abandoned signs out", state: stRefreshing, at: 44 * time.Second,
			ev:   refreshAns(Outcome{Class: Class401, Status: 401, Code: "session_abandoned"}),
			want: "rec:forced:session_abandoned " + signOut, phase: PhaseSignedOut, status: "abandoned"},
		{name: "session removed signs out", state: stRefreshing, at: 44 * time.Second,
			ev:   refreshAns(Outcome{Class: Class401, Status: 401, Code: "session_removed"}),
			want: "rec:forced:session_removed " + signOut, phase: PhaseSignedOut, status: "removed"},
		{name: "plain 401 signs out", state: stRefreshing, at: 44 * time.Second, ev: refreshAns(Outcome{Class: Class401, Status: 401}),
			want: "rec:forced: " + signOut, phase: PhaseSignedOut, status: "signed_out"},
	}
	runTransitions(t, cases)
}

func TestClientRefreshRetriesExhausted(t *testing.T) {
	f := newFx(t, cmConfig())
	stWaiting(f) // one call waits since 61 s, refresh attempt 0 in flight
	now := f.now
	second := now.Add(500 * time.Millisecond)
	f.do(second, evTimer(TimerAPI, second)) // a second waiting call
	now = second
	retries := 0
	for n := 0; n < f.cfg.MaxRetries; n++ {
		now = now.Add(200 * time.Millisecond)
		acts := f.do(now, evRefresh(f.refreshReq, o503))
		if got := summary(acts); got != "set:retry rec:refresh_retry" {
			t.Fatalf("failure %d: actions [%s]", n, got)
		}
		retries++
		at := timerSet(t, acts, TimerRetry)
		wantBackoff(t, f.cfg, n, 0, at.Sub(now))
		wantState(t, f.c, PhaseSignedIn, "active", 2)
		now = at
		acts = f.do(now, evTimer(TimerRetry, at))
		r := one(t, acts, ActRefresh)
		if r.Attempt != n+1 || !r.At.Equal(at) {
			t.Fatalf("retry %d: Attempt %d At %v", n, r.Attempt, r.At.Sub(cmT0))
		}
	}
	now = now.Add(200 * time.Millisecond)
	acts := f.do(now, evRefresh(f.refreshReq, o503))
	want := "rec:get_token:http_5xx rec:settled:http_5xx rec:get_token:http_5xx rec:settled:http_5xx set:refresh"
	if got := summary(acts); got != want {
		t.Fatalf("actions after the last retry:\n got [%s]\nwant [%s]", got, want)
	}
	gts := records(acts, MetricGetToken)
	if gts[0].Latency != now.Sub(cmAt(61*time.Second)) || gts[1].Latency != now.Sub(second) {
		t.Errorf("failed getToken latencies %v, %v; want the time each call waited", gts[0].Latency, gts[1].Latency)
	}
	if at := timerSet(t, acts, TimerRefresh); !at.Equal(now.Add(43 * time.Second)) {
		t.Errorf("poll re-armed at now+%v, want lifetime−RefreshAhead = 43s", at.Sub(now))
	}
	if retries != f.cfg.MaxRetries {
		t.Errorf("%d retries, want %d", retries, f.cfg.MaxRetries)
	}
	wantState(t, f.c, PhaseSignedIn, "active", 0)

	// The count starts over: the next call's refresh is attempt 0 again and
	// may be retried MaxRetries times.
	now = now.Add(time.Second)
	acts = f.do(now, evTimer(TimerAPI, now))
	if r := one(t, acts, ActRefresh); r.Attempt != 0 {
		t.Errorf("next refresh carries Attempt %d, want 0", r.Attempt)
	}
	acts = f.do(now, evRefresh(f.refreshReq, o503))
	if got := summary(acts); got != "set:retry rec:refresh_retry" {
		t.Errorf("actions [%s], want a retry", got)
	}
}

// A successful retry resets the count: a later failure is retry 0 again.
func TestClientRefreshRetrySucceeds(t *testing.T) {
	f := newFx(t, cmConfig())
	stRetryPending(f)
	now := cmAt(45 * time.Second)
	f.do(now, evTimer(TimerRetry, now))
	acts := f.do(now, evRefreshOK(f.refreshReq, tokB))
	if got := summary(acts); got != "set:refresh" {
		t.Fatalf("actions [%s]", got)
	}
	now = timerSet(t, acts, TimerRefresh)
	acts = f.do(now, evTimer(TimerRefresh, now))
	if r := one(t, acts, ActRefresh); r.Attempt != 0 {
		t.Errorf("next poll's refresh carries Attempt %d, want 0", r.Attempt)
	}
	acts = f.do(now, evRefresh(f.refreshReq, o503))
	wantBackoff(t, f.cfg, 0, 0, timerSet(t, acts, TimerRetry).Sub(now))
}

func TestClientForcedSignOutAndReSignIn(t *testing.T) {
	f := newFx(t, cmConfig())
	stInflight(f) // call A in flight with tokA
	a := f.lastAPI()
	now := cmAt(61 * time.Second)
	f.do(now, evTimer(TimerAPI, now)) // call B waits, refresh in flight
	now = now.Add(100 * time.Millisecond)
	acts := f.do(now, evRefresh(f.refreshReq, oRevoked))
	want := "rec:forced:session_revoked rec:get_token:http_401 rec:settled:http_401 cancel:refresh cancel:retry cancel:api set:sign_in"
	if got := summary(acts); got != want {
		t.Fatalf("actions:\n got [%s]\nwant [%s]", got, want)
	}
	if fs := records(acts, MetricForcedSignOut); fs[0].Code != "session_revoked" {
		t.Errorf("forced sign-out code %q", fs[0].Code)
	}
	reSignIn := timerSet(t, acts, TimerSignIn)
	wantState(t, f.c, PhaseSignedOut, "revoked", 1) // call A still in flight

	// Call A's late 401 settles it: no refresh while signed out.
	acts = f.do(now.Add(time.Second), evAPI(a, o401))
	if got := summary(acts); got != "rec:settled:http_401" {
		t.Errorf("late 401 while signed out: [%s]", got)
	}
	wantState(t, f.c, PhaseSignedOut, "revoked", 0)

	acts = f.do(reSignIn, evTimer(TimerSignIn, reSignIn))
	if got := summary(acts); got != "sign_in/0" {
		t.Fatalf("re-sign-in timer: [%s]", got)
	}
	now = reSignIn.Add(200 * time.Millisecond)
	acts = f.do(now, evSignInOK(f.signInReq, cmJWT(now, now.Add(time.Minute))))
	if got := summary(acts); got != "rec:re_sign_in set:refresh set:api" {
		t.Fatalf("re-sign-in ok: [%s]", got)
	}
	wantState(t, f.c, PhaseSignedIn, "active", 0)

	// The refresh carries the new session; a second loss is counted again, once.
	now = timerSet(t, acts, TimerRefresh)
	acts = f.do(now, evTimer(TimerRefresh, now))
	if r := one(t, acts, ActRefresh); r.SessionID != cmSession || r.Attempt != 0 {
		t.Errorf("refresh after re-sign-in %+v", r)
	}
	acts = f.do(now, evRefresh(f.refreshReq, Outcome{Class: Class401, Status: 401, Code: "session_expired"}))
	wantState(t, f.c, PhaseSignedOut, "expired", 0)
	now = timerSet(t, acts, TimerSignIn)
	f.do(now, evTimer(TimerSignIn, now))
	acts = f.do(now, evSignInOK(f.signInReq, cmJWT(now, now.Add(time.Minute))))
	if n := len(records(acts, MetricReSignIn)); n != 1 {
		t.Errorf("second re-sign-in recorded %d MetricReSignIn, want 1", n)
	}
	if n := len(records(f.log, MetricReSignIn)); n != 2 {
		t.Errorf("%d MetricReSignIn in all, want 2 (one per forced sign-out)", n)
	}
	if n := len(records(f.log, MetricForcedSignOut)); n != 2 {
		t.Errorf("%d MetricForcedSignOut in all, want 2", n)
	}
}

// A re-sign-in that has to be retried is still counted once, when it succeeds.
func TestClientReSignInAfterRetriesCountedOnce(t *testing.T) {
	f := newFx(t, cmConfig())
	stSignedOut(f)
	now := cmAt(73500 * time.Millisecond)
	f.do(now, evTimer(TimerSignIn, now))
	acts := f.do(now, evSignIn(f.signInReq, o503))
	if len(records(acts, MetricReSignIn)) != 0 {
		t.Error("a failed re-sign-in recorded MetricReSignIn")
	}
	now = timerSet(t, acts, TimerSignIn)
	f.do(now, evTimer(TimerSignIn, now))
	acts = f.do(now, evSignIn(f.signInReq, o400)) // given up: signed out again, think time
	wantState(t, f.c, PhaseSignedOut, "sign_in_failed", 0)
	now = timerSet(t, acts, TimerSignIn)
	f.do(now, evTimer(TimerSignIn, now))
	f.do(now, evSignInOK(f.signInReq, cmJWT(now, now.Add(time.Minute))))
	if n := len(records(f.log, MetricReSignIn)); n != 1 {
		t.Errorf("%d MetricReSignIn, want 1", n)
	}
}

// ---------------------------------------------------------------------------
// API answers and the 401 interceptor.

func TestClientAPIAnswers(t *testing.T) {
	settled := func(ok bool, class ErrorClass) func(*testing.T, *fx, time.Time, []Action) {
		return func(t *testing.T, f *fx, now time.Time, acts []Action) {
			s := records(acts, MetricRequestSettled)[0]
			if s.OK != ok || s.Class != class {
				t.Errorf("settled OK=%v Class=%v, want %v %v", s.OK, s.Class, ok, class)
			}
		}
	}
	cases := []transition{
		{name: "200 settles ok", state: stInflight, at: 5200 * time.Millisecond, ev: apiAns(ok200),
			want: "rec:settled:ok", phase: PhaseSignedIn, status: "active", check: settled(true, ClassOK)},
		{name: "503 settles failed, no retry", state: stInflight, at: 5200 * time.Millisecond, ev: apiAns(o503),
			want: "rec:settled:http_5xx", phase: PhaseSignedIn, status: "active", check: settled(false, Class5xx)},
		{name: "429 settles failed", state: stInflight, at: 5200 * time.Millisecond, ev: apiAns(o429),
			want: "rec:settled:http_429", phase: PhaseSignedIn, status: "active"},
		{name: "network error settles failed", state: stInflight, at: 5200 * time.Millisecond, ev: apiAns(oNetwork),
			want: "rec:settled:network", phase: PhaseSignedIn, status: "active"},
		{name: "timeout settles failed", state: stInflight, at: 5200 * time.Millisecond, ev: apiAns(oTimeout),
			want: "rec:settled:timeout", phase: PhaseSignedIn, status: "active"},
		{name: "403 settles failed", state: stInflight, at: 5200 * time.Millisecond,
			ev: apiAns(Outcome{Class: ClassOther, Status: 403}), want: "rec:settled:other", phase: PhaseSignedIn, status: "active"},
		{name: "cancelled settles cancelled", state: stInflight, at: 5200 * time.Millisecond, ev: apiAns(oCancel),
			want: "rec:settled:cancelled", phase: PhaseSignedIn, status: "active", check: settled(false, ClassCancelled)},
		{name: "401 refreshes and waits", state: stInflight, at: 5200 * time.Millisecond, ev: apiAns(o401),
			want: "refresh/0", phase: PhaseSignedIn, status: "active", pending: 1,
			check: func(t *testing.T, f *fx, now time.Time, acts []Action) {
				if r := acts[0]; !r.At.Equal(now) || r.SessionID != cmSession || r.ClientToken != cmClientToken {
					t.Errorf("interceptor refresh %+v", r)
				}
			}},
		{name: "401 while a refresh is in flight just waits", state: func(f *fx) {
			stRefreshing(f)
			f.do(cmAt(43100*time.Millisecond), evTimer(TimerAPI, cmAt(43100*time.Millisecond)))
		}, at: 43300 * time.Millisecond, ev: apiAns(o401),
			want: "", phase: PhaseSignedIn, status: "active", pending: 1},
		{name: "401 while a retry waits just waits", state: func(f *fx) {
			stInflight(f)
			f.do(cmAt(43*time.Second), evTimer(TimerRefresh, cmAt(43*time.Second)))
			f.do(cmAt(43500*time.Millisecond), evRefresh(f.refreshReq, o503))
		}, at: 43600 * time.Millisecond, ev: firstAPIAns(o401), // the call sent at 5 s
			want: "", phase: PhaseSignedIn, status: "active", pending: 1},
		{name: "401 after a newer token arrived retries at once", state: func(f *fx) {
			stInflight(f)
			f.do(cmAt(43*time.Second), evTimer(TimerRefresh, cmAt(43*time.Second)))
			f.do(cmAt(43200*time.Millisecond), evRefreshOK(f.refreshReq, tokB))
		}, at: 43300 * time.Millisecond, ev: firstAPIAns(o401),
			want: "rec:get_token:ok api/1", phase: PhaseSignedIn, status: "active", pending: 1,
			check: func(t *testing.T, f *fx, now time.Time, acts []Action) {
				if a := acts[1]; a.Token != tokB || !a.At.Equal(now) {
					t.Errorf("retry carries the new token: %v, At %v (want now)", a.Token == tokB, a.At.Sub(cmT0))
				}
			}},
		{name: "401 when the newer token has expired refreshes", state: func(f *fx) {
			stInflight(f)
			f.do(cmAt(43*time.Second), evTimer(TimerRefresh, cmAt(43*time.Second)))
			f.do(cmAt(43200*time.Millisecond), evRefreshOK(f.refreshReq, tokShort)) // exp 54 s
		}, at: 55 * time.Second, ev: firstAPIAns(o401),
			want: "refresh/0", phase: PhaseSignedIn, status: "active", pending: 1},
		{name: "401 while signed out settles", state: func(f *fx) {
			stInflight(f)
			f.do(cmAt(43*time.Second), evTimer(TimerRefresh, cmAt(43*time.Second)))
			f.do(cmAt(43500*time.Millisecond), evRefresh(f.refreshReq, oRevoked))
		}, at: 44 * time.Second, ev: firstAPIAns(o401),
			want: "rec:settled:http_401", phase: PhaseSignedOut, status: "revoked"},
		{name: "200 while signed out still settles", state: func(f *fx) {
			stInflight(f)
			f.do(cmAt(43*time.Second), evTimer(TimerRefresh, cmAt(43*time.Second)))
			f.do(cmAt(43500*time.Millisecond), evRefresh(f.refreshReq, oRevoked))
		}, at: 44 * time.Second, ev: firstAPIAns(ok200),
			want: "rec:settled:ok", phase: PhaseSignedOut, status: "revoked"},
	}
	runTransitions(t, cases)
}

func TestClient401InterceptorSingleFlight(t *testing.T) {
	f := newFx(t, cmConfig())
	stSignedIn(f)
	// A screen load: two calls in flight with tokA.
	f.do(cmAt(5*time.Second), evTimer(TimerAPI, cmAt(5*time.Second)))
	f.do(cmAt(5100*time.Millisecond), evTimer(TimerAPI, cmAt(5100*time.Millisecond)))
	a, b := f.apiReqs[0], f.apiReqs[1]

	t401a := cmAt(5300 * time.Millisecond)
	acts := f.do(t401a, evAPI(a, o401))
	if got := summary(acts); got != "refresh/0" {
		t.Fatalf("first 401: [%s], want one refresh", got)
	}
	t401b := cmAt(5400 * time.Millisecond)
	acts = f.do(t401b, evAPI(b, o401))
	if got := summary(acts); got != "" {
		t.Fatalf("second 401: [%s], want nothing (single flight)", got)
	}
	if n := len(ofKind(f.log, ActRefresh)); n != 1 {
		t.Fatalf("%d ActRefresh for two 401s, want 1", n)
	}
	wantState(t, f.c, PhaseSignedIn, "active", 2)

	done := cmAt(5500 * time.Millisecond)
	fresh := cmJWT(done, done.Add(time.Minute))
	acts = f.do(done, evRefreshOK(f.refreshReq, fresh))
	if got := summary(acts); got != "set:refresh rec:get_token:ok api/1 rec:get_token:ok api/1" {
		t.Fatalf("refresh ok: [%s]", got)
	}
	gts := records(acts, MetricGetToken)
	if gts[0].Latency != done.Sub(t401a) || gts[1].Latency != done.Sub(t401b) {
		t.Errorf("interceptor getToken latencies %v %v, want time since each 401", gts[0].Latency, gts[1].Latency)
	}
	retries := ofKind(acts, ActAPI)
	for _, r := range retries {
		if r.Token != fresh || r.Attempt != 1 || !r.At.Equal(done) {
			t.Errorf("retry %+v: want new token, Attempt 1, At = refresh answer", r)
		}
	}
	wantState(t, f.c, PhaseSignedIn, "active", 2)

	// The retried call is 401 again: it fails, no second refresh.
	acts = f.do(done.Add(100*time.Millisecond), evAPI(retries[0].Req, o401))
	if got := summary(acts); got != "rec:settled:http_401" {
		t.Errorf("401 on the retry: [%s], want settled without a refresh", got)
	}
	acts = f.do(done.Add(200*time.Millisecond), evAPI(retries[1].Req, ok200))
	if got := summary(acts); got != "rec:settled:ok" {
		t.Errorf("200 on the retry: [%s]", got)
	}
	wantState(t, f.c, PhaseSignedIn, "active", 0)
	if n := len(ofKind(f.log, ActRefresh)); n != 1 {
		t.Errorf("%d ActRefresh in all, want 1", n)
	}
}

// The interceptor's refresh follows the same retry policy and, when it gives
// up, fails the calls it holds.
func TestClient401InterceptorRefreshFails(t *testing.T) {
	f := newFx(t, cmConfig())
	stInflight(f)
	now := cmAt(5200 * time.Millisecond)
	f.do(now, evAPI(f.lastAPI(), o401))
	now = now.Add(100 * time.Millisecond)
	acts := f.do(now, evRefresh(f.refreshReq, o400))
	if got := summary(acts); got != "rec:get_token:other rec:settled:other set:refresh" {
		t.Errorf("interceptor refresh 400: [%s]", got)
	}
	wantState(t, f.c, PhaseSignedIn, "active", 0)
}

// ---------------------------------------------------------------------------
// Events that must do nothing.

func TestClientIgnoredEvents(t *testing.T) {
	const stale = 99
	var cases []transition
	add := func(prefix string, state func(*fx), at time.Duration, phase Phase, status string, pending int,
		evs map[string]func(*fx, time.Time) Event) {
		for name, ev := range evs {
			cases = append(cases, transition{name: prefix + ": " + name, state: state, at: at, ev: ev,
				want: "", phase: phase, status: status, pending: pending})
		}
	}
	add("idle", stIdle, time.Second, PhaseIdle, "none", 0, map[string]func(*fx, time.Time) Event{
		"sign_in timer":  fire(TimerSignIn),
		"refresh timer":  fire(TimerRefresh),
		"retry timer":    fire(TimerRetry),
		"api timer":      fire(TimerAPI),
		"sign-in answer": withReq(1, signInOK(tokA)),
		"refresh answer": withReq(1, refreshOK(tokA)),
		"api answer":     apiReq(1, ok200),
	})
	add("signing in", stSigningIn, time.Second, PhaseSigningIn, "none", 0, map[string]func(*fx, time.Time) Event{
		"start again":           start(),
		"refresh timer":         fire(TimerRefresh),
		"retry timer":           fire(TimerRetry),
		"api timer":             fire(TimerAPI),
		"stale sign-in answer":  withReq(stale, signInOK(tokA)),
		"stale sign-in failure": withReq(stale, signInAns(o400)),
		"refresh answer":        withReq(1, refreshOK(tokA)),
		"unknown api answer":    apiReq(1, ok200),
	})
	add("sign-in retry pending", stSignInRetry, time.Second, PhaseSigningIn, "none", 0, map[string]func(*fx, time.Time) Event{
		"start again":                    start(),
		"late answer to the failed req":  withReq(1, signInOK(tokA)),
		"late failure of the failed req": withReq(1, signInAns(o400)),
		"refresh timer":                  fire(TimerRefresh),
		"api timer":                      fire(TimerAPI),
	})
	add("signed in", stSignedIn, time.Second, PhaseSignedIn, "active", 0, map[string]func(*fx, time.Time) Event{
		"start again":                 start(),
		"sign_in timer":               fire(TimerSignIn),
		"retry timer without a retry": fire(TimerRetry),
		"sign-in answer replayed":     withReq(1, signInOK(tokB)),
		"sign-in failure replayed":    withReq(1, signInAns(o400)),
		"stale refresh answer":        withReq(stale, refreshOK(tokB)),
		"stale refresh revoked":       withReq(stale, refreshAns(oRevoked)),
		"unknown api answer":          apiReq(stale, o401),
	})
	add("refreshing", stRefreshing, 44*time.Second, PhaseSignedIn, "active", 0, map[string]func(*fx, time.Time) Event{
		"refresh timer (single flight)": fire(TimerRefresh),
		"retry timer":                   fire(TimerRetry),
		"stale refresh answer":          withReq(stale, refreshOK(tokB)),
		"stale refresh failure":         withReq(stale, refreshAns(o503)),
		"sign_in timer":                 fire(TimerSignIn),
	})
	add("retry pending", stRetryPending, 44*time.Second, PhaseSignedIn, "active", 0, map[string]func(*fx, time.Time) Event{
		"refresh timer":                   fire(TimerRefresh),
		"late answer to the failed req":   withReq(2, refreshOK(tokB)),
		"late revoked for the failed req": withReq(2, refreshAns(oRevoked)),
	})
	add("waiting", stWaiting, 62*time.Second, PhaseSignedIn, "active", 1, map[string]func(*fx, time.Time) Event{
		"refresh timer":        fire(TimerRefresh),
		"stale refresh answer": withReq(stale, refreshOK(tokC)),
		"unknown api answer":   apiReq(stale, ok200),
	})
	add("signed out", stSignedOut, 50*time.Second, PhaseSignedOut, "revoked", 0, map[string]func(*fx, time.Time) Event{
		"start again":                  start(),
		"refresh timer":                fire(TimerRefresh),
		"retry timer":                  fire(TimerRetry),
		"api timer":                    fire(TimerAPI),
		"the revoked refresh replayed": withReq(2, refreshOK(tokB)),
		"sign-in answer replayed":      withReq(1, signInOK(tokB)),
	})
	add("sign-in failed", stSignInFailed, time.Second, PhaseSignedOut, "sign_in_failed", 0, map[string]func(*fx, time.Time) Event{
		"refresh timer":          fire(TimerRefresh),
		"api timer":              fire(TimerAPI),
		"retry timer":            fire(TimerRetry),
		"failed answer replayed": withReq(1, signInOK(tokA)),
	})
	add("stopped", stStopped, 2*time.Second, PhaseStopped, "active", 0, map[string]func(*fx, time.Time) Event{
		"start":          start(),
		"sign_in timer":  fire(TimerSignIn),
		"refresh timer":  fire(TimerRefresh),
		"retry timer":    fire(TimerRetry),
		"api timer":      fire(TimerAPI),
		"stop again":     stop(),
		"sign-in answer": withReq(1, signInOK(tokB)),
		"refresh answer": withReq(2, refreshOK(tokB)),
		"api answer":     apiReq(2, ok200),
	})
	slices.SortFunc(cases, func(a, b transition) int { return strings.Compare(a.name, b.name) })
	runTransitions(t, cases)
}

// ---------------------------------------------------------------------------
// EvStop.

func TestClientStop(t *testing.T) {
	const cancelAll = "cancel:sign_in cancel:refresh cancel:retry cancel:api"
	cases := []transition{
		{name: "idle", state: stIdle, at: time.Second, want: cancelAll, phase: PhaseStopped, status: "none"},
		{name: "signing in", state: stSigningIn, at: time.Second, want: cancelAll, phase: PhaseStopped, status: "none"},
		{name: "sign-in retry pending", state: stSignInRetry, at: time.Second, want: cancelAll, phase: PhaseStopped, status: "none"},
		{name: "signed in", state: stSignedIn, at: time.Second, want: cancelAll, phase: PhaseStopped, status: "active"},
		{name: "api in flight stays pending", state: stInflight, at: 6 * time.Second, want: cancelAll,
			phase: PhaseStopped, status: "active", pending: 1},
		{name: "refreshing", state: stRefreshing, at: 44 * time.Second, want: cancelAll, phase: PhaseStopped, status: "active"},
		{name: "retry pending", state: stRetryPending, at: 44 * time.Second, want: cancelAll, phase: PhaseStopped, status: "active"},
		{name: "waiting calls are cancelled", state: func(f *fx) {
			stWaiting(f)
			f.do(cmAt(61500*time.Millisecond), evTimer(TimerAPI, cmAt(61500*time.Millisecond)))
		}, at: 62 * time.Second,
			want:  cancelAll + " rec:get_token:cancelled rec:settled:cancelled rec:get_token:cancelled rec:settled:cancelled",
			phase: PhaseStopped, status: "active",
			check: func(t *testing.T, f *fx, now time.Time, acts []Action) {
				gts := records(acts, MetricGetToken)
				if gts[0].Latency != time.Second || gts[1].Latency != 500*time.Millisecond || gts[0].OK {
					t.Errorf("cancelled getToken latencies %v %v, want 1s 500ms", gts[0].Latency, gts[1].Latency)
				}
			}},
		{name: "signed out", state: stSignedOut, at: 50 * time.Second, want: cancelAll, phase: PhaseStopped, status: "revoked"},
		{name: "sign-in failed", state: stSignInFailed, at: time.Second, want: cancelAll, phase: PhaseStopped, status: "sign_in_failed"},
		{name: "stopped", state: stStopped, at: 2 * time.Second, want: "", phase: PhaseStopped, status: "active"},
	}
	for i := range cases {
		cases[i].ev = stop()
	}
	runTransitions(t, cases)
}

func TestClientAfterStop(t *testing.T) {
	f := newFx(t, cmConfig())
	stSignedIn(f)
	f.do(cmAt(5*time.Second), evTimer(TimerAPI, cmAt(5*time.Second))) // A in flight
	a := f.lastAPI()
	f.do(cmAt(6*time.Second), evTimer(TimerAPI, cmAt(6*time.Second))) // B in flight
	b := f.lastAPI()
	f.do(cmAt(43*time.Second), evTimer(TimerRefresh, cmAt(43*time.Second))) // refresh in flight
	f.do(cmAt(61*time.Second), evTimer(TimerAPI, cmAt(61*time.Second)))     // C waits (refresh already in flight)
	now := cmAt(62 * time.Second)
	acts := f.do(now, evStop())
	if got := summary(acts); got != "cancel:sign_in cancel:refresh cancel:retry cancel:api rec:get_token:cancelled rec:settled:cancelled" {
		t.Fatalf("stop: [%s]", got)
	}
	wantState(t, f.c, PhaseStopped, "active", 2)

	steps := []struct {
		name    string
		ev      Event
		want    string
		pending int
	}{
		{"refresh answer", evRefreshOK(f.refreshReq, tokC), "", 2},
		{"api timer", evTimer(TimerAPI, now), "", 2},
		{"refresh timer", evTimer(TimerRefresh, now), "", 2},
		{"retry timer", evTimer(TimerRetry, now), "", 2},
		{"sign_in timer", evTimer(TimerSignIn, now), "", 2},
		{"start", evStart(now), "", 2},
		{"A answered 401: settled, no refresh", evAPI(a, o401), "rec:settled:http_401", 1},
		{"A answered again", evAPI(a, ok200), "", 1},
		{"B cancelled", evAPI(b, oCancel), "rec:settled:cancelled", 0},
		{"stop again", evStop(), "", 0},
	}
	for _, s := range steps {
		acts := f.do(now, s.ev)
		if got := summary(acts); got != s.want {
			t.Errorf("%s: [%s], want [%s]", s.name, got, s.want)
		}
		wantState(t, f.c, PhaseStopped, "active", s.pending)
	}
}

// ---------------------------------------------------------------------------
// Determinism.

// cmScript drives a client through sign-in retries, API calls, a refresh
// retry, a forced sign-out and a re-sign-in, always firing the earliest armed
// timer at its deadline, and returns every action.
func cmScript(t *testing.T, seed uint64, index int) []Action {
	t.Helper()
	cfg := cmConfig()
	c := NewClient(&cfg, seed, index)
	var log []Action
	var armed [NumTimers]time.Time
	var signIn, refresh uint64
	var apis []uint64
	step := func(now time.Time, ev Event) {
		for _, a := range c.Step(now, ev) {
			log = append(log, a)
			switch a.Kind {
			case ActSetTimer:
				armed[a.Timer] = a.At
			case ActCancelTimer:
				armed[a.Timer] = time.Time{}
			case ActSignIn:
				signIn = a.Req
			case ActRefresh:
				refresh = a.Req
			case ActAPI:
				apis = append(apis, a.Req)
			}
		}
	}
	now := cmT0
	step(now, evStart(now))
	signIns, refreshes := 0, 0
	for i := 0; i < 200; i++ {
		// Answer everything in flight 50 ms later...
		done := now.Add(50 * time.Millisecond)
		if signIn != 0 {
			req := signIn
			signIn = 0
			signIns++
			if signIns <= 2 {
				step(done, evSignIn(req, o503))
			} else {
				step(done, Event{Kind: EvSignInDone, Req: req, Outcome: ok200,
					Token: cmJWT(done, done.Add(time.Minute)), SessionID: "s", ClientToken: "c"})
			}
		}
		if refresh != 0 {
			req := refresh
			refresh = 0
			refreshes++
			switch refreshes % 5 {
			case 1:
				step(done, evRefresh(req, o429))
			case 4:
				step(done, evRefresh(req, oRevoked))
			default:
				step(done, evRefreshOK(req, cmJWT(done, done.Add(time.Minute))))
			}
		}
		for _, req := range apis {
			step(done, evAPI(req, ok200))
		}
		apis = apis[:0]
		now = done
		// ...then fire the earliest armed timer at its deadline.
		k, at := TimerKind(0), time.Time{}
		for j, d := range armed {
			if !d.IsZero() && (at.IsZero() || d.Before(at)) {
				k, at = TimerKind(j), d
			}
		}
		if at.IsZero() {
			t.Fatalf("no timer armed after %d steps: [%s]", i, summary(log))
		}
		armed[k] = time.Time{}
		if at.After(now) {
			now = at
		}
		step(now, evTimer(k, at))
	}
	// Make sure the script really exercised the paths it is meant to.
	if len(records(log, MetricReSignIn)) == 0 || len(records(log, MetricRefreshRetry)) == 0 {
		t.Fatalf("script did not reach a re-sign-in and a refresh retry: [%s]", summary(log[:min(len(log), 40)]))
	}
	return log
}

func TestClientDeterminism(t *testing.T) {
	a := cmScript(t, 1, 3)
	b := cmScript(t, 1, 3)
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("same seed and index, different actions (%d vs %d)", len(a), len(b))
	}
	timersOf := func(log []Action) []time.Time {
		var out []time.Time
		for _, x := range log {
			if x.Kind == ActSetTimer && (x.Timer == TimerAPI || x.Timer == TimerSignIn || x.Timer == TimerRetry) {
				out = append(out, x.At)
			}
		}
		return out
	}
	if reflect.DeepEqual(timersOf(a), timersOf(cmScript(t, 2, 3))) {
		t.Error("a different seed gave the same api timers and backoffs")
	}
	if reflect.DeepEqual(timersOf(a), timersOf(cmScript(t, 1, 4))) {
		t.Error("a different index gave the same api timers and backoffs")
	}
}

// ---------------------------------------------------------------------------
// A randomized run against a tiny discrete-event server: the invariants that
// must hold whatever happens.

type cmSimReq struct {
	done time.Time
	act  Action
}

func cmSimulate(t *testing.T, cfg ClientConfig, seed uint64, steps int) {
	t.Helper()
	c := NewClient(&cfg, seed, int(seed))
	rng := rand.New(rand.NewPCG(seed, 99))
	var armed [NumTimers]time.Time
	var reqs []cmSimReq
	now := cmT0
	stopAt := cmT0.Add(time.Hour)
	stopped := false
	issued, settled, refreshOut, forced, reSignIns := 0, 0, 0, 0, 0
	session := ""
	apply := func(ev Event) {
		t.Helper()
		before := c.Phase()
		acts := c.Step(now, ev)
		for _, a := range acts {
			if stopped && a.Kind != ActRecord && a.Kind != ActCancelTimer {
				t.Fatalf("after EvStop: %s", describe(a))
			}
			switch a.Kind {
			case ActSetTimer:
				if a.At.Before(now) {
					t.Fatalf("set:%v in the past (%v < %v)", a.Timer, a.At.Sub(cmT0), now.Sub(cmT0))
				}
				armed[a.Timer] = a.At
			case ActCancelTimer:
				armed[a.Timer] = time.Time{}
			case ActSignIn, ActRefresh, ActAPI:
				if a.Req == 0 {
					t.Fatalf("%s with Req 0", describe(a))
				}
				if a.Kind == ActRefresh {
					if refreshOut != 0 {
						t.Fatalf("a second refresh in flight at %v", now.Sub(cmT0))
					}
					refreshOut++
					if a.SessionID != session || a.Attempt > cfg.MaxRetries {
						t.Fatalf("refresh %+v (session %q)", a, session)
					}
				}
				if a.Kind == ActSignIn && a.Attempt > cfg.MaxRetries {
					t.Fatalf("sign-in attempt %d", a.Attempt)
				}
				if a.Kind == ActAPI {
					tt, err := ParseTokenTimes(a.Token)
					if err != nil || !now.Before(tt.ExpiresAt) {
						t.Fatalf("ActAPI at %v with an expired or bad token (%v)", now.Sub(cmT0), err)
					}
				}
				lat := time.Duration(rng.IntN(300)+5) * time.Millisecond
				reqs = append(reqs, cmSimReq{now.Add(lat), a})
			case ActRecord:
				switch a.Metric {
				case MetricRequestIssued:
					issued++
				case MetricRequestSettled:
					settled++
				case MetricForcedSignOut:
					forced++
				case MetricReSignIn:
					reSignIns++
				}
			}
		}
		if got := c.Pending(); got != issued-settled {
			t.Fatalf("Pending() = %d, issued−settled = %d", got, issued-settled)
		}
		if c.Phase() == PhaseSignedIn && before != PhaseSignedIn && c.SessionStatus() != "active" {
			t.Fatalf("signed in with status %q", c.SessionStatus())
		}
	}
	apply(evStart(now))
	for i := 0; i < steps; i++ {
		// The next event: the earliest answer or timer.
		next, which := time.Time{}, -1
		for j, r := range reqs {
			if next.IsZero() || r.done.Before(next) {
				next, which = r.done, j
			}
		}
		tk := TimerKind(NumTimers)
		for k, at := range armed {
			if !at.IsZero() && (next.IsZero() || at.Before(next)) {
				next, tk = at, TimerKind(k)
			}
		}
		if next.IsZero() {
			break
		}
		if !stopped && next.After(stopAt) {
			now = stopAt
			stopped = true
			apply(evStop())
			continue
		}
		now = next
		if tk < NumTimers {
			armed[tk] = time.Time{}
			apply(evTimer(tk, now))
			continue
		}
		r := reqs[which]
		reqs = append(reqs[:which], reqs[which+1:]...)
		u := rng.Float64()
		ev := Event{Req: r.act.Req}
		switch r.act.Kind {
		case ActSignIn:
			ev.Kind = EvSignInDone
			switch {
			case stopped:
				ev.Outcome = oCancel
			case u < 0.75:
				session = fmt.Sprintf("sess_%d", r.act.Req)
				ev.Outcome, ev.Token, ev.SessionID, ev.ClientToken = ok200, cmJWT(now, now.Add(time.Minute)), session, "ct"
			case u < 0.9:
				ev.Outcome = o503
			case u < 0.95:
				ev.Outcome = Outcome{Class: Class429, Status: 429, RetryAfter: 2 * time.Second}
			default:
				ev.Outcome = o400
			}
		case ActRefresh:
			refreshOut--
			ev.Kind = EvRefreshDone
			switch {
			case stopped:
				ev.Outcome = oCancel
			case u < 0.8:
				ev.Outcome, ev.Token = ok200, cmJWT(now, now.Add(time.Minute))
			case u < 0.88:
				ev.Outcome = o503
			case u < 0.92:
				ev.Outcome = oNetwork
			case u < 0.95:
				ev.Outcome = o400
			default:
				ev.Outcome = oRevoked
			}
		default:
			ev.Kind = EvAPIDone
			switch {
			case stopped:
				ev.Outcome = oCancel
			case u < 0.85:
				ev.Outcome = ok200
			case u < 0.95:
				ev.Outcome = o401
			default:
				ev.Outcome = o503
			}
		}
		apply(ev)
	}
	if !stopped {
		t.Fatalf("the run never reached EvStop within %d steps", steps)
	}
	if len(reqs) != 0 {
		t.Fatalf("%d requests never answered", len(reqs))
	}
	if c.Phase() != PhaseStopped || c.Pending() != 0 || issued != settled {
		t.Fatalf("end: phase %v pending %d issued %d settled %d", c.Phase(), c.Pending(), issued, settled)
	}
	if reSignIns > forced || reSignIns < forced-1 {
		t.Fatalf("%d re-sign-ins for %d forced sign-outs", reSignIns, forced)
	}
	if issued == 0 || forced == 0 {
		t.Fatalf("the run exercised too little: issued %d forced %d", issued, forced)
	}
}

func TestClientRandomizedInvariants(t *testing.T) {
	for _, blocking := range []bool{false, true} {
		for seed := uint64(1); seed <= 8; seed++ {
			t.Run(fmt.Sprintf("blocking=%v/seed=%d", blocking, seed), func(t *testing.T) {
				cfg := cmConfig()
				cfg.Blocking = blocking
				cmSimulate(t, cfg, seed, 20000)
			})
		}
	}
}

// ---------------------------------------------------------------------------
// Classification tables.

func TestSessionLost(t *testing.T) {
	cases := []struct {
		o    Outcome
		want bool
	}{
		{Outcome{Class: Class401, Status: 401, Code: "session_revoked"}, true},
		{Outcome{Class: Class401, Status: 401, Code: "session_expired"}, true},
		{Outcome{Class: Class401, Status: 401, Code: "session_ended"}, true},
		{Outcome{Class: Class401, Status: 401, Code: "session_abandoned"}, true},
		{Outcome{Class: Class401, Status: 401, Code: "session_removed"}, true},
		{Outcome{Class: Class401, Status: 401, Code: "session_replaced"}, true},
		{Outcome{Class: ClassOther, Status: 404, Code: "session_not_found"}, true},
		{Outcome{Class: ClassOther, Status: 404}, true},
		{Outcome{Class: ClassOther, Status: 403}, true},
		{Outcome{Class: Class401, Status: 401}, true},
		{Outcome{Class: Class401, Status: 401, Code: "client_token_invalid"}, true},
		{Outcome{Class: ClassOther, Status: 400, Code: "client_token_invalid"}, true},
		{Outcome{Class: ClassOther, Status: 400, Code: "session_expired"}, true},
		{Outcome{Class: ClassOK, Status: 200}, false},
		{Outcome{Class: ClassOther, Status: 400}, false},
		{Outcome{Class: ClassOther, Status: 400, Code: "form_param_missing"}, false},
		{Outcome{Class: ClassOther, Status: 409}, false},
		{Outcome{Class: Class429, Status: 429}, false},
		{Outcome{Class: Class5xx, Status: 500}, false},
		{Outcome{Class: Class5xx, Status: 503, Code: "internal"}, false},
		{Outcome{Class: ClassNetwork}, false},
		{Outcome{Class: ClassTimeout}, false},
		{Outcome{Class: ClassCancelled}, false},
		{Outcome{Class: Class5xx, Status: 503, Code: "session_revoked"}, false},
		{Outcome{Class: Class429, Status: 429, Code: "session_expired"}, false},
		{Outcome{Class: ClassOther, Status: 400, Code: "sessions_limit"}, false},
		{Outcome{Class: ClassOther, Status: 400, Code: "token_expired"}, false},
	}
	for _, tc := range cases {
		if got := SessionLost(tc.o); got != tc.want {
			t.Errorf("SessionLost(%+v) = %v, want %v", tc.o, got, tc.want)
		}
	}
}

func TestErrorClassRetryable(t *testing.T) {
	want := map[ErrorClass]bool{
		ClassOK:         false,
		Class401:        false,
		Class429:        true,
		Class5xx:        true,
		ClassNetwork:    true,
		ClassTimeout:    true,
		ClassOther:      false,
		ClassCancelled:  false,
		ClassSuperseded: false,
	}
	if len(want) != int(NumClasses) {
		t.Fatalf("table covers %d classes, there are %d", len(want), NumClasses)
	}
	for c := ErrorClass(0); c < NumClasses; c++ {
		if got := c.Retryable(); got != want[c] {
			t.Errorf("%v.Retryable() = %v, want %v", c, got, want[c])
		}
	}
}

func TestClientStrings(t *testing.T) {
	cases := []struct{ got, want string }{
		{PhaseIdle.String(), "idle"},
		{PhaseSigningIn.String(), "signing_in"},
		{PhaseSignedIn.String(), "signed_in"},
		{PhaseSignedOut.String(), "signed_out"},
		{PhaseStopped.String(), "stopped"},
		{Phase(99).String(), "phase?"},
		{TimerSignIn.String(), "sign_in"},
		{TimerRefresh.String(), "refresh"},
		{TimerRetry.String(), "retry"},
		{TimerAPI.String(), "api"},
		{NumTimers.String(), "timer?"},
		{ClassOK.String(), "ok"},
		{Class401.String(), "http_401"},
		{Class429.String(), "http_429"},
		{Class5xx.String(), "http_5xx"},
		{ClassNetwork.String(), "network"},
		{ClassTimeout.String(), "timeout"},
		{ClassOther.String(), "other"},
		{ClassCancelled.String(), "cancelled"},
		{NumClasses.String(), "class?"},
	}
	for _, tc := range cases {
		if tc.got != tc.want {
			t.Errorf("String() = %q, want %q", tc.got, tc.want)
		}
	}
}

func TestNewClientConfig(t *testing.T) {
	p := profiles.Default() // time scale 10
	got := NewClientConfig(p)
	want := ClientConfig{
		Blocking:     false,
		RefreshAhead: 1700 * time.Millisecond,
		StaleWindow:  1500 * time.Millisecond,
		APIInterval:  1500 * time.Millisecond, // 60 s / 4 calls, scaled
		ThinkTime:    500 * time.Millisecond,
		RetryBase:    100 * time.Millisecond,
		RetryCap:     time.Second,
		RetryJitter:  100 * time.Millisecond,
		MaxRetries:   2, // max_retries 3 is three attempts, as the article counts them

		RetryMultiplier:    2,
		RetryStrategy:      profiles.JitterAdditive,
		RefreshOnReconnect: true,
		Interceptor:        profiles.InterceptorSingleFlight,
		Burst:              1,
		Session:            SessionConfig{TokenCache: profiles.TokenCacheSecure, TreatPendingAsSignedOut: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("NewClientConfig(default):\n got %+v\nwant %+v", got, want)
	}

	p.SDK.TokenMode = profiles.TokenModeBlocking
	p.App.APICallsPerMinute = 0
	p.TimeScale = 0 // unscaled
	got = NewClientConfig(p)
	if !got.Blocking || got.APIInterval != 0 || got.RefreshAhead != 17*time.Second || got.ThinkTime != 5*time.Second {
		t.Errorf("NewClientConfig(blocking, no api, unscaled) = %+v", got)
	}
}

// ---------------------------------------------------------------------------
// Regressions.

// A JWT without iat (exp is the only claim required) is polled RefreshAhead
// before exp: its lifetime counts from receipt, not from year 1.
func TestClientTokenWithoutIatStillPolled(t *testing.T) {
	f := newFx(t, cmConfig())
	stSigningIn(f)
	noIat := cmJWTPayload(fmt.Sprintf(`{"exp":%s}`, cmSeconds(cmAt(60*time.Second))))
	acts := f.do(cmT0, evSignInOK(f.signInReq, noIat))
	if at := timerSet(t, acts, TimerRefresh); !at.Equal(cmAt(43 * time.Second)) {
		t.Errorf("poll at %v, want exp−RefreshAhead = 43s", at.Sub(cmT0))
	}
}

// cmDrive runs f's client from now until end like an engine would: timers
// fire when due and every request is answered 10 ms after it was sent, by
// answer. It fails the test if the client steps more than maxSteps times,
// which only a client refreshing in a loop does. It counts the requests.
func cmDrive(t *testing.T, f *fx, end time.Time, maxSteps int, answer func(a Action) Event) (sent map[ActionKind]int) {
	t.Helper()
	type pending struct {
		at time.Time
		ev Event
	}
	var timers [NumTimers]time.Time
	var queue []pending
	sent = map[ActionKind]int{}
	apply := func(acts []Action, now time.Time) {
		for _, a := range acts {
			switch a.Kind {
			case ActSetTimer:
				timers[a.Timer] = a.At
			case ActCancelTimer:
				timers[a.Timer] = time.Time{}
			case ActSignIn, ActRefresh, ActAPI:
				sent[a.Kind]++
				queue = append(queue, pending{now.Add(10 * time.Millisecond), answer(a)})
			}
		}
	}
	for _, a := range f.log { // the timers set so far; its requests were answered
		switch a.Kind {
		case ActSetTimer:
			timers[a.Timer] = a.At
		case ActCancelTimer:
			timers[a.Timer] = time.Time{}
		}
	}
	for steps := 0; ; steps++ {
		if steps > maxSteps {
			t.Fatalf("the client stepped %d times before %v: it loops (sent %v)", steps, end.Sub(cmT0), sent)
		}
		next, timer, qi := time.Time{}, -1, -1
		for k, at := range timers {
			if !at.IsZero() && (next.IsZero() || at.Before(next)) {
				next, timer = at, k
			}
		}
		for i, p := range queue {
			if next.IsZero() || p.at.Before(next) {
				next, timer, qi = p.at, -1, i
			}
		}
		if next.IsZero() || next.After(end) {
			return sent
		}
		now := next
		if now.Before(f.now) {
			now = f.now
		}
		if qi >= 0 {
			ev := queue[qi].ev
			queue = append(queue[:qi], queue[qi+1:]...)
			apply(f.do(now, ev), now)
			continue
		}
		timers[timer] = time.Time{}
		apply(f.do(now, evTimer(TimerKind(timer), next)), now)
	}
}

// TestExpiredTokensFromRefreshesDoNotLoop holds the client to a bounded
// refresh rate when every refresh answer brings a token that is already
// expired: 10 simulated minutes, API calls every 5 s on average, each
// answered 401 (the token is expired).
func TestExpiredTokensFromRefreshesDoNotLoop(t *testing.T) {
	for _, tc := range []struct {
		name string
		// token is the refresh answer's token at now.
		token func(now time.Time) string
		// refused: the client refuses it (class other, no retry), else it
		// takes it (its clock says expired, the issuer's does not).
		refused bool
		// maxPolls bounds the refreshes not caused by an API call.
		maxPolls int
	}{
		{name: "dead on arrival (exp before iat)", refused: true,
			token: func(now time.Time) string { return cmJWT(now, now.Add(-time.Hour)) },
			// the poller waits a refresh interval (43 s) after each failure
			maxPolls: 600/43 + 2},
		{name: "no iat, exp in the past", refused: true,
			token: func(now time.Time) string {
				return cmJWTPayload(fmt.Sprintf(`{"exp":%s}`, cmSeconds(now.Add(-time.Minute))))
			},
			maxPolls: 600/43 + 2},
		{name: "expired by the client's clock (issuer 2 min behind)",
			token: func(now time.Time) string { return cmJWT(now.Add(-2*time.Minute), now.Add(-time.Minute)) },
			// the poll floor: a tenth of the 60 s lifetime
			maxPolls: 600/6 + 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFx(t, cmConfig())
			f.do(cmT0, evStart(cmT0))
			f.do(cmT0, evSignInOK(f.signInReq, tokA))
			refused := 0
			sent := cmDrive(t, f, cmAt(10*time.Minute), 5000, func(a Action) Event {
				switch a.Kind {
				case ActRefresh:
					return evRefreshOK(a.Req, tc.token(f.now))
				case ActAPI:
					if f.now.Before(cmAt(60 * time.Second)) {
						return evAPI(a.Req, ok200)
					}
					return evAPI(a.Req, Outcome{Class: Class401, Status: 401})
				}
				t.Fatalf("unexpected request %v", a.Kind)
				return Event{}
			})
			apiCalls := 0 // issued, whether sent or failed for want of a token
			for _, a := range f.log {
				if a.Kind == ActRecord && a.Metric == MetricRequestIssued {
					apiCalls++
				}
				if a.Kind == ActRecord && a.Metric == MetricRefreshRetry {
					t.Fatal("a refresh answered with an expired token was retried with backoff as if the target had failed")
				}
				if a.Kind == ActRecord && a.Metric == MetricGetToken && !a.OK && a.Class == ClassOther {
					refused++
				}
			}
			if tc.refused != (refused > 0) {
				t.Errorf("%d getToken failures of class other, want refused=%v", refused, tc.refused)
			}
			if apiCalls < 60 {
				t.Fatalf("only %d API calls in 10 minutes", apiCalls)
			}
			// Each API call may start one refresh (getToken) and one more
			// after its 401 (the interceptor); the rest are polls.
			if polls := sent[ActRefresh] - 2*apiCalls; polls > tc.maxPolls {
				t.Errorf("%d refreshes for %d API calls: %d beyond them, want ≤ %d", sent[ActRefresh], apiCalls, polls, tc.maxPolls)
			}
			if f.c.Phase() != PhaseSignedIn {
				t.Errorf("phase %v, want signed in: an expired token is not a lost session", f.c.Phase())
			}
			t.Logf("%d refreshes, %d API calls, %d refused", sent[ActRefresh], apiCalls, refused)
		})
	}
}
