package reports

import (
	"fmt"
	"math"
	"slices"
	"strings"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// MinCommonOverlap is the share of an operation's latencies (in each run)
// that must fall in time windows where another operation was measured too
// for that operation to tell a machine-wide shift of the first
// (docs/compare.md#a-shift-every-operation-shared).
const MinCommonOverlap = 0.5

// commonShifts finds, for each operation, the shift of the machine the
// runs shared with it: the relative change of the p50 service time of
// every other operation measured over the same stretch of the runs (at
// least MinCommonOverlap of its latencies, in every run, in windows where
// the other has some, and enough requests for a gated p50). Service time
// runs from the sending of a request to its answer: an API call's does
// not include waiting for a slow refresh, so a fault of one endpoint does
// not pass to the others through it. When all of them moved the same way,
// the one that moved least is the share by which the whole machine, not
// the operation, was slower or faster; any other case, or an operation
// without windows, gives none. It returns the share per operation and the
// controls' names with their changes, for a note.
func commonShifts(bases []*Result, cur *Result) (map[string]float64, map[string][]string) {
	type side struct {
		p50     float64 // relative change of the service time's p50
		control bool    // the operation has service times in every run
		ok      bool
		per     []map[int]int64 // per run (the baselines', then the new one's): latencies per window
		counts  []int64
	}
	sides := map[string]*side{}
	runs := append(slices.Clone(bases), cur)
	for _, op := range OpNames {
		s := &side{ok: true}
		var bo []*Op
		for i, r := range runs {
			o := r.Ops[op]
			if o == nil || o.Count == 0 || o.Windows == nil {
				s.ok = false
				break
			}
			m := map[int]int64{}
			for _, w := range o.Windows.Windows {
				m[w.Index] = w.Count()
			}
			s.per = append(s.per, m)
			s.counts = append(s.counts, o.Count)
			if i < len(bases) {
				bo = append(bo, o)
			}
		}
		if !s.ok {
			continue
		}
		s.p50, s.control = serviceP50Change(bo, cur.Ops[op])
		sides[op] = s
	}
	widths := map[int]bool{}
	for _, r := range runs {
		for _, o := range r.Ops {
			if o != nil && o.Windows != nil {
				widths[o.Windows.WindowMs] = true
			}
		}
	}
	if len(widths) != 1 {
		return nil, nil // windows of different widths do not line up
	}
	shifts, controls := map[string]float64{}, map[string][]string{}
	for x, sx := range sides {
		if !sx.ok {
			continue
		}
		var changes []float64
		var names []string
		for y, sy := range sides {
			if y == x || !sy.ok || !sy.control {
				continue
			}
			enough, overlap := true, true
			for i := range runs {
				if float64(sy.counts[i])*0.5 < MinTailSamples {
					enough = false
				}
				var in, all int64
				for w, n := range sx.per[i] {
					all += n
					if sy.per[i][w] > 0 {
						in += n
					}
				}
				if all == 0 || float64(in) < MinCommonOverlap*float64(all) {
					overlap = false
				}
			}
			if enough && overlap {
				changes = append(changes, sy.p50)
				names = append(names, fmt.Sprintf("%s.service_p50 %+.0f%%", y, 100*sy.p50))
			}
		}
		if len(changes) == 0 {
			continue
		}
		lo, hi := slices.Min(changes), slices.Max(changes)
		switch {
		case lo > 0:
			shifts[x] = lo
		case hi < 0:
			shifts[x] = hi
		default:
			continue
		}
		slices.Sort(names)
		controls[x] = names
	}
	return shifts, controls
}

// serviceP50Change is the relative change of the p50 service time (from
// the request's sending to its answer: no waiting for a token, no
// scheduling lag) between the baselines' merged histograms and cur's; ok
// is false when one lacks a service histogram.
func serviceP50Change(bases []*Op, cur *Op) (float64, bool) {
	read := func(o *Op) *hdrhistogram.Histogram {
		if o.ServiceHDR == "" {
			return nil
		}
		h, err := DecodeHistogram(o.ServiceHDR)
		if err != nil || h.TotalCount() == 0 {
			return nil
		}
		return h
	}
	merged := NewHistogram()
	for _, o := range bases {
		h := read(o)
		if h == nil {
			return 0, false
		}
		merged.Merge(h)
	}
	c := read(cur)
	if c == nil {
		return 0, false
	}
	b := float64(merged.ValueAtQuantile(50))
	if b <= 0 {
		return 0, false
	}
	return (float64(c.ValueAtQuantile(50)) - b) / b, true
}

// commonShiftNote describes the widening of the operations in shifts.
func commonShiftNote(shifts map[string]float64, controls map[string][]string, widened map[string]bool) string {
	var parts []string
	for _, op := range OpNames {
		if !widened[op] {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s by %.0f%% (%s)", op, 100*math.Abs(shifts[op]), strings.Join(controls[op], ", ")))
	}
	if len(parts) == 0 {
		return ""
	}
	return "every other operation measured over the same stretch of the runs moved the same way, as when the machine, not the target, is slower or faster: latency intervals are widened by the least of those shares of their base value: " + strings.Join(parts, "; ")
}
