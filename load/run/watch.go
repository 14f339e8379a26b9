package run

import (
	"slices"
	"sync"
	"time"

	"github.com/stampede-load/stampede/load"
	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

// thresholdWatch checks a run's abort_on_fail thresholds on the engine's
// live figures.
type thresholdWatch struct {
	done chan struct{}
	wg   sync.WaitGroup
	// index and result: the threshold that failed and stopped the run, -1 when none.
	index  int
	result reports.ThresholdResult
}

// watchThresholds checks p's abort_on_fail thresholds every interval
// (default 1 s) on a snapshot of eng, once the ramp is over, and calls abort
// when one fails. It watches nothing when no threshold has abort_on_fail.
func watchThresholds(eng *load.Engine, p profiles.Profile, every time.Duration, abort func()) *thresholdWatch {
	w := &thresholdWatch{done: make(chan struct{}), index: -1}
	if !slices.ContainsFunc(p.Thresholds, func(t profiles.Threshold) bool { return t.AbortOnFail }) {
		return w
	}
	if every <= 0 {
		every = time.Second
	}
	w.wg.Go(func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-w.done:
				return
			case <-tick.C:
			}
			var snap reports.Result
			if err := eng.Snapshot(&snap); err != nil || snap.StartedAt.IsZero() ||
				snap.EndedAt.Sub(snap.StartedAt) < max(p.Ramp.D(), every) {
				continue // not started, or too little data before the ramp ends
			}
			if i, tr, err := reports.CheckAbort(&snap, p.Thresholds); err == nil && i >= 0 {
				w.index, w.result = i, tr
				abort()
				return
			}
		}
	})
	return w
}

// stop ends the watch and returns the threshold that stopped the run, with
// its live result; index -1 when none did.
func (w *thresholdWatch) stop() (index int, result reports.ThresholdResult) {
	close(w.done)
	w.wg.Wait()
	return w.index, w.result
}
