package reports

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/profiles/threshold"
)

func TestMetricGettersMatchTheGrammar(t *testing.T) {
	var grammar []string
	for _, m := range threshold.Metrics() {
		grammar = append(grammar, m.Name)
		if _, ok := metricGetters[m.Name]; !ok {
			t.Errorf("metric %s of the grammar cannot be read from a result", m.Name)
		}
	}
	for name := range metricGetters {
		if _, ok := threshold.Lookup(name); !ok {
			t.Errorf("result figure %s is not a metric of the grammar", name)
		}
	}
	// Every operation and error class of result.json has its metrics.
	for _, op := range OpNames {
		for _, c := range ErrorClasses {
			if _, ok := threshold.Lookup(op + ".errors." + c); !ok {
				t.Errorf("no metric %s.errors.%s", op, c)
			}
		}
	}
	if len(metricGetters) != len(grammar) {
		t.Errorf("%d getters for %d metrics", len(metricGetters), len(grammar))
	}
}

// evalResult is a hand-made result with a figure of every kind.
func evalResult() *Result {
	return &Result{
		Ops: map[string]*Op{
			OpRefresh: {Count: 1000, OK: 970, Errors: map[string]int64{"http_5xx": 20, "timeout": 10},
				LatencyMs: Summary{Min: 1.5, P50: 4, P90: 5, P95: 5.5, P99: 312.4, P999: 900, Max: 1200, Mean: 6.25},
				ServiceMs: &Summary{P99: 80}},
			OpAPI: {Count: 0, Errors: map[string]int64{}},
		},
		Requests: Requests{Issued: 500, Settled: 498, Lost: 2, OK: 490, UserVisibleErrors: 8},
		Sessions: Sessions{ForcedSignouts: 3, ReSignIns: 3},
		Engine:   Engine{LagMs: LagSummary{P50: 0.05, P99: 0.8, Max: 3}},
		Herd:     Herd{PeakRPS: 41, MeanRPS: 16.4, PeakToMean: 2.5, MaxInflight: 12, Amplification: 1.03, Retries: 30, RetriesShare: 0.03, Dispersion: 3.75},
	}
}

func TestThresholdValueAndHolds(t *testing.T) {
	r := evalResult()
	for _, tc := range []struct {
		expr  string
		value float64
		ok    bool
	}{
		// Latencies, in ms and in s, with and without unit.
		{"refresh.p99 < 250ms", 312.4, false},
		{"refresh.p99 < 400", 312.4, true},
		{"refresh.p99 < 0.3s", 0.3124, false},
		{"refresh.p99 <= 0.3124s", 0.3124, true},
		{"refresh.p50 == 4ms", 4, true},
		{"refresh.min >= 1.5ms", 1.5, true},
		{"refresh.mean > 6.25", 6.25, false},
		{"refresh.max < 1.2s", 1.2, false},
		{"refresh.service_p99 < 100ms", 80, true},
		{"api.p99 < 1ms", 0, false},               // no data: fails
		{"get_token.p99 < 1ms", 0, false},         // no such op in the result: no data
		{"sign_in.service_p99 < 1ms", 0, false},   // no service summary: no data
		{"engine.lag_max < 2ms", 3, false},        // engine lag
		{"engine.lag_p99 < 0.001s", 0.0008, true}, // in seconds
		// Rates: percent and fraction.
		{"refresh.error_rate < 1%", 3, false},
		{"refresh.error_rate <= 3%", 3, true},
		{"refresh.error_rate < 0.05", 0.03, true},
		{"refresh.error_rate == 0.03", 0.03, true},
		{"api.error_rate == 0", 0, false}, // count 0: no data
		{"herd.retries_share < 2%", 3, false},
		// Counts.
		{"refresh.count == 1000", 1000, true},
		{"refresh.ok >= 970", 970, true},
		{"refresh.errors < 30", 30, false},
		{"refresh.errors.http_5xx == 20", 20, true},
		{"refresh.errors.http_401 == 0", 0, true},
		{"requests.lost == 0", 2, false},
		{"requests.lost != 0", 2, true},
		{"requests.issued > 499", 500, true},
		{"requests.user_visible_errors < 10", 8, true},
		{"sessions.forced_signouts == 0", 3, false},
		{"sessions.re_sign_ins <= 3", 3, true},
		// Herd.
		{"herd.peak_to_mean < 4", 2.5, true},
		{"herd.peak_rps < 40", 41, false},
		{"herd.mean_rps > 16", 16.4, true},
		{"herd.max_inflight <= 12", 12, true},
		{"herd.amplification < 1.05", 1.03, true},
		{"herd.retries == 30", 30, true},
		{"herd.dispersion < 2", 3.75, false},
		{"herd.duplicate_refreshes == 0", 0, true},
	} {
		th, err := threshold.Parse(tc.expr)
		if err != nil {
			t.Fatal(err)
		}
		got := CheckThreshold(r, th)
		if math.Abs(got.Value-tc.value) > 1e-9 || got.OK != tc.ok || got.Expr != tc.expr {
			t.Errorf("%q: got %+v, want value %g ok %v", tc.expr, got, tc.value, tc.ok)
		}
	}
}

func TestCheckThresholdOfAFigureTheResultLacks(t *testing.T) {
	// A threshold built in Go may name a metric the grammar does not know:
	// it has no value and fails, with a value result.json can hold.
	th := threshold.Threshold{Expr: "nope < 1", Metric: "nope", Op: threshold.Less, Limit: 1}
	if v := ThresholdValue(evalResult(), th); !math.IsNaN(v) {
		t.Errorf("value %g, want NaN", v)
	}
	if got := CheckThreshold(evalResult(), th); got.OK || got.Value != 0 || got.Expr != "nope < 1" {
		t.Errorf("got %+v, want a failure with value 0", got)
	}
	// An infinite figure is recorded as the largest float.
	r := evalResult()
	r.Herd.PeakToMean = math.Inf(1)
	th, err := threshold.Parse("herd.peak_to_mean < 4")
	if err != nil {
		t.Fatal(err)
	}
	if got := CheckThreshold(r, th); got.OK || got.Value != math.MaxFloat64 {
		t.Errorf("infinite figure: got %+v", got)
	}
}

func TestEvaluateVerdict(t *testing.T) {
	r := evalResult()
	if err := Evaluate(r, nil); err != nil || r.Verdict != VerdictPass || len(r.Thresholds) != 0 {
		t.Fatalf("no thresholds: verdict %q, thresholds %v, err %v", r.Verdict, r.Thresholds, err)
	}
	pass := []profiles.Threshold{{Expr: "refresh.p50 < 10ms"}, {Expr: "herd.peak_to_mean<4", AbortOnFail: true}}
	if err := Evaluate(r, pass); err != nil || r.Verdict != VerdictPass {
		t.Fatalf("all hold: verdict %q, err %v", r.Verdict, err)
	}
	want := []ThresholdResult{
		{Expr: "refresh.p50 < 10ms", Value: 4, OK: true},
		{Expr: "herd.peak_to_mean<4", Value: 2.5, OK: true, AbortOnFail: true},
	}
	if !slices.Equal(r.Thresholds, want) {
		t.Errorf("thresholds %+v, want %+v", r.Thresholds, want)
	}
	fail := append(pass, profiles.Threshold{Expr: "refresh.error_rate < 1%"})
	if err := Evaluate(r, fail); err != nil || r.Verdict != VerdictFail || len(r.Thresholds) != 3 {
		t.Fatalf("one fails: verdict %q, thresholds %v, err %v", r.Verdict, r.Thresholds, err)
	}
	if got := r.Thresholds[2]; got.OK || got.Value != 3 {
		t.Errorf("failing threshold recorded as %+v", got)
	}
	// A bad expression is an error naming each, and leaves r as it was.
	before := slices.Clone(r.Thresholds)
	err := Evaluate(r, []profiles.Threshold{{Expr: "refresh.p99 << 1"}, {Expr: "x < 1"}, {Expr: "requests.lost == 0"}})
	if err == nil || !strings.Contains(err.Error(), `"<<"`) || !strings.Contains(err.Error(), `unknown metric "x"`) {
		t.Errorf("bad thresholds: err %v", err)
	}
	if !slices.Equal(r.Thresholds, before) || r.Verdict != VerdictFail {
		t.Errorf("a failed Evaluate changed the result: %+v %q", r.Thresholds, r.Verdict)
	}
}

func TestCheckAbortAndMarkAborted(t *testing.T) {
	r := evalResult()
	ths := []profiles.Threshold{
		{Expr: "refresh.p99 < 250ms"},                              // fails, but does not abort
		{Expr: "herd.peak_to_mean < 4", AbortOnFail: true},         // holds
		{Expr: "requests.lost == 0", AbortOnFail: true},            // fails: aborts
		{Expr: "sessions.forced_signouts == 0", AbortOnFail: true}, // fails too, later
	}
	i, tr, err := CheckAbort(r, ths)
	if err != nil || i != 2 || tr.OK || !tr.Aborted || !tr.AbortOnFail || tr.Value != 2 || tr.Expr != "requests.lost == 0" {
		t.Fatalf("CheckAbort = %d, %+v, %v; want threshold 2 failing with 2", i, tr, err)
	}
	if i, _, err := CheckAbort(r, ths[:2]); i != -1 || err != nil {
		t.Errorf("no abort threshold fails: got %d, %v", i, err)
	}
	if _, _, err := CheckAbort(r, []profiles.Threshold{{Expr: "bad"}}); err == nil {
		t.Error("CheckAbort accepted a bad expression")
	}

	// The final figures say the threshold holds; it stopped the run, so it failed.
	r.Requests.Lost = 0
	if err := Evaluate(r, ths[1:3]); err != nil || r.Verdict != VerdictPass {
		t.Fatalf("final evaluation: %q, %v", r.Verdict, err)
	}
	MarkAborted(r, 1, tr)
	got := r.Thresholds[1]
	if got.OK || !got.Aborted || got.Value != 2 || r.Verdict != VerdictFail {
		t.Errorf("after MarkAborted: %+v, verdict %q", got, r.Verdict)
	}
	MarkAborted(r, 5, tr) // out of range: ignored
}

func TestThresholdLine(t *testing.T) {
	for _, tc := range []struct {
		tr   ThresholdResult
		want string
	}{
		{ThresholdResult{Expr: "refresh.p99 < 250ms", Value: 5.75, OK: true}, "✓ refresh.p99 < 250ms (value 5.75 ms)"},
		{ThresholdResult{Expr: "refresh.p99 < 250", Value: 312.4}, "✗ refresh.p99 < 250 (value 312.4 ms)"},
		{ThresholdResult{Expr: "api.p95 < 1s", Value: 1.2}, "✗ api.p95 < 1s (value 1.2 s)"},
		{ThresholdResult{Expr: "refresh.error_rate < 1%", Value: 0.123456, OK: true}, "✓ refresh.error_rate < 1% (value 0.123%)"},
		{ThresholdResult{Expr: "requests.lost == 0", Value: 0, OK: true}, "✓ requests.lost == 0 (value 0)"},
		{ThresholdResult{Expr: "refresh.count < 1", Value: 40, AbortOnFail: true, Aborted: true},
			"✗ refresh.count < 1 (value 40): stopped the run (abort_on_fail)"},
	} {
		if got := ThresholdLine(tc.tr); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

// TestNoDataIsNotAPass: a latency or error rate of an operation without
// samples fails with NoData (value 0), unless the threshold allows no data;
// a live check does not stop the run for it; every rendering says so.
func TestNoDataIsNotAPass(t *testing.T) {
	r := evalResult()
	// Every refresh of this operation was cancelled: no latency, but a rate.
	r.Ops[OpSignIn] = &Op{Count: 4, Errors: map[string]int64{"cancelled": 4}, ServiceMs: &Summary{}}
	for _, tc := range []struct {
		expr   string
		noData bool
	}{
		{"api.p99 < 1ms", true}, {"api.service_p50 < 1ms", true}, {"api.error_rate < 1%", true},
		{"get_token.max < 1s", true}, {"sign_in.p50 < 1ms", true}, {"sign_in.service_p99 < 1ms", true},
		{"sign_in.error_rate > 0.5", false}, {"api.count == 0", false}, {"refresh.p99 < 400ms", false},
		{"herd.retries_share < 1%", false},
	} {
		th, err := threshold.Parse(tc.expr)
		if err != nil {
			t.Fatal(err)
		}
		got := CheckThreshold(r, th)
		if got.NoData != tc.noData || (tc.noData && (got.OK || got.Value != 0)) {
			t.Errorf("%q: %+v, want no data %v (and failed)", tc.expr, got, tc.noData)
		}
	}
	ths := []profiles.Threshold{{Expr: "api.p99 < 1ms"}, {Expr: "api.p99 < 1ms", AllowNoData: true}, {Expr: "refresh.p99 < 400ms"}}
	if err := Evaluate(r, ths); err != nil {
		t.Fatal(err)
	}
	want := []ThresholdResult{{Expr: "api.p99 < 1ms", NoData: true}, {Expr: "api.p99 < 1ms", OK: true, NoData: true, AllowNoData: true},
		{Expr: "refresh.p99 < 400ms", Value: 312.4, OK: true}}
	if !slices.Equal(r.Thresholds, want) || r.Verdict != VerdictFail {
		t.Errorf("Evaluate: verdict %q, %+v; want fail, %+v", r.Verdict, r.Thresholds, want)
	}
	if err := Evaluate(r, ths[1:]); err != nil || r.Verdict != VerdictPass {
		t.Errorf("allow_no_data: verdict %q, err %v; want pass", r.Verdict, err)
	}
	// Live: an operation that has not run yet does not stop the run.
	if i, tr, err := CheckAbort(r, []profiles.Threshold{{Expr: "api.p99 < 1ms", AbortOnFail: true}}); i != -1 || err != nil {
		t.Errorf("CheckAbort on no data = %d, %+v, %v; want -1", i, tr, err)
	}
	for got, want := range map[string]string{
		ThresholdLine(want[0]):        "✗ api.p99 < 1ms (no data: api had no samples)",
		ThresholdLine(want[1]):        "✓ api.p99 < 1ms (no data: api had no samples, allowed)",
		thresholdFailureText(want[0]): "api.p99 < 1ms: no data: api had no samples",
		thresholdValueText(want[0]):   "no data: api had no samples",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}
