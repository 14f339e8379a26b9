package reports

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"sort"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Bootstrap settings of compare: a 95% percentile interval from 2,000
// resamples, from a fixed seed (so the same two files always give the
// same interval). See docs/compare.md.
const (
	DefaultResamples = 2000
	DefaultLevel     = 0.95
	// bootstrapSeed seeds every interval; the metric's name is mixed in so
	// that metrics do not share draws.
	bootstrapSeed uint64 = 0x5eed_c0de_22
)

// ecdf is a histogram reduced to its non-empty buckets: the value each
// bucket reports (its highest equivalent value, as ValueAtQuantile does) in
// milliseconds, and the cumulative count up to and including it.
type ecdf struct {
	values []float64
	cum    []int64
	n      int64
}

// newECDF reads h's bucket counts.
func newECDF(h *hdrhistogram.Histogram) ecdf {
	var e ecdf
	for _, b := range h.Distribution() {
		if b.Count == 0 {
			continue
		}
		e.n += b.Count
		e.values = append(e.values, float64(b.To)/1000)
		e.cum = append(e.cum, e.n)
	}
	return e
}

// rank is the 1-based rank of quantile q (0–1) among n values, as
// ValueAtQuantile computes it.
func rank(q float64, n int64) int64 {
	return min(max(int64(q*float64(n)+0.5), 1), n)
}

// atRank returns the value of the k-th smallest recorded value.
func (e ecdf) atRank(k int64) float64 {
	i := sort.Search(len(e.cum), func(i int) bool { return e.cum[i] >= k })
	return e.values[min(i, len(e.values)-1)]
}

// quantile is the q-quantile (0–1), equal to ValueAtQuantile(100q)/1000.
func (e ecdf) quantile(q float64) float64 { return e.atRank(rank(q, e.n)) }

// resampleQuantileOf draws the q-quantile of one bootstrap resample of m
// draws with replacement from the recorded values (m = n, or the effective
// size of latencies clustered in time, see designEffect) without drawing m
// values. The k-th smallest of m draws from the recorded distribution F is
// F⁻¹(U₍ₖ₎), where U₍ₖ₎, the k-th smallest of m uniforms, is Beta(k,
// m−k+1): one Beta draw and one binary search over the buckets give exactly
// the bootstrap distribution of the quantile.
func (e ecdf) resampleQuantileOf(r *rand.Rand, q float64, m int64) float64 {
	k := rank(q, m)
	u := betaDraw(r, float64(k), float64(m-k+1))
	return e.atRank(max(int64(math.Ceil(u*float64(e.n))), 1))
}

// Interval is a confidence interval of a difference (new − base), in the
// metric's unit.
type Interval struct {
	Low  float64 `json:"low"`
	High float64 `json:"high"`
}

// Excludes0 reports whether the interval lies wholly on one side of zero.
func (iv Interval) Excludes0() bool { return iv.Low > 0 || iv.High < 0 }

// quantileDiffInterval is the bootstrap percentile interval, at level, of
// the difference of the q-quantiles (new − base), from resamples paired
// draws seeded by seed.
func quantileDiffInterval(base, cur ecdf, q float64, resamples int, level float64, seed uint64) Interval {
	return scaledQuantileDiffInterval(base, cur, q, resamples, level, seed, 1, 1)
}

// scaledQuantileDiffInterval is quantileDiffInterval with each run
// resampled at its effective size, n divided by its design effect deffBase
// and deffCur (Kish): latencies clustered in time carry less information
// than as many independent ones (designEffect), which resampling them as
// independent draws cannot see.
func scaledQuantileDiffInterval(base, cur ecdf, q float64, resamples int, level float64, seed uint64, deffBase, deffCur float64) Interval {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	effective := func(e ecdf, deff float64) int64 {
		return max(int64(math.Round(float64(e.n)/max(deff, 1))), 1)
	}
	mb, mc := effective(base, deffBase), effective(cur, deffCur)
	d := make([]float64, resamples)
	for i := range d {
		d[i] = cur.resampleQuantileOf(r, q, mc) - base.resampleQuantileOf(r, q, mb)
	}
	slices.Sort(d)
	tail := (1 - level) / 2
	return Interval{Low: sortedQuantile(d, tail), High: sortedQuantile(d, 1-tail)}
}

// sortedQuantile reads the q-quantile of sorted values by the nearest rank.
func sortedQuantile(d []float64, q float64) float64 {
	i := int(math.Ceil(q*float64(len(d)))) - 1
	return d[min(max(i, 0), len(d)-1)]
}

// metricSeed is the bootstrap seed of one metric.
func metricSeed(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return bootstrapSeed ^ h.Sum64()
}

// betaDraw draws Beta(a, b) for a, b ≥ 1 as X/(X+Y), X ~ Gamma(a), Y ~ Gamma(b).
func betaDraw(r *rand.Rand, a, b float64) float64 {
	x, y := gammaDraw(r, a), gammaDraw(r, b)
	return x / (x + y)
}

// gammaDraw draws Gamma(shape, 1) for shape ≥ 1 by Marsaglia and Tsang's
// method (2000).
func gammaDraw(r *rand.Rand, shape float64) float64 {
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := r.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := r.Float64()
		if u < 1-0.0331*x*x*x*x || math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}
