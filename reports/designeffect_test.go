package reports

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// timedLatencies are latencies with the window each ended in.
type timedLatencies struct {
	window  []int
	latency []time.Duration
}

// signIns draws n sign-in latencies (median 2.4 ms, the log-normal spread
// of a loopback sign-in) spread evenly over windows windows, as a ramp
// makes them; slow(i, window) adds to the i-th.
func signIns(n, windows int, seed uint64, slow func(i, window int) time.Duration) timedLatencies {
	r := rand.New(rand.NewPCG(seed, 2))
	var tl timedLatencies
	for i := range n {
		w := i * windows / n
		d := time.Duration(2.4e6*math.Exp(0.15*r.NormFloat64())) + slow(i, w)
		tl.window = append(tl.window, w)
		tl.latency = append(tl.latency, d)
	}
	return tl
}

// op is an operation with tl's latencies: its HDR histogram and its
// windows of 200 ms.
func (tl timedLatencies) op(t testing.TB) *Op {
	t.Helper()
	h := NewHistogram()
	counts := map[int]map[int]int64{}
	for i, d := range tl.latency {
		RecordLatency(h, d)
		if counts[tl.window[i]] == nil {
			counts[tl.window[i]] = map[int]int64{}
		}
		counts[tl.window[i]][CoarseBucket(d)]++
	}
	o := opOf(t, h, 0)
	o.Windows = NewOpWindows(200*time.Millisecond, counts)
	return o
}

func signInResult(t testing.TB, id string, tl timedLatencies) *Result {
	return &Result{RunID: id, Ops: map[string]*Op{OpSignIn: tl.op(t)}}
}

func TestDesignEffectOfIndependentAndClusteredLatencies(t *testing.T) {
	none := func(int, int) time.Duration { return 0 }
	// Independent latencies: no effect to speak of, at any percentile (an
	// estimate from 20 to 50 windows wanders: over 200 seeds, the median
	// is 1.1, one in ten above 1.55, the largest 2.9).
	for _, q := range []float64{0.5, 0.95} {
		high := 0
		for seed := range uint64(20) {
			o := signIns(400, 50, seed, none).op(t)
			de, ok := designEffect([]*OpWindows{o.Windows}, q)
			if !ok || de.Deff > 3 || de.Clusters < MinClusters {
				t.Errorf("seed %d, q %v, independent: %+v, %v; want a design effect near 1", seed, q, de, ok)
			}
			if de.Deff > 1.8 {
				high++
			}
		}
		if high > 3 {
			t.Errorf("q %v, independent: %d of 20 design effects above 1.8", q, high)
		}
	}
	// Three windows of 50 made 8 ms slower: the p95 rests on them.
	burst := func(_, w int) time.Duration {
		if w == 12 || w == 29 || w == 45 { // three moments of 200 ms
			return 8 * time.Millisecond
		}
		return 0
	}
	o := signIns(400, 50, 1, burst).op(t)
	de, ok := designEffect([]*OpWindows{o.Windows}, 0.95)
	if !ok || de.Deff < 3 {
		t.Errorf("a burst: %+v, %v; want a design effect of several", de, ok)
	}
	// No windows (an older result), or all in one: none.
	if _, ok := designEffect([]*OpWindows{nil}, 0.5); ok {
		t.Error("no windows: a design effect")
	}
	one := &OpWindows{WindowMs: 200, Windows: []OpWindow{{Index: 3, Buckets: []int{180, 190}, Counts: []int64{5, 5}}}}
	if _, ok := designEffect([]*OpWindows{one}, 0.5); ok {
		t.Error("one window: a design effect")
	}
}

// TestCompareClusteredShiftIsNoiseSustainedIsRegression: 400 sign-ins
// over a 10 s ramp. In the new run the same 6% of them are 8 ms slower,
// which moves p95 by several ms either way. Slowed in three moments of
// 200 ms (bursts of machine noise), that is noise: those latencies are
// three events, not 24 independent ones. Slowed evenly across the run, it
// is a regression.
func TestCompareClusteredShiftIsNoiseSustainedIsRegression(t *testing.T) {
	none := func(int, int) time.Duration { return 0 }
	base := signInResult(t, "base", signIns(400, 50, 1, none))
	burst := signInResult(t, "burst", signIns(400, 50, 2, func(_, w int) time.Duration {
		if w == 12 || w == 29 || w == 45 { // three moments of 200 ms
			return 8 * time.Millisecond
		}
		return 0
	}))
	sustained := signInResult(t, "sustained", signIns(400, 50, 2, func(i, _ int) time.Duration {
		if i%16 == 7 { // one in 16, in every window
			return 8 * time.Millisecond
		}
		return 0
	}))
	opt := CompareOptions{MaxRegression: 0.1}

	c := Compare(base, burst, opt)
	m, _ := c.Metric("sign_in.p95")
	if m.Diff < 2 {
		t.Fatalf("the burst moved sign_in.p95 by only %+.2f ms; the test wants a visible shift", m.Diff)
	}
	if m.Verdict != VerdictNoise || m.Failed || c.Regressed() {
		t.Errorf("a burst in three windows: %s %+v\n%s", m.Verdict, m, comparisonText(t, c))
	}
	if m.DeffNew < 2.5 || m.DeffBase > 2 {
		t.Errorf("design effects base %.2f, new %.2f; want the new run's large", m.DeffBase, m.DeffNew)
	}
	if !strings.Contains(comparisonText(t, c), "sign_in.p95 (new ") {
		t.Errorf("no note of the clustered latencies:\n%s", comparisonText(t, c))
	}
	// Without the windows, as compare saw it before: a regression.
	plain := signInResult(t, "burst", signIns(400, 50, 2, func(_, w int) time.Duration {
		if w == 12 || w == 29 || w == 45 { // three moments of 200 ms
			return 8 * time.Millisecond
		}
		return 0
	}))
	plain.Ops[OpSignIn].Windows = nil
	if m, _ := Compare(base, plain, opt).Metric("sign_in.p95"); m.Verdict != VerdictRegression {
		t.Errorf("the burst without windows: %s; the test wants independent resampling to flag it", m.Verdict)
	}

	c = Compare(base, sustained, opt)
	m, _ = c.Metric("sign_in.p95")
	if m.Diff < 2 || m.Verdict != VerdictRegression || !m.Failed {
		t.Errorf("the same slowdown across the run: %s %+v\n%s", m.Verdict, m, comparisonText(t, c))
	}
	if m.DeffNew > 2 {
		t.Errorf("sustained: design effect %.2f, want near 1", m.DeffNew)
	}
}
