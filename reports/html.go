package reports

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
)

// htmlAssets holds the HTML report's template, its own script and style, and
// the vendored chart library (uPlot; see htmlassets/README.md).
//
//go:embed htmlassets/report.html.tmpl htmlassets/report.js htmlassets/report.css htmlassets/uPlot.iife.min.js htmlassets/uPlot.min.css
var htmlAssets embed.FS

// HTMLChartLibrary names the chart library embedded in every HTML report.
const HTMLChartLibrary = "uPlot 1.6.32 (MIT)"

// HTML chart names: the data-chart attribute of each chart's container.
const (
	ChartRefresh = "refresh"
	ChartLatency = "latency"
	ChartHDR     = "hdr"
	ChartClients = "clients"
)

// HTMLCharts lists the charts of the HTML report in page order. When the
// page has drawn all of them it sets data-charts-rendered on its body to
// their number.
var HTMLCharts = []string{ChartRefresh, ChartLatency, ChartHDR, ChartClients, ChartTLS}

// htmlPage is the parsed template with the embedded assets, built once.
var htmlPage = sync.OnceValues(func() (*htmlPageAssets, error) {
	read := func(name string) (string, error) {
		b, err := htmlAssets.ReadFile("htmlassets/" + name)
		if err != nil {
			return "", fmt.Errorf("html report asset %s: %w", name, err)
		}
		return string(b), nil
	}
	var p htmlPageAssets
	src, err := read("report.html.tmpl")
	if err != nil {
		return nil, err
	}
	if p.tmpl, err = template.New("report").Parse(src); err != nil {
		return nil, fmt.Errorf("parse html report template: %w", err)
	}
	for _, a := range []struct {
		name string
		dst  *string
	}{{"report.js", &p.reportJS}, {"report.css", &p.reportCSS}, {"uPlot.iife.min.js", &p.libJS}, {"uPlot.min.css", &p.libCSS}} {
		if *a.dst, err = read(a.name); err != nil {
			return nil, err
		}
	}
	return &p, nil
})

type htmlPageAssets struct {
	tmpl                               *template.Template
	reportJS, reportCSS, libJS, libCSS string
}

// WriteHTML writes r as one self-contained HTML page: run header, verdict
// and thresholds, charts of the refresh traffic with the fleet events
// marked, refresh latency over time, the HDR percentile distribution of
// every operation and the clients by state, then tables of the herd
// figures, the events, the operations, sessions, requests and the engine.
// Everything it needs is inline (styles, scripts, the chart library and
// the data as JSON), so opening it makes no network request; the tables
// read without JavaScript.
func WriteHTML(w io.Writer, r *Result) error {
	p, err := htmlPage()
	if err != nil {
		return err
	}
	data, err := htmlChartData(r)
	if err != nil {
		return err
	}
	// json.Marshal escapes <, > and &, so the block cannot close its <script>.
	js, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("encode html report data: %w", err)
	}
	v := htmlViewOf(r, data)
	v.Data = template.JS(js)
	v.ReportJS = template.JS(p.reportJS)
	v.LibJS = template.JS(p.libJS)
	v.ReportCSS = template.CSS(p.reportCSS)
	v.LibCSS = template.CSS(p.libCSS)
	var b bytes.Buffer
	if err := p.tmpl.Execute(&b, v); err != nil {
		return fmt.Errorf("render html report: %w", err)
	}
	_, err = w.Write(b.Bytes())
	return err
}

// htmlView is what the template prints; every figure is formatted here.
type htmlView struct {
	Title, RunID, ToolVersion  string
	ProfileName, ProfileDesc   string
	Verdict, VerdictClass      string
	Partial                    bool
	ThresholdSummary           string
	InvariantSummary           string
	Evidence                   []htmlEvidence
	Run, Herd                  []htmlRow
	RunColumns                 [][]htmlRow // Run in two columns
	Sessions, Requests, Engine []htmlRow
	Thresholds                 []htmlThreshold
	Events                     []htmlEvent
	Ops                        []htmlOp
	// Answers are the failed answers by status and code (what the server said).
	Answers               []htmlAnswer
	Charts                []htmlChart
	Library               string
	Data, ReportJS, LibJS template.JS
	ReportCSS, LibCSS     template.CSS
	EventsNote, OpsNote   string
	// TLS is the TLS handshakes' section (html_tls.go); nil without them.
	TLS *htmlTLS
}

type htmlRow struct{ Name, Value, Help string }

type htmlThreshold struct {
	Expr, Value, Limit, Result string
	OK                         bool
	// Invariant marks a default invariant; Class is its row's class.
	Invariant bool
	Class     string
}

// htmlEvidence is the sample of requests behind one invariant.
type htmlEvidence struct {
	Expr, Count string
	Samples     []RequestSample
}

type htmlEvent struct {
	Index, Type, At, Start, End, Clients, Sessions string
	Burst, API401, Forced, Recovery, Error         string
}

type htmlOp struct {
	Name, Count, OK, Errors, ErrorPct string
	Min, P50, P90, P95, P99, P999     string
	Max, Mean, ServiceP99, ByClass    string
}

type htmlChart struct {
	Name, Title, Caption, Note string
}

func htmlViewOf(r *Result, d *htmlData) *htmlView {
	p := r.Profile
	v := &htmlView{
		Title:       "stampede report " + r.RunID,
		RunID:       r.RunID,
		ToolVersion: r.ToolVersion,
		ProfileName: p.Name,
		ProfileDesc: p.Description,
		Partial:     r.Partial,
		Library:     HTMLChartLibrary,
	}
	switch r.Verdict {
	case VerdictPass:
		v.Verdict, v.VerdictClass = "PASS", "pass"
	case VerdictFail:
		v.Verdict, v.VerdictClass = "FAIL", "fail"
	default:
		v.Verdict, v.VerdictClass = "no verdict", "none"
	}
	switch failed := countFailedThresholds(r); {
	case len(r.Thresholds) == 0:
		v.ThresholdSummary = "No thresholds were set."
	case failed == 0:
		v.ThresholdSummary = fmt.Sprintf("All %d thresholds held.", len(r.Thresholds))
	default:
		v.ThresholdSummary = fmt.Sprintf("%d of %d thresholds failed.", failed, len(r.Thresholds))
	}

	tstamp := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format("2006-01-02 15:04:05.000 UTC")
	}
	wall := r.EndedAt.Sub(r.StartedAt).Round(100 * time.Millisecond)
	state := "complete"
	if r.Partial {
		state = "partial: the run was interrupted"
	}
	target := strings.TrimSpace(r.Target.Kind + " " + r.Target.URL)
	v.Run = []htmlRow{
		{Name: "run id", Value: r.RunID},
		{Name: "profile", Value: p.Name},
		{Name: "description", Value: p.Description},
		{Name: "target", Value: target},
		{Name: "started", Value: tstamp(r.StartedAt)},
		{Name: "ended", Value: tstamp(r.EndedAt)},
		{Name: "wall time", Value: wall.String()},
		{Name: "state", Value: state},
		{Name: "clients", Value: strconv.Itoa(p.Clients)},
		{Name: "duration / ramp", Value: p.Duration.String() + " / " + p.Ramp.String()},
		{Name: "time scale", Value: "×" + fmtFigure(p.TimeScale)},
		{Name: "seed", Value: strconv.FormatUint(p.Seed, 10)},
		{Name: "SDK preset", Value: p.SDK.Preset},
		{Name: "stampede", Value: r.ToolVersion},
	}
	if r.Shard.Count > 1 {
		v.Run = append(v.Run, htmlRow{Name: "shard", Value: fmt.Sprintf("%d of %d", r.Shard.Index+1, r.Shard.Count)})
	}
	for i := range v.Run {
		if v.Run[i].Value == "" {
			v.Run[i].Value = "-"
		}
	}
	half := (len(v.Run) + 1) / 2
	v.RunColumns = [][]htmlRow{v.Run[:half], v.Run[half:]}

	for _, t := range r.Thresholds {
		_, op, limit, unit, ok := renderExprParts(t.Expr)
		row := htmlThreshold{Expr: t.Expr, Value: thresholdValueText(t), OK: t.OK, Result: "pass"}
		if ok {
			row.Limit = op + " " + renderWithUnit(limit, unit)
		}
		if !t.OK {
			row.Result = "FAIL"
		}
		if t.Aborted {
			row.Result += " (stopped the run)"
		} else if t.AbortOnFail {
			row.Result += " (abort on fail)"
		}
		row.Class = "ok"
		if !t.OK {
			row.Class = "bad"
		}
		v.Thresholds = append(v.Thresholds, row)
	}
	v.InvariantSummary = invariantSummary(r)
	for _, i := range r.Invariants {
		row := htmlThreshold{Expr: i.Expr, Value: fmtFigure(i.Value), Limit: "== 0", OK: i.OK, Invariant: true, Result: "pass", Class: "ok"}
		switch {
		case i.Relaxed:
			row.Result, row.Class = "relaxed (invariants."+i.Name+": off)", "relaxed"
		case !i.Gated:
			row.Result, row.Class = i.Note, "relaxed"
		case !i.OK:
			row.Result, row.Class = "FAIL", "bad"
			if i.Note != "" {
				row.Result += ": " + i.Note
			}
		}
		v.Thresholds = append(v.Thresholds, row)
		if ss := r.InvariantSamples(i.Name); i.Value > 0 && len(ss) > 0 {
			v.Evidence = append(v.Evidence, htmlEvidence{Expr: i.Expr, Count: fmtFigure(i.Value), Samples: ss})
		}
	}

	h := r.Herd
	v.Herd = []htmlRow{
		{"peak_rps", fmtFigure(h.PeakRPS), "most refresh attempts in any 1 s window"},
		{"mean_rps", fmtFigure(h.MeanRPS), "refresh attempts per second after the ramp"},
		{"peak_to_mean", fmtFigure(h.PeakToMean), "peak_rps / mean_rps"},
		{"max_inflight", strconv.FormatInt(h.MaxInflight, 10), "most refresh requests in flight at once"},
		{"amplification", fmtFigure(h.Amplification), "refresh attempts per successful refresh"},
		{"duplicate_refreshes", strconv.FormatInt(h.DuplicateRefreshes, 10), "refreshes started while the same client had one in flight"},
		{"retries", fmt.Sprintf("%d (%s%%)", h.Retries, fmtFigure(100*h.RetriesShare)), "attempts that were retries, and their share"},
		{"dispersion", fmtFigure(h.Dispersion), "variance / mean of attempts per 100 ms bucket: about 1 for independent arrivals, far above 1 for a herd"},
	}

	for _, e := range r.Events {
		ev := htmlEvent{
			Index: strconv.Itoa(e.Index), Type: e.Type, At: e.At,
			Start: fmtFigure(e.StartS), End: fmtFigure(e.EndS),
			Clients: strconv.FormatInt(e.Clients, 10), Sessions: strconv.FormatInt(e.Sessions, 10),
			Burst: strconv.FormatInt(e.Burst10s, 10), API401: strconv.FormatInt(e.API401, 10),
			Forced: strconv.FormatInt(e.ForcedSignouts, 10), Recovery: "not recovered", Error: e.Error,
		}
		if e.RecoveryS != nil {
			ev.Recovery = fmtFigure(*e.RecoveryS)
		} else if e.RecoveryReason != "" {
			ev.Recovery = "not recovered (" + e.RecoveryReason + ")"
		}
		v.Events = append(v.Events, ev)
	}
	if len(r.Events) == 0 {
		v.EventsNote = "The profile had no fleet events."
	}

	for _, name := range OpNames {
		o := r.Ops[name]
		if o == nil || o.Count == 0 {
			continue
		}
		l := o.LatencyMs
		op := htmlOp{
			Name: name, Count: strconv.FormatInt(o.Count, 10), OK: strconv.FormatInt(o.OK, 10),
			Errors: strconv.FormatInt(o.ErrorCount(), 10), ErrorPct: fmtFigure(100 * float64(o.ErrorCount()) / float64(o.Count)),
			Min: fmtFigure(l.Min), P50: fmtFigure(l.P50), P90: fmtFigure(l.P90), P95: fmtFigure(l.P95),
			P99: fmtFigure(l.P99), P999: fmtFigure(l.P999), Max: fmtFigure(l.Max), Mean: fmtFigure(l.Mean),
			ServiceP99: "-",
		}
		if o.ServiceMs != nil {
			op.ServiceP99 = fmtFigure(o.ServiceMs.P99)
		}
		var parts []string
		for _, c := range ErrorClasses {
			if n := o.Errors[c]; n > 0 {
				parts = append(parts, fmt.Sprintf("%s %d", c, n))
			}
		}
		op.ByClass = strings.Join(parts, ", ")
		v.Ops = append(v.Ops, op)
	}
	if len(v.Ops) == 0 {
		v.OpsNote = "No operation completed in this run."
	}
	v.Answers = htmlAnswers(r)

	s := r.Sessions
	v.Sessions = []htmlRow{
		{Name: "by status at the end", Value: htmlByStatus(s.ByStatus)},
		{Name: "forced sign-outs", Value: strconv.FormatInt(s.ForcedSignouts, 10)},
		{Name: "re-sign-ins", Value: strconv.FormatInt(s.ReSignIns, 10)},
	}
	if len(s.ForcedSignoutsByCause) > 0 {
		v.Sessions = append(v.Sessions, htmlRow{Name: "forced sign-outs by cause", Value: htmlByStatus(s.ForcedSignoutsByCause)})
	}
	if s.SignInsCancelled > 0 || s.SignInFlowFailures > 0 {
		v.Sessions = append(v.Sessions,
			htmlRow{Name: "sign-ins cancelled (users left)", Value: strconv.FormatInt(s.SignInsCancelled, 10)},
			htmlRow{Name: "sign-in flows failed", Value: strconv.FormatInt(s.SignInFlowFailures, 10)})
	}
	if len(s.ServerByStatus) > 0 {
		v.Sessions = append(v.Sessions, htmlRow{Name: "the backend's sessions", Value: htmlByStatus(s.ServerByStatus)})
	}
	if f := r.TimeScale.Flag(); f != "" {
		v.Sessions = append(v.Sessions, htmlRow{Name: "time scale", Value: f})
	}
	q := r.Requests
	v.Requests = []htmlRow{
		{Name: "issued", Value: strconv.FormatInt(q.Issued, 10)},
		{Name: "settled", Value: strconv.FormatInt(q.Settled, 10)},
		{Name: "ok", Value: strconv.FormatInt(q.OK, 10)},
		{Name: "user-visible errors", Value: strconv.FormatInt(q.UserVisibleErrors, 10)},
		{Name: "cancelled at the end", Value: strconv.FormatInt(q.Cancelled, 10)},
		{Name: "lost", Value: strconv.FormatInt(q.Lost, 10)},
		{Name: "retry loops", Value: strconv.FormatInt(q.RetryLoops, 10)},
		{Name: "stale-token retries", Value: strconv.FormatInt(q.StaleTokenRetries, 10)},
	}
	e := r.Engine
	v.Engine = []htmlRow{
		{Name: "scheduling lag p50 / p99 / max", Value: fmt.Sprintf("%s / %s / %s ms", fmtFigure(e.LagMs.P50), fmtFigure(e.LagMs.P99), fmtFigure(e.LagMs.Max))},
		{Name: "clients", Value: strconv.Itoa(e.Clients)},
		{Name: "peak goroutines", Value: strconv.Itoa(e.Goroutines)},
		{Name: "max RSS", Value: fmt.Sprintf("%s MiB", fmtFigure(math.Round(float64(e.MaxRSSBytes)/(1<<20))))},
	}
	if c := e.Connections; c != (Connections{}) {
		v.Engine = append(v.Engine, htmlRow{Name: "connections", Value: connectionsSummary(p.Connections, c)})
	}
	if r.Proxy != nil { // stampede proxy: the server's view instead of a run's (proxy.go)
		v.Sessions, v.Requests, v.Engine = proxyHTMLRows(r.Proxy)
	}

	bucket := "per bucket"
	if r.Timeline.BucketMs > 0 {
		bucket = fmt.Sprintf("per %d ms", r.Timeline.BucketMs)
	}
	window := "window"
	if d.Charts[ChartLatency].StepS > 0 {
		window = fmt.Sprintf("%s s window", fmtFigure(d.Charts[ChartLatency].StepS))
	}
	v.Charts = []htmlChart{
		{Name: ChartRefresh, Title: "Refresh attempts " + bucket,
			Caption: "Refresh attempts, refresh errors and API 401s " + bucket + ", wall-clock seconds from the start. Fleet events are marked: a dashed line at the start, a shaded band while it lasts."},
		{Name: ChartLatency, Title: "Refresh latency over time",
			Caption: "p50, p99 and max of the refreshes answered in each " + window + ", ms on a log axis, measured from the intended start. Gaps: no refresh answered in that window."},
		{Name: ChartHDR, Title: "Latency percentile distribution",
			Caption: "Each operation's HDR histogram: latency (ms, from the intended start) against percentile on a 1/(1−p) log axis, as HdrHistogram's plotter draws it; latency on a log axis, linear with the box unticked. Each line ends at its maximum."},
		{Name: ChartClients, Title: "Clients by state",
			Caption: "Clients signed in, holding a valid token, in the background, offline and signed out, sampled at the end of each bucket."},
		{Name: ChartTLS, Title: "Dials and TLS handshakes " + bucket,
			Caption: "TCP dials and TLS handshakes, full and resumed with a session ticket, " + bucket + ", wall-clock seconds from the start: a reconnect storm is a spike after an outage's band."},
	}
	v.TLS = htmlTLSView(r)
	for i := range v.Charts {
		v.Charts[i].Note = d.Charts[v.Charts[i].Name].Note
	}
	return v
}

// htmlByStatus lists session statuses by count, largest first.
func htmlByStatus(m map[string]int64) string {
	type kv struct {
		k string
		v int64
	}
	var s []kv
	for k, n := range m {
		s = append(s, kv{k, n})
	}
	if len(s) == 0 {
		return "none"
	}
	// Insertion sort: a handful of statuses.
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && (s[j].v > s[j-1].v || s[j].v == s[j-1].v && s[j].k < s[j-1].k); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	parts := make([]string, len(s))
	for i, e := range s {
		parts[i] = fmt.Sprintf("%d %s", e.v, e.k)
	}
	return strings.Join(parts, ", ")
}

// htmlData is the JSON the page's script draws the charts from.
type htmlData struct {
	// DurationS is the run's wall time, the x range of an empty time chart.
	DurationS float64                   `json:"duration_s"`
	Events    []htmlEventMark           `json:"events"`
	Charts    map[string]*htmlChartJSON `json:"charts"`
}

// htmlEventMark is a fleet event drawn on the time charts.
type htmlEventMark struct {
	Index  int     `json:"index"`
	Type   string  `json:"type"`
	StartS float64 `json:"start_s"`
	EndS   float64 `json:"end_s"`
}

// htmlChartJSON is one chart's data. Time charts give StepS (x_i = i·StepS
// seconds); the HDR chart gives X. Values are aligned with x; null is a gap.
type htmlChartJSON struct {
	StepS  float64      `json:"step_s,omitempty"`
	X      htmlNums     `json:"x,omitempty"`
	Series []htmlSeries `json:"series"`
	Note   string       `json:"note,omitempty"`
}

type htmlSeries struct {
	Label  string   `json:"label"`
	Key    string   `json:"key"`
	Values htmlNums `json:"values"`
}

// htmlNums is a float series that encodes NaN and ±Inf as null (a gap).
type htmlNums []float64

// MarshalJSON writes the numbers with at most three decimals.
func (s htmlNums) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 2+len(s)*6)
	b = append(b, '[')
	for i, v := range s {
		if i > 0 {
			b = append(b, ',')
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			b = append(b, "null"...)
			continue
		}
		b = strconv.AppendFloat(b, math.Round(v*1000)/1000, 'f', -1, 64)
	}
	return append(b, ']'), nil
}

// htmlCounts turns a timeline series into n chart values, null past its end.
func htmlCounts(v []int64, n int) htmlNums {
	out := make(htmlNums, n)
	for i := range out {
		if i < len(v) {
			out[i] = float64(v[i])
		} else {
			out[i] = math.NaN()
		}
	}
	return out
}

// htmlChartData derives the charts' data from r. Nothing is invented: a
// chart whose series the result lacks gets a Note saying so.
func htmlChartData(r *Result) (*htmlData, error) {
	tl := r.Timeline
	d := &htmlData{Charts: map[string]*htmlChartJSON{}}
	if !r.StartedAt.IsZero() && r.EndedAt.After(r.StartedAt) {
		d.DurationS = r.EndedAt.Sub(r.StartedAt).Seconds()
	}
	for _, e := range r.Events {
		d.Events = append(d.Events, htmlEventMark{Index: e.Index, Type: e.Type, StartS: e.StartS, EndS: max(e.EndS, e.StartS)})
	}

	n := len(tl.RefreshAttempts)
	step := float64(tl.BucketMs) / 1000
	if tl.BucketMs <= 0 {
		n, step = 0, 0
	}
	d.DurationS = max(d.DurationS, float64(n)*step)
	noTimeline := ""
	if n == 0 {
		noTimeline = "No timeline in this result."
	}
	d.Charts[ChartRefresh] = &htmlChartJSON{StepS: step, Note: noTimeline, Series: []htmlSeries{
		{Label: "refresh attempts", Key: "attempts", Values: htmlCounts(tl.RefreshAttempts, n)},
		{Label: "refresh errors", Key: "errors", Values: htmlCounts(tl.RefreshErrors, n)},
		{Label: "API 401s", Key: "api_401", Values: htmlCounts(tl.API401, n)},
	}}
	d.Charts[ChartClients] = &htmlChartJSON{StepS: step, Note: noTimeline, Series: []htmlSeries{
		{Label: "signed in", Key: "signed_in", Values: htmlCounts(tl.SignedIn, n)},
		{Label: "valid token", Key: "valid_token", Values: htmlCounts(tl.ValidToken, n)},
		{Label: "background", Key: "background", Values: htmlCounts(tl.Background, n)},
		{Label: "offline", Key: "offline", Values: htmlCounts(tl.Offline, n)},
		{Label: "signed out", Key: "signed_out", Values: htmlCounts(tl.SignedOut, n)},
	}}

	// Refresh latency over time: only from the result's own series.
	ls := tl.RefreshLatencyMs
	lat := &htmlChartJSON{}
	if m := max(len(ls.P50), len(ls.P99), len(ls.Max)); ls.WindowMs > 0 && m > 0 {
		gap := func(v []float64) htmlNums {
			out := make(htmlNums, m)
			for i := range out {
				out[i] = math.NaN()
				if i < len(v) && v[i] > 0 { // 0: no refresh answered in the window
					out[i] = v[i]
				}
			}
			return out
		}
		lat.StepS = float64(ls.WindowMs) / 1000
		lat.Series = []htmlSeries{
			{Label: "p50", Key: "p50", Values: gap(ls.P50)},
			{Label: "p99", Key: "p99", Values: gap(ls.P99)},
			{Label: "max", Key: "max", Values: gap(ls.Max)},
		}
	} else {
		lat.StepS = step
		lat.Note = "No per-window latency series in this result (timeline.refresh_latency_ms is empty): latency over time cannot be drawn."
		lat.Series = []htmlSeries{{Label: "p50", Key: "p50"}, {Label: "p99", Key: "p99"}, {Label: "max", Key: "max"}}
	}
	d.Charts[ChartLatency] = lat

	hdr, err := htmlHDRChart(r)
	if err != nil {
		return nil, err
	}
	d.Charts[ChartHDR] = hdr
	d.Charts[ChartTLS] = htmlTLSChart(r)
	return d, nil
}

// htmlHDRStepsPerDecade is the resolution of the HDR chart's percentile axis.
const htmlHDRStepsPerDecade = 10

// htmlHDRMaxDecades caps the percentile axis at 99.99999%.
const htmlHDRMaxDecades = 7

// htmlHDRChart reads each operation's histogram at a shared grid of
// percentiles, x = 1/(1−p) = 10^(k/htmlHDRStepsPerDecade), up to the
// operation's count (past it every percentile is the maximum); the first
// grid point beyond carries the maximum, and later ones are gaps.
func htmlHDRChart(r *Result) (*htmlChartJSON, error) {
	ops := HistogramOps(r)
	c := &htmlChartJSON{Series: []htmlSeries{}}
	if len(ops) == 0 {
		c.Note = "No latency histograms in this result."
		c.X = htmlNums{1, 10, 100}
		return c, nil
	}
	type dec struct {
		name string
		n    float64
		at   func(q float64) float64
		max  float64
	}
	var hs []dec
	maxN := 1.0
	for _, name := range ops {
		h, err := DecodeHistogram(r.Ops[name].HDR)
		if err != nil {
			return nil, fmt.Errorf("%w: ops.%s.hdr: %w", ErrInvalidResult, name, err)
		}
		if h.TotalCount() == 0 {
			continue
		}
		n := float64(h.TotalCount())
		maxN = max(maxN, n)
		hs = append(hs, dec{name: name, n: n, max: float64(h.Max()) / 1000,
			at: func(q float64) float64 { return float64(h.ValueAtQuantile(q)) / 1000 }})
	}
	if len(hs) == 0 {
		c.Note = "No latency histograms in this result."
		c.X = htmlNums{1, 10, 100}
		return c, nil
	}
	decades := min(math.Ceil(math.Log10(maxN)), htmlHDRMaxDecades)
	steps := int(decades*htmlHDRStepsPerDecade) + 1
	c.X = make(htmlNums, steps)
	for k := range c.X {
		c.X[k] = math.Pow(10, float64(k)/htmlHDRStepsPerDecade)
	}
	for _, h := range hs {
		vals := make(htmlNums, steps)
		done := false
		for k, x := range c.X {
			switch {
			case done:
				vals[k] = math.NaN()
			case x <= h.n && k < steps-1:
				vals[k] = h.at(100 * (1 - 1/x))
			default:
				vals[k], done = h.max, true
			}
		}
		c.Series = append(c.Series, htmlSeries{Label: h.name, Key: h.name, Values: vals})
	}
	return c, nil
}
