package threshold

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
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
	{expr: "refresh.p99 < 250ms", want: Threshold{Metric: "refresh.p99", Kind: Latency, Op: "<", Limit: 250, Unit: "ms"}},
	{expr: "refresh.p99 <= 250ms", want: Threshold{Metric: "refresh.p99", Kind: Latency, Op: "<=", Limit: 250, Unit: "ms"}},
	{expr: "refresh.p99 > 250ms", want: Threshold{Metric: "refresh.p99", Kind: Latency, Op: ">", Limit: 250, Unit: "ms"}},
	{expr: "refresh.p99 >= 250ms", want: Threshold{Metric: "refresh.p99", Kind: Latency, Op: ">=", Limit: 250, Unit: "ms"}},
	{expr: "requests.lost == 0", want: Threshold{Metric: "requests.lost", Kind: Count, Op: "==", Limit: 0}},
	{expr: "sessions.forced_signouts != 0", want: Threshold{Metric: "sessions.forced_signouts", Kind: Count, Op: "!=", Limit: 0}},
	// Every unit, and none.
	{expr: "api.p95 < 1.5s", want: Threshold{Metric: "api.p95", Kind: Latency, Op: "<", Limit: 1.5, Unit: "s"}},
	{expr: "api.p95 < 1500", want: Threshold{Metric: "api.p95", Kind: Latency, Op: "<", Limit: 1500, Unit: "ms"}},
	{expr: "refresh.error_rate < 1%", want: Threshold{Metric: "refresh.error_rate", Kind: Rate, Op: "<", Limit: 1, Unit: "%"}},
	{expr: "refresh.error_rate < 0.01", want: Threshold{Metric: "refresh.error_rate", Kind: Rate, Op: "<", Limit: 0.01}},
	{expr: "herd.retries_share <= 5%", want: Threshold{Metric: "herd.retries_share", Kind: Rate, Op: "<=", Limit: 5, Unit: "%"}},
	{expr: "herd.peak_to_mean < 4", want: Threshold{Metric: "herd.peak_to_mean", Kind: Ratio, Op: "<", Limit: 4}},
	{expr: "engine.lag_p99 < 20ms", want: Threshold{Metric: "engine.lag_p99", Kind: Latency, Op: "<", Limit: 20, Unit: "ms"}},
	{expr: "refresh.service_p99 < 100ms", want: Threshold{Metric: "refresh.service_p99", Kind: Latency, Op: "<", Limit: 100, Unit: "ms"}},
	{expr: "api.errors.http_401 <= 10", want: Threshold{Metric: "api.errors.http_401", Kind: Count, Op: "<=", Limit: 10}},
	// Spaces: none, many, tabs, between number and unit; number forms.
	{expr: "refresh.p99<250ms", want: Threshold{Metric: "refresh.p99", Kind: Latency, Op: "<", Limit: 250, Unit: "ms"}},
	{expr: "  refresh.p99\t<=  250 ms  ", want: Threshold{Metric: "refresh.p99", Kind: Latency, Op: "<=", Limit: 250, Unit: "ms"}},
	{expr: "refresh.error_rate<.5%", want: Threshold{Metric: "refresh.error_rate", Kind: Rate, Op: "<", Limit: 0.5, Unit: "%"}},
	{expr: "herd.dispersion>=1e1", want: Threshold{Metric: "herd.dispersion", Kind: Ratio, Op: ">=", Limit: 10}},
	{expr: "herd.mean_rps > -1", want: Threshold{Metric: "herd.mean_rps", Kind: Ratio, Op: ">", Limit: -1}},
	{expr: "refresh.p99 < 2.5E+2ms", want: Threshold{Metric: "refresh.p99", Kind: Latency, Op: "<", Limit: 250, Unit: "ms"}},

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

func TestParse(t *testing.T) {
	for _, tc := range parseCases {
		got, err := Parse(tc.expr)
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
		var te *Error
		if !errors.As(err, &te) || te.Expr != tc.expr || te.Column != tc.col {
			t.Errorf("%q: error %#v, want a *Error at column %d", tc.expr, err, tc.col)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: error spans lines: %q", tc.expr, err)
		}
	}
}

func TestParseWrapsTheNumberError(t *testing.T) {
	_, err := Parse("refresh.p99 < 1e999")
	if !errors.Is(err, strconv.ErrRange) {
		t.Errorf("error %v does not wrap strconv.ErrRange", err)
	}
}

func TestHoldsAtTheLimit(t *testing.T) {
	// 0.1 + 0.2 is not 0.3 in floating point; the comparison allows for it.
	for _, tc := range []struct {
		op   Op
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

func TestInUnit(t *testing.T) {
	for _, tc := range []struct {
		expr string
		v    float64 // as a result records it: ms, a fraction, a plain number
		want float64
	}{
		{"refresh.p99 < 250ms", 312.4, 312.4},
		{"refresh.p99 < 250", 312.4, 312.4},
		{"refresh.p99 < 0.3s", 312.4, 0.3124},
		{"refresh.error_rate < 1%", 0.03, 3},
		{"refresh.error_rate < 0.01", 0.03, 0.03},
		{"requests.lost == 0", 2, 2},
		{"herd.peak_to_mean < 4", 2.5, 2.5},
	} {
		th, err := Parse(tc.expr)
		if err != nil {
			t.Fatal(err)
		}
		if got := th.InUnit(tc.v); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("%q: InUnit(%g) = %g, want %g", tc.expr, tc.v, got, tc.want)
		}
	}
}

func TestThresholdStringParsesBack(t *testing.T) {
	for _, tc := range parseCases {
		th, err := Parse(tc.expr)
		if err != nil {
			continue
		}
		back, err := Parse(th.String())
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
