package record

import (
	"time"

	"github.com/stampede-load/stampede/reports"
)

// MaxLatencyWindows bounds how many time windows each operation's coarse
// latencies are counted in (reports.OpWindows): the window is a multiple
// of TimelineBucket wide enough that the run's span needs no more.
const MaxLatencyWindows = 200

// latencyWindowWidth is the window of reports.OpWindows for a run of span.
func latencyWindowWidth(span time.Duration) time.Duration {
	per := TimelineBucket * MaxLatencyWindows
	return TimelineBucket * time.Duration(max(1, (span+per-1)/per))
}

// latencyWindows counts one operation's latencies per time window and
// coarse bucket (reports.CoarseBucket).
type latencyWindows map[int]map[int]int64

// add counts a latency that ended in window w.
func (lw *latencyWindows) add(w int, latency time.Duration) {
	if *lw == nil {
		*lw = latencyWindows{}
	}
	m := (*lw)[w]
	if m == nil {
		m = map[int]int64{}
		(*lw)[w] = m
	}
	m[reports.CoarseBucket(latency)]++
}

// merge adds o into lw.
func (lw *latencyWindows) merge(o latencyWindows) {
	for w, m := range o {
		for b, c := range m {
			if *lw == nil {
				*lw = latencyWindows{}
			}
			d := (*lw)[w]
			if d == nil {
				d = map[int]int64{}
				(*lw)[w] = d
			}
			d[b] += c
		}
	}
}

// window is the latency window holding t.
func (r *Recorder) window(t time.Time) int {
	return max(int(t.Sub(r.start)/r.winWidth), 0)
}
