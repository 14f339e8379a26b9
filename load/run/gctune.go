package run

import (
	"context"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// gcHeadroom is the least heap growth between collections a run allows
// itself: Go's default (GOGC=100) lets the heap grow by all of its live data
// before it collects, which at a million clients is gigabytes of garbage,
// and at 100,000 a third of the process's memory (docs/performance.md).
const gcHeadroom = 64 << 20

// gcPercent is the GOGC for a live heap of live bytes: growth of half of
// it, or gcHeadroom, whichever is more, and never more than Go's 100 %.
// Small runs keep Go's default; a large fleet trades some collector CPU for
// resident memory.
func gcPercent(live uint64) int {
	if live == 0 {
		return 100
	}
	return int(min(100, max(50, gcHeadroom*100/live)))
}

// tuneGC sets the collector's percent from the live heap every second until
// ctx ends, then restores it. It does nothing when the user set GOGC or
// GOMEMLIMIT: theirs wins.
func tuneGC(ctx context.Context) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	prev := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prev)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			metrics.Read(sample)
			if sample[0].Value.Kind() == metrics.KindUint64 {
				debug.SetGCPercent(gcPercent(sample[0].Value.Uint64()))
			}
		}
	}
}
