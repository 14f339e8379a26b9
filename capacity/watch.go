package capacity

import (
	"context"
	"time"

	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

// settle is how long after a stage's end the watch judges it, so that
// most of the answers to its last requests are in.
const settle = 250 * time.Millisecond

// Watch judges each stage of the staged profile p as soon as it is over,
// on a snapshot of the running test, and calls stop once a stage fails
// or the generator fell behind in it: the search has its answer, and
// larger fleets would only load the target further. start is when the
// run began (the snapshot's StartedAt once it has one); Watch returns
// when ctx ends or stop was called.
//
// Watch also measures the CPU the process uses in each stage into usage
// (nil: not measured), for Knee's check that stampede was not saturated.
func Watch(ctx context.Context, p profiles.Profile, lagBound time.Duration, usage *Usage, snapshot func(*reports.Result) error, stop func()) {
	bounds := p.StageBounds()
	var start time.Time
	cpuAt, wallAt := usage.read(), time.Now()
	for i := 1; i < len(bounds); i++ {
		var snap reports.Result
		if start.IsZero() {
			if err := snapshot(&snap); err == nil && !snap.StartedAt.IsZero() {
				start = snap.StartedAt
			}
		}
		wait := settle
		if !start.IsZero() {
			wait = time.Until(start.Add(bounds[i] + settle))
		} else {
			wait = bounds[i] + settle
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		cpu, wall := usage.read(), time.Now()
		usage.set(i-1, cpu-cpuAt, wall.Sub(wallAt))
		cpuAt, wallAt = cpu, wall
		if i == len(bounds)-1 {
			return // the last stage ends the run anyway
		}
		snap = reports.Result{}
		if err := snapshot(&snap); err != nil || len(snap.Stages) < i {
			continue
		}
		if start.IsZero() {
			start = snap.StartedAt
		}
		snap.Stages = snap.Stages[:i] // only the stages that are over
		snap.EndedAt = snap.StartedAt.Add(bounds[i])
		snap.Partial = false
		rep, err := Knee(&snap, p, cmpOr(lagBound, DefaultLagBound), usage)
		if err != nil {
			continue
		}
		if rep.FirstFail > 0 || rep.GeneratorLimited {
			stop()
			return
		}
	}
}
