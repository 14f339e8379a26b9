package reports

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html/template"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
)

// comparisonRenderers are the formats of RenderComparison, in order.
var comparisonRenderers = []struct {
	name  string
	write func(io.Writer, Comparison) error
}{
	{"text", WriteComparison},
	{"json", WriteComparisonJSON},
	{"markdown", WriteComparisonMarkdown},
	{"junit", WriteComparisonJUnit},
	{"html", WriteComparisonHTML},
}

// ComparisonFormats lists the formats RenderComparison accepts.
func ComparisonFormats() []string {
	out := make([]string, len(comparisonRenderers))
	for i, r := range comparisonRenderers {
		out[i] = r.name
	}
	return out
}

// RenderComparison writes c in the named format (see ComparisonFormats);
// an unknown one gives an error wrapping ErrUnknownFormat.
func RenderComparison(w io.Writer, c Comparison, format string) error {
	for _, r := range comparisonRenderers {
		if r.name == format {
			return r.write(w, c)
		}
	}
	return fmt.Errorf("%w %q; formats: %s", ErrUnknownFormat, format, strings.Join(ComparisonFormats(), ", "))
}

// verdictWord is how every rendering shows m's verdict: failures in
// capitals.
func verdictWord(m MetricChange) string {
	if m.Failed {
		return strings.ToUpper(m.Verdict)
	}
	return m.Verdict
}

// fmtDiff formats a difference with its unit and the relative change.
func fmtDiff(m MetricChange) string {
	if m.Verdict == VerdictNoData {
		return "—"
	}
	d := fmtSigned(m.Diff, m.Unit)
	return d + " (" + fmtChange(float64(m.Change)) + ")"
}

// fmtSigned formats a signed figure in unit.
func fmtSigned(v float64, unit string) string {
	sign := "+"
	if v < 0 || (v == 0 && math.Signbit(v)) {
		sign = "-"
	}
	s := fmtMetric(math.Abs(v), unit)
	if unit == "%" {
		s = strings.TrimSuffix(s, "%") + " pp"
	}
	return sign + s
}

// fmtInterval formats the interval of the difference, or "—".
func fmtInterval(m MetricChange) string {
	if m.Interval == nil || m.Verdict == VerdictNoData {
		return "—"
	}
	unit := m.Unit
	suffix := ""
	switch unit {
	case "ms":
		suffix = " ms"
	case "%":
		suffix = " pp"
	}
	f := func(v float64) string {
		s := fmtMetric(math.Abs(v), "")
		if unit == "ms" {
			s = ms(math.Abs(v))
		} else if unit == "%" {
			s = fmt.Sprintf("%.2f", math.Abs(v))
		}
		if v < 0 {
			return "-" + s
		}
		return "+" + s
	}
	return "[" + f(m.Interval.Low) + ", " + f(m.Interval.High) + "]" + suffix
}

// fmtThreshold formats what the difference must exceed to count.
func fmtThreshold(m MetricChange) string {
	if !m.Gated {
		return "—"
	}
	s := fmtMetric(m.Threshold, m.Unit)
	if m.Unit == "%" {
		s = strings.TrimSuffix(s, "%") + " pp"
	}
	return "±" + s
}

// comparisonHeader is the first line of the text and Markdown renderings.
func comparisonHeader(c Comparison) string {
	var b strings.Builder
	if len(c.BaseRunIDs) == 1 {
		fmt.Fprintf(&b, "base %s → new %s", c.BaseRunIDs[0], c.NewRunID)
	} else {
		fmt.Fprintf(&b, "%d baselines (%s; their spread widens every interval) → new %s", len(c.BaseRunIDs), strings.Join(c.BaseRunIDs, ", "), c.NewRunID)
	}
	fmt.Fprintf(&b, " · max change %s · %s", fmtLimit(c.MaxRegression), intervalNote(c))
	if c.Budget != "" {
		fmt.Fprintf(&b, " · budget %s", c.Budget)
	}
	return b.String()
}

// intervalNote names the interval method and level.
func intervalNote(c Comparison) string {
	return fmt.Sprintf("%s intervals (latency percentiles: bootstrap, %d resamples)", fmtLimit(c.Level), c.Resamples)
}

func fmtLimit(f float64) string { return strconv.FormatFloat(100*f, 'f', -1, 64) + "%" }

// comparisonClosing is the last line: what failed, or that nothing did.
func comparisonClosing(c Comparison) string {
	f := c.Failures()
	if len(f) == 0 {
		gated := 0
		for _, m := range c.Metrics {
			if m.Gated {
				gated++
			}
		}
		return fmt.Sprintf("no regression: %d gated metric(s) within their floors, limits and noise", gated)
	}
	names := make([]string, len(f))
	for i, m := range f {
		names[i] = m.Name
		if m.Verdict == VerdictNoData {
			names[i] += " (no data)"
		}
	}
	return fmt.Sprintf("%d regression(s): %s", len(f), strings.Join(names, ", "))
}

// noDataWhere names the runs without data of m: "the new run", "the base
// run", "2 of 3 baselines", "the base and new runs".
func noDataWhere(m MetricChange) string {
	switch m.NoDataIn {
	case "", "new":
		return "the new run"
	case "base":
		return "the base run"
	case "base and new":
		return "the base and new runs"
	}
	return m.NoDataIn
}

// comparisonColumns are the table's columns in every rendering.
func comparisonColumns(c Comparison) []string {
	return []string{"metric", "base", "new", "change", fmtLimit(c.Level) + " interval", "threshold", "verdict"}
}

// comparisonRow is m's cells under comparisonColumns.
func comparisonRow(m MetricChange) []string {
	base, cur := fmtMetric(m.Base, m.Unit), fmtMetric(m.New, m.Unit)
	if m.Verdict == VerdictNoData {
		if strings.Contains(m.NoDataIn, "new") || m.NoDataIn == "" {
			cur = "no data"
			if m.Base == 0 {
				base = "—"
			}
		}
		if strings.Contains(m.NoDataIn, "base") {
			base = "no data"
			if m.NoDataIn != "base" && m.NoDataIn != "base and new" {
				base = "no data in " + strings.TrimSuffix(m.NoDataIn, " and new")
			}
		}
	}
	return []string{m.Name, base, cur, fmtDiff(m), fmtInterval(m), fmtThreshold(m), verdictWord(m)}
}

// WriteComparison prints c as a table (metric, base, new, change, the
// interval of the change, the threshold it must exceed, the verdict),
// then its notes and a closing line naming what regressed.
func WriteComparison(w io.Writer, c Comparison) error {
	var b strings.Builder
	b.WriteString(comparisonHeader(c) + "\n\n")
	var table strings.Builder
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(comparisonColumns(c), "\t"))
	for _, m := range c.Metrics {
		fmt.Fprintln(tw, strings.Join(comparisonRow(m), "\t"))
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
	b.WriteString("\n" + comparisonClosing(c) + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteComparisonJSON writes c as indented JSON (schema stampede.compare/v1).
func WriteComparisonJSON(w io.Writer, c Comparison) error {
	v := struct {
		Comparison
		Regressed bool     `json:"regressed"`
		Failures  []string `json:"failures"`
	}{Comparison: c, Regressed: c.Regressed(), Failures: []string{}}
	for _, m := range c.Failures() {
		v.Failures = append(v.Failures, m.Name)
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode comparison: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// WriteComparisonMarkdown writes c as GitHub-flavoured Markdown, for a pull
// request comment or a job summary.
func WriteComparisonMarkdown(w io.Writer, c Comparison) error {
	var b strings.Builder
	status := "✅ no regression"
	if c.Regressed() {
		status = fmt.Sprintf("❌ %d regression(s)", len(c.Failures()))
	}
	fmt.Fprintf(&b, "## stampede compare: %s\n\n%s\n\n", status, mdOneLine(comparisonHeader(c)))
	cols := comparisonColumns(c)
	b.WriteString("| " + strings.Join(cols, " | ") + " |\n|")
	for i := range cols {
		if i == 0 || i == len(cols)-1 {
			b.WriteString("---|")
		} else {
			b.WriteString("---:|")
		}
	}
	b.WriteString("\n")
	for _, m := range c.Metrics {
		row := comparisonRow(m)
		for i := range row {
			row[i] = mdCell(row[i])
		}
		row[0] = mdCode(m.Name)
		if m.Failed {
			row[len(row)-1] = "**" + row[len(row)-1] + "**"
		}
		b.WriteString("| " + strings.Join(row, " | ") + " |\n")
	}
	b.WriteString("\n")
	for _, n := range c.Notes {
		fmt.Fprintf(&b, "- note: %s\n", mdOneLine(n))
	}
	if len(c.Notes) > 0 {
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "**%s**\n", mdOneLine(comparisonClosing(c)))
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteComparisonJUnit writes c as JUnit XML: one testcase per gated
// metric (classname "stampede.compare"), failing for a regression or no
// data, with the figures in the failure text.
func WriteComparisonJUnit(w io.Writer, c Comparison) error {
	suite := junitSuite{
		Name: "stampede.compare",
		Time: junitSeconds(0),
		Properties: []junitProperty{
			{"base_run_ids", strings.Join(c.BaseRunIDs, ",")},
			{"new_run_id", c.NewRunID},
			{"max_change", fmtLimit(c.MaxRegression)},
			{"intervals", intervalNote(c)},
			{"budget", c.Budget},
		},
	}
	cols := comparisonColumns(c)
	for _, m := range c.Metrics {
		if !m.Gated {
			continue
		}
		tc := junitCase{Classname: "stampede.compare", Name: m.Name, Time: junitSeconds(0)}
		row := comparisonRow(m)
		var text strings.Builder
		for i := 1; i < len(cols); i++ {
			fmt.Fprintf(&text, "%s: %s\n", cols[i], row[i])
		}
		if m.Failed {
			msg := fmt.Sprintf("%s %s: %s → %s, %s", m.Name, m.Verdict, row[1], row[2], row[3])
			if m.Verdict == VerdictNoData {
				msg = m.Name + ": no data in " + noDataWhere(m)
			}
			tc.Failure = &junitFailure{Message: msg, Type: m.Verdict, Text: text.String()}
		} else {
			tc.SystemOut = "verdict: " + m.Verdict + "\n" + text.String()
		}
		suite.Cases = append(suite.Cases, tc)
	}
	suite.Tests = len(suite.Cases)
	suite.Failures = len(c.Failures())
	doc := junitSuites{Name: "stampede", Tests: suite.Tests, Failures: suite.Failures, Time: suite.Time, Suites: []junitSuite{suite}}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("encode junit: %w", err)
	}
	b.WriteString("\n")
	_, err := w.Write(b.Bytes())
	return err
}

// compareHTML is the comparison page: the same table, then each
// operation's percentile curves of both runs overlaid in an inline SVG (no
// script, no network).
var compareHTML = template.Must(template.New("compare").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>stampede compare: {{.Status}}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{padding:.25em .7em;border-bottom:1px solid #ddd;text-align:right}
td:first-child,th:first-child,td:last-child,th:last-child{text-align:left}
.regression,.no-data{color:#b00020;font-weight:600}.improvement{color:#1b7e2b}.noise,.info,.off{color:#666}
figure{display:inline-block;margin:0 1.5em 1.5em 0}svg text{font:11px system-ui,sans-serif;fill:#444}
.base{stroke:#888;stroke-dasharray:5 3}.new{stroke:#1f77b4}
</style></head>
<body data-verdict="{{.Verdict}}">
<h1>stampede compare: {{.Status}}</h1>
<p>{{.Header}}</p>
<table><thead><tr>{{range .Columns}}<th>{{.}}</th>{{end}}</tr></thead><tbody>
{{range .Rows}}<tr data-metric="{{.Name}}" data-verdict="{{.Verdict}}">{{range .Cells}}<td>{{.}}</td>{{end}}<td class="{{.Class}}">{{.Word}}</td></tr>
{{end}}</tbody></table>
{{range .Notes}}<p>note: {{.}}</p>{{end}}
<p><strong>{{.Closing}}</strong></p>
<h2>Latency by percentile: base (dashed) and new</h2>
{{range .Charts}}<figure data-op="{{.Op}}">{{.SVG}}<figcaption>{{.Op}}</figcaption></figure>
{{else}}<p>No operation has latency histograms in both runs.</p>{{end}}
</body></html>
`))

type compareHTMLRow struct {
	Name, Verdict, Class, Word string
	Cells                      []string
}

type compareHTMLChart struct {
	Op  string
	SVG template.HTML
}

// WriteComparisonHTML writes c as one self-contained HTML page: the table
// with the same verdicts as the other renderings, then every operation's
// latency percentile curves, base and new overlaid.
func WriteComparisonHTML(w io.Writer, c Comparison) error {
	status := "no regression"
	verdict := "pass"
	if c.Regressed() {
		status = fmt.Sprintf("%d regression(s)", len(c.Failures()))
		verdict = "fail"
	}
	v := struct {
		Status, Verdict, Header, Closing string
		Columns, Notes                   []string
		Rows                             []compareHTMLRow
		Charts                           []compareHTMLChart
	}{Status: status, Verdict: verdict, Header: comparisonHeader(c), Closing: comparisonClosing(c), Notes: c.Notes}
	cols := comparisonColumns(c)
	v.Columns = cols
	for _, m := range c.Metrics {
		row := comparisonRow(m)
		v.Rows = append(v.Rows, compareHTMLRow{Name: m.Name, Verdict: m.Verdict, Class: strings.ReplaceAll(m.Verdict, " ", "-"),
			Word: row[len(row)-1], Cells: row[:len(row)-1]})
	}
	for _, pc := range c.Curves {
		v.Charts = append(v.Charts, compareHTMLChart{Op: pc.Op, SVG: percentileSVG(pc)})
	}
	var b bytes.Buffer
	if err := compareHTML.Execute(&b, v); err != nil {
		return fmt.Errorf("render comparison html: %w", err)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// percentileSVG draws both curves: x is log10(1/(1−p)) (50%, 90%, 99%, …),
// y the latency in ms from 0 to the larger maximum.
func percentileSVG(pc PercentileCurves) template.HTML {
	const W, H, L, R, T, B = 460.0, 260.0, 52.0, 26.0, 12.0, 34.0
	maxX := math.Log10(pc.X[len(pc.X)-1])
	maxY := 0.0
	for i := range pc.X {
		maxY = max(maxY, pc.Base[i], pc.New[i])
	}
	maxY = niceCeil(maxY)
	px := func(x float64) float64 { return L + (W-L-R)*math.Log10(x)/max(maxX, 1) }
	py := func(y float64) float64 { return H - B - (H-B-T)*y/maxY }
	var s strings.Builder
	fmt.Fprintf(&s, `<svg xmlns="http://www.w3.org/2000/svg" width="%g" height="%g" viewBox="0 0 %g %g" role="img" aria-label="%s latency by percentile">`, W, H, W, H, template.HTMLEscapeString(pc.Op))
	fmt.Fprintf(&s, `<rect x="%g" y="%g" width="%g" height="%g" fill="none" stroke="#ccc"/>`, L, T, W-L-R, H-B-T)
	for d := 0.0; d <= maxX+1e-9; d++ {
		x := L + (W-L-R)*d/max(maxX, 1)
		fmt.Fprintf(&s, `<line x1="%.1f" y1="%g" x2="%.1f" y2="%g" stroke="#eee"/><text x="%.1f" y="%g" text-anchor="middle">%s</text>`,
			x, T, x, H-B, x, H-B+14, pctTick(d))
	}
	for i := 0; i <= 4; i++ {
		y := maxY * float64(i) / 4
		fmt.Fprintf(&s, `<text x="%g" y="%.1f" text-anchor="end">%s</text>`, L-4, py(y)+4, fmtFigure(y))
	}
	fmt.Fprintf(&s, `<text x="%g" y="%g" text-anchor="middle">percentile</text><text x="12" y="%g" transform="rotate(-90 12 %g)" text-anchor="middle">ms</text>`,
		L+(W-L-R)/2, H-4, T+(H-B-T)/2, T+(H-B-T)/2)
	for _, line := range []struct {
		class string
		ys    []float64
	}{{"base", pc.Base}, {"new", pc.New}} {
		var pts []string
		for i, x := range pc.X {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(x), py(line.ys[i])))
		}
		fmt.Fprintf(&s, `<polyline class="%s" data-series="%s" fill="none" stroke-width="1.8" points="%s"/>`, line.class, line.class, strings.Join(pts, " "))
	}
	fmt.Fprintf(&s, `<line class="base" x1="%g" y1="%g" x2="%g" y2="%g"/><text x="%g" y="%g">base</text>`, L+10, T+10, L+30, T+10, L+34, T+14)
	fmt.Fprintf(&s, `<line class="new" x1="%g" y1="%g" x2="%g" y2="%g" stroke-width="1.8"/><text x="%g" y="%g">new</text>`, L+10, T+26, L+30, T+26, L+34, T+30)
	s.WriteString(`</svg>`)
	return template.HTML(s.String()) // every value above is a number or escaped
}

// pctTick labels decade d of the percentile axis: 0%, 90%, 99%, 99.9%, …
func pctTick(d float64) string {
	if d == 0 {
		return "0%"
	}
	return strconv.FormatFloat(100*(1-math.Pow(10, -d)), 'f', max(int(d)-2, 0), 64) + "%"
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
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
