package threshold

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseThreshold checks that Parse never panics, that every error is a one-line
// *Error pointing inside the expression, and that every threshold it
// accepts is well formed, prints back to itself and compares consistently.
func FuzzParseThreshold(f *testing.F) {
	for _, tc := range parseCases {
		f.Add(tc.expr)
	}
	negation := map[Op]Op{Less: GreaterEqual, LessEqual: Greater, Greater: LessEqual, GreaterEqual: Less, Equal: NotEqual, NotEqual: Equal}
	f.Fuzz(func(t *testing.T, expr string) {
		th, err := Parse(expr)
		if err != nil {
			var te *Error
			if !errors.As(err, &te) || te.Expr != expr {
				t.Fatalf("%q: error %#v is not an *Error for the expression", expr, err)
			}
			if te.Column < 0 || te.Column > utf8.RuneCountInString(expr)+1 {
				t.Fatalf("%q: column %d outside the expression", expr, te.Column)
			}
			if te.Reason == "" || strings.Contains(te.Reason, "\n") {
				t.Fatalf("%q: reason %q", expr, te.Reason)
			}
			return
		}
		m, ok := Lookup(th.Metric)
		if !ok || m.Kind != th.Kind || th.Expr != expr || !slices.Contains(operators, th.Op) ||
			math.IsNaN(th.Limit) || math.IsInf(th.Limit, 0) {
			t.Fatalf("%q: accepted as %+v", expr, th)
		}
		switch th.Kind {
		case Latency:
			ok = th.Unit == "ms" || th.Unit == "s"
		case Rate:
			ok = th.Unit == "" || th.Unit == "%"
		default:
			ok = th.Unit == ""
		}
		if !ok {
			t.Fatalf("%q: unit %q for %s", expr, th.Unit, th.Kind)
		}
		back, err := Parse(th.String())
		if err != nil {
			t.Fatalf("%q: canonical form %q does not parse: %v", expr, th.String(), err)
		}
		back.Expr = th.Expr
		if back != th {
			t.Fatalf("%q → %q → %+v, want %+v", expr, th.String(), back, th)
		}
		// Opposite operators disagree on every value: below, at and above
		// the limit, and on figures of every size.
		neg := th
		neg.Op = negation[th.Op]
		for _, v := range []float64{th.Limit, th.Limit - 1, th.Limit + 1, th.Limit * (1 + 1e-12), 0, 312.4, -math.MaxFloat64, math.MaxFloat64} {
			if th.Holds(v) == neg.Holds(v) {
				t.Fatalf("%q and its negation %s agree (%v) on %g", expr, neg.Op, th.Holds(v), v)
			}
		}
	})
}
