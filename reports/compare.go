package reports

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Comparison is a baseline result held against a new one, metric by metric.
type Comparison struct {
	BaseRunID, NewRunID string
	// MaxRegression is the largest change in the bad direction that is
	// tolerated, as a fraction (0.1 for 10%).
	MaxRegression float64
	Metrics       []MetricChange
	// Notes are what could not be compared (an operation with data on one
	// side only) and differences a reader should know (other profiles).
	Notes []string
}

// MetricChange is one metric in both results. Every metric compared is
// worse when higher: latencies, error rates, herd ratios, lost requests,
// forced sign-outs.
type MetricChange struct {
	Name string
	// Unit is what Base and New are in: "ms", "%" or "" for counts and ratios.
	Unit      string
	Base, New float64
	// Change is (New − Base) / Base: 0 when both are 0, +Inf when only Base is.
	Change float64
	// Regression: Change is past the comparison's MaxRegression.
	Regression bool
}

// Regressions returns the metrics that regressed past the limit.
func (c Comparison) Regressions() []MetricChange {
	var out []MetricChange
	for _, m := range c.Metrics {
		if m.Regression {
			out = append(out, m)
		}
	}
	return out
}

// Regressed reports whether any metric regressed past the limit.
func (c Comparison) Regressed() bool { return len(c.Regressions()) > 0 }

// Compare holds cur against base: for each operation with data in both,
// the p50, p95, p99 and max latency (from the histograms where the results
// carry them) and the error rate; then herd.peak_to_mean,
// herd.amplification, requests.lost and sessions.forced_signouts. A metric
// regresses when it grew by more than maxRegression (a fraction) of its
// base; from a base of 0, any increase is a regression.
func Compare(base, cur *Result, maxRegression float64) Comparison {
	c := Comparison{BaseRunID: base.RunID, NewRunID: cur.RunID, MaxRegression: maxRegression}
	add := func(name, unit string, b, n float64) {
		m := MetricChange{Name: name, Unit: unit, Base: b, New: n, Change: relativeChange(b, n)}
		m.Regression = m.Change > maxRegression
		c.Metrics = append(c.Metrics, m)
	}
	if base.Profile.Name != cur.Profile.Name {
		c.Notes = append(c.Notes, fmt.Sprintf("the runs used different profiles: %q and %q", base.Profile.Name, cur.Profile.Name))
	}
	for _, name := range OpNames {
		bo, no := base.Ops[name], cur.Ops[name]
		bHas, nHas := bo != nil && bo.Count > 0, no != nil && no.Count > 0
		switch {
		case !bHas && !nHas:
			continue
		case !nHas:
			c.Notes = append(c.Notes, fmt.Sprintf("%s: no data in the new result", name))
			continue
		case !bHas:
			c.Notes = append(c.Notes, fmt.Sprintf("%s: no data in the base result", name))
			continue
		}
		bl, nl := compareLatency(bo), compareLatency(no)
		add(name+".p50", "ms", bl.P50, nl.P50)
		add(name+".p95", "ms", bl.P95, nl.P95)
		add(name+".p99", "ms", bl.P99, nl.P99)
		add(name+".max", "ms", bl.Max, nl.Max)
		add(name+".error_rate", "%", 100*float64(bo.ErrorCount())/float64(bo.Count), 100*float64(no.ErrorCount())/float64(no.Count))
	}
	add("herd.peak_to_mean", "", base.Herd.PeakToMean, cur.Herd.PeakToMean)
	add("herd.amplification", "", base.Herd.Amplification, cur.Herd.Amplification)
	add("requests.lost", "", float64(base.Requests.Lost), float64(cur.Requests.Lost))
	add("sessions.forced_signouts", "", float64(base.Sessions.ForcedSignouts), float64(cur.Sessions.ForcedSignouts))
	return c
}

// compareLatency is an operation's latency summary, computed from its
// histogram when it has a readable one, else the summary it carries.
func compareLatency(o *Op) Summary {
	if o.HDR != "" {
		if h, err := DecodeHistogram(o.HDR); err == nil && h.TotalCount() > 0 {
			return Summarize(h)
		}
	}
	return o.LatencyMs
}

// relativeChange is (n − b) / b, with 0 for 0 → 0 and ±Inf from a zero base.
func relativeChange(b, n float64) float64 {
	switch {
	case b == n:
		return 0
	case b == 0:
		return math.Inf(int(math.Copysign(1, n)))
	default:
		return (n - b) / math.Abs(b)
	}
}

// WriteComparison prints c as a table (metric, base, new, change, flag),
// then its notes and a closing line that says whether anything regressed.
func WriteComparison(w io.Writer, c Comparison) error {
	var b strings.Builder
	limit := strconv.FormatFloat(100*c.MaxRegression, 'f', -1, 64) + "%"
	fmt.Fprintf(&b, "base %s → new %s · max regression %s\n\n", c.BaseRunID, c.NewRunID, limit)
	var table strings.Builder
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "metric\tbase\tnew\tchange\tflag")
	for _, m := range c.Metrics {
		flag := ""
		switch {
		case m.Regression:
			flag = "REGRESSION"
		case m.Change < -c.MaxRegression:
			flag = "improved"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", m.Name, fmtMetric(m.Base, m.Unit), fmtMetric(m.New, m.Unit), fmtChange(m.Change), flag)
	}
	tw.Flush()
	for _, line := range strings.SplitAfter(table.String(), "\n") {
		b.WriteString(strings.TrimRight(line, " \n"))
		if strings.HasSuffix(line, "\n") {
			b.WriteString("\n")
		}
	}
	for _, n := range c.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	if r := c.Regressions(); len(r) > 0 {
		names := make([]string, len(r))
		for i, m := range r {
			names[i] = m.Name
		}
		fmt.Fprintf(&b, "\n%d regression(s) past %s: %s\n", len(r), limit, strings.Join(names, ", "))
	} else {
		fmt.Fprintf(&b, "\nno regression past %s\n", limit)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// fmtMetric formats a compared value with its unit.
func fmtMetric(v float64, unit string) string {
	switch unit {
	case "ms":
		return ms(v) + " ms"
	case "%":
		return fmt.Sprintf("%.2f%%", v)
	default:
		return fmtFigure(v)
	}
}

// fmtChange formats a relative change as a signed percentage.
func fmtChange(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "+∞"
	case math.IsInf(f, -1):
		return "-∞"
	case f == 0:
		return "0%"
	}
	return fmt.Sprintf("%+.1f%%", 100*f)
}
