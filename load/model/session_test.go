package model

import (
	"testing"
	"time"

	"github.com/stampede-load/stampede/profiles"
)

func init() {
	cmMetricNames[MetricSignInCancelled] = "sign_in_cancelled"
	cmMetricNames[MetricSignInFlowFailed] = "sign_in_flow_failed"
}

var oPending = Outcome{Class: Class401, Status: 401, Code: CodePendingSession}

// A session task makes the session pending: treated as signed out (the
// SDK's default) the user is sent to sign in again, a forced sign-out by
// cause session_pending; otherwise the app holds the session, shows the
// task, makes no API call and polls until the task is done.
func TestSessionPending(t *testing.T) {
	pending := func(f *fx) {
		stRefreshing(f)
		f.do(cmAt(43500*time.Millisecond), evRefresh(f.refreshReq, oPending))
	}
	cases := []lcCase{
		{name: "treated as signed out: a forced sign-out, sign in again after think time",
			tweak: func(c *ClientConfig) { c.Session.TreatPendingAsSignedOut = true },
			state: stRefreshing, at: 43500 * time.Millisecond, ev: refreshAns(oPending),
			want:  "rec:forced:session_pending cancel:refresh cancel:retry cancel:api set:sign_in",
			phase: PhaseSignedOut, status: StatusPending},
		{name: "not treated as signed out: the app holds the session and polls",
			state: stRefreshing, at: 43500 * time.Millisecond, ev: refreshAns(oPending),
			want:  "cancel:api set:refresh",
			phase: PhaseSignedIn, status: StatusPending,
			check: func(t *testing.T, f *fx, now time.Time, acts []Action) {
				if !f.c.PendingTask() {
					t.Error("PendingTask() = false")
				}
				if at := timerSet(t, acts, TimerRefresh); at.Sub(now) != 43*time.Second {
					t.Errorf("poll in %v, want one refresh interval (43 s)", at.Sub(now))
				}
			}},
		{name: "pending: a screen load makes no API call",
			state: pending, at: 50 * time.Second, ev: fire(TimerAPI),
			want: "", phase: PhaseSignedIn, status: StatusPending},
		{name: "pending: the task done, the next refresh makes the session active again",
			state: lcThen(pending, 86500*time.Millisecond, evTimer(TimerRefresh, cmAt(86500*time.Millisecond))),
			at:    87 * time.Second, ev: refreshOK(tokC),
			want: "set:refresh set:api", phase: PhaseSignedIn, status: "active"},
	}
	lcRun(t, cases)
}

// A cold start while offline, per token cache mode: the article's
// tokenCache (secure storage) keeps the client token, and with the
// resource cache (offline_cache) the last session token, which serves
// offline; in memory the session is lost and the user signs in again; with
// no cache every launch is a sign-in.
func TestSessionColdStartOfflinePerTokenCache(t *testing.T) {
	coldOffline := lcThen(lcThen(lcThen(stSignedIn, 10*time.Second, lcEvOffline()), 15*time.Second, lcEvBackground()), 20*time.Second, lcEvForeground(true))
	mode := func(cache string, offline bool) func(*ClientConfig) {
		return func(c *ClientConfig) { c.Session.TokenCache, c.OfflineCache = cache, offline }
	}
	cases := []lcCase{
		{name: "secure with offline_cache: the last token served offline", tweak: mode(profiles.TokenCacheSecure, true),
			state: coldOffline, at: 21 * time.Second, ev: fire(TimerAPI),
			want: "rec:issued rec:get_token:ok api/0 set:api", phase: PhaseSignedIn, status: "active", pending: 1, offline: true},
		{name: "secure without offline_cache: the call waits for a refresh", tweak: mode(profiles.TokenCacheSecure, false),
			state: coldOffline, at: 21 * time.Second, ev: fire(TimerAPI),
			want: "rec:issued set:api", phase: PhaseSignedIn, status: "active", pending: 1, offline: true},
		{name: "memory: the session is lost with the process, a forced sign-out", tweak: mode(profiles.TokenCacheMemory, true),
			state: lcThen(lcThen(stSignedIn, 10*time.Second, lcEvOffline()), 15*time.Second, lcEvBackground()),
			at:    20 * time.Second, ev: lcFg(true),
			want:  "rec:forced:cold_start cancel:refresh cancel:retry cancel:api set:sign_in",
			phase: PhaseSignedOut, status: "signed_out", offline: true},
		{name: "none: the app launches on its sign-in screen, no forced sign-out", tweak: mode(profiles.TokenCacheNone, true),
			state: lcThen(lcThen(stSignedIn, 10*time.Second, lcEvOffline()), 15*time.Second, lcEvBackground()),
			at:    20 * time.Second, ev: lcFg(true),
			want:  "cancel:refresh cancel:retry cancel:api set:sign_in set:sign_in",
			phase: PhaseSignedOut, status: "none", offline: true,
			check: func(t *testing.T, f *fx, now time.Time, acts []Action) {
				if at := ofKind(acts, ActSetTimer)[1].At; !at.Equal(now) {
					t.Errorf("sign-in at %v, want at once", at.Sub(now))
				}
			}},
		{name: "none: no cache for the offline cache to serve from", tweak: mode(profiles.TokenCacheNone, true),
			state: lcThen(stSignedIn, 61*time.Second, lcEvOffline()), at: 62 * time.Second, ev: fire(TimerAPI),
			want: "rec:issued refresh/0 set:api", phase: PhaseSignedIn, status: "active", pending: 1, offline: true},
	}
	lcRun(t, cases)
}

// Offline, the SDK fails fast: max_retries_offline attempts, then the app
// hears network_error from getToken; online the same failures get the
// full max_retries.
func TestSessionOfflineFailFast(t *testing.T) {
	for _, tc := range []struct {
		name    string
		offline bool
		want    int
	}{{"offline: max_retries_offline", true, 2}, {"online: max_retries", false, 7}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := cmConfig()
			cfg.MaxRetries = 7
			cfg.Session = SessionConfig{OfflineLimit: true, OfflineRetries: 2}
			f := newFx(t, cfg)
			stSignedIn(f)
			if tc.offline {
				f.do(cmAt(61*time.Second), lcEvOffline())
			}
			now := cmAt(62 * time.Second)
			f.do(now, evTimer(TimerAPI, now)) // tokA expired: the call waits for a refresh
			retries := 0
			for {
				now = now.Add(100 * time.Millisecond)
				acts := f.do(now, evRefresh(f.refreshReq, oNetwork))
				if gt := records(acts, MetricGetToken); len(gt) > 0 {
					if gt[0].OK || gt[0].Class != ClassNetwork {
						t.Errorf("getToken: %+v, want a network error", gt[0])
					}
					break
				}
				retries++
				now = timerSet(t, acts, TimerRetry)
				f.do(now, evTimer(TimerRetry, now))
			}
			if retries != tc.want {
				t.Errorf("%d retries before network_error, want %d", retries, tc.want)
			}
		})
	}
}

// Signing in again is a user's flow: it takes time, the user may dismiss
// it and leave (counted, never signs in again), or it may fail and be
// tried again after think time.
func TestSessionSignInFlow(t *testing.T) {
	flow := func(cancel, fail float64, latency time.Duration) func(*ClientConfig) {
		return func(c *ClientConfig) {
			c.Session.SignInCancel, c.Session.SignInFailure = cancel, fail
			if latency > 0 {
				c.Session.SignInLatency = profiles.Dist{Dist: profiles.DistFixed, Value: profiles.Duration(latency)}
			}
		}
	}
	due := 73500 * time.Millisecond // think time after the sign-out at 43.5 s
	cases := []lcCase{
		{name: "cancelled: the user leaves", tweak: flow(1, 0, 0), state: stSignedOut, at: due, ev: fire(TimerSignIn),
			want: "rec:sign_in_cancelled", phase: PhaseSignedOut, status: StatusSignInCancelled,
			check: func(t *testing.T, f *fx, now time.Time, _ []Action) {
				if !f.c.Left() {
					t.Error("Left() = false")
				}
				f.do(now.Add(time.Second), lcEvBackground())
				if got := lcSummary(f.do(now.Add(2*time.Second), lcEvForeground(false))); got != "" {
					t.Errorf("a user who left came back to sign in: [%s]", got)
				}
			}},
		{name: "failed: tried again after think time", tweak: flow(0, 1, 0), state: stSignedOut, at: due, ev: fire(TimerSignIn),
			want: "rec:sign_in_flow_failed set:sign_in", phase: PhaseSignedOut, status: "revoked",
			check: func(t *testing.T, f *fx, now time.Time, acts []Action) {
				if at := timerSet(t, acts, TimerSignIn); at.Sub(now) != 30*time.Second {
					t.Errorf("tried again in %v, want think time (30 s)", at.Sub(now))
				}
			}},
		{name: "latency: the request goes out when the user is through", tweak: flow(0, 0, 20*time.Second),
			state: stSignedOut, at: due, ev: fire(TimerSignIn),
			want: "set:sign_in", phase: PhaseSignedOut, status: "revoked",
			check: func(t *testing.T, f *fx, now time.Time, acts []Action) {
				at := timerSet(t, acts, TimerSignIn)
				if at.Sub(now) != 20*time.Second {
					t.Errorf("sign-in flow of %v, want 20 s", at.Sub(now))
				}
				if got := summary(f.do(at, evTimer(TimerSignIn, at))); got != "sign_in/0" {
					t.Errorf("after the flow: [%s], want [sign_in/0]", got)
				}
			}},
		{name: "no flow figures: the sign-in goes out at once", state: stSignedOut, at: due, ev: fire(TimerSignIn),
			want: "sign_in/0", phase: PhaseSigningIn, status: "revoked"},
	}
	lcRun(t, cases)
}
