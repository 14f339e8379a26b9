package load

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// BenchmarkWakeLateness sets a timer for a random instant within the next
// 1.6 ms, b.N times, and reports how late the wakes came (p50 and p99, in
// µs): Go's time.Timer against the engine's wake timer.
func BenchmarkWakeLateness(b *testing.B) {
	run := func(b *testing.B, set func(time.Time), wait func()) {
		lates := make([]time.Duration, 0, b.N)
		for b.Loop() {
			at := time.Now().Add(time.Duration(rand.Int64N(int64(1600 * time.Microsecond))))
			set(at)
			wait()
			lates = append(lates, time.Since(at))
		}
		slices.Sort(lates)
		b.ReportMetric(float64(lates[len(lates)/2])/1e3, "p50-µs")
		b.ReportMetric(float64(lates[len(lates)*99/100])/1e3, "p99-µs")
	}
	b.Run("time.Timer", func(b *testing.B) {
		t := time.NewTimer(time.Hour)
		defer t.Stop()
		run(b, func(at time.Time) { t.Reset(time.Until(at)) }, func() { <-t.C })
	})
	b.Run("wakeTimer", func(b *testing.B) {
		t := newWakeTimer()
		defer t.Close()
		run(b, t.Set, func() { <-t.C() })
	})
}
