package capacity

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

// TestWatchStopsTheRunAfterTheFirstFailingStage: in fake time, the watch
// judges each stage just after its end and stops the run once the third
// stage (800 clients) fails, not before and not after.
func TestWatchStopsTheRunAfterTheFirstFailingStage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := profiles.Default()
		p.Thresholds = []profiles.Threshold{{Expr: "refresh.p99 < 250ms"}}
		p.Stages = []profiles.Stage{
			{Clients: 200, Ramp: profiles.Duration(time.Second), Hold: profiles.Duration(9 * time.Second)},
			{Clients: 400, Ramp: profiles.Duration(time.Second), Hold: profiles.Duration(9 * time.Second)},
			{Clients: 800, Ramp: profiles.Duration(time.Second), Hold: profiles.Duration(9 * time.Second)},
			{Clients: 1600, Ramp: profiles.Duration(time.Second), Hold: profiles.Duration(9 * time.Second)},
			{Clients: 3200, Ramp: profiles.Duration(time.Second), Hold: profiles.Duration(9 * time.Second)},
		}
		p.FitStages()
		start := time.Now()
		all := []reports.Stage{stage(0, 200, 20, 1000, 0, 2), stage(1, 400, 90, 2000, 0, 3),
			stage(2, 800, 900, 2000, 450, 4), stage(3, 1600, 2000, 2000, 2000, 5), stage(4, 3200, 3000, 2000, 4000, 5)}
		snapshot := func(r *reports.Result) error {
			r.StartedAt = start
			for _, s := range all { // the stages begun by now
				if time.Since(start).Seconds() >= s.StartS {
					r.Stages = append(r.Stages, s)
				}
			}
			return nil
		}
		var stoppedAt time.Duration
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		Watch(ctx, p, 50*time.Millisecond, NewUsage(), snapshot, func() { stoppedAt = time.Since(start); cancel() })
		if want := 30*time.Second + settle; stoppedAt != want {
			t.Errorf("stopped at %s, want %s: just after the 800 stage's end", stoppedAt, want)
		}
	})
}
