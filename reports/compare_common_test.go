package reports

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// steadyOp is n latencies (log-normal about median, times factor) spread
// evenly over windows windows of 200 ms.
func steadyOp(t *testing.T, n, windows int, median time.Duration, factor float64, seed uint64) *Op {
	r := rand.New(rand.NewPCG(seed, 3))
	var tl timedLatencies
	for i := range n {
		tl.window = append(tl.window, i*windows/n)
		tl.latency = append(tl.latency, time.Duration(factor*float64(median)*math.Exp(0.2*r.NormFloat64())))
	}
	o := tl.op(t)
	o.ServiceHDR = o.HDR // as if no request waited for anything
	return o
}

// TestCompareCommonShiftIsTheMachine: refresh p50 50% slower (4 → 6 ms)
// is a regression when the API calls made over the same seconds kept
// their latency, and noise when they were 50% slower too: then the
// machine, not the refresh endpoint, moved.
func TestCompareCommonShiftIsTheMachine(t *testing.T) {
	run := func(id string, refresh, api float64, seed uint64) *Result {
		return &Result{RunID: id, Ops: map[string]*Op{
			OpRefresh: steadyOp(t, 1000, 50, 4*time.Millisecond, refresh, seed),
			OpAPI:     steadyOp(t, 1000, 50, 1500*time.Microsecond, api, seed+100),
		}}
	}
	base := run("base", 1, 1, 1)
	opt := CompareOptions{MaxRegression: 0.1}

	c := Compare(base, run("refresh-only", 1.5, 1, 2), opt)
	if m, _ := c.Metric("refresh.p50"); m.Verdict != VerdictRegression || m.CommonShift > 0.05*m.Base {
		t.Errorf("refresh alone 50%% slower: %s, common shift %.2f ms\n%s", m.Verdict, m.CommonShift, comparisonText(t, c))
	}

	c = Compare(base, run("machine", 1.5, 1.5, 2), opt)
	m, _ := c.Metric("refresh.p50")
	if a, _ := c.Metric("api.p50"); m.Diff < 1.5 || m.Verdict != VerdictNoise || a.Verdict != VerdictNoise {
		t.Errorf("everything 50%% slower: refresh.p50 %s %+v\n%s", m.Verdict, m, comparisonText(t, c))
	}
	if m.CommonShift < 0.4*m.Base || m.CommonShift > 0.6*m.Base {
		t.Errorf("common shift %.2f ms of a base of %.2f ms, want about half", m.CommonShift, m.Base)
	}
	if !strings.Contains(comparisonText(t, c), "refresh by 5") || !strings.Contains(comparisonText(t, c), "(api.service_p50 +5") {
		t.Errorf("no note of the common shift:\n%s", comparisonText(t, c))
	}

	// API calls made at other moments of the run tell nothing of the
	// machine while the refreshes ran.
	elsewhere := run("machine", 1.5, 1.5, 2)
	for i := range elsewhere.Ops[OpAPI].Windows.Windows {
		elsewhere.Ops[OpAPI].Windows.Windows[i].Index += 1000
	}
	if m, _ := Compare(base, elsewhere, opt).Metric("refresh.p50"); m.CommonShift != 0 || m.Verdict != VerdictRegression {
		t.Errorf("API calls at other times: %s, common shift %.2f", m.Verdict, m.CommonShift)
	}
}
