package model

import (
	"testing"
	"time"

	"github.com/stampede-load/stampede/profiles"
)

// burstThen401 signs a client in with strategy, fires a burst of three
// API calls at 5 s and answers each 401; it returns the fixture.
func burstThen401(t *testing.T, strategy string) *fx {
	t.Helper()
	cfg := cmConfig()
	cfg.Interceptor, cfg.Burst = strategy, 3
	f := newFx(t, cfg)
	stSignedIn(f)
	acts := f.do(cmAt(5*time.Second), evTimer(TimerAPI, cmAt(5*time.Second)))
	for _, a := range ofKind(acts, ActAPI) {
		f.do(cmAt(5*time.Second), evAPI(a.Req, o401))
	}
	return f
}

func TestUnsettledNamesTheCallsABugLost(t *testing.T) {
	t.Run("stuck flag", func(t *testing.T) {
		f := burstThen401(t, profiles.InterceptorBugStuckFlag)
		f.do(cmAt(5200*time.Millisecond), evRefresh(f.refreshReq, Outcome{Class: ClassOther, Status: 400}))
		// A second burst queues behind the flag nobody resets.
		acts := f.do(cmAt(10*time.Second), evTimer(TimerAPI, cmAt(10*time.Second)))
		for _, a := range ofKind(acts, ActAPI) {
			f.do(cmAt(10*time.Second), evAPI(a.Req, o401))
		}
		f.do(cmAt(11*time.Second), evStop())
		got := f.c.Unsettled()
		if len(got) != f.c.Lost() || len(got) != 3 {
			t.Fatalf("unsettled %+v, lost %d: want the 3 calls of the second burst", got, f.c.Lost())
		}
		for _, u := range got {
			if u.State != CallQueuedStuck || !u.Issued.Equal(cmAt(10*time.Second)) || u.Retries != 1 ||
				u.TokenSeq != f.c.TokenSeq() || u.TokenSeq == 0 {
				t.Errorf("unsettled call %+v (newest token %d)", u, f.c.TokenSeq())
			}
		}
		if s := got[0].State.String(); s != "queued behind an interceptor flag never reset" {
			t.Errorf("state reads %q", s)
		}
	})
	t.Run("unsettled queue", func(t *testing.T) {
		f := burstThen401(t, profiles.InterceptorBugUnsettledQueue)
		f.do(cmAt(5200*time.Millisecond), evRefresh(f.refreshReq, Outcome{Class: ClassOther, Status: 400}))
		f.do(cmAt(6*time.Second), evStop())
		got := f.c.Unsettled()
		if len(got) != 2 || f.c.Lost() != 2 {
			t.Fatalf("unsettled %+v, lost %d: want the 2 queued calls", got, f.c.Lost())
		}
		for _, u := range got {
			if u.State != CallDropped || !u.Issued.Equal(cmAt(5*time.Second)) {
				t.Errorf("unsettled call %+v", u)
			}
		}
	})
	t.Run("single flight", func(t *testing.T) {
		f := burstThen401(t, profiles.InterceptorSingleFlight)
		if got := f.c.Unsettled(); len(got) != 3 || got[0].State != CallWaitingToken {
			t.Errorf("before the refresh answers: %+v, want 3 calls waiting for a token", got)
		}
		f.do(cmAt(5200*time.Millisecond), evRefresh(f.refreshReq, Outcome{Class: ClassOther, Status: 400}))
		f.do(cmAt(6*time.Second), evStop())
		if got := f.c.Unsettled(); len(got) != 0 {
			t.Errorf("unsettled %+v after the run, want none", got)
		}
	})
}

// The copy of dropped calls is bounded; the count is not.
func TestDroppedCallsKeepABoundedCopy(t *testing.T) {
	cfg := cmConfig()
	cfg.Interceptor = profiles.InterceptorBugUnsettledQueue
	c := NewClient(&cfg, 1, 1)
	calls := make([]apiCall, 10)
	for i := range calls {
		calls[i] = apiCall{intended: cmAt(time.Duration(i) * time.Second), tokenSeq: 1}
	}
	c.drop(calls, CallDropped)
	if c.Lost() != 10 || len(c.Unsettled()) != MaxDroppedKept || !c.Unsettled()[0].Issued.Equal(cmAt(0)) {
		t.Errorf("lost %d, kept %+v", c.Lost(), c.Unsettled())
	}
}

func TestRetryEvidenceCarriesTokenGenerationsAndState(t *testing.T) {
	for _, tc := range []struct {
		strategy string
		metric   Metric
		state    CallState
		retryAns Outcome
	}{
		{profiles.InterceptorBugNoRetryFlag, MetricRetryLoop, CallRetryNoFlag, o401},
		{profiles.InterceptorBugStaleRetry, MetricStaleRetry, CallReplayingQueue, ok200},
	} {
		t.Run(tc.strategy, func(t *testing.T) {
			f := burstThen401(t, tc.strategy)
			old := f.c.TokenSeq()
			acts := f.do(cmAt(5200*time.Millisecond), evRefreshOK(f.refreshReq, tokB))
			for _, a := range ofKind(acts, ActAPI) {
				f.do(cmAt(5400*time.Millisecond), evAPI(a.Req, tc.retryAns))
			}
			if tc.metric == MetricRetryLoop {
				// The loop is counted when the second retry goes out,
				// after the refresh it waited for.
				f.do(cmAt(5600*time.Millisecond), evRefreshOK(f.refreshReq, tokC))
			}
			var found bool
			for _, a := range f.log {
				if a.Kind != ActRecord || a.Metric != tc.metric {
					continue
				}
				found = true
				if a.State != tc.state || !a.At.Equal(cmAt(5*time.Second)) || a.Attempt < 1 || a.TokenSeq > a.NewestSeq || a.TokenSeq < old {
					t.Errorf("%+v", a)
				}
				if tc.metric == MetricStaleRetry && (a.TokenSeq != old || a.NewestSeq != old+1) {
					t.Errorf("stale retry carried token %d of %d, want %d of %d", a.TokenSeq, a.NewestSeq, old, old+1)
				}
			}
			if !found {
				t.Fatalf("no %v recorded", tc.metric)
			}
		})
	}
}
