package reports

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/stampede-load/stampede/profiles/threshold"
)

// ErrUnknownFormat is returned (wrapped) by Render for a format it does not know.
var ErrUnknownFormat = errors.New("unknown report format")

// ErrInvalidResult is returned (wrapped) by a renderer when the result holds
// data it cannot read, such as a corrupt histogram.
var ErrInvalidResult = errors.New("invalid result")

// renderer is one output format of Render.
type renderer struct {
	name  string
	write func(io.Writer, *Result) error
}

// renderers lists the formats of Render in the order Formats reports them.
var renderers = []renderer{
	{"text", WriteText},
	{"json", WriteJSON},
	{"html", WriteHTML},
	{"junit", WriteJUnit},
	{"markdown", WriteMarkdown},
	{"hgrm", func(w io.Writer, r *Result) error { return WriteHgrm(w, r) }},
}

// Formats lists the formats Render accepts.
func Formats() []string {
	names := make([]string, len(renderers))
	for i, f := range renderers {
		names[i] = f.name
	}
	return names
}

// Render writes r to w in the named format (see Formats). An unknown format
// gives an error wrapping ErrUnknownFormat that lists the formats.
func Render(w io.Writer, r *Result, format string) error {
	for _, f := range renderers {
		if f.name == format {
			return f.write(w, r)
		}
	}
	return fmt.Errorf("%w %q; formats: %s", ErrUnknownFormat, format, strings.Join(Formats(), ", "))
}

// WriteJSON writes r as indented JSON, byte for byte what WriteFile puts in
// result.json.
func WriteJSON(w io.Writer, r *Result) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode result: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// fmtFigure formats v with at most three decimals and no trailing zeros.
func fmtFigure(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	s := strconv.FormatFloat(math.Round(v*1000)/1000, 'f', -1, 64)
	if s == "-0" {
		return "0"
	}
	return s
}

// renderExprParts splits a threshold expression "METRIC OP LIMIT" into its
// metric, operator and limit, and the limit's unit ("ms", "s", "%" or "").
// ok is false when expr has no comparison operator.
func renderExprParts(expr string) (metric, op, limit, unit string, ok bool) {
	i := strings.IndexAny(expr, "<>=!")
	if i < 0 {
		return "", "", "", "", false
	}
	metric = strings.TrimSpace(expr[:i])
	op = expr[i : i+1]
	if i+1 < len(expr) && expr[i+1] == '=' {
		op = expr[i : i+2]
	}
	limit = strings.TrimSpace(expr[i+len(op):])
	for _, u := range []string{"ms", "s", "%"} {
		if n, found := strings.CutSuffix(limit, u); found {
			if _, err := strconv.ParseFloat(strings.TrimSpace(n), 64); err == nil {
				return metric, op, strings.TrimSpace(n), u, true
			}
		}
	}
	return metric, op, limit, "", true
}

// renderWithUnit joins a number and its unit as a reader expects: "250 ms", "1%", "4".
func renderWithUnit(v, unit string) string {
	switch unit {
	case "":
		return v
	case "%":
		return v + "%"
	default:
		return v + " " + unit
	}
}

// thresholdValueText formats a threshold's measured value in the unit of its limit.
// A threshold without data reads "no data: refresh had no samples"
// ("…, allowed" when the threshold allows it).
func thresholdValueText(t ThresholdResult) string {
	if t.NoData {
		s := "no data"
		if th, err := threshold.Parse(t.Expr); err == nil {
			if op, ok := threshold.SampledOp(th.Metric); ok {
				s += ": " + op + " had no samples"
			}
		}
		if t.AllowNoData {
			s += ", allowed"
		}
		return s
	}
	_, _, _, unit, _ := renderExprParts(t.Expr)
	return renderWithUnit(fmtFigure(t.Value), unit)
}

// thresholdFailureText explains a threshold's outcome in one line:
// "refresh.p99 = 312.4 ms, limit < 250 ms".
func thresholdFailureText(t ThresholdResult) string {
	if t.NoData {
		return strings.TrimSpace(t.Expr) + ": " + thresholdValueText(t)
	}
	metric, op, limit, unit, ok := renderExprParts(t.Expr)
	if !ok {
		return fmt.Sprintf("%s: value %s", t.Expr, fmtFigure(t.Value))
	}
	return fmt.Sprintf("%s = %s, limit %s %s", metric, renderWithUnit(fmtFigure(t.Value), unit), op, renderWithUnit(limit, unit))
}

// countFailedThresholds counts the thresholds of r that did not hold.
func countFailedThresholds(r *Result) int {
	n := 0
	for _, t := range r.Thresholds {
		if !t.OK {
			n++
		}
	}
	return n
}
