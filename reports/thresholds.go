package reports

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/stampede-load/stampede/profiles"
)

// MetricKind is what a threshold metric measures, which decides the units
// its limit may carry.
type MetricKind int

// Metric kinds.
const (
	// KindLatency is a duration in milliseconds; a limit takes "ms" or "s",
	// and no unit means ms.
	KindLatency MetricKind = iota + 1
	// KindRate is a share: a fraction 0..1, or a percentage when the limit
	// is written with "%".
	KindRate
	// KindCount is a number of things; its limit takes no unit.
	KindCount
	// KindRatio is a dimensionless figure (requests per second, peak to
	// mean, variance to mean); its limit takes no unit.
	KindRatio
)

// String names the kind as error messages do.
func (k MetricKind) String() string {
	switch k {
	case KindLatency:
		return "a latency"
	case KindRate:
		return "a rate"
	case KindCount:
		return "a count"
	case KindRatio:
		return "a ratio"
	}
	return "an unknown kind"
}

// thresholdOps lists the comparison operators in the order messages give them.
var thresholdOps = []string{"<", "<=", ">", ">=", "==", "!="}

// metricField is one metric of a group: its name after the group's prefix,
// its kind and how to read it from a result.
type metricField[T any] struct {
	name string
	kind MetricKind
	get  func(T) float64
}

// metricDef is one threshold metric: its kind and how to read it.
type metricDef struct {
	kind MetricKind
	get  func(*Result) float64
}

// metricGroup is a set of metrics sharing their field names under one or
// more prefixes: "refresh.p99", "api.p99", ... It is the unit of the
// compact listing in error messages.
type metricGroup struct {
	prefixes []string
	fields   []string
}

// metricTable maps every threshold metric name to its definition;
// metricGroups lists the same names, grouped, in documentation order.
// ParseThreshold, evaluation and ThresholdMetrics all read these two.
var metricTable, metricGroups = buildMetrics()

func latencyFields(prefix string) []metricField[Summary] {
	return []metricField[Summary]{
		{prefix + "min", KindLatency, func(s Summary) float64 { return s.Min }},
		{prefix + "p50", KindLatency, func(s Summary) float64 { return s.P50 }},
		{prefix + "p90", KindLatency, func(s Summary) float64 { return s.P90 }},
		{prefix + "p95", KindLatency, func(s Summary) float64 { return s.P95 }},
		{prefix + "p99", KindLatency, func(s Summary) float64 { return s.P99 }},
		{prefix + "p999", KindLatency, func(s Summary) float64 { return s.P999 }},
		{prefix + "max", KindLatency, func(s Summary) float64 { return s.Max }},
		{prefix + "mean", KindLatency, func(s Summary) float64 { return s.Mean }},
	}
}

func buildMetrics() (map[string]metricDef, []metricGroup) {
	table := map[string]metricDef{}
	var groups []metricGroup
	add := func(prefixes []string, names []string, def func(prefix, name string) metricDef) {
		groups = append(groups, metricGroup{prefixes: prefixes, fields: names})
		for _, p := range prefixes {
			for _, n := range names {
				table[p+"."+n] = def(p, n)
			}
		}
	}

	// Operations: ops.<op>.
	var opFields []metricField[*Op]
	for _, f := range latencyFields("") {
		opFields = append(opFields, metricField[*Op]{f.name, f.kind, func(o *Op) float64 { return f.get(o.LatencyMs) }})
	}
	for _, f := range latencyFields("service_") {
		opFields = append(opFields, metricField[*Op]{f.name, f.kind, func(o *Op) float64 {
			if o.ServiceMs == nil {
				return 0
			}
			return f.get(*o.ServiceMs)
		}})
	}
	opFields = append(opFields,
		metricField[*Op]{"count", KindCount, func(o *Op) float64 { return float64(o.Count) }},
		metricField[*Op]{"ok", KindCount, func(o *Op) float64 { return float64(o.OK) }},
		metricField[*Op]{"errors", KindCount, func(o *Op) float64 { return float64(o.ErrorCount()) }},
	)
	for _, c := range ErrorClasses {
		opFields = append(opFields, metricField[*Op]{"errors." + c, KindCount, func(o *Op) float64 { return float64(o.Errors[c]) }})
	}
	opFields = append(opFields, metricField[*Op]{"error_rate", KindRate, func(o *Op) float64 {
		return ratio(float64(o.ErrorCount()), float64(o.Count))
	}})
	byName := map[string]metricField[*Op]{}
	var names []string
	for _, f := range opFields {
		byName[f.name] = f
		names = append(names, f.name)
	}
	add(OpNames, names, func(op, name string) metricDef {
		f := byName[name]
		return metricDef{f.kind, func(r *Result) float64 {
			o := r.Ops[op]
			if o == nil {
				return 0
			}
			return f.get(o)
		}}
	})

	// The other sections: one prefix each.
	section := func(prefix string, fields ...metricField[*Result]) {
		byName := map[string]metricField[*Result]{}
		var names []string
		for _, f := range fields {
			byName[f.name] = f
			names = append(names, f.name)
		}
		add([]string{prefix}, names, func(_, name string) metricDef {
			f := byName[name]
			return metricDef{f.kind, f.get}
		})
	}
	type rf = metricField[*Result]
	section("herd",
		rf{"peak_rps", KindRatio, func(r *Result) float64 { return r.Herd.PeakRPS }},
		rf{"mean_rps", KindRatio, func(r *Result) float64 { return r.Herd.MeanRPS }},
		rf{"peak_to_mean", KindRatio, func(r *Result) float64 { return r.Herd.PeakToMean }},
		rf{"max_inflight", KindCount, func(r *Result) float64 { return float64(r.Herd.MaxInflight) }},
		rf{"amplification", KindRatio, func(r *Result) float64 { return r.Herd.Amplification }},
		rf{"duplicate_refreshes", KindCount, func(r *Result) float64 { return float64(r.Herd.DuplicateRefreshes) }},
		rf{"retries", KindCount, func(r *Result) float64 { return float64(r.Herd.Retries) }},
		rf{"retries_share", KindRate, func(r *Result) float64 { return r.Herd.RetriesShare }},
		rf{"dispersion", KindRatio, func(r *Result) float64 { return r.Herd.Dispersion }},
	)
	section("requests",
		rf{"issued", KindCount, func(r *Result) float64 { return float64(r.Requests.Issued) }},
		rf{"settled", KindCount, func(r *Result) float64 { return float64(r.Requests.Settled) }},
		rf{"lost", KindCount, func(r *Result) float64 { return float64(r.Requests.Lost) }},
		rf{"ok", KindCount, func(r *Result) float64 { return float64(r.Requests.OK) }},
		rf{"user_visible_errors", KindCount, func(r *Result) float64 { return float64(r.Requests.UserVisibleErrors) }},
		rf{"cancelled", KindCount, func(r *Result) float64 { return float64(r.Requests.Cancelled) }},
		rf{"retry_loops", KindCount, func(r *Result) float64 { return float64(r.Requests.RetryLoops) }},
		rf{"stale_token_retries", KindCount, func(r *Result) float64 { return float64(r.Requests.StaleTokenRetries) }},
	)
	section("sessions",
		rf{"forced_signouts", KindCount, func(r *Result) float64 { return float64(r.Sessions.ForcedSignouts) }},
		rf{"re_sign_ins", KindCount, func(r *Result) float64 { return float64(r.Sessions.ReSignIns) }},
	)
	section("engine",
		rf{"lag_p50", KindLatency, func(r *Result) float64 { return r.Engine.LagMs.P50 }},
		rf{"lag_p99", KindLatency, func(r *Result) float64 { return r.Engine.LagMs.P99 }},
		rf{"lag_max", KindLatency, func(r *Result) float64 { return r.Engine.LagMs.Max }},
	)
	return table, groups
}

// ThresholdMetrics lists every metric name a threshold may use, in
// documentation order.
func ThresholdMetrics() []string {
	var out []string
	for _, g := range metricGroups {
		for _, p := range g.prefixes {
			for _, f := range g.fields {
				out = append(out, p+"."+f)
			}
		}
	}
	return out
}

// MetricKindOf returns the kind of a threshold metric; ok is false for a
// name ThresholdMetrics does not list.
func MetricKindOf(name string) (kind MetricKind, ok bool) {
	d, ok := metricTable[name]
	return d.kind, ok
}

// metricListing is every metric name in compact brace form, for error
// messages: "{sign_in,refresh,...}.{min,p50,...}; herd.{peak_rps,...}; ...".
var metricListing = func() string {
	brace := func(s []string) string {
		if len(s) == 1 {
			return s[0]
		}
		return "{" + strings.Join(s, ",") + "}"
	}
	parts := make([]string, len(metricGroups))
	for i, g := range metricGroups {
		parts[i] = brace(g.prefixes) + "." + brace(compactFields(g.fields))
	}
	return strings.Join(parts, "; ")
}()

// compactFields folds field names sharing a first part into one brace
// entry: errors.http_401, errors.http_429 → errors.{http_401,http_429};
// service_p50, service_p99 → service_{p50,p99}.
func compactFields(fields []string) []string {
	var heads []string
	sub := map[string][]string{}
	for _, f := range fields {
		head, tail := "", f
		if h, t, ok := strings.Cut(f, "."); ok {
			head, tail = h+".", t
		} else if t, ok := strings.CutPrefix(f, "service_"); ok {
			head, tail = "service_", t
		}
		if _, seen := sub[head]; !seen || head == "" {
			heads = append(heads, head)
		}
		sub[head] = append(sub[head], tail)
	}
	var out []string
	plain := 0
	for _, h := range heads {
		if h == "" {
			out = append(out, sub[""][plain])
			plain++
			continue
		}
		out = append(out, h+"{"+strings.Join(sub[h], ",")+"}")
	}
	return out
}

// Threshold is a parsed threshold expression, METRIC OP VALUE[UNIT].
type Threshold struct {
	// Expr is the expression as written.
	Expr   string
	Metric string
	Kind   MetricKind
	// Op is one of < <= > >= == !=.
	Op string
	// Limit is the value the metric is held against, in Unit.
	Limit float64
	// Unit is the unit of Limit and of the value Evaluate records: "ms" or
	// "s" for a latency (a latency written without unit is in "ms"), "%" or
	// "" (a fraction 0..1) for a rate, "" for counts and ratios.
	Unit string
}

// ThresholdError is a threshold expression that does not parse. Error
// gives `threshold "EXPR": REASON`.
type ThresholdError struct {
	Expr string
	// Column is the 1-based column (in characters) of the offending token;
	// 0 when the problem is the whole expression.
	Column int
	// Reason says what is wrong, naming the token and its column.
	Reason string
	// Err is the underlying error, such as strconv's, when there is one.
	Err error
}

// Error formats the problem as `threshold "EXPR": REASON`.
func (e *ThresholdError) Error() string { return fmt.Sprintf("threshold %q: %s", e.Expr, e.Reason) }

// Unwrap returns the underlying error, if any.
func (e *ThresholdError) Unwrap() error { return e.Err }

// isSpace reports whether c separates tokens.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// isOpChar reports whether c can be part of a comparison operator.
func isOpChar(c byte) bool { return c == '<' || c == '>' || c == '=' || c == '!' }

// ParseThreshold parses a threshold expression: METRIC OP VALUE[UNIT] such
// as "refresh.p99 < 250ms", "refresh.error_rate<1%" or "requests.lost == 0".
// Spaces around the operator (and between value and unit) are optional.
// Operators: < <= > >= == !=. Units: ms and s for latencies (none means
// ms), % for rates (none means a fraction 0..1), none for counts and ratios.
// ThresholdMetrics lists the metrics. An error is a *ThresholdError naming
// the offending token and its column; for an unknown metric it lists every
// valid name.
func ParseThreshold(expr string) (Threshold, error) {
	col := func(i int) int { return utf8.RuneCountInString(expr[:i]) + 1 }
	fail := func(i int, err error, format string, args ...any) (Threshold, error) {
		c := 0
		if i >= 0 {
			c = col(i)
		}
		return Threshold{}, &ThresholdError{Expr: expr, Column: c, Reason: fmt.Sprintf(format, args...), Err: err}
	}
	skip := func(i int) int {
		for i < len(expr) && isSpace(expr[i]) {
			i++
		}
		return i
	}
	word := func(i int) int { // end of the run of non-space bytes from i
		for i < len(expr) && !isSpace(expr[i]) {
			i++
		}
		return i
	}
	opList := strings.Join(thresholdOps, " ")

	i := skip(0)
	if i == len(expr) {
		return fail(-1, nil, `empty: want METRIC OP VALUE such as "refresh.p99 < 250ms"`)
	}

	// METRIC: up to a space or an operator character.
	mStart := i
	for i < len(expr) && !isSpace(expr[i]) && !isOpChar(expr[i]) {
		i++
	}
	metric := expr[mStart:i]
	if metric == "" {
		return fail(mStart, nil, "missing metric at column %d: want METRIC OP VALUE such as \"refresh.p99 < 250ms\"", col(mStart))
	}
	def, known := metricTable[metric]
	if !known {
		hint := ""
		if s := suggestMetric(metric); s != "" {
			hint = fmt.Sprintf(" (did you mean %q?)", s)
		}
		return fail(mStart, nil, "unknown metric %q at column %d%s; metrics: %s", metric, col(mStart), hint, metricListing)
	}

	// OP: a run of operator characters.
	i = skip(i)
	opStart := i
	for i < len(expr) && isOpChar(expr[i]) {
		i++
	}
	op := expr[opStart:i]
	switch {
	case opStart == len(expr):
		return fail(opStart, nil, "missing operator after %q at column %d (want one of %s)", metric, col(opStart), opList)
	case op == "":
		return fail(opStart, nil, "want an operator at column %d, got %q (want one of %s)", col(opStart), expr[opStart:word(opStart)], opList)
	case !slices.Contains(thresholdOps, op):
		return fail(opStart, nil, "unknown operator %q at column %d (want one of %s)", op, col(opStart), opList)
	}

	// VALUE: a decimal number.
	i = skip(i)
	vs := i
	if vs == len(expr) {
		return fail(vs, nil, "missing value after %q at column %d: want a number such as 250ms, 1%% or 0", op, col(vs))
	}
	i = scanNumber(expr, vs)
	if i == vs {
		return fail(vs, nil, "bad number %q at column %d: want a number such as 250ms, 1%% or 0", expr[vs:word(vs)], col(vs))
	}
	limit, err := strconv.ParseFloat(expr[vs:i], 64)
	if err != nil || math.IsInf(limit, 0) || math.IsNaN(limit) {
		if err == nil {
			err = strconv.ErrRange
		}
		return fail(vs, err, "bad number %q at column %d: out of range", expr[vs:i], col(vs))
	}

	// UNIT: optional, after optional spaces.
	i = skip(i)
	us := i
	i = word(i)
	unit := expr[us:i]
	if us < len(expr) && unit != "ms" && unit != "s" && unit != "%" {
		return fail(us, nil, "unknown unit %q at column %d (want ms, s or %%)", unit, col(us))
	}
	if end := skip(i); end < len(expr) {
		return fail(end, nil, "unexpected %q at column %d after the value", expr[end:word(end)], col(end))
	}

	// The unit must fit the metric.
	switch def.kind {
	case KindLatency:
		switch unit {
		case "":
			unit = "ms"
		case "%":
			return fail(us, nil, "unit %q at column %d does not fit %s, which is a latency (want ms or s)", unit, col(us), metric)
		}
	case KindRate:
		if unit != "" && unit != "%" {
			return fail(us, nil, "unit %q at column %d does not fit %s, which is a rate (want %% or a fraction 0..1 without unit)", unit, col(us), metric)
		}
	default:
		if unit != "" {
			return fail(us, nil, "unit %q at column %d does not fit %s, which is %s (want a plain number)", unit, col(us), metric, def.kind)
		}
	}
	return Threshold{Expr: expr, Metric: metric, Kind: def.kind, Op: op, Limit: limit, Unit: unit}, nil
}

// scanNumber returns the end of the decimal number at s[i:] (optional sign,
// digits with an optional fraction, optional exponent); i when there is none.
func scanNumber(s string, i int) int {
	start := i
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	n := digits()
	if i < len(s) && s[i] == '.' {
		i++
		n += digits()
	}
	if n == 0 {
		return start
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			i = j // "5e" or "5es": the e is not an exponent
		}
	}
	return i
}

// suggestMetric returns the metric name closest to name when it is close
// enough to be a likely typo, else "".
func suggestMetric(name string) string {
	best, bestD := "", 3
	for _, m := range ThresholdMetrics() {
		if d := editDistance(name, m, bestD); d < bestD {
			best, bestD = m, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b, or limit when it is
// at least limit.
func editDistance(a, b string, limit int) int {
	if d := len(a) - len(b); d >= limit || -d >= limit {
		return limit
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin >= limit {
			return limit
		}
		prev, cur = cur, prev
	}
	return min(prev[len(b)], limit)
}

// String writes the threshold in canonical form, "refresh.p99 < 250ms",
// which parses back to the same metric, operator, limit and unit.
func (t Threshold) String() string {
	return t.Metric + " " + t.Op + " " + strconv.FormatFloat(t.Limit, 'g', -1, 64) + t.Unit
}

// Value reads the threshold's metric from r, in the threshold's Unit.
func (t Threshold) Value(r *Result) float64 {
	def, ok := metricTable[t.Metric]
	if !ok {
		return math.NaN()
	}
	v := def.get(r)
	switch t.Unit {
	case "s":
		v /= 1000
	case "%":
		v *= 100
	}
	return v
}

// Holds reports whether value v (in the threshold's Unit) meets the
// threshold. Values within a relative 1e-9 of the limit count as equal, so
// "refresh.error_rate == 0.3%" holds for 3 errors in 1,000 despite
// floating point. NaN never holds.
func (t Threshold) Holds(v float64) bool {
	if math.IsNaN(v) {
		return false
	}
	l := t.Limit
	eq := v == l || math.Abs(v-l) <= 1e-9*max(1, math.Abs(v), math.Abs(l))
	switch t.Op {
	case "<":
		return v < l && !eq
	case "<=":
		return v < l || eq
	case ">":
		return v > l && !eq
	case ">=":
		return v > l || eq
	case "==":
		return eq
	case "!=":
		return !eq
	}
	return false
}

// Check evaluates the threshold on r: the metric's value in the
// threshold's unit and whether it holds. The value is kept finite so that
// result.json can hold it: NaN becomes 0 (and fails), ±Inf the largest float.
func (t Threshold) Check(r *Result) ThresholdResult {
	v := t.Value(r)
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
func parseAll(ths []profiles.Threshold) ([]Threshold, error) {
	out := make([]Threshold, len(ths))
	var errs []error
	for i, th := range ths {
		t, err := ParseThreshold(th.Expr)
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
// the value in the expression's unit, whether it held), and r.Verdict to
// "pass" when every one held or there were none, "fail" otherwise. A
// threshold that does not parse is an error (every one is reported,
// joined) and leaves r unchanged: validate thresholds with ParseThreshold
// before the run.
func Evaluate(r *Result, ths []profiles.Threshold) error {
	parsed, err := parseAll(ths)
	if err != nil {
		return err
	}
	r.Thresholds = make([]ThresholdResult, len(parsed))
	r.Verdict = VerdictPass
	for i, t := range parsed {
		tr := t.Check(r)
		tr.AbortOnFail = ths[i].AbortOnFail
		r.Thresholds[i] = tr
		if !tr.OK {
			r.Verdict = VerdictFail
		}
	}
	return nil
}

// CheckAbort evaluates only the thresholds of ths marked abort_on_fail, on
// r (a live snapshot of a running test), and returns the first that fails
// with its index in ths; index is -1 when all of them hold. Parse errors
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
		if tr := t.Check(r); !tr.OK {
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
// "✓ refresh.p99 < 250ms (value 5.75 ms)", "✗ ..." when it failed, noting
// a threshold that stopped the run.
func ThresholdLine(t ThresholdResult) string {
	mark := "✓"
	if !t.OK {
		mark = "✗"
	}
	value := fmtFigure(t.Value)
	if th, err := ParseThreshold(t.Expr); err == nil {
		value = renderWithUnit(value, th.Unit)
	}
	line := fmt.Sprintf("%s %s (value %s)", mark, strings.TrimSpace(t.Expr), value)
	if t.Aborted {
		line += ": stopped the run (abort_on_fail)"
	}
	return line
}
