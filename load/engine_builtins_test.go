package load

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stampede-load/stampede/load/model"
	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

// scaledDown is built-in profile name with a fleet small enough for a test;
// its own durations and time scale are kept (the run is in fake time).
func scaledDown(t *testing.T, name string, clients int) profiles.Profile {
	t.Helper()
	p, err := profiles.Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	p.Clients = clients
	return p
}

// windowBefore counts refresh attempts in the span just before from.
func windowBefore(tl reports.Timeline, from, span time.Duration) int64 {
	lo, hi := bucketRange(from-span, span, tl.BucketMs)
	return sumRange(tl.RefreshAttempts, lo, hi)
}

func TestBuiltinsRunAndShowTheirEffect(t *testing.T) {
	for _, name := range profiles.BuiltinNames() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := scaledDown(t, name, 100)
			if name == "soak" {
				// 1.5 simulated hours: sessions of 1 h expire once.
				p.Clients, p.Duration = 40, profiles.Duration(90*time.Second)
			}
			// brownout: every retry must wait at least what Retry-After said.
			var mu sync.Mutex
			retryAfter := map[int]time.Time{}
			early := 0
			obsEvent := func(c int, now time.Time, ev model.Event) {
				if ev.Kind != model.EvRefreshDone {
					return
				}
				// A retry answers to the last refresh answer's Retry-After only.
				mu.Lock()
				if ev.Outcome.RetryAfter > 0 {
					retryAfter[c] = now.Add(ev.Outcome.RetryAfter)
				} else {
					delete(retryAfter, c)
				}
				mu.Unlock()
			}
			obs := func(c int, now time.Time, a model.Action) {
				if a.Kind != model.ActRefresh || a.Attempt == 0 {
					return
				}
				mu.Lock()
				if until, ok := retryAfter[c]; ok && now.Before(until) {
					early++
				}
				delete(retryAfter, c)
				mu.Unlock()
			}
			res, _ := runFakeObserved(t, p, obs, obsEvent)
			checkBooks(t, &res)
			// Built-ins promise their invariants: every gated one holds.
			if err := reports.Evaluate(&res, p.Thresholds); err != nil {
				t.Fatal(err)
			}
			if f := reports.FailedInvariants(&res); f != "" {
				t.Errorf("%s: %+v", f, res.Invariants)
			}
			api, refresh := res.Ops[reports.OpAPI], res.Ops[reports.OpRefresh]
			if refresh.OK == 0 {
				t.Fatal("no successful refresh")
			}
			for _, e := range res.Events {
				if e.Error != "" {
					t.Errorf("event %d (%s): %s", e.Index, e.Type, e.Error)
				}
			}
			switch name {
			case "key-rotation":
				e := res.Events[0]
				before := windowBefore(res.Timeline, time.Duration(e.StartS*float64(time.Second)), p.Scale(profiles.Duration(reports.BurstWindow)))
				if api.Errors["http_401"] == 0 || e.Burst10s <= before {
					t.Errorf("api 401s %d, burst_10s %d vs %d before", api.Errors["http_401"], e.Burst10s, before)
				}
			case "elevator":
				e := res.Events[0]
				before := windowBefore(res.Timeline, time.Duration(e.StartS*float64(time.Second)), p.Scale(profiles.Duration(reports.BurstWindow)))
				if e.Clients == 0 || e.Burst10s <= before {
					t.Errorf("outage hit %d clients; burst at restore %d vs %d before the outage", e.Clients, e.Burst10s, before)
				}
			case "brownout":
				if refresh.Errors["http_429"] == 0 || refresh.Errors["http_5xx"] == 0 || res.Herd.Retries == 0 {
					t.Errorf("brownout: 429s %d, 5xx %d, retries %d", refresh.Errors["http_429"], refresh.Errors["http_5xx"], res.Herd.Retries)
				}
				if early > 0 {
					t.Errorf("%d retries came earlier than Retry-After allowed", early)
				}
			case "revocation-wave":
				want := p.Events[0].Fraction * float64(p.Clients)
				if got := float64(res.Sessions.ForcedSignouts); got < want-2 || got > want+2 {
					t.Errorf("forced sign-outs %v, want about %v", got, want)
				}
			case "commute":
				fr := res.Ops[reports.OpForegroundRecovery]
				var bg int64
				for _, v := range res.Timeline.Background {
					bg = max(bg, v)
				}
				if bg == 0 || fr.Count == 0 || fr.OK == 0 {
					t.Errorf("commute: at most %d clients in the background, %d foreground recoveries (%d ok)", bg, fr.Count, fr.OK)
				}
			case "soak":
				if res.Sessions.ForcedSignouts == 0 || res.Sessions.ReSignIns == 0 {
					t.Errorf("soak: %d forced sign-outs, %d re-sign-ins; sessions should expire", res.Sessions.ForcedSignouts, res.Sessions.ReSignIns)
				}
			}
		})
	}
}

// TestInterceptorRaceCatchesEveryBug runs the interceptor-race built-in in
// fake time with each interceptor strategy: each reference bug shows in the
// invariant that names it, and single_flight is clean on all of them.
func TestInterceptorRaceCatchesEveryBug(t *testing.T) {
	results := map[string]reports.Result{}
	var mu sync.Mutex
	t.Run("strategies", func(t *testing.T) {
		for _, s := range profiles.Interceptors() {
			t.Run(s, func(t *testing.T) {
				t.Parallel()
				p := scaledDown(t, "interceptor-race", 100)
				p.SDK.Interceptor = s
				res, _ := runFake(t, p, nil)
				checkSums(t, &res)
				q := res.Requests
				t.Logf("%-20s lost %4d  duplicates %4d  retry loops %4d  stale retries %4d  user-visible errors %5d  refreshes %6d",
					s, q.Lost, res.Herd.DuplicateRefreshes, q.RetryLoops, q.StaleTokenRetries, q.UserVisibleErrors, res.Ops[reports.OpRefresh].Count)
				mu.Lock()
				results[s] = res
				mu.Unlock()
			})
		}
	})
	clean := results[profiles.InterceptorSingleFlight]
	if q := clean.Requests; q.Lost != 0 || clean.Herd.DuplicateRefreshes != 0 || q.RetryLoops != 0 || q.StaleTokenRetries != 0 {
		t.Errorf("single_flight is not clean: %+v, duplicates %d", q, clean.Herd.DuplicateRefreshes)
	}
	// The verdict: each reference bug fails the run on the invariant
	// that names it, with the requests that broke it as evidence;
	// single_flight passes.
	for strategy, invariant := range map[string]string{
		profiles.InterceptorSingleFlight:      "",
		profiles.InterceptorBugUnsettledQueue: profiles.InvariantLost,
		profiles.InterceptorBugStuckFlag:      profiles.InvariantLost,
		profiles.InterceptorBugNoRetryFlag:    profiles.InvariantRetryLoops,
		profiles.InterceptorBugStaleRetry:     profiles.InvariantStaleTokenRetries,
	} {
		r := results[strategy]
		if err := reports.Evaluate(&r, r.Profile.Thresholds); err != nil {
			t.Fatal(err)
		}
		if invariant == "" {
			if r.Verdict != reports.VerdictPass {
				t.Errorf("%s: verdict %s: %s", strategy, r.Verdict, reports.FailedInvariants(&r))
			}
			continue
		}
		var failed []string
		for _, i := range r.Invariants {
			if i.Gated && !i.OK {
				failed = append(failed, i.Name)
			}
		}
		ev := r.InvariantSamples(invariant)
		if r.Verdict != reports.VerdictFail || !slices.Contains(failed, invariant) || len(ev) == 0 {
			t.Errorf("%s: verdict %s, failed invariants %v, evidence %+v; want %s failed with evidence", strategy, r.Verdict, failed, ev, invariant)
			continue
		}
		for _, e := range ev {
			if e.Interceptor == "" || e.AtS <= 0 || e.NewestGeneration == 0 {
				t.Errorf("%s: evidence %+v", strategy, e)
			}
		}
	}
	for strategy, caught := range map[string]func(reports.Result) bool{
		profiles.InterceptorNaive:             func(r reports.Result) bool { return r.Herd.DuplicateRefreshes > 0 },
		profiles.InterceptorBugUnsettledQueue: func(r reports.Result) bool { return r.Requests.Lost > 0 },
		profiles.InterceptorBugStuckFlag:      func(r reports.Result) bool { return r.Requests.Lost > 0 },
		profiles.InterceptorBugNoRetryFlag:    func(r reports.Result) bool { return r.Requests.RetryLoops > 0 },
		profiles.InterceptorBugStaleRetry:     func(r reports.Result) bool { return r.Requests.StaleTokenRetries > 0 },
		profiles.InterceptorRetryOnce: func(r reports.Result) bool {
			return r.Requests.UserVisibleErrors > clean.Requests.UserVisibleErrors
		},
	} {
		if !caught(results[strategy]) {
			t.Errorf("%s: its invariant did not catch it: requests %+v, duplicates %d", strategy, results[strategy].Requests, results[strategy].Herd.DuplicateRefreshes)
		}
	}
}
