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
// coarse bucket (reports.CoarseBucket): counts[w][b], each window's counts
// as long as its largest bucket needs. Slices, not maps: every answer
// counts one latency here.
type latencyWindows struct {
	counts [][]int64
}

// add counts a latency that ended in window w.
func (lw *latencyWindows) add(w int, latency time.Duration) {
	lw.addN(w, reports.CoarseBucket(latency), 1)
}

// addN counts n latencies of bucket b in window w.
func (lw *latencyWindows) addN(w, b int, n int64) {
	for len(lw.counts) <= w {
		lw.counts = append(lw.counts, nil)
	}
	c := lw.counts[w]
	if len(c) <= b {
		c = append(c, make([]int64, b+1-len(c))...)
		lw.counts[w] = c
	}
	c[b] += n
}

// merge adds o into lw.
func (lw *latencyWindows) merge(o latencyWindows) {
	for w, c := range o.counts {
		for b, n := range c {
			if n != 0 {
				lw.addN(w, b, n)
			}
		}
	}
}

// byWindow is lw as reports.NewOpWindows takes it: the counts per window
// index and bucket, without zeros.
func (lw *latencyWindows) byWindow() map[int]map[int]int64 {
	var out map[int]map[int]int64
	for w, c := range lw.counts {
		for b, n := range c {
			if n == 0 {
				continue
			}
			if out == nil {
				out = map[int]map[int]int64{}
			}
			if out[w] == nil {
				out[w] = map[int]int64{}
			}
			out[w][b] = n
		}
	}
	return out
}

// window is the latency window holding t.
func (r *Recorder) window(t time.Time) int {
	return max(int(t.Sub(r.start)/r.winWidth), 0)
}
