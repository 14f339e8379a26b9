// Package gcpace sets the Go collector's pace (GOGC) of stampede's
// long-running processes from their live heap: a run's fleet, whose
// garbage would otherwise double its memory, and the proxy, whose small
// heap would otherwise be collected many times a second, each collection
// a pause in the latency it adds (docs/performance.md).
package gcpace

import (
	"context"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Headroom is the least heap growth between collections a policy allows.
const Headroom = 64 << 20

// Policy is the collector's percent (GOGC) for a live heap of live bytes.
type Policy func(live uint64) int

// Bounded grows the heap by half of its live data or Headroom, whichever is
// more, and never by more than Go's 100 %: small heaps keep Go's default, a
// large fleet trades some collector CPU for resident memory (stampede run).
func Bounded(live uint64) int {
	if live == 0 {
		return 100
	}
	return int(min(100, max(50, Headroom*100/live)))
}

// Floor grows the heap by at least Headroom, and never by less than Go's
// 100 %: a process with a small live heap is collected every Headroom of
// allocation rather than every few megabytes (stampede proxy). The percent
// is at most 10,000.
func Floor(live uint64) int {
	if live == 0 {
		return 10000
	}
	return int(min(10000, max(100, Headroom*100/live)))
}

// Run sets the collector's percent by p from the live heap at once and
// every second after until ctx ends, then restores the percent it found.
// It does nothing when the user set GOGC or GOMEMLIMIT: theirs wins.
func Run(ctx context.Context, p Policy) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	prev := apply(p)
	defer debug.SetGCPercent(prev)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			apply(p)
		}
	}
}

// apply sets the collector's percent by p from the live heap now and
// returns the percent it replaced.
func apply(p Policy) int {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample)
	var live uint64
	if sample[0].Value.Kind() == metrics.KindUint64 {
		live = sample[0].Value.Uint64()
	}
	return debug.SetGCPercent(p(live))
}
