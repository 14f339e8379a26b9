package reports

import (
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stampede-load/stampede/profiles"
)

// parseCases is the parser's table, also the seed corpus of FuzzParseThreshold.
// A case with err == "" parses to want; otherwise the error must contain
// every part of err (separated by "|") and name column col.
var parseCases = []struct {
	expr string
	want Threshold // Expr is filled in from expr
	err  string
	col  int
}{
	// Every operator.
	{expr: "refresh.p99 < 250ms", want: Threshold{Metric: "refresh.p99", Kind: KindLatency, Op: "<", Limit: 250, Unit: "ms"}},
	{expr: "refresh.p99 <= 250ms", want: Threshold{Metric: "refresh.p99", Kind: KindLatency, Op: "<=", Limit: 250, Unit: "ms"}},
	{expr: "refresh.p99 > 250ms", want: Threshold{Metric: "refresh.p99", Kind: KindLatency, Op: ">", Limit: 250, Unit: "ms"}},
	{expr: "refresh.p99 >= 250ms", want: Threshold{Metric: "refresh.p99", Kind: KindLatency, Op: ">=", Limit: 250, Unit: "ms"}},
	{expr: "requests.lost == 0", want: Threshold{Metric: "requests.lost", Kind: KindCount, Op: "==", Limit: 0}},
	{expr: "sessions.forced_signouts != 0", want: Threshold{Metric: "sessions.forced_signouts", Kind: KindCount, Op: "!=", Limit: 0}},
	// Every unit, and none.
	{expr: "api.p95 < 1.5s", want: Threshold{Metric: "api.p95", Kind: KindLatency, Op: "<", Limit: 1.5, Unit: "s"}},
	{expr: "api.p95 < 1500", want: Threshold{Metric: "api.p95", Kind: KindLatency, Op: "<", Limit: 1500, Unit: "ms"}},
	{expr: "refresh.error_rate < 1%", want: Threshold{Metric: "refresh.error_rate", Kind: KindRate, Op: "<", Limit: 1, Unit: "%"}},
	{expr: "refresh.error_rate < 0.01", want: Threshold{Metric: "refresh.error_rate", Kind: KindRate, Op: "<", Limit: 0.01}},
	{expr: "herd.retries_share <= 5%", want: Threshold{Metric: "herd.retries_share", Kind: KindRate, Op: "<=", Limit: 5, Unit: "%"}},
	{expr: "herd.peak_to_mean < 4", want: Threshold{Metric: "herd.peak_to_mean", Kind: KindRatio, Op: "<", Limit: 4}},
	{expr: "engine.lag_p99 < 20ms", want: Threshold{Metric: "engine.lag_p99", Kind: KindLatency, Op: "<", Limit: 20, Unit: "ms"}},
	{expr: "refresh.service_p99 < 100ms", want: Threshold{Metric: "refresh.service_p99", Kind: KindLatency, Op: "<", Limit: 100, Unit: "ms"}},
	{expr: "api.errors.http_401 <= 10", want: Threshold{Metric: "api.errors.http_401", Kind: KindCount, Op: "<=", Limit: 10}},
	// Spaces: none, many, tabs, between number and unit; number forms.
	{expr: "refresh.p99<250ms", want: Threshold{Metric: "refresh.p99", Kind: KindLatency, Op: "<", Limit: 250, Unit: "ms"}},
	{expr: "  refresh.p99\t<=  250 ms  ", want: Threshold{Metric: "refresh.p99", Kind: KindLatency, Op: "<=", Limit: 250, Unit: "ms"}},
	{expr: "refresh.error_rate<.5%", want: Threshold{Metric: "refresh.error_rate", Kind: KindRate, Op: "<", Limit: 0.5, Unit: "%"}},
	{expr: "herd.dispersion>=1e1", want: Threshold{Metric: "herd.dispersion", Kind: KindRatio, Op: ">=", Limit: 10}},
	{expr: "herd.mean_rps > -1", want: Threshold{Metric: "herd.mean_rps", Kind: KindRatio, Op: ">", Limit: -1}},
	{expr: "refresh.p99 < 2.5E+2ms", want: Threshold{Metric: "refresh.p99", Kind: KindLatency, Op: "<", Limit: 250, Unit: "ms"}},

	// Bad operators.
	{expr: "refresh.p99 << 250ms", err: `threshold "refresh.p99 << 250ms": unknown operator "<<" at column 13 (want one of < <= > >= == !=)`, col: 13},
	{expr: "refresh.p99 = 250ms", err: `unknown operator "=" at column 13|< <= > >= == !=`, col: 13},
	{expr: "refresh.p99 => 250ms", err: `unknown operator "=>" at column 13`, col: 13},
	{expr: "refresh.p99 !== 1", err: `unknown operator "!==" at column 13`, col: 13},
	{expr: "refresh.p99", err: `missing operator after "refresh.p99" at column 12`, col: 12},
	{expr: "refresh.p99 lt 250ms", err: `want an operator at column 13, got "lt"`, col: 13},
	{expr: "refresh p99 < 250", err: `unknown metric "refresh" at column 1`, col: 1},
	// Bad numbers.
	{expr: "refresh.p99 < abc", err: `bad number "abc" at column 15`, col: 15},
	{expr: "refresh.p99 < ms", err: `bad number "ms" at column 15`, col: 15},
	{expr: "refresh.p99 <", err: `missing value after "<" at column 14`, col: 14},
	{expr: "refresh.p99 < 1e999ms", err: `bad number "1e999" at column 15: out of range`, col: 15},
	{expr: "refresh.p99 < NaN", err: `bad number "NaN" at column 15`, col: 15},
	{expr: "refresh.p99 < 2.5.1ms", err: `unknown unit ".1ms" at column 18`, col: 18},
	{expr: "refresh.p99 < 250 ms 3", err: `unexpected "3" at column 22 after the value`, col: 22},
	// Unknown metrics list every name; near misses are suggested.
	{expr: "refresh.p100 < 250ms", err: `unknown metric "refresh.p100" at column 1|{sign_in,refresh,api,get_token,foreground_recovery}.{min,p50,p90,p95,p99,p999,max,mean,|herd.{peak_rps,|requests.{issued,|sessions.{forced_signouts,re_sign_ins}|engine.{lag_p50,lag_p99,lag_max}`, col: 1},
	{expr: "refesh.p99 < 250ms", err: `unknown metric "refesh.p99" at column 1 (did you mean "refresh.p99"?)`, col: 1},
	{expr: "  latency<1", err: `unknown metric "latency" at column 3; metrics: `, col: 3},
	{expr: "< 250ms", err: `missing metric at column 1`, col: 1},
	// Units that do not fit the metric, and unknown units.
	{expr: "requests.lost < 5ms", err: `unit "ms" at column 18 does not fit requests.lost, which is a count`, col: 18},
	{expr: "refresh.p99 < 1%", err: `unit "%" at column 16 does not fit refresh.p99, which is a latency (want ms or s)`, col: 16},
	{expr: "refresh.error_rate < 1s", err: `unit "s" at column 23 does not fit refresh.error_rate, which is a rate`, col: 23},
	{expr: "herd.peak_to_mean < 4%", err: `unit "%" at column 22 does not fit herd.peak_to_mean, which is a ratio`, col: 22},
	{expr: "refresh.p99 < 250us", err: `unknown unit "us" at column 18 (want ms, s or %)`, col: 18},
	// Empty.
	{expr: "", err: `threshold "": empty: want METRIC OP VALUE`},
	{expr: " \t ", err: `empty: want METRIC OP VALUE`},
	// Tokens outside ASCII.
	{expr: "réfresh.p99 < 1", err: `unknown metric "réfresh.p99" at column 1`, col: 1},
	{expr: "refresh.p99 ≤ 1", err: `want an operator at column 13, got "≤"`, col: 13},
	{expr: "refresh.p99 < 1 ms é", err: `unexpected "é" at column 20`, col: 20},
}

func TestParseThreshold(t *testing.T) {
	for _, tc := range parseCases {
		got, err := ParseThreshold(tc.expr)
		if tc.err == "" {
			want := tc.want
			want.Expr = tc.expr
			if err != nil || got != want {
				t.Errorf("%q: got %+v, %v; want %+v", tc.expr, got, err, want)
			}
			continue
		}
		if err == nil {
			t.Errorf("%q: parsed to %+v, want an error", tc.expr, got)
			continue
		}
		for _, part := range strings.Split(tc.err, "|") {
			if !strings.Contains(err.Error(), part) {
				t.Errorf("%q: error %q does not contain %q", tc.expr, err, part)
			}
		}
		var te *ThresholdError
		if !errors.As(err, &te) || te.Expr != tc.expr || te.Column != tc.col {
			t.Errorf("%q: error %#v, want a *ThresholdError at column %d", tc.expr, err, tc.col)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: error spans lines: %q", tc.expr, err)
		}
	}
}

func TestParseThresholdWrapsTheNumberError(t *testing.T) {
	_, err := ParseThreshold("refresh.p99 < 1e999")
	if !errors.Is(err, strconv.ErrRange) {
		t.Errorf("error %v does not wrap strconv.ErrRange", err)
	}
}

// expandBraces expands a brace listing "{a,b}.{c,d.{e,f}}" into its names.
func expandBraces(s string) []string {
	i := strings.IndexByte(s, '{')
	if i < 0 {
		return []string{s}
	}
	depth, j := 0, i
	for ; j < len(s); j++ {
		if s[j] == '{' {
			depth++
		} else if s[j] == '}' {
			if depth--; depth == 0 {
				break
			}
		}
	}
	var alts []string
	depth, start := 0, i+1
	for k := i + 1; k < j; k++ {
		switch s[k] {
		case '{':
			depth++
		case '}':
			depth--
		case ',':
			if depth == 0 {
				alts = append(alts, s[start:k])
				start = k + 1
			}
		}
	}
	alts = append(alts, s[start:j])
	var out []string
	for _, a := range alts {
		out = append(out, expandBraces(s[:i]+a+s[j+1:])...)
	}
	return out
}

func TestUnknownMetricListsEveryName(t *testing.T) {
	_, err := ParseThreshold("nope < 1")
	_, listing, ok := strings.Cut(err.Error(), "; metrics: ")
	if !ok {
		t.Fatalf("no listing in %q", err)
	}
	var names []string
	for _, g := range strings.Split(listing, "; ") {
		names = append(names, expandBraces(g)...)
	}
	all := ThresholdMetrics()
	slices.Sort(names)
	slices.Sort(all)
	if !slices.Equal(names, all) {
		t.Errorf("listing expands to %d names, want the %d of ThresholdMetrics:\n%v\n%v", len(names), len(all), names, all)
	}
	for _, want := range []string{
		"refresh.p99", "api.p95", "sign_in.mean", "foreground_recovery.p999", "get_token.error_rate",
		"refresh.errors.http_429", "api.errors.cancelled", "refresh.service_p99", "refresh.count", "refresh.ok", "refresh.errors",
		"herd.peak_rps", "herd.mean_rps", "herd.peak_to_mean", "herd.max_inflight", "herd.amplification",
		"herd.duplicate_refreshes", "herd.retries", "herd.retries_share", "herd.dispersion",
		"requests.issued", "requests.settled", "requests.lost", "requests.ok", "requests.user_visible_errors",
		"requests.cancelled", "requests.retry_loops", "requests.stale_token_retries",
		"sessions.forced_signouts", "sessions.re_sign_ins", "engine.lag_p50", "engine.lag_p99", "engine.lag_max",
	} {
		if !slices.Contains(all, want) {
			t.Errorf("metric %s missing", want)
		}
	}
	for _, name := range all {
		if _, err := ParseThreshold(name + " >= 0"); err != nil {
			t.Errorf("listed metric does not parse: %v", err)
		}
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
		{"api.p99 < 1ms", 0, true},                // no data: 0
		{"get_token.p99 < 1ms", 0, true},          // no such op in the result
		{"sign_in.service_p99 < 1ms", 0, true},    // no service summary
		{"engine.lag_max < 2ms", 3, false},        // engine lag
		{"engine.lag_p99 < 0.001s", 0.0008, true}, // in seconds
		// Rates: percent and fraction.
		{"refresh.error_rate < 1%", 3, false},
		{"refresh.error_rate <= 3%", 3, true},
		{"refresh.error_rate < 0.05", 0.03, true},
		{"refresh.error_rate == 0.03", 0.03, true},
		{"api.error_rate == 0", 0, true}, // count 0: rate 0
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
		th, err := ParseThreshold(tc.expr)
		if err != nil {
			t.Fatal(err)
		}
		got := th.Check(r)
		if math.Abs(got.Value-tc.value) > 1e-9 || got.OK != tc.ok || got.Expr != tc.expr {
			t.Errorf("%q: got %+v, want value %g ok %v", tc.expr, got, tc.value, tc.ok)
		}
	}
}

func TestHoldsAtTheLimit(t *testing.T) {
	// 0.1 + 0.2 is not 0.3 in floating point; the comparison allows for it.
	for _, tc := range []struct {
		op   string
		v    float64
		want bool
	}{
		{"<", 0.1 + 0.2, false}, {"<=", 0.1 + 0.2, true}, {">", 0.1 + 0.2, false},
		{">=", 0.1 + 0.2, true}, {"==", 0.1 + 0.2, true}, {"!=", 0.1 + 0.2, false},
		{"<", 0.29, true}, {">", 0.31, true}, {"==", 0.31, false}, {"!=", 0.31, true},
		{"<", math.NaN(), false}, {"!=", math.NaN(), false},
	} {
		th := Threshold{Op: tc.op, Limit: 0.3}
		if got := th.Holds(tc.v); got != tc.want {
			t.Errorf("%v %s 0.3 = %v, want %v", tc.v, tc.op, got, tc.want)
		}
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

func TestThresholdStringParsesBack(t *testing.T) {
	for _, tc := range parseCases {
		th, err := ParseThreshold(tc.expr)
		if err != nil {
			continue
		}
		back, err := ParseThreshold(th.String())
		if err != nil {
			t.Errorf("%q → %q: %v", tc.expr, th.String(), err)
			continue
		}
		back.Expr = th.Expr
		if back != th {
			t.Errorf("%q → %q → %+v, want %+v", tc.expr, th.String(), back, th)
		}
	}
}
