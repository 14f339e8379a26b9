package reports

import (
	"cmp"
	"math"
	"slices"
)

// MinClusters is the fewest time windows a design effect is estimated
// from at a window width wider than the recorded one: fewer give too
// unsteady a variance (with independent latencies, the largest effect
// over the widths that leave 20 windows is at most 1.4 in nine cases of
// ten, 1.8 in the worst of 200; with 10 windows, 1.6 and 2.9).
const MinClusters = 20

// DesignEffect is how clustered in time the latencies of one side of a
// comparison are at a percentile: Deff is Kish's design effect, the
// variance of the percentile over what it would be if every latency were
// an independent draw (at least 1); Clusters and WidthMs are the time
// windows it was measured over (the widest that gave the largest effect).
type DesignEffect struct {
	Deff     float64
	Clusters int
	WidthMs  int
}

// designEffect estimates the design effect of the q-quantile of the
// latencies in runs (one OpWindows per run, pooled: windows of different
// runs are different clusters), as survey statistics does for a quantile
// of a cluster sample (Woodruff's method): the variance of a quantile is
// that of the share of samples at or below it, divided by the density
// there squared, and the density cancels out of the ratio. So the effect
// is the ratio of the share's variance between time windows —
// K/(K−1) · Σ(yᵢ − p·mᵢ)² / (Σm)², window i holding mᵢ latencies of which
// yᵢ lie at or below the quantile, p = Σy/Σm — to its variance p(1−p)/n
// as independent draws. The windows are the recorded ones, then 2, 4, 8 …
// of them merged while at least MinClusters remain; the largest effect
// counts (machine noise comes in bursts of unknown length). ok is false
// when a run has no windows or the samples lie in fewer than 2 windows.
func designEffect(runs []*OpWindows, q float64) (de DesignEffect, ok bool) {
	type win struct {
		run, index int
		w          OpWindow
	}
	var all []win
	var n int64
	var top int
	for r, ow := range runs {
		if ow == nil || ow.WindowMs <= 0 || len(ow.Windows) == 0 {
			return DesignEffect{}, false
		}
		for _, w := range ow.Windows {
			all = append(all, win{r, w.Index, w})
			n += w.Count()
			if len(w.Buckets) > 0 {
				top = max(top, w.Buckets[len(w.Buckets)-1])
			}
		}
	}
	if n == 0 {
		return DesignEffect{}, false
	}
	// The pooled coarse quantile: the bucket holding the rank-th latency.
	pooled := make([]int64, top+1)
	for _, x := range all {
		for k, b := range x.w.Buckets {
			pooled[b] += x.w.Counts[k]
		}
	}
	k, cum, at := rank(q, n), int64(0), 0
	for b, c := range pooled {
		cum += c
		if cum >= k {
			at = b
			break
		}
	}
	de = DesignEffect{Deff: 1}
	width := runs[0].WindowMs
	type key struct{ run, cluster int }
	for span := 1; ; span *= 2 {
		ms := map[key]int64{}
		for _, x := range all {
			c := key{x.run, floorDiv(x.index, span)}
			ms[c] += x.w.Count()
		}
		clusters := len(ms)
		if clusters < 2 || (span > 1 && clusters < MinClusters) {
			break
		}
		keys := make([]key, 0, clusters)
		for c := range ms {
			keys = append(keys, c)
		}
		slices.SortFunc(keys, func(a, b key) int { // time order, run by run
			return cmp.Or(cmp.Compare(a.run, b.run), cmp.Compare(a.cluster, b.cluster))
		})
		// The quantile lies within its coarse bucket: the share below the
		// bucket and the share up to its top both stand for the share at
		// the quantile, and the larger effect counts.
		for _, edge := range []int{at - 1, at} {
			ys := map[key]int64{}
			for _, x := range all {
				c := key{x.run, floorDiv(x.index, span)}
				for j, b := range x.w.Buckets {
					if b <= edge {
						ys[c] += x.w.Counts[j]
					}
				}
			}
			var sy float64
			for _, y := range ys {
				sy += float64(y)
			}
			p := sy / float64(n)
			iid := p * (1 - p) / float64(n)
			if iid <= 0 {
				continue // every latency on one side: the share does not vary
			}
			// The variance of the total from the successive differences of
			// the residuals eᵢ = yᵢ − p·mᵢ: K/(2(K−1)) · Σ(eᵢ − eᵢ₋₁)² per
			// run, summed over the runs.
			var v float64
			for i := 0; i < len(keys); {
				j := i
				var ss float64
				prev := math.NaN()
				for ; j < len(keys) && keys[j].run == keys[i].run; j++ {
					e := float64(ys[keys[j]]) - p*float64(ms[keys[j]])
					if !math.IsNaN(prev) {
						ss += (e - prev) * (e - prev)
					}
					prev = e
				}
				if k := j - i; k > 1 {
					v += float64(k) / float64(2*(k-1)) * ss
				}
				i = j
			}
			v /= float64(n) * float64(n)
			if d := v / iid; d > de.Deff || de.Clusters == 0 {
				de = DesignEffect{Deff: math.Max(d, 1), Clusters: clusters, WidthMs: width * span}
			}
		}
	}
	return de, de.Clusters > 0
}

// floorDiv is ⌊a/b⌋ for b > 0.
func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}
