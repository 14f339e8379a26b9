package model

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stampede-load/stampede/profiles"
)

// The app lifecycle (background, foreground, cold start), the network
// (offline, online, the offline token cache), the retry jitter strategies and
// client-token rotation, driven through the same fx harness and states as
// client_test.go. Helper names carry an "lc" prefix.

// lcDescribe is describe() plus the foreground recovery metric, which
// client_test.go does not name: "rec:recovery:ok", "rec:recovery:http_401".
func lcDescribe(a Action) string {
	if a.Kind == ActRecord && a.Metric == MetricForegroundRecovery {
		if a.OK {
			return "rec:recovery:ok"
		}
		return "rec:recovery:" + a.Class.String()
	}
	return describe(a)
}

// lcSummary renders actions as space-separated lcDescribe()s.
func lcSummary(acts []Action) string {
	s := ""
	for i, a := range acts {
		if i > 0 {
			s += " "
		}
		s += lcDescribe(a)
	}
	return s
}

// Lifecycle and network events.

func lcEvBackground() Event          { return Event{Kind: EvBackground} }
func lcEvForeground(cold bool) Event { return Event{Kind: EvForeground, ColdStart: cold} }
func lcEvOffline() Event             { return Event{Kind: EvOffline} }
func lcEvOnline() Event              { return Event{Kind: EvOnline} }

// lcRefreshOKCT is a refresh answer from a server that rotated the client token to ct.
func lcRefreshOKCT(req uint64, tok, ct string) Event {
	e := evRefreshOK(req, tok)
	e.ClientToken = ct
	return e
}

// Event builders for table rows.

func lcBg() func(*fx, time.Time) Event {
	return func(*fx, time.Time) Event { return lcEvBackground() }
}
func lcFg(cold bool) func(*fx, time.Time) Event {
	return func(*fx, time.Time) Event { return lcEvForeground(cold) }
}
func lcOff() func(*fx, time.Time) Event {
	return func(*fx, time.Time) Event { return lcEvOffline() }
}
func lcOn() func(*fx, time.Time) Event {
	return func(*fx, time.Time) Event { return lcEvOnline() }
}

// lcThen is state st followed by ev fed at offset at from cmT0.
func lcThen(st func(*fx), at time.Duration, ev Event) func(*fx) {
	return func(f *fx) {
		st(f)
		f.do(cmAt(at), ev)
	}
}

// stBgSignedIn: signed in with tokA at 0 s, in the background since 10 s.
func stBgSignedIn(f *fx) { lcThen(stSignedIn, 10*time.Second, lcEvBackground())(f) }

// lcCase is a transition that also checks Background() and Offline().
type lcCase struct {
	name       string
	tweak      func(*ClientConfig)
	state      func(*fx)
	at         time.Duration
	ev         func(*fx, time.Time) Event
	want       string
	phase      Phase
	status     string
	pending    int
	background bool
	offline    bool
	check      func(t *testing.T, f *fx, now time.Time, acts []Action)
}

func lcRun(t *testing.T, cases []lcCase) {
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
			if got := lcSummary(acts); got != tc.want {
				t.Errorf("actions:\n got [%s]\nwant [%s]", got, tc.want)
			}
			wantState(t, f.c, tc.phase, tc.status, tc.pending)
			lcWantFlags(t, f.c, tc.background, tc.offline)
			if tc.check != nil && !t.Failed() {
				tc.check(t, f, now, acts)
			}
		})
	}
}

func lcWantFlags(t *testing.T, c *Client, background, offline bool) {
	t.Helper()
	if got := c.Background(); got != background {
		t.Errorf("Background() = %v, want %v", got, background)
	}
	if got := c.Offline(); got != offline {
		t.Errorf("Offline() = %v, want %v", got, offline)
	}
}

// lcNoTimers fails if acts arm any timer.
func lcNoTimers(t *testing.T, acts []Action) {
	t.Helper()
	if got := ofKind(acts, ActSetTimer); len(got) != 0 {
		t.Errorf("armed %d timer(s) in [%s], want none", len(got), lcSummary(acts))
	}
}

// lcRecovery checks the only MetricForegroundRecovery in acts.
func lcRecovery(ok bool, latency time.Duration) func(*testing.T, *fx, time.Time, []Action) {
	return func(t *testing.T, _ *fx, _ time.Time, acts []Action) {
		t.Helper()
		recs := records(acts, MetricForegroundRecovery)
		if len(recs) != 1 {
			t.Fatalf("%d foreground recoveries in [%s], want 1", len(recs), lcSummary(acts))
		}
		if r := recs[0]; r.OK != ok || r.Latency != latency {
			t.Errorf("recovery OK=%v latency %v, want OK=%v latency %v", r.OK, r.Latency, ok, latency)
		}
	}
}

// lcRefreshCarries checks the only ActRefresh: intended now, with the session
// and client token given.
func lcRefreshCarries(t *testing.T, acts []Action, now time.Time, session, ct string) {
	t.Helper()
	r := one(t, acts, ActRefresh)
	if !r.At.Equal(now) || r.SessionID != session || r.ClientToken != ct {
		t.Errorf("ActRefresh At=%v session %q client token %q, want At=%v %q %q",
			r.At.Sub(cmT0), r.SessionID, r.ClientToken, now.Sub(cmT0), session, ct)
	}
}

const allTimersCancelled = "cancel:sign_in cancel:refresh cancel:retry cancel:api"

// ---------------------------------------------------------------------------
// Background.

func TestLifecycleBackground(t *testing.T) {
	cases := []lcCase{
		{name: "signed in: every timer cancelled", state: stSignedIn, at: time.Second, ev: lcBg(),
			want: allTimersCancelled, phase: PhaseSignedIn, status: "active", background: true},
		{name: "api call in flight: cancelled timers, call kept", state: stInflight, at: 6 * time.Second, ev: lcBg(),
			want: allTimersCancelled, phase: PhaseSignedIn, status: "active", pending: 1, background: true},
		{name: "waiting call kept", state: stWaiting, at: 61100 * time.Millisecond, ev: lcBg(),
			want: allTimersCancelled, phase: PhaseSignedIn, status: "active", pending: 1, background: true},
		{name: "retry pending: cancelled and forgotten", state: stRetryPending, at: 44 * time.Second, ev: lcBg(),
			want: allTimersCancelled, phase: PhaseSignedIn, status: "active", background: true,
			check: func(t *testing.T, f *fx, now time.Time, _ []Action) {
				// A retry deadline that fires anyway sends nothing: the retry is gone.
				at := now.Add(5 * time.Second)
				if acts := f.do(at, evTimer(TimerRetry, at)); len(acts) != 0 {
					t.Errorf("retry timer after background: [%s], want nothing", lcSummary(acts))
				}
			}},
		{name: "signing in", state: stSigningIn, at: 50 * time.Millisecond, ev: lcBg(),
			want: allTimersCancelled, phase: PhaseSigningIn, status: "none", background: true},
		{name: "sign-in retry pending", state: stSignInRetry, at: 500 * time.Millisecond, ev: lcBg(),
			want: allTimersCancelled, phase: PhaseSigningIn, status: "none", background: true},
		{name: "signed out", state: stSignedOut, at: 44 * time.Second, ev: lcBg(),
			want: allTimersCancelled, phase: PhaseSignedOut, status: "revoked", background: true},
		{name: "idle: ignored", state: stIdle, at: time.Second, ev: lcBg(),
			want: "", phase: PhaseIdle, status: "none"},
		{name: "stopped: ignored", state: stStopped, at: 2 * time.Second, ev: lcBg(),
			want: "", phase: PhaseStopped, status: "active"},
		{name: "already in the background: ignored",
			state: lcThen(stSignedIn, time.Second, lcEvBackground()), at: 2 * time.Second, ev: lcBg(),
			want: "", phase: PhaseSignedIn, status: "active", background: true},
		{name: "offline device goes to the background",
			state: lcThen(stSignedIn, time.Second, lcEvOffline()), at: 2 * time.Second, ev: lcBg(),
			want: allTimersCancelled, phase: PhaseSignedIn, status: "active", background: true, offline: true},
	}
	lcRun(t, cases)
}

// Answers still come in the background; they are processed, but no timer is armed.
func TestLifecycleBackgroundAnswers(t *testing.T) {
	bgRefreshing := lcThen(stRefreshing, 43200*time.Millisecond, lcEvBackground())
	bgSigningIn := lcThen(stSigningIn, 50*time.Millisecond, lcEvBackground())
	cases := []lcCase{
		{name: "refresh ok caches the token, arms no poll", state: bgRefreshing,
			at: 43500 * time.Millisecond, ev: refreshOK(tokB),
			want: "", phase: PhaseSignedIn, status: "active", background: true,
			check: func(t *testing.T, f *fx, _ time.Time, _ []Action) {
				if f.c.token != tokB {
					t.Errorf("cached token is not the refreshed one")
				}
				// Back in the foreground, getToken(skip_cache) still refreshes.
				if acts := f.do(cmAt(50*time.Second), lcEvForeground(false)); lcSummary(acts) != "refresh/0 set:api" {
					t.Errorf("foreground: [%s], want [refresh/0 set:api]", lcSummary(acts))
				}
			}},
		{name: "refresh ok serves the waiting call",
			state: lcThen(stWaiting, 61100*time.Millisecond, lcEvBackground()),
			at:    61500 * time.Millisecond, ev: refreshOK(tokC),
			want: "rec:get_token:ok api/0", phase: PhaseSignedIn, status: "active", pending: 1, background: true,
			check: func(t *testing.T, f *fx, _ time.Time, acts []Action) {
				if a := one(t, acts, ActAPI); a.Token != tokC {
					t.Errorf("waiting call got %q, want tokC", a.Token)
				}
			}},
		{name: "refresh revoked signs out, arms no sign-in", state: bgRefreshing,
			at: 43500 * time.Millisecond, ev: refreshAns(oRevoked),
			want:  "rec:forced:session_revoked cancel:refresh cancel:retry cancel:api",
			phase: PhaseSignedOut, status: "revoked", background: true},
		{name: "refresh failed for good arms no poll", state: bgRefreshing,
			at: 43500 * time.Millisecond, ev: refreshAns(o400),
			want: "", phase: PhaseSignedIn, status: "active", background: true},
		{name: "sign-in ok arms no timers", state: bgSigningIn,
			at: 100 * time.Millisecond, ev: signInOK(tokA),
			want: "", phase: PhaseSignedIn, status: "active", background: true},
		{name: "sign-in 503 arms no retry", state: bgSigningIn,
			at: 100 * time.Millisecond, ev: signInAns(o503),
			want: "", phase: PhaseSigningIn, status: "none", background: true},
		{name: "sign-in 400 arms no re-sign-in", state: bgSigningIn,
			at: 100 * time.Millisecond, ev: signInAns(o400),
			want: "", phase: PhaseSignedOut, status: "sign_in_failed", background: true},
		{name: "api answer settles",
			state: lcThen(stInflight, 6*time.Second, lcEvBackground()),
			at:    6100 * time.Millisecond, ev: apiAns(ok200),
			want: "rec:settled:ok", phase: PhaseSignedIn, status: "active", background: true},
		{name: "stop cancels every timer",
			state: lcThen(stSignedIn, time.Second, lcEvBackground()), at: 2 * time.Second, ev: stop(),
			want: allTimersCancelled, phase: PhaseStopped, status: "active", background: true},
	}
	lcRun(t, cases)
}

// A retryable refresh failure in the background schedules nothing: the
// foreground return sends the next refresh, and only one.
func TestLifecycleBackgroundRefreshFailureWaitsForForeground(t *testing.T) {
	for _, o := range []Outcome{o503, o429, oNetwork, oTimeout} {
		t.Run(o.Class.String(), func(t *testing.T) {
			f := newFx(t, cmConfig())
			stRefreshing(f)
			f.do(cmAt(43200*time.Millisecond), lcEvBackground())
			acts := f.do(cmAt(43500*time.Millisecond), evRefresh(f.refreshReq, o))
			lcNoTimers(t, acts)
			if n := len(ofKind(acts, ActRefresh)); n != 0 {
				t.Errorf("refresh sent in the background: [%s]", lcSummary(acts))
			}
			// A stray retry deadline does nothing either.
			at := cmAt(50 * time.Second)
			if acts := f.do(at, evTimer(TimerRetry, at)); len(acts) != 0 {
				t.Errorf("retry timer in the background: [%s], want nothing", lcSummary(acts))
			}
			now := cmAt(100 * time.Second)
			acts = f.do(now, lcEvForeground(false))
			lcRefreshCarries(t, acts, now, cmSession, cmClientToken)
			if at := timerSet(t, acts, TimerAPI); at.Before(now) {
				t.Errorf("api timer at %v, before now", at.Sub(cmT0))
			}
		})
	}
}

// ---------------------------------------------------------------------------
// Foreground.

func TestLifecycleForeground(t *testing.T) {
	warmOrCold := func(cold bool) func(*testing.T, *fx, time.Time, []Action) {
		return func(t *testing.T, f *fx, now time.Time, acts []Action) {
			lcRefreshCarries(t, acts, now, cmSession, cmClientToken)
			if at := timerSet(t, acts, TimerAPI); at.Before(now) {
				t.Errorf("api timer at %v, before now %v", at.Sub(cmT0), now.Sub(cmT0))
			}
			if cold && f.c.token != "" {
				t.Error("a cold start kept the in-memory JWT")
			}
			if !cold && f.c.token != tokA {
				t.Error("a warm foreground dropped the cached JWT")
			}
		}
	}
	thinkFrom := func(t *testing.T, f *fx, now time.Time, acts []Action) {
		if at := timerSet(t, acts, TimerSignIn); !at.Equal(now.Add(f.cfg.ThinkTime)) {
			t.Errorf("sign-in timer at %v, want now+ThinkTime", at.Sub(cmT0))
		}
	}
	signInNow := func(t *testing.T, _ *fx, now time.Time, acts []Action) {
		if a := one(t, acts, ActSignIn); !a.At.Equal(now) {
			t.Errorf("ActSignIn At=%v, want now %v", a.At.Sub(cmT0), now.Sub(cmT0))
		}
	}
	bgRefreshing := lcThen(stRefreshing, 43100*time.Millisecond, lcEvBackground())
	cases := []lcCase{
		{name: "warm: getToken(skip_cache) and the api timer", state: stBgSignedIn, at: 20 * time.Second, ev: lcFg(false),
			want: "refresh/0 set:api", phase: PhaseSignedIn, status: "active", check: warmOrCold(false)},
		{name: "cold: same, the JWT dropped, session and client token kept", state: stBgSignedIn, at: 20 * time.Second,
			ev: lcFg(true), want: "refresh/0 set:api", phase: PhaseSignedIn, status: "active", check: warmOrCold(true)},
		{name: "no api calls: refresh only", tweak: func(c *ClientConfig) { c.APIInterval = 0 },
			state: stBgSignedIn, at: 20 * time.Second, ev: lcFg(false),
			want: "refresh/0", phase: PhaseSignedIn, status: "active"},
		{name: "warm with a refresh in flight: no second refresh", state: bgRefreshing,
			at: 43200 * time.Millisecond, ev: lcFg(false),
			want: "set:api", phase: PhaseSignedIn, status: "active"},
		{name: "cold with a refresh in flight: no second refresh", state: bgRefreshing,
			at: 43200 * time.Millisecond, ev: lcFg(true),
			want: "set:api", phase: PhaseSignedIn, status: "active"},
		{name: "retry was pending: a fresh refresh at once",
			state: lcThen(stRetryPending, 44*time.Second, lcEvBackground()), at: 50 * time.Second, ev: lcFg(false),
			want: "refresh/0 set:api", phase: PhaseSignedIn, status: "active",
			check: func(t *testing.T, _ *fx, now time.Time, acts []Action) {
				lcRefreshCarries(t, acts, now, cmSession, cmClientToken)
			}},
		{name: "waiting call with its refresh in flight",
			state: lcThen(stWaiting, 61100*time.Millisecond, lcEvBackground()), at: 62 * time.Second, ev: lcFg(false),
			want: "set:api", phase: PhaseSignedIn, status: "active", pending: 1},
		{name: "signing in, sign-in in flight: nothing to do",
			state: lcThen(stSigningIn, 50*time.Millisecond, lcEvBackground()), at: 80 * time.Millisecond, ev: lcFg(false),
			want: "", phase: PhaseSigningIn, status: "none"},
		{name: "signing in, retry was pending: sign in at once",
			state: lcThen(stSignInRetry, 200*time.Millisecond, lcEvBackground()), at: time.Second, ev: lcFg(false),
			want: "sign_in/1", phase: PhaseSigningIn, status: "none", check: signInNow},
		{name: "cold, signing in, retry was pending: sign in at once",
			state: lcThen(stSignInRetry, 200*time.Millisecond, lcEvBackground()), at: time.Second, ev: lcFg(true),
			want: "sign_in/1", phase: PhaseSigningIn, status: "none", check: signInNow},
		{name: "signed out: re-sign-in after think time",
			state: lcThen(stSignedOut, 44*time.Second, lcEvBackground()), at: 50 * time.Second, ev: lcFg(false),
			want: "set:sign_in", phase: PhaseSignedOut, status: "revoked", check: thinkFrom},
		{name: "cold, signed out: re-sign-in after think time",
			state: lcThen(stSignedOut, 44*time.Second, lcEvBackground()), at: 50 * time.Second, ev: lcFg(true),
			want: "set:sign_in", phase: PhaseSignedOut, status: "revoked", check: thinkFrom},
		{name: "sign-in failed: sign in again after think time",
			state: lcThen(stSignInFailed, time.Second, lcEvBackground()), at: 2 * time.Second, ev: lcFg(false),
			want: "set:sign_in", phase: PhaseSignedOut, status: "sign_in_failed", check: thinkFrom},
		{name: "not in the background: ignored", state: stSignedIn, at: time.Second, ev: lcFg(false),
			want: "", phase: PhaseSignedIn, status: "active"},
		{name: "cold, not in the background: ignored, JWT kept", state: stSignedIn, at: time.Second, ev: lcFg(true),
			want: "", phase: PhaseSignedIn, status: "active",
			check: func(t *testing.T, f *fx, _ time.Time, _ []Action) {
				if f.c.token != tokA {
					t.Error("an ignored cold start dropped the JWT")
				}
			}},
		{name: "idle: ignored", state: stIdle, at: time.Second, ev: lcFg(true),
			want: "", phase: PhaseIdle, status: "none"},
		{name: "stopped in the background: ignored",
			state: lcThen(stBgSignedIn, 15*time.Second, evStop()), at: 20 * time.Second, ev: lcFg(false),
			want: "", phase: PhaseStopped, status: "active", background: true},
		{name: "offline: refresh sent all the same",
			state: lcThen(stBgSignedIn, 15*time.Second, lcEvOffline()), at: 20 * time.Second, ev: lcFg(false),
			want: "refresh/0 set:api", phase: PhaseSignedIn, status: "active", offline: true},
	}
	lcRun(t, cases)
}

// The foreground recovery: from the foreground to a valid token in hand, or to
// the forced sign-out that ends it.
func TestLifecycleForegroundRecovery(t *testing.T) {
	fgAt20 := func(cold bool) func(*fx) {
		return lcThen(stBgSignedIn, 20*time.Second, lcEvForeground(cold))
	}
	tokFg := cmJWT(cmAt(20300*time.Millisecond), cmAt(80300*time.Millisecond)) // polled at 63.3 s
	signedOutByFg := "cancel:refresh cancel:retry cancel:api set:sign_in"
	cases := []lcCase{
		{name: "warm: ok after 300ms", state: fgAt20(false), at: 20300 * time.Millisecond, ev: refreshOK(tokFg),
			want: "set:refresh rec:recovery:ok", phase: PhaseSignedIn, status: "active",
			check: func(t *testing.T, f *fx, now time.Time, acts []Action) {
				lcRecovery(true, 300*time.Millisecond)(t, f, now, acts)
				if at := timerSet(t, acts, TimerRefresh); !at.Equal(cmAt(63300 * time.Millisecond)) {
					t.Errorf("poll at %v, want exp−RefreshAhead = 63.3s", at.Sub(cmT0))
				}
				// Recorded once: the next poll's refresh records no recovery.
				at := cmAt(63300 * time.Millisecond)
				f.do(at, evTimer(TimerRefresh, at))
				acts = f.do(at.Add(100*time.Millisecond), evRefreshOK(f.refreshReq, cmJWT(at, at.Add(time.Minute))))
				if got := lcSummary(acts); got != "set:refresh" {
					t.Errorf("next poll's answer: [%s], want [set:refresh]", got)
				}
			}},
		{name: "cold: ok after 300ms", state: fgAt20(true), at: 20300 * time.Millisecond, ev: refreshOK(tokFg),
			want: "set:refresh rec:recovery:ok", phase: PhaseSignedIn, status: "active",
			check: lcRecovery(true, 300*time.Millisecond)},
		{name: "refresh in flight at foreground: latency from the foreground",
			state: lcThen(lcThen(stRefreshing, 43100*time.Millisecond, lcEvBackground()),
				43200*time.Millisecond, lcEvForeground(false)),
			at: 43500 * time.Millisecond, ev: refreshOK(tokB),
			want: "set:refresh rec:recovery:ok", phase: PhaseSignedIn, status: "active",
			check: lcRecovery(true, 300*time.Millisecond)},
		{name: "after a retry: latency includes the backoff",
			state: func(f *fx) {
				fgAt20(false)(f)
				acts := f.do(cmAt(20100*time.Millisecond), evRefresh(f.refreshReq, o503))
				at := timerSet(f.t, acts, TimerRetry)
				f.do(at, evTimer(TimerRetry, at))
			},
			at: 23 * time.Second, ev: refreshOK(tokFg),
			want: "set:refresh rec:recovery:ok", phase: PhaseSignedIn, status: "active",
			check: lcRecovery(true, 3*time.Second)},
		{name: "revoked: forced sign-out, recovery failed",
			state: fgAt20(false), at: 20500 * time.Millisecond, ev: refreshAns(oRevoked),
			want:  "rec:forced:session_revoked rec:recovery:http_401 " + signedOutByFg,
			phase: PhaseSignedOut, status: "revoked",
			check: lcRecovery(false, 500*time.Millisecond)},
		{name: "cold, session not found: forced sign-out, recovery failed",
			state: fgAt20(true), at: 20500 * time.Millisecond, ev: refreshAns(oNotFound),
			want:  "rec:forced:session_not_found rec:recovery:other " + signedOutByFg,
			phase: PhaseSignedOut, status: "signed_out",
			check: lcRecovery(false, 500*time.Millisecond)},
		{name: "no foreground, no recovery", state: stRefreshing, at: 43500 * time.Millisecond, ev: refreshOK(tokB),
			want: "set:refresh", phase: PhaseSignedIn, status: "active"},
	}
	lcRun(t, cases)
}

// A cold start keeps the client token but drops the JWT: the next API call
// waits for the foreground refresh, where a warm return serves the cached one.
func TestLifecycleForegroundColdStartWaitsForRefresh(t *testing.T) {
	tokFg := cmJWT(cmAt(20300*time.Millisecond), cmAt(80300*time.Millisecond))
	cases := []struct {
		cold                bool
		wantCall, wantFresh string
		wantToken           string // the token the first api call carries
		wantLatency         time.Duration
	}{
		{cold: false, wantCall: "rec:issued rec:get_token:ok api/0 set:api",
			wantFresh: "set:refresh rec:recovery:ok", wantToken: tokA},
		{cold: true, wantCall: "rec:issued set:api",
			wantFresh: "set:refresh rec:recovery:ok rec:get_token:ok api/0", wantToken: tokFg,
			wantLatency: 200 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("cold=%v", tc.cold), func(t *testing.T) {
			f := newFx(t, cmConfig())
			stBgSignedIn(f)
			now := cmAt(20 * time.Second)
			lcRefreshCarries(t, f.do(now, lcEvForeground(tc.cold)), now, cmSession, cmClientToken)
			at := cmAt(20100 * time.Millisecond)
			acts := f.do(at, evTimer(TimerAPI, at))
			if got := lcSummary(acts); got != tc.wantCall {
				t.Errorf("api timer: [%s], want [%s]", got, tc.wantCall)
			}
			acts2 := f.do(cmAt(20300*time.Millisecond), evRefreshOK(f.refreshReq, tokFg))
			if got := lcSummary(acts2); got != tc.wantFresh {
				t.Errorf("refresh answer: [%s], want [%s]", got, tc.wantFresh)
			}
			api := one(t, append(acts, acts2...), ActAPI)
			if api.Token != tc.wantToken {
				t.Errorf("api call carries the wrong token (cold=%v)", tc.cold)
			}
			gt := records(append(acts, acts2...), MetricGetToken)
			if len(gt) != 1 || !gt[0].OK || gt[0].Latency != tc.wantLatency {
				t.Errorf("get_token records %+v, want one OK with latency %v", gt, tc.wantLatency)
			}
			wantState(t, f.c, PhaseSignedIn, "active", 1)
		})
	}
}

// ---------------------------------------------------------------------------
// Network: offline, online, the NetInfo restore callback.

func TestLifecycleOfflineOnline(t *testing.T) {
	reconnect := func(c *ClientConfig) { c.RefreshOnReconnect = true }
	offAt := func(st func(*fx), at time.Duration) func(*fx) { return lcThen(st, at, lcEvOffline()) }
	refreshNow := func(t *testing.T, _ *fx, now time.Time, acts []Action) {
		lcRefreshCarries(t, acts, now, cmSession, cmClientToken)
	}
	cases := []lcCase{
		{name: "offline: nothing sent, timers kept", tweak: reconnect, state: stSignedIn, at: time.Second, ev: lcOff(),
			want: "", phase: PhaseSignedIn, status: "active", offline: true},
		{name: "offline with a retry pending: retry kept", tweak: reconnect, state: stRetryPending,
			at: 44 * time.Second, ev: lcOff(),
			want: "", phase: PhaseSignedIn, status: "active", offline: true},
		{name: "offline while idle is remembered", state: stIdle, at: 0, ev: lcOff(),
			want: "", phase: PhaseIdle, status: "none", offline: true},
		{name: "online: refresh at once", tweak: reconnect, state: offAt(stSignedIn, 10*time.Second),
			at: 20 * time.Second, ev: lcOn(),
			want: "refresh/0", phase: PhaseSignedIn, status: "active", check: refreshNow},
		{name: "online: pending retry cancelled, attempts reset", tweak: reconnect,
			state: offAt(stRetryPending, 44*time.Second), at: 44200 * time.Millisecond, ev: lcOn(),
			want: "cancel:retry refresh/0", phase: PhaseSignedIn, status: "active",
			check: func(t *testing.T, f *fx, now time.Time, acts []Action) {
				refreshNow(t, f, now, acts)
				// The old retry's deadline sends nothing more.
				at := now.Add(3 * time.Second)
				if acts := f.do(at, evTimer(TimerRetry, at)); len(acts) != 0 {
					t.Errorf("cancelled retry fired: [%s]", lcSummary(acts))
				}
				// The count starts over: the next failure is retry 0 again.
				at = at.Add(100 * time.Millisecond)
				acts = f.do(at, evRefresh(f.refreshReq, o503))
				wantBackoff(t, f.cfg, 0, 0, timerSet(t, acts, TimerRetry).Sub(at))
				at = timerSet(t, acts, TimerRetry)
				if r := one(t, f.do(at, evTimer(TimerRetry, at)), ActRefresh); r.Attempt != 1 {
					t.Errorf("retry after reconnect has attempt %d, want 1", r.Attempt)
				}
			}},
		{name: "online after two failed retries: attempt 0", tweak: reconnect,
			state: func(f *fx) {
				stRetryPending(f) // retry 0 armed at 43.5 s
				f.do(cmAt(50*time.Second), evTimer(TimerRetry, cmAt(50*time.Second)))
				f.do(cmAt(50100*time.Millisecond), evRefresh(f.refreshReq, oNetwork)) // retry 1 armed
				f.do(cmAt(51*time.Second), lcEvOffline())
			},
			at: 52 * time.Second, ev: lcOn(),
			want: "cancel:retry refresh/0", phase: PhaseSignedIn, status: "active", check: refreshNow},
		{name: "online with waiting calls: the refresh serves them later", tweak: reconnect,
			state: func(f *fx) {
				stWaiting(f)
				f.do(cmAt(61500*time.Millisecond), evRefresh(f.refreshReq, oNetwork)) // retry armed
				f.do(cmAt(61600*time.Millisecond), lcEvOffline())
			},
			at: 62 * time.Second, ev: lcOn(),
			want: "cancel:retry refresh/0", phase: PhaseSignedIn, status: "active", pending: 1,
			check: func(t *testing.T, f *fx, _ time.Time, _ []Action) {
				acts := f.do(cmAt(62200*time.Millisecond), evRefreshOK(f.refreshReq, tokC))
				if got := lcSummary(acts); got != "set:refresh rec:get_token:ok api/0" {
					t.Errorf("reconnect refresh answer: [%s]", got)
				}
			}},
		{name: "RefreshOnReconnect off: nothing", state: offAt(stSignedIn, 10*time.Second),
			at: 20 * time.Second, ev: lcOn(),
			want: "", phase: PhaseSignedIn, status: "active"},
		{name: "RefreshOnReconnect off: pending retry kept", state: offAt(stRetryPending, 44*time.Second),
			at: 44200 * time.Millisecond, ev: lcOn(),
			want: "", phase: PhaseSignedIn, status: "active",
			check: func(t *testing.T, f *fx, now time.Time, _ []Action) {
				at := now.Add(3 * time.Second)
				if r := one(t, f.do(at, evTimer(TimerRetry, at)), ActRefresh); r.Attempt != 1 {
					t.Errorf("retry has attempt %d, want 1", r.Attempt)
				}
			}},
		{name: "in the background: nothing", tweak: reconnect,
			state: lcThen(offAt(stSignedIn, 5*time.Second), 10*time.Second, lcEvBackground()),
			at:    20 * time.Second, ev: lcOn(),
			want: "", phase: PhaseSignedIn, status: "active", background: true,
			check: func(t *testing.T, f *fx, _ time.Time, _ []Action) {
				// The foreground return refreshes, once.
				if got := lcSummary(f.do(cmAt(30*time.Second), lcEvForeground(false))); got != "refresh/0 set:api" {
					t.Errorf("foreground: [%s], want [refresh/0 set:api]", got)
				}
			}},
		{name: "refresh in flight: nothing", tweak: reconnect,
			state: offAt(stRefreshing, 43100*time.Millisecond), at: 43200 * time.Millisecond, ev: lcOn(),
			want: "", phase: PhaseSignedIn, status: "active"},
		{name: "already online: nothing", tweak: reconnect, state: stSignedIn, at: time.Second, ev: lcOn(),
			want: "", phase: PhaseSignedIn, status: "active"},
		{name: "online twice: one refresh", tweak: reconnect,
			state: lcThen(offAt(stSignedIn, 10*time.Second), 20*time.Second, lcEvOnline()),
			at:    21 * time.Second, ev: lcOn(),
			want: "", phase: PhaseSignedIn, status: "active"},
		{name: "signing in: nothing", tweak: reconnect, state: offAt(stSigningIn, 50*time.Millisecond),
			at: 100 * time.Millisecond, ev: lcOn(),
			want: "", phase: PhaseSigningIn, status: "none"},
		{name: "signed out: nothing", tweak: reconnect, state: offAt(stSignedOut, 44*time.Second),
			at: 45 * time.Second, ev: lcOn(),
			want: "", phase: PhaseSignedOut, status: "revoked"},
		{name: "idle: nothing", tweak: reconnect, state: offAt(stIdle, 0), at: time.Second, ev: lcOn(),
			want: "", phase: PhaseIdle, status: "none"},
		{name: "stopped: nothing", tweak: reconnect, state: offAt(stStopped, 2*time.Second),
			at: 3 * time.Second, ev: lcOn(),
			want: "", phase: PhaseStopped, status: "active"},
	}
	lcRun(t, cases)
}

// The offline resource cache: offline, getToken serves the cached token as it
// is, even expired, and refreshes nothing.
func TestLifecycleOfflineCache(t *testing.T) {
	cache := func(c *ClientConfig) { c.OfflineCache = true }
	cacheBlocking := func(c *ClientConfig) { c.OfflineCache, c.Blocking = true, true }
	offline := lcThen(stSignedIn, 10*time.Second, lcEvOffline())
	served := func(t *testing.T, _ *fx, _ time.Time, acts []Action) {
		if a := one(t, acts, ActAPI); a.Token != tokA {
			t.Errorf("ActAPI carries %q, want the cached tokA", a.Token)
		}
		gt := records(acts, MetricGetToken)
		if len(gt) != 1 || !gt[0].OK || gt[0].Latency != 0 {
			t.Errorf("get_token records %+v, want one OK at latency 0", gt)
		}
	}
	const cachedCall = "rec:issued rec:get_token:ok api/0 set:api"
	cases := []lcCase{
		{name: "expired token served", tweak: cache, state: offline, at: 70 * time.Second, ev: fire(TimerAPI),
			want: cachedCall, phase: PhaseSignedIn, status: "active", pending: 1, offline: true, check: served},
		{name: "expired token served, blocking mode", tweak: cacheBlocking, state: offline, at: 70 * time.Second,
			ev: fire(TimerAPI), want: cachedCall, phase: PhaseSignedIn, status: "active", pending: 1, offline: true,
			check: served},
		{name: "stale token served without revalidation", tweak: cache, state: offline, at: 55 * time.Second,
			ev: fire(TimerAPI), want: cachedCall, phase: PhaseSignedIn, status: "active", pending: 1, offline: true,
			check: served},
		{name: "fresh token served", tweak: cache, state: offline, at: 20 * time.Second, ev: fire(TimerAPI),
			want: cachedCall, phase: PhaseSignedIn, status: "active", pending: 1, offline: true, check: served},
		{name: "no cache: expired token waits for a refresh", state: offline, at: 70 * time.Second, ev: fire(TimerAPI),
			want: "rec:issued refresh/0 set:api", phase: PhaseSignedIn, status: "active", pending: 1, offline: true},
		{name: "no cache: stale token served and revalidated", state: offline, at: 55 * time.Second, ev: fire(TimerAPI),
			want: "rec:issued rec:get_token:ok api/0 refresh/0 set:api", phase: PhaseSignedIn, status: "active",
			pending: 1, offline: true},
		{name: "cache but online: the normal path", tweak: cache, state: stSignedIn, at: 70 * time.Second,
			ev: fire(TimerAPI), want: "rec:issued refresh/0 set:api", phase: PhaseSignedIn, status: "active", pending: 1},
		{name: "cache, back online: the normal path", tweak: cache,
			state: lcThen(offline, 65*time.Second, lcEvOnline()), at: 70 * time.Second, ev: fire(TimerAPI),
			want: "rec:issued refresh/0 set:api", phase: PhaseSignedIn, status: "active", pending: 1},
		{name: "cache after a cold start: the secure token cache kept the last token, served offline", tweak: cache,
			state: lcThen(lcThen(offline, 15*time.Second, lcEvBackground()), 20*time.Second, lcEvForeground(true)),
			at:    21 * time.Second, ev: fire(TimerAPI),
			want: "rec:issued rec:get_token:ok api/0 set:api", phase: PhaseSignedIn, status: "active", pending: 1, offline: true},
	}
	lcRun(t, cases)
}

// ---------------------------------------------------------------------------
// Retry strategies.

var lcStrategies = []string{
	profiles.JitterNone, profiles.JitterFull, profiles.JitterEqual, profiles.JitterDecorrelated,
	"", profiles.JitterAdditive,
}

func lcStrategyName(s string) string {
	if s == "" {
		return "default"
	}
	return s
}

// lcRetryConfig: base 1 s, cap 10 s, additive spread 500 ms, 6 retries.
func lcRetryConfig(strategy string, m float64) ClientConfig {
	cfg := cmConfig()
	cfg.RetryStrategy, cfg.RetryMultiplier = strategy, m
	cfg.RetryJitter = 500 * time.Millisecond
	cfg.MaxRetries = 6
	return cfg
}

// lcBackoffBounds is the range of the wait before retry n under cfg's strategy,
// Retry-After aside; prev is the previous wait (decorrelated).
func lcBackoffBounds(cfg *ClientConfig, n int, prev time.Duration) (lo, hi time.Duration) {
	base, limit := float64(cfg.RetryBase), float64(cfg.RetryCap)
	m := cfg.RetryMultiplier
	if m == 0 {
		m = 2
	}
	exp := base * math.Pow(m, float64(n))
	v := math.Min(limit, exp)
	switch cfg.RetryStrategy {
	case profiles.JitterNone:
		return time.Duration(v), time.Duration(v)
	case profiles.JitterFull:
		return 0, time.Duration(v)
	case profiles.JitterEqual:
		return time.Duration(v / 2), time.Duration(v)
	case profiles.JitterDecorrelated:
		p := float64(prev)
		if n == 0 || p < base {
			p = base
		}
		return time.Duration(math.Min(limit, base)), time.Duration(math.Min(limit, 3*p))
	default:
		return time.Duration(v), time.Duration(math.Min(limit, exp+float64(cfg.RetryJitter)))
	}
}

// lcSignInBackoffs fails n sign-ins in a row with o and returns the waits the
// client chose before each retry.
func lcSignInBackoffs(t *testing.T, cfg ClientConfig, seed uint64, n int, o Outcome) []time.Duration {
	t.Helper()
	f := &fx{t: t, cfg: &cfg, c: NewClient(&cfg, seed, int(seed))}
	now := cmT0
	f.do(now, evStart(now))
	var out []time.Duration
	for i := range n {
		at := timerSet(t, f.do(now, evSignIn(f.signInReq, o)), TimerSignIn)
		out = append(out, at.Sub(now))
		now = at
		if a := one(t, f.do(now, evTimer(TimerSignIn, now)), ActSignIn); a.Attempt != i+1 {
			t.Fatalf("sign-in retry %d has attempt %d", i, a.Attempt)
		}
	}
	return out
}

// lcRefreshBackoffs fails the poller's refresh and n−1 retries with o and
// returns the waits before each retry.
func lcRefreshBackoffs(t *testing.T, cfg ClientConfig, seed uint64, n int, o Outcome) []time.Duration {
	t.Helper()
	f := &fx{t: t, cfg: &cfg, c: NewClient(&cfg, seed, int(seed))}
	stRefreshing(f)
	now := cmAt(43500 * time.Millisecond)
	var out []time.Duration
	for i := range n {
		acts := f.do(now, evRefresh(f.refreshReq, o))
		if len(records(acts, MetricRefreshRetry)) != 1 {
			t.Fatalf("refresh failure %d: [%s], want a refresh_retry record", i, lcSummary(acts))
		}
		at := timerSet(t, acts, TimerRetry)
		out = append(out, at.Sub(now))
		if a := one(t, f.do(at, evTimer(TimerRetry, at)), ActRefresh); a.Attempt != i+1 {
			t.Fatalf("refresh retry %d has attempt %d", i, a.Attempt)
		}
		now = at.Add(100 * time.Millisecond)
	}
	return out
}

func lcWithin(d, lo, hi time.Duration) bool { return d >= lo-1 && d <= hi+1 } // 1 ns of float rounding

func TestLifecycleJitterStrategyBounds(t *testing.T) {
	const seeds, retries = 100, 6
	for _, strategy := range lcStrategies {
		for _, m := range []float64{0, 1.5, 3} {
			t.Run(fmt.Sprintf("%s/m=%v", lcStrategyName(strategy), m), func(t *testing.T) {
				cfg := lcRetryConfig(strategy, m)
				first := map[time.Duration]bool{}
				lo0, hi0 := time.Duration(math.MaxInt64), time.Duration(0)
				for seed := uint64(1); seed <= seeds; seed++ {
					ds := lcSignInBackoffs(t, cfg, seed, retries, o503)
					var prev time.Duration
					for n, d := range ds {
						lo, hi := lcBackoffBounds(&cfg, n, prev)
						if !lcWithin(d, lo, hi) {
							t.Fatalf("seed %d retry %d waits %v, want within [%v, %v]", seed, n, d, lo, hi)
						}
						prev = d
					}
					first[ds[0]] = true
					lo0, hi0 = min(lo0, ds[0]), max(hi0, ds[0])
				}
				// The draws spread over their range: a strategy that ignored its
				// jitter, or drew from a narrower range, would fail here.
				lo, hi := lcBackoffBounds(&cfg, 0, 0)
				switch strategy {
				case profiles.JitterNone:
					if len(first) != 1 {
						t.Errorf("none drew %d distinct first waits, want 1", len(first))
					}
				default:
					if len(first) < seeds/2 {
						t.Errorf("%d distinct first waits over %d seeds: no jitter?", len(first), seeds)
					}
					if q := (hi - lo) / 4; lo0 > lo+q || hi0 < hi-q {
						t.Errorf("first waits span [%v, %v], want most of [%v, %v]", lo0, hi0, lo, hi)
					}
				}
			})
		}
	}
}

// With no jitter the waits are exactly min(cap, base·m^n); m 0 means 2.
func TestLifecycleBackoffNoneExact(t *testing.T) {
	s := time.Second
	cases := []struct {
		m    float64
		want []time.Duration
	}{
		{0, []time.Duration{s, 2 * s, 4 * s, 8 * s, 10 * s, 10 * s}},
		{2, []time.Duration{s, 2 * s, 4 * s, 8 * s, 10 * s, 10 * s}},
		{1.5, []time.Duration{s, 1500 * time.Millisecond, 2250 * time.Millisecond, 3375 * time.Millisecond,
			5062500 * time.Microsecond, 7593750 * time.Microsecond}},
		{3, []time.Duration{s, 3 * s, 9 * s, 10 * s, 10 * s, 10 * s}},
		{1, []time.Duration{s, s, s, s, s, s}},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("m=%v", tc.m), func(t *testing.T) {
			cfg := lcRetryConfig(profiles.JitterNone, tc.m)
			for _, seed := range []uint64{1, 2, 3} {
				for path, got := range map[string][]time.Duration{
					"sign-in": lcSignInBackoffs(t, cfg, seed, len(tc.want), oNetwork),
					"refresh": lcRefreshBackoffs(t, cfg, seed, len(tc.want), oNetwork),
				} {
					if fmt.Sprint(got) != fmt.Sprint(tc.want) {
						t.Errorf("seed %d %s waits %v, want %v", seed, path, got, tc.want)
					}
				}
			}
		})
	}
}

// The refresh retries draw from the same strategy as the sign-in retries.
func TestLifecycleJitterRefreshRetryBounds(t *testing.T) {
	for _, strategy := range lcStrategies {
		t.Run(lcStrategyName(strategy), func(t *testing.T) {
			cfg := lcRetryConfig(strategy, 0)
			for seed := uint64(1); seed <= 20; seed++ {
				var prev time.Duration
				for n, d := range lcRefreshBackoffs(t, cfg, seed, cfg.MaxRetries, oTimeout) {
					lo, hi := lcBackoffBounds(&cfg, n, prev)
					if !lcWithin(d, lo, hi) {
						t.Fatalf("seed %d retry %d waits %v, want within [%v, %v]", seed, n, d, lo, hi)
					}
					prev = d
				}
			}
		})
	}
}

// Retry-After is a floor under every strategy; below the drawn wait it changes nothing.
func TestLifecycleJitterRetryAfterFloor(t *testing.T) {
	ra := func(d time.Duration) Outcome { return Outcome{Class: Class429, Status: 429, RetryAfter: d} }
	for _, strategy := range lcStrategies {
		t.Run(lcStrategyName(strategy), func(t *testing.T) {
			cfg := lcRetryConfig(strategy, 0)
			for seed := uint64(1); seed <= 20; seed++ {
				// Every strategy draws at most 3 s for retry 0: 7 s wins.
				for path, ds := range map[string][]time.Duration{
					"sign-in": lcSignInBackoffs(t, cfg, seed, 1, ra(7*time.Second)),
					"refresh": lcRefreshBackoffs(t, cfg, seed, 1, ra(7*time.Second)),
				} {
					if ds[0] != 7*time.Second {
						t.Errorf("seed %d %s waits %v, want Retry-After 7s", seed, path, ds[0])
					}
				}
				// A Retry-After past the cap is honoured too.
				if ds := lcSignInBackoffs(t, cfg, seed, 3, ra(time.Minute)); ds[2] != time.Minute {
					t.Errorf("seed %d waits %v, want Retry-After 1m", seed, ds)
				}
				// A small Retry-After is a floor only.
				var prev time.Duration
				for n, d := range lcSignInBackoffs(t, cfg, seed, 4, ra(time.Millisecond)) {
					lo, hi := lcBackoffBounds(&cfg, n, prev)
					lo, hi = max(lo, time.Millisecond), max(hi, time.Millisecond)
					if !lcWithin(d, lo, hi) {
						t.Errorf("seed %d retry %d waits %v, want within [%v, %v]", seed, n, d, lo, hi)
					}
					prev = d
				}
			}
		})
	}
}

// NetworkOnly retries network errors and timeouts only: a 503 or a 429 fails
// the refresh (or the sign-in) for good.
func TestLifecycleBackoffNetworkOnly(t *testing.T) {
	netOnly := func(c *ClientConfig) { c.NetworkOnly = true }
	o429RA := Outcome{Class: Class429, Status: 429, RetryAfter: 5 * time.Second}
	pollAgain := func(t *testing.T, f *fx, now time.Time, acts []Action) {
		// The poller tries again one refresh interval later: lifetime − RefreshAhead.
		if at := timerSet(t, acts, TimerRefresh); !at.Equal(now.Add(43 * time.Second)) {
			t.Errorf("poll at %v, want now+43s", at.Sub(cmT0))
		}
		if len(records(acts, MetricRefreshRetry)) != 0 {
			t.Error("a refresh retry was recorded")
		}
	}
	retried := func(t *testing.T, f *fx, now time.Time, acts []Action) {
		wantBackoff(t, f.cfg, 0, 0, timerSet(t, acts, TimerRetry).Sub(now))
	}
	const at = 43500 * time.Millisecond
	cases := []lcCase{
		{name: "refresh 503 fails for good", tweak: netOnly, state: stRefreshing, at: at, ev: refreshAns(o503),
			want: "set:refresh", phase: PhaseSignedIn, status: "active", check: pollAgain},
		{name: "refresh 429 fails for good", tweak: netOnly, state: stRefreshing, at: at, ev: refreshAns(o429RA),
			want: "set:refresh", phase: PhaseSignedIn, status: "active", check: pollAgain},
		{name: "refresh network error retried", tweak: netOnly, state: stRefreshing, at: at, ev: refreshAns(oNetwork),
			want: "set:retry rec:refresh_retry", phase: PhaseSignedIn, status: "active", check: retried},
		{name: "refresh timeout retried", tweak: netOnly, state: stRefreshing, at: at, ev: refreshAns(oTimeout),
			want: "set:retry rec:refresh_retry", phase: PhaseSignedIn, status: "active", check: retried},
		{name: "refresh revoked still signs out", tweak: netOnly, state: stRefreshing, at: at, ev: refreshAns(oRevoked),
			want:  "rec:forced:session_revoked cancel:refresh cancel:retry cancel:api set:sign_in",
			phase: PhaseSignedOut, status: "revoked"},
		{name: "waiting call fails with the 503", tweak: netOnly, state: stWaiting, at: 61500 * time.Millisecond,
			ev:   refreshAns(o503),
			want: "rec:get_token:http_5xx rec:settled:http_5xx set:refresh", phase: PhaseSignedIn, status: "active"},
		{name: "sign-in 503 fails for good", tweak: netOnly, state: stSigningIn, at: 100 * time.Millisecond,
			ev: signInAns(o503), want: "set:sign_in", phase: PhaseSignedOut, status: "sign_in_failed",
			check: func(t *testing.T, f *fx, now time.Time, acts []Action) {
				if at := timerSet(t, acts, TimerSignIn); !at.Equal(now.Add(f.cfg.ThinkTime)) {
					t.Errorf("sign-in timer at %v, want now+ThinkTime", at.Sub(cmT0))
				}
			}},
		{name: "sign-in 429 fails for good", tweak: netOnly, state: stSigningIn, at: 100 * time.Millisecond,
			ev: signInAns(o429RA), want: "set:sign_in", phase: PhaseSignedOut, status: "sign_in_failed"},
		{name: "sign-in network error retried", tweak: netOnly, state: stSigningIn, at: 100 * time.Millisecond,
			ev: signInAns(oNetwork), want: "set:sign_in", phase: PhaseSigningIn, status: "none",
			check: func(t *testing.T, f *fx, now time.Time, acts []Action) {
				wantBackoff(t, f.cfg, 0, 0, timerSet(t, acts, TimerSignIn).Sub(now))
			}},
		{name: "without NetworkOnly a 503 is retried", state: stRefreshing, at: at, ev: refreshAns(o503),
			want: "set:retry rec:refresh_retry", phase: PhaseSignedIn, status: "active", check: retried},
	}
	lcRun(t, cases)
}

// ---------------------------------------------------------------------------
// Client-token rotation.

func TestLifecycleRotatedClientToken(t *testing.T) {
	tokD := cmJWT(cmAt(86*time.Second), cmAt(146*time.Second)) // polled at 129 s
	// pollAt fires the poller at at and returns the refresh it sends.
	pollAt := func(f *fx, at time.Duration) []Action {
		return f.do(cmAt(at), evTimer(TimerRefresh, cmAt(at)))
	}
	const ans = 43500 * time.Millisecond
	cases := []struct {
		name   string
		tweak  func(*ClientConfig)
		script func(f *fx) (now time.Time, acts []Action) // ends with the refresh to check
		want   string
	}{
		{name: "rotated: the next refresh carries the new token", want: "ct_2",
			script: func(f *fx) (time.Time, []Action) {
				stRefreshing(f)
				f.do(cmAt(ans), lcRefreshOKCT(f.refreshReq, tokB, "ct_2"))
				return cmAt(86 * time.Second), pollAt(f, 86*time.Second)
			}},
		{name: "not rotated: the old token", want: cmClientToken,
			script: func(f *fx) (time.Time, []Action) {
				stRefreshing(f)
				f.do(cmAt(ans), evRefreshOK(f.refreshReq, tokB))
				return cmAt(86 * time.Second), pollAt(f, 86*time.Second)
			}},
		{name: "rotated twice: the latest", want: "ct_3",
			script: func(f *fx) (time.Time, []Action) {
				stRefreshing(f)
				f.do(cmAt(ans), lcRefreshOKCT(f.refreshReq, tokB, "ct_2"))
				pollAt(f, 86*time.Second)
				f.do(cmAt(86500*time.Millisecond), lcRefreshOKCT(f.refreshReq, tokD, "ct_3"))
				return cmAt(129 * time.Second), pollAt(f, 129*time.Second)
			}},
		{name: "rotated, then an answer without one: kept", want: "ct_2",
			script: func(f *fx) (time.Time, []Action) {
				stRefreshing(f)
				f.do(cmAt(ans), lcRefreshOKCT(f.refreshReq, tokB, "ct_2"))
				pollAt(f, 86*time.Second)
				f.do(cmAt(86500*time.Millisecond), evRefreshOK(f.refreshReq, tokD))
				return cmAt(129 * time.Second), pollAt(f, 129*time.Second)
			}},
		{name: "rotated token used by the retry", want: "ct_2",
			script: func(f *fx) (time.Time, []Action) {
				stRefreshing(f)
				f.do(cmAt(ans), lcRefreshOKCT(f.refreshReq, tokB, "ct_2"))
				pollAt(f, 86*time.Second)
				at := timerSet(f.t, f.do(cmAt(86500*time.Millisecond), evRefresh(f.refreshReq, o503)), TimerRetry)
				return at, f.do(at, evTimer(TimerRetry, at))
			}},
		{name: "rotated token survives a cold start", want: "ct_2",
			script: func(f *fx) (time.Time, []Action) {
				stRefreshing(f)
				f.do(cmAt(ans), lcRefreshOKCT(f.refreshReq, tokB, "ct_2"))
				f.do(cmAt(50*time.Second), lcEvBackground())
				return cmAt(60 * time.Second), f.do(cmAt(60*time.Second), lcEvForeground(true))
			}},
		{name: "rotated token used on reconnect", want: "ct_2",
			tweak: func(c *ClientConfig) { c.RefreshOnReconnect = true },
			script: func(f *fx) (time.Time, []Action) {
				stRefreshing(f)
				f.do(cmAt(ans), lcRefreshOKCT(f.refreshReq, tokB, "ct_2"))
				f.do(cmAt(50*time.Second), lcEvOffline())
				return cmAt(51 * time.Second), f.do(cmAt(51*time.Second), lcEvOnline())
			}},
		{name: "rotated in the background: used on foreground", want: "ct_2",
			script: func(f *fx) (time.Time, []Action) {
				stRefreshing(f)
				f.do(cmAt(43200*time.Millisecond), lcEvBackground())
				f.do(cmAt(ans), lcRefreshOKCT(f.refreshReq, tokB, "ct_2"))
				return cmAt(60 * time.Second), f.do(cmAt(60*time.Second), lcEvForeground(false))
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := cmConfig()
			if tc.tweak != nil {
				tc.tweak(&cfg)
			}
			f := newFx(t, cfg)
			now, acts := tc.script(f)
			lcRefreshCarries(t, acts, now, cmSession, tc.want)
			wantState(t, f.c, PhaseSignedIn, "active", 0)
		})
	}
}

// ---------------------------------------------------------------------------
// Accessors through a whole life.

func TestLifecycleAccessors(t *testing.T) {
	f := newFx(t, cmConfig())
	wantState(t, f.c, PhaseIdle, "none", 0)
	lcWantFlags(t, f.c, false, false)
	steps := []struct {
		name       string
		at         time.Duration
		ev         func(*fx, time.Time) Event
		phase      Phase
		status     string
		background bool
		offline    bool
	}{
		{"offline before the start", 0, lcOff(), PhaseIdle, "none", false, true},
		{"online again", 0, lcOn(), PhaseIdle, "none", false, false},
		{"start", 0, start(), PhaseSigningIn, "none", false, false},
		{"background while signing in", 50 * time.Millisecond, lcBg(), PhaseSigningIn, "none", true, false},
		{"signed in in the background", 100 * time.Millisecond, signInOK(tokA), PhaseSignedIn, "active", true, false},
		{"offline in the background", time.Second, lcOff(), PhaseSignedIn, "active", true, true},
		{"foreground, still offline", 2 * time.Second, lcFg(false), PhaseSignedIn, "active", false, true},
		{"online", 3 * time.Second, lcOn(), PhaseSignedIn, "active", false, false},
		{"foreground refresh finds the session revoked", 3100 * time.Millisecond, refreshAns(oRevoked),
			PhaseSignedOut, "revoked", false, false},
		{"background while signed out", 4 * time.Second, lcBg(), PhaseSignedOut, "revoked", true, false},
		{"foreground while signed out", 5 * time.Second, lcFg(true), PhaseSignedOut, "revoked", false, false},
		{"re-sign-in", 35 * time.Second, fire(TimerSignIn), PhaseSigningIn, "revoked", false, false},
		{"signed in again", 35100 * time.Millisecond, signInOK(cmJWT(cmAt(35*time.Second), cmAt(95*time.Second))),
			PhaseSignedIn, "active", false, false},
		{"stop", 40 * time.Second, stop(), PhaseStopped, "active", false, false},
		{"offline after the stop", 41 * time.Second, lcOff(), PhaseStopped, "active", false, true},
	}
	for _, s := range steps {
		now := cmAt(s.at)
		f.do(now, s.ev(f, now))
		if f.c.Phase() != s.phase || f.c.SessionStatus() != s.status ||
			f.c.Background() != s.background || f.c.Offline() != s.offline {
			t.Errorf("%s: phase %v status %q background %v offline %v, want %v %q %v %v", s.name,
				f.c.Phase(), f.c.SessionStatus(), f.c.Background(), f.c.Offline(),
				s.phase, s.status, s.background, s.offline)
		}
	}
}

// ---------------------------------------------------------------------------
// Regressions.

// A cold start drops the JWT but not what the client knows of token
// lifetimes: a foreground refresh that fails for good re-arms the poller one
// refresh interval later, not in a 1 ms loop.
func TestLifecycleColdStartFailedRefreshPollsInALoop(t *testing.T) {
	cases := []struct {
		name  string
		tweak func(*ClientConfig)
		o     Outcome
	}{
		{name: "400", o: o400},
		{name: "503 under NetworkOnly", tweak: func(c *ClientConfig) { c.NetworkOnly = true }, o: o503},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := cmConfig()
			if tc.tweak != nil {
				tc.tweak(&cfg)
			}
			f := newFx(t, cfg)
			stBgSignedIn(f)
			f.do(cmAt(20*time.Second), lcEvForeground(true))
			now := cmAt(20100 * time.Millisecond)
			for i := range 3 {
				acts := f.do(now, evRefresh(f.refreshReq, tc.o))
				gap := timerSet(t, acts, TimerRefresh).Sub(now)
				if gap < cfg.RetryBase {
					t.Fatalf("failure %d: the poller refreshes again %v later, a refresh loop", i, gap)
				}
				now = now.Add(gap)
				f.do(now, evTimer(TimerRefresh, now))
				now = now.Add(100 * time.Millisecond)
			}
		})
	}
}
