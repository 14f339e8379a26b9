// Package threshold is the grammar of stampede's thresholds, the pass/fail
// gates on a run's result written METRIC OP VALUE[UNIT]: "refresh.p99 <
// 250ms", "requests.lost == 0", "herd.peak_to_mean < 4". It knows the
// metric names and their kinds, the operators and the units, and compares
// a measured value with a limit; reading a metric's value from a result is
// the reports package's part. It imports nothing of stampede, so profiles
// (to validate a profile's thresholds) and reports (to evaluate them) can
// both use it. See docs/profiles.md for the list of metrics.
package threshold

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Op is a comparison operator.
type Op string

// Operators.
const (
	Less         Op = "<"
	LessEqual    Op = "<="
	Greater      Op = ">"
	GreaterEqual Op = ">="
	Equal        Op = "=="
	NotEqual     Op = "!="
)

// operators lists the operators in the order messages give them.
var operators = []Op{Less, LessEqual, Greater, GreaterEqual, Equal, NotEqual}

// Threshold is a parsed threshold expression, METRIC OP VALUE[UNIT].
type Threshold struct {
	// Expr is the expression as written.
	Expr   string
	Metric string
	Kind   Kind
	Op     Op
	// Limit is the value the metric is held against, in Unit.
	Limit float64
	// Unit is the unit of Limit and of the value compared with it: "ms" or
	// "s" for a latency (a latency written without unit is in "ms"), "%" or
	// "" (a fraction 0..1) for a rate, "" for counts and ratios.
	Unit string
}

// Error is a threshold expression that does not parse. Error() gives
// `threshold "EXPR": REASON`, on one line.
type Error struct {
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
func (e *Error) Error() string { return fmt.Sprintf("threshold %s: %s", quoteExpr(e.Expr), e.Reason) }

// MaxExprBytes bounds a threshold expression: a longer one is refused
// without being parsed or repeated in full.
const MaxExprBytes = 256

// quoteExpr quotes an expression for a message, cut to MaxExprBytes with
// its size when longer.
func quoteExpr(s string) string {
	if len(s) <= MaxExprBytes {
		return strconv.Quote(s)
	}
	cut := 64
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%q… (%d bytes)", s[:cut], len(s))
}

// Unwrap returns the underlying error, if any.
func (e *Error) Unwrap() error { return e.Err }

// isSpace reports whether c separates tokens.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// isOpChar reports whether c can be part of a comparison operator.
func isOpChar(c byte) bool { return c == '<' || c == '>' || c == '=' || c == '!' }

// Parse parses a threshold expression: METRIC OP VALUE[UNIT] such as
// "refresh.p99 < 250ms", "refresh.error_rate<1%" or "requests.lost == 0".
// Spaces around the operator (and between value and unit) are optional.
// Operators: < <= > >= == !=. Units: ms and s for latencies (none means
// ms), % for rates (none means a fraction 0..1), none for counts and
// ratios. Metrics lists the metrics. An error is an *Error naming the
// offending token and its column; for an unknown metric it lists every
// valid name.
func Parse(expr string) (Threshold, error) {
	if len(expr) > MaxExprBytes {
		return Threshold{}, &Error{Expr: expr, Reason: fmt.Sprintf("too long: %d bytes, at most %d", len(expr), MaxExprBytes)}
	}
	col := func(i int) int { return utf8.RuneCountInString(expr[:i]) + 1 }
	fail := func(i int, err error, format string, args ...any) (Threshold, error) {
		c := 0
		if i >= 0 {
			c = col(i)
		}
		return Threshold{}, &Error{Expr: expr, Column: c, Reason: fmt.Sprintf(format, args...), Err: err}
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
	opNames := make([]string, len(operators))
	for i, o := range operators {
		opNames[i] = string(o)
	}
	opList := strings.Join(opNames, " ")

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
	m, known := Lookup(metric)
	if !known {
		hint := ""
		if s := suggest(metric); s != "" {
			hint = fmt.Sprintf(" (did you mean %q?)", s)
		}
		return fail(mStart, nil, "unknown metric %q at column %d%s; metrics: %s", metric, col(mStart), hint, listing)
	}

	// OP: a run of operator characters.
	i = skip(i)
	opStart := i
	for i < len(expr) && isOpChar(expr[i]) {
		i++
	}
	op := Op(expr[opStart:i])
	switch {
	case opStart == len(expr):
		return fail(opStart, nil, "missing operator after %q at column %d (want one of %s)", metric, col(opStart), opList)
	case op == "":
		return fail(opStart, nil, "want an operator at column %d, got %q (want one of %s)", col(opStart), expr[opStart:word(opStart)], opList)
	case !slices.Contains(operators, op):
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
	switch m.Kind {
	case Latency:
		switch unit {
		case "":
			unit = "ms"
		case "%":
			return fail(us, nil, "unit %q at column %d does not fit %s, which is a latency (want ms or s)", unit, col(us), metric)
		}
	case Rate:
		if unit != "" && unit != "%" {
			return fail(us, nil, "unit %q at column %d does not fit %s, which is a rate (want %% or a fraction 0..1 without unit)", unit, col(us), metric)
		}
	default:
		if unit != "" {
			return fail(us, nil, "unit %q at column %d does not fit %s, which is %s (want a plain number)", unit, col(us), metric, m.Kind)
		}
	}
	return Threshold{Expr: expr, Metric: metric, Kind: m.Kind, Op: op, Limit: limit, Unit: unit}, nil
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

// String writes the threshold in canonical form, "refresh.p99 < 250ms",
// which parses back to the same metric, operator, limit and unit.
func (t Threshold) String() string {
	return t.Metric + " " + string(t.Op) + " " + strconv.FormatFloat(t.Limit, 'g', -1, 64) + t.Unit
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
	case Less:
		return v < l && !eq
	case LessEqual:
		return v < l || eq
	case Greater:
		return v > l && !eq
	case GreaterEqual:
		return v > l || eq
	case Equal:
		return eq
	case NotEqual:
		return !eq
	}
	return false
}

// InUnit converts a metric's figure as a result records it (milliseconds
// for a latency, a fraction 0..1 for a rate, the plain number otherwise)
// to the threshold's Unit: seconds for "s", a percentage for "%".
func (t Threshold) InUnit(v float64) float64 {
	switch t.Unit {
	case "s":
		return v / 1000
	case "%":
		return v * 100
	}
	return v
}
