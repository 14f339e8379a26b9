package reports

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseThreshold checks that ParseThreshold never panics, that every
// error is a one-line *ThresholdError pointing inside the expression, and
// that every threshold it accepts is well formed, prints back to itself and
// compares consistently.
func FuzzParseThreshold(f *testing.F) {
	for _, tc := range parseCases {
		f.Add(tc.expr)
	}
	r := evalResult()
	f.Fuzz(func(t *testing.T, expr string) {
		th, err := ParseThreshold(expr)
		if err != nil {
			var te *ThresholdError
			if !errors.As(err, &te) || te.Expr != expr {
				t.Fatalf("%q: error %#v is not a *ThresholdError for the expression", expr, err)
			}
			if te.Column < 0 || te.Column > utf8.RuneCountInString(expr)+1 {
				t.Fatalf("%q: column %d outside the expression", expr, te.Column)
			}
			if te.Reason == "" || strings.Contains(te.Reason, "\n") {
				t.Fatalf("%q: reason %q", expr, te.Reason)
			}
			return
		}
		kind, ok := MetricKindOf(th.Metric)
		if !ok || kind != th.Kind || th.Expr != expr || !slices.Contains(thresholdOps, th.Op) ||
			math.IsNaN(th.Limit) || math.IsInf(th.Limit, 0) {
			t.Fatalf("%q: accepted as %+v", expr, th)
		}
		switch th.Kind {
		case KindLatency:
			ok = th.Unit == "ms" || th.Unit == "s"
		case KindRate:
			ok = th.Unit == "" || th.Unit == "%"
		default:
			ok = th.Unit == ""
		}
		if !ok {
			t.Fatalf("%q: unit %q for %s", expr, th.Unit, th.Kind)
		}
		back, err := ParseThreshold(th.String())
		if err != nil {
			t.Fatalf("%q: canonical form %q does not parse: %v", expr, th.String(), err)
		}
		back.Expr = th.Expr
		if back != th {
			t.Fatalf("%q → %q → %+v, want %+v", expr, th.String(), back, th)
		}
		// Opposite operators disagree on every value.
		tr := th.Check(r)
		neg := th
		neg.Op = map[string]string{"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}[th.Op]
		if neg.Check(r).OK == tr.OK {
			t.Fatalf("%q and its negation %s agree (%v) on %g", expr, neg.Op, tr.OK, tr.Value)
		}
	})
}
