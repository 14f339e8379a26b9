package model

import (
	"testing"
	"time"

	"github.com/stampede-load/stampede/profiles"
)

// invariants are what one interceptor scenario did, as the run would count it.
type invariants struct {
	refreshes    int // ActRefresh sent after the burst's 401s
	settled      int
	errors       int // settled as user-visible errors
	lost         int // never settled, even after the run stopped
	retryLoops   int
	staleRetries int
}

// burst401 drives a signed-in client through a screen load of three API
// calls that all get 401 at 5 s (spurious: the token is still good). The
// interceptor's refresh then answers refresh (at 5.2 s); each retry is
// answered retryAns (at 5.4 s, and again for any further retries), and the
// run stops at 6 s.
func burst401(t *testing.T, strategy string, refresh Event, retryAns Outcome) invariants {
	t.Helper()
	cfg := cmConfig()
	cfg.Interceptor, cfg.Burst = strategy, 3
	f := newFx(t, cfg)
	stSignedIn(f)
	acts := f.do(cmAt(5*time.Second), evTimer(TimerAPI, cmAt(5*time.Second)))
	calls := ofKind(acts, ActAPI)
	if len(calls) != 3 {
		t.Fatalf("a burst of 3 sent %d calls", len(calls))
	}
	var inv invariants
	count := func(acts []Action) (refreshes []Action, apis []Action) {
		for _, a := range acts {
			switch {
			case a.Kind == ActRefresh:
				refreshes = append(refreshes, a)
				inv.refreshes++
			case a.Kind == ActAPI:
				apis = append(apis, a)
			case a.Kind == ActRecord && a.Metric == MetricRequestSettled:
				inv.settled++
				if !a.OK && a.Class != ClassCancelled {
					inv.errors++
				}
			case a.Kind == ActRecord && a.Metric == MetricRetryLoop:
				inv.retryLoops++
			case a.Kind == ActRecord && a.Metric == MetricStaleRetry:
				inv.staleRetries++
			}
		}
		return
	}
	var refreshes, retries []Action
	for _, c := range calls {
		r, a := count(f.do(cmAt(5*time.Second), evAPI(c.Req, o401)))
		refreshes, retries = append(refreshes, r...), append(retries, a...)
	}
	now := 5200 * time.Millisecond
	for round := 0; len(refreshes) > 0 && round < 30; round++ {
		var next, more []Action
		for _, r := range refreshes {
			ev := refresh
			ev.Req = r.Req
			x, a := count(f.do(cmAt(now), ev))
			next, retries = append(next, x...), append(retries, a...)
		}
		now += 200 * time.Millisecond
		for _, a := range retries {
			x, y := count(f.do(cmAt(now), evAPI(a.Req, retryAns)))
			next, more = append(next, x...), append(more, y...)
		}
		refreshes, retries = next, more
		now += 200 * time.Millisecond
	}
	count(f.do(cmAt(now), evStop()))
	inv.lost = 3 - inv.settled
	if inv.lost != f.c.Lost() {
		t.Errorf("%s: %d calls unsettled, the client counts %d lost", strategy, inv.lost, f.c.Lost())
	}
	return inv
}

var (
	refreshGood = evRefreshOK(0, tokB)
	refreshNone = evRefresh(0, Outcome{Class: ClassOther, Status: 400, Code: "invalid_request"})
)

func TestInterceptorStrategiesAgainstTheirInvariants(t *testing.T) {
	for _, tc := range []struct {
		name     string
		strategy string
		refresh  Event
		retryAns Outcome
		want     invariants
	}{
		// The reference: one refresh for the whole burst, every call settled,
		// retried once with the new token.
		{"single_flight, refresh ok", profiles.InterceptorSingleFlight, refreshGood, ok200, invariants{refreshes: 1, settled: 3}},
		{"single_flight, refresh fails", profiles.InterceptorSingleFlight, refreshNone, ok200, invariants{refreshes: 1, settled: 3, errors: 3}},
		{"single_flight, retries 401 again", profiles.InterceptorSingleFlight, refreshGood, o401, invariants{refreshes: 1, settled: 3, errors: 3}},
		// naive: a refresh per 401: duplicate refreshes.
		{"naive", profiles.InterceptorNaive, refreshGood, ok200, invariants{refreshes: 3, settled: 3}},
		// retry_once: no queue: the two 401s that meet the refresh in flight are the user's errors.
		{"retry_once", profiles.InterceptorRetryOnce, refreshGood, ok200, invariants{refreshes: 1, settled: 3, errors: 2}},
		// bug_unsettled_queue: the refresh yields no token and the queue is dropped: lost requests.
		{"bug_unsettled_queue, refresh fails", profiles.InterceptorBugUnsettledQueue, refreshNone, ok200, invariants{refreshes: 1, settled: 1, errors: 1, lost: 2}},
		{"bug_unsettled_queue, refresh ok", profiles.InterceptorBugUnsettledQueue, refreshGood, ok200, invariants{refreshes: 1, settled: 3}},
		// bug_no_retry_flag: a retry that gets 401 refreshes and retries again: retry loops.
		{"bug_no_retry_flag", profiles.InterceptorBugNoRetryFlag, refreshGood, o401, invariants{refreshes: maxLoop, settled: 3, errors: 3, retryLoops: 3}},
		// bug_stale_retry: the queued calls go out again with the old token: stale retries.
		{"bug_stale_retry", profiles.InterceptorBugStaleRetry, refreshGood, ok200, invariants{refreshes: 1, settled: 3, staleRetries: 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := burst401(t, tc.strategy, tc.refresh, tc.retryAns)
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// bug_stuck_flag: once a refresh has failed, the flag stays set and every
// later 401 waits in a queue nobody will ever process.
func TestInterceptorStuckFlagLosesLaterCalls(t *testing.T) {
	for _, tc := range []struct {
		strategy string
		lost     int
	}{{profiles.InterceptorBugStuckFlag, 3}, {profiles.InterceptorSingleFlight, 0}} {
		t.Run(tc.strategy, func(t *testing.T) {
			cfg := cmConfig()
			cfg.Interceptor, cfg.Burst = tc.strategy, 3
			f := newFx(t, cfg)
			stSignedIn(f)
			// A first burst: 401, refresh fails for good.
			acts := f.do(cmAt(5*time.Second), evTimer(TimerAPI, cmAt(5*time.Second)))
			for _, a := range ofKind(acts, ActAPI) {
				f.do(cmAt(5*time.Second), evAPI(a.Req, o401))
			}
			f.do(cmAt(5200*time.Millisecond), evRefresh(f.refreshReq, Outcome{Class: ClassOther, Status: 400}))
			// A second burst: 401 again, a token still good in the cache.
			acts = f.do(cmAt(10*time.Second), evTimer(TimerAPI, cmAt(10*time.Second)))
			var refreshes []Action
			for _, a := range ofKind(acts, ActAPI) {
				refreshes = append(refreshes, ofKind(f.do(cmAt(10*time.Second), evAPI(a.Req, o401)), ActRefresh)...)
			}
			refreshed := len(refreshes) > 0
			for _, b := range refreshes {
				f.do(cmAt(10200*time.Millisecond), evRefreshOK(b.Req, tokB))
			}
			for _, r := range ofKind(f.log, ActAPI)[6:] { // the retries, if any
				f.do(cmAt(10400*time.Millisecond), evAPI(r.Req, ok200))
			}
			f.do(cmAt(11*time.Second), evStop())
			if got := f.c.Lost(); got != tc.lost {
				t.Errorf("lost %d calls, want %d (second burst refreshed: %v)", got, tc.lost, refreshed)
			}
		})
	}
}
