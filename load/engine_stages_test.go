package load

import (
	"sync"
	"testing"
	"time"

	"github.com/stampede-load/stampede/load/driver"
	"github.com/stampede-load/stampede/load/model"
	"github.com/stampede-load/stampede/profiles"
)

// TestStagesAddAndRemoveClientsOnSchedule: a staged fleet, run in fake
// time, grows from 0 to 10 to 30 and shrinks to 5 (the 25 clients that
// joined last sign out); every client starts and stops at the instant its
// stage's seeded slot says, and each stage counts exactly the clients that
// joined and left in it, and ends holding its fleet.
func TestStagesAddAndRemoveClientsOnSchedule(t *testing.T) {
	p := testProfile(1, time.Second)
	p.Stages = []profiles.Stage{
		{Clients: 10, Ramp: profiles.Duration(2 * time.Second), Hold: profiles.Duration(3 * time.Second)},
		{Clients: 30, Ramp: profiles.Duration(2 * time.Second), Hold: profiles.Duration(3 * time.Second)},
		{Clients: 5, Ramp: profiles.Duration(2 * time.Second), Hold: profiles.Duration(3 * time.Second)},
	}
	p.StageLeave = profiles.StageLeaveSignOut
	p.FitStages()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	plan := driver.StagePlan(p)
	var origin time.Time
	started := map[int]time.Time{}
	stopped := map[int]time.Time{}
	var mu sync.Mutex // every worker observes its own clients
	res, st := runFakeObserved(t, p, nil, func(c int, now time.Time, ev model.Event) {
		mu.Lock()
		defer mu.Unlock()
		switch ev.Kind {
		case model.EvStart:
			if origin.IsZero() && c == 0 {
				origin = now.Add(-plan[0].Join)
			}
			started[c] = now
		case model.EvStop:
			if _, ok := stopped[c]; !ok {
				stopped[c] = now
			}
		}
	})
	if len(plan) != 30 || p.Clients != 30 || len(started) != 30 {
		t.Fatalf("plan %d clients, profile %d, started %d: want 30", len(plan), p.Clients, len(started))
	}
	end := origin.Add(p.Duration.D())
	for c, pr := range plan {
		if got := started[c].Sub(origin); got != pr.Join {
			t.Errorf("client %d started at %s, want %s", c, got, pr.Join)
		}
		wantStop := end
		if pr.Leave >= 0 {
			wantStop = origin.Add(pr.Leave)
		}
		if got := stopped[c]; !got.Equal(wantStop) {
			t.Errorf("client %d stopped at %s, want %s", c, got.Sub(origin), wantStop.Sub(origin))
		}
		// Clients 10..29 joined in the second stage; 5..29 left in the third.
		switch {
		case c < 10 && (pr.Join >= 2*time.Second || pr.Leave >= 0 && c < 5):
			t.Errorf("client %d: %+v", c, pr)
		case c >= 10 && (pr.Join < 5*time.Second || pr.Join >= 7*time.Second):
			t.Errorf("client %d joined at %s, not in the second stage's ramp", c, pr.Join)
		case c >= 5 && (pr.Leave < 10*time.Second || pr.Leave >= 12*time.Second):
			t.Errorf("client %d left at %s, not in the third stage's ramp", c, pr.Leave)
		}
	}
	if len(res.Stages) != 3 {
		t.Fatalf("%d stages in the result, want 3", len(res.Stages))
	}
	for i, want := range []struct {
		joined, left int64
		start, end   float64
	}{{10, 0, 0, 5}, {20, 0, 5, 10}, {0, 25, 10, 15}} {
		s := res.Stages[i]
		if s.Joined != want.joined || s.Left != want.left || s.StartS != want.start || s.EndS != want.end {
			t.Errorf("stage %d: joined %d left %d over [%g, %g) s, want %d, %d over [%g, %g)",
				i, s.Joined, s.Left, s.StartS, s.EndS, want.joined, want.left, want.start, want.end)
		}
		if s.Ops["sign_in"] == nil || s.Ops["refresh"] == nil {
			t.Fatalf("stage %d has no sign_in or refresh figures", i)
		}
		// A bucket in the middle of the hold sees the fleet the stage holds.
		mid := int((s.EndS - 1) * 1000 / float64(res.Timeline.BucketMs))
		if got := res.Timeline.SignedIn[mid]; got != int64(s.Clients) {
			t.Errorf("stage %d holds %d clients signed in, want %d", i, got, s.Clients)
		}
	}
	// Every sign-in was answered in the stage its client joined in.
	var signIns, refreshes int64
	for i, s := range res.Stages {
		if got := s.Ops["sign_in"].Count; got != s.Joined {
			t.Errorf("stage %d: %d sign-ins, want %d", i, got, s.Joined)
		}
		signIns += s.Ops["sign_in"].Count
		refreshes += s.Ops["refresh"].Count
	}
	if signIns != res.Ops["sign_in"].Count || refreshes != res.Ops["refresh"].Count {
		t.Errorf("stages count %d sign-ins and %d refreshes, the run %d and %d", signIns, refreshes, res.Ops["sign_in"].Count, res.Ops["refresh"].Count)
	}
	if got := st.Sessions["ended"]; got != 25 {
		t.Errorf("%d sessions ended on the backend, want the 25 that signed out", got)
	}
}
