package reports

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/profiles/threshold"
)

// The threshold grammar (metric names, operators, units) is the
// profiles/threshold package's; this file reads the metrics from a Result
// and evaluates thresholds on it.

// metricField is one metric of a group: its name after the group's prefix
// and how to read it from a result.
type metricField[T any] struct {
	name string
	get  func(T) float64
}

// metricGetters maps every threshold metric name to how to read it from a
// result, in the units result.json records (ms, fractions, plain numbers).
// Its names are exactly threshold.Metrics' (a test holds them equal).
var metricGetters = buildGetters()

func latencyFields(prefix string) []metricField[Summary] {
	return []metricField[Summary]{
		{prefix + "min", func(s Summary) float64 { return s.Min }},
		{prefix + "p50", func(s Summary) float64 { return s.P50 }},
		{prefix + "p90", func(s Summary) float64 { return s.P90 }},
		{prefix + "p95", func(s Summary) float64 { return s.P95 }},
		{prefix + "p99", func(s Summary) float64 { return s.P99 }},
		{prefix + "p999", func(s Summary) float64 { return s.P999 }},
		{prefix + "max", func(s Summary) float64 { return s.Max }},
		{prefix + "mean", func(s Summary) float64 { return s.Mean }},
	}
}

func buildGetters() map[string]func(*Result) float64 {
	table := map[string]func(*Result) float64{}

	// Operations: <op>.<field>.
	var opFields []metricField[*Op]
	for _, f := range latencyFields("") {
		opFields = append(opFields, metricField[*Op]{f.name, func(o *Op) float64 { return f.get(o.LatencyMs) }})
	}
	for _, f := range latencyFields("service_") {
		opFields = append(opFields, metricField[*Op]{f.name, func(o *Op) float64 {
			if o.ServiceMs == nil {
				return 0
			}
			return f.get(*o.ServiceMs)
		}})
	}
	opFields = append(opFields,
		metricField[*Op]{"count", func(o *Op) float64 { return float64(o.Count) }},
		metricField[*Op]{"ok", func(o *Op) float64 { return float64(o.OK) }},
		metricField[*Op]{"errors", func(o *Op) float64 { return float64(o.ErrorCount()) }},
	)
	for _, c := range ErrorClasses {
		opFields = append(opFields, metricField[*Op]{"errors." + c, func(o *Op) float64 { return float64(o.Errors[c]) }})
	}
	opFields = append(opFields, metricField[*Op]{"error_rate", func(o *Op) float64 {
		return ratio(float64(o.ErrorCount()), float64(o.Count))
	}})
	for _, op := range OpNames {
		for _, f := range opFields {
			table[op+"."+f.name] = func(r *Result) float64 {
				o := r.Ops[op]
				if o == nil {
					return 0
				}
				return f.get(o)
			}
		}
	}

	// The other sections: one prefix each.
	section := func(prefix string, fields ...metricField[*Result]) {
		for _, f := range fields {
			table[prefix+"."+f.name] = f.get
		}
	}
	type rf = metricField[*Result]
	section("herd",
		rf{"peak_rps", func(r *Result) float64 { return r.Herd.PeakRPS }},
		rf{"mean_rps", func(r *Result) float64 { return r.Herd.MeanRPS }},
		rf{"peak_to_mean", func(r *Result) float64 { return r.Herd.PeakToMean }},
		rf{"max_inflight", func(r *Result) float64 { return float64(r.Herd.MaxInflight) }},
		rf{"amplification", func(r *Result) float64 { return r.Herd.Amplification }},
		rf{"duplicate_refreshes", func(r *Result) float64 { return float64(r.Herd.DuplicateRefreshes) }},
		rf{"retries", func(r *Result) float64 { return float64(r.Herd.Retries) }},
		rf{"retries_share", func(r *Result) float64 { return r.Herd.RetriesShare }},
		rf{"dispersion", func(r *Result) float64 { return r.Herd.Dispersion }},
	)
	section("requests",
		rf{"issued", func(r *Result) float64 { return float64(r.Requests.Issued) }},
		rf{"settled", func(r *Result) float64 { return float64(r.Requests.Settled) }},
		rf{"lost", func(r *Result) float64 { return float64(r.Requests.Lost) }},
		rf{"ok", func(r *Result) float64 { return float64(r.Requests.OK) }},
		rf{"user_visible_errors", func(r *Result) float64 { return float64(r.Requests.UserVisibleErrors) }},
		rf{"cancelled", func(r *Result) float64 { return float64(r.Requests.Cancelled) }},
		rf{"retry_loops", func(r *Result) float64 { return float64(r.Requests.RetryLoops) }},
		rf{"stale_token_retries", func(r *Result) float64 { return float64(r.Requests.StaleTokenRetries) }},
	)
	section("sessions",
		rf{"forced_signouts", func(r *Result) float64 { return float64(r.Sessions.ForcedSignouts) }},
		rf{"re_sign_ins", func(r *Result) float64 { return float64(r.Sessions.ReSignIns) }},
	)
	section("engine",
		rf{"lag_p50", func(r *Result) float64 { return r.Engine.LagMs.P50 }},
		rf{"lag_p99", func(r *Result) float64 { return r.Engine.LagMs.P99 }},
		rf{"lag_max", func(r *Result) float64 { return r.Engine.LagMs.Max }},
	)
	proxyField := func(name string, get func(*ProxyFigures) int64) rf {
		return rf{name, func(r *Result) float64 {
			if r.Proxy == nil {
				return math.NaN() // a run's result has no proxy figures
			}
			return float64(get(r.Proxy))
		}}
	}
	proxyOverhead := func(name string, get func(*Summary) float64) rf {
		return rf{name, func(r *Result) float64 {
			if r.Proxy == nil || r.Proxy.OverheadMs == nil {
				return math.NaN() // no proxy figures, or no request yet
			}
			return get(r.Proxy.OverheadMs)
		}}
	}
	section("proxy",
		proxyField("sessions", func(p *ProxyFigures) int64 { return p.Sessions }),
		proxyField("duplicate_refreshes", func(p *ProxyFigures) int64 { return p.DuplicateRefreshes }),
		proxyField("duplicate_refreshes_inflight", func(p *ProxyFigures) int64 { return p.DuplicateInflight }),
		proxyField("duplicate_refreshes_same_generation", func(p *ProxyFigures) int64 { return p.DuplicateSameGeneration }),
		proxyField("refresh_token_reuse", func(p *ProxyFigures) int64 { return p.RefreshTokenReuse }),
		proxyField("stale_retries", func(p *ProxyFigures) int64 { return p.StaleRetries }),
		proxyField("retry_loops", func(p *ProxyFigures) int64 { return p.RetryLoops }),
		proxyField("unattributed", func(p *ProxyFigures) int64 { return p.Unattributed }),
		proxyField("upstream_errors", func(p *ProxyFigures) int64 { return p.UpstreamErrors }),
		proxyField("rejected", func(p *ProxyFigures) int64 { return p.Rejected }),
		proxyOverhead("overhead_p50", func(s *Summary) float64 { return s.P50 }),
		proxyOverhead("overhead_p99", func(s *Summary) float64 { return s.P99 }),
	)
	return table
}

// ThresholdValue reads t's metric from r, in t's Unit; NaN for a metric
// the result does not have.
func ThresholdValue(r *Result, t threshold.Threshold) float64 {
	get, ok := metricGetters[t.Metric]
	if !ok {
		return math.NaN()
	}
	return t.InUnit(get(r))
}

// NoData reports whether t's metric has no value in r because its
// operation has no samples: a latency of an operation with no answered
// request (service latencies: or none measured), an error rate of an
// operation that never ran (threshold.SampledOp). Counts always have one.
func NoData(r *Result, t threshold.Threshold) bool {
	op, sampled := threshold.SampledOp(t.Metric)
	if !sampled {
		return false
	}
	o := r.Ops[op]
	if o == nil || o.Count <= 0 {
		return true
	}
	if t.Kind != threshold.Latency {
		return false
	}
	if strings.Contains(t.Metric, ".service_") && o.ServiceMs == nil {
		return true
	}
	return o.Count-o.Errors["cancelled"] <= 0 // cancelled requests have no latency
}

// CheckThreshold evaluates t on r: the metric's value in t's unit and
// whether it holds. The value is kept finite so that result.json can hold
// it: NaN becomes 0 (and fails), ±Inf the largest float. A metric with no
// data (NoData) fails with NoData set and value 0: no data is not a pass
// (Evaluate lets a threshold that allows it pass).
func CheckThreshold(r *Result, t threshold.Threshold) ThresholdResult {
	if NoData(r, t) {
		return ThresholdResult{Expr: t.Expr, NoData: true}
	}
	v := ThresholdValue(r, t)
	ok := t.Holds(v)
	switch {
	case math.IsNaN(v):
		v = 0
	case math.IsInf(v, 1):
		v = math.MaxFloat64
	case math.IsInf(v, -1):
		v = -math.MaxFloat64
	}
	return ThresholdResult{Expr: t.Expr, Value: v, OK: ok}
}

// parseAll parses every threshold of ths, joining the errors.
func parseAll(ths []profiles.Threshold) ([]threshold.Threshold, error) {
	out := make([]threshold.Threshold, len(ths))
	var errs []error
	for i, th := range ths {
		t, err := threshold.Parse(th.Expr)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out[i] = t
	}
	return out, errors.Join(errs...)
}

// Evaluate evaluates ths on the final result r: it sets r.Thresholds to
// one ThresholdResult per threshold, in order (the expression as written,
// the value in the expression's unit, whether it held), r.Invariants to
// the default invariants as r.Profile gates them (EvaluateInvariants), and
// r.Verdict to "pass" when every threshold and every gated invariant
// held, "fail" otherwise. A threshold whose operation has no samples fails
// with NoData, unless the profile's threshold says allow_no_data. A
// threshold that does not parse is an error (every one is reported,
// joined) and leaves r unchanged: validate thresholds with threshold.Parse
// (or profiles.Validate) before the run.
func Evaluate(r *Result, ths []profiles.Threshold) error {
	parsed, err := parseAll(ths)
	if err != nil {
		return err
	}
	r.Thresholds = make([]ThresholdResult, len(parsed))
	r.Verdict = VerdictPass
	for i, t := range parsed {
		tr := CheckThreshold(r, t)
		tr.AbortOnFail = ths[i].AbortOnFail
		if tr.NoData && ths[i].AllowNoData {
			tr.OK, tr.AllowNoData = true, true
		}
		r.Thresholds[i] = tr
		if !tr.OK {
			r.Verdict = VerdictFail
		}
	}
	r.Invariants = EvaluateInvariants(r)
	if countFailedInvariants(r) > 0 {
		r.Verdict = VerdictFail
	}
	return nil
}

// CheckAbort evaluates only the thresholds of ths marked abort_on_fail, on
// r (a live snapshot of a running test), and returns the first that fails
// with its index in ths; index is -1 when all of them hold. A threshold
// whose operation has no samples yet does not stop the run: the operation
// may still come (Evaluate judges the final figures). Parse errors
// are returned as Evaluate returns them.
func CheckAbort(r *Result, ths []profiles.Threshold) (index int, failed ThresholdResult, err error) {
	parsed, err := parseAll(ths)
	if err != nil {
		return -1, ThresholdResult{}, err
	}
	for i, t := range parsed {
		if !ths[i].AbortOnFail {
			continue
		}
		if tr := CheckThreshold(r, t); !tr.OK && !tr.NoData {
			tr.AbortOnFail, tr.Aborted = true, true
			return i, tr, nil
		}
	}
	return -1, ThresholdResult{}, nil
}

// MarkAborted records on r, after Evaluate, that threshold i stopped the
// run early with live, the result CheckAbort returned: the threshold failed
// with the value it had when it stopped the run, whatever the final figures
// say, and so did the run.
func MarkAborted(r *Result, i int, live ThresholdResult) {
	if i < 0 || i >= len(r.Thresholds) {
		return
	}
	live.OK, live.AbortOnFail, live.Aborted = false, true, true
	live.Expr = r.Thresholds[i].Expr
	r.Thresholds[i] = live
	r.Verdict = VerdictFail
}

// ThresholdLine formats an evaluated threshold for the terminal:
// "✓ refresh.p99 < 250ms (value 5.75 ms)", "✗ ..." when it failed,
// "✗ refresh.p99 < 1ms (no data: refresh had no samples)" without data,
// noting a threshold that stopped the run.
func ThresholdLine(t ThresholdResult) string {
	mark := "✓"
	if !t.OK {
		mark = "✗"
	}
	value := "value " + fmtFigure(t.Value)
	if th, err := threshold.Parse(t.Expr); err == nil {
		value = "value " + renderWithUnit(fmtFigure(t.Value), th.Unit)
	}
	if t.NoData {
		value = thresholdValueText(t)
	}
	line := fmt.Sprintf("%s %s (%s)", mark, strings.TrimSpace(t.Expr), value)
	if t.Aborted {
		line += ": stopped the run (abort_on_fail)"
	}
	return line
}
