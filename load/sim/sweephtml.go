package sim

import (
	"fmt"
	"html/template"
	"io"
	"strings"
)

// palette colours the points' lines, in order.
var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"}

// chart is one SVG chart of the comparison page: a line per point.
type chart struct {
	Title, Unit string
	Lines       []line
	MaxY, MaxX  float64
	Ticks       []tick
	XTicks      []tick
}

type line struct {
	Name, Colour string
	Points       string // SVG polyline points
}

type tick struct {
	Pos   float64
	Label string
}

// Chart geometry, in SVG units.
const (
	chartW, chartH = 900.0, 260.0
	padL, padB     = 60.0, 30.0
)

// newChart lays out series (one value per step seconds) as polylines.
func newChart(title, unit string, names []string, series [][]float64, step float64) chart {
	c := chart{Title: title, Unit: unit}
	for _, s := range series {
		c.MaxX = max(c.MaxX, float64(len(s))*step)
		for _, v := range s {
			c.MaxY = max(c.MaxY, v)
		}
	}
	if c.MaxY <= 0 {
		c.MaxY = 1
	}
	if c.MaxX <= 0 {
		c.MaxX = 1
	}
	w, h := chartW-padL-10, chartH-padB-10
	for i, s := range series {
		var b strings.Builder
		for j, v := range s {
			fmt.Fprintf(&b, "%.1f,%.1f ", padL+float64(j)*step/c.MaxX*w, 10+h-v/c.MaxY*h)
		}
		c.Lines = append(c.Lines, line{Name: names[i], Colour: palette[i%len(palette)], Points: b.String()})
	}
	for i := 0; i <= 4; i++ {
		v := c.MaxY * float64(i) / 4
		c.Ticks = append(c.Ticks, tick{Pos: 10 + h - float64(i)/4*h, Label: fmt.Sprintf("%.4g", v)})
		x := c.MaxX * float64(i) / 4
		c.XTicks = append(c.XTicks, tick{Pos: padL + float64(i)/4*w, Label: fmt.Sprintf("%.0f s", x)})
	}
	return c
}

// perSecond sums a 100 ms timeline into seconds.
func perSecond(tl []int64) []float64 {
	out := make([]float64, (len(tl)+9)/10)
	for i, n := range tl {
		out[i/10] += float64(n)
	}
	return out
}

var sweepPage = template.Must(template.New("sweep").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>stampede simulate: sweep of {{len .Rows}} points</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;font-size:14px}th,td{padding:4px 8px;border-bottom:1px solid #ddd;text-align:right}
th:first-child,td:first-child{text-align:left}.fail{color:#b00020;font-weight:bold}.pass{color:#0a7d32}
svg{background:#fafafa;border:1px solid #ddd;margin:1em 0}.legend span{display:inline-block;margin-right:1.5em}
.sw{display:inline-block;width:14px;height:4px;margin-right:4px;vertical-align:middle}
</style></head><body>
<h1>stampede simulate: sweep</h1>
<p>{{len .Rows}} points, {{.Failed}} failed their thresholds or invariants. Each point's own report is in its directory.</p>
<table id="comparison"><thead><tr><th>point</th><th>verdict</th><th>refreshes</th><th>ok %</th><th>p99 ms</th><th>peak/s</th><th>peak/mean</th><th>max in flight</th><th>retries</th><th>shed 503</th><th>forced sign-outs</th><th>user errors</th></tr></thead><tbody>
{{range .Rows}}<tr><td><span class="sw" style="background:{{.Colour}}"></span><a href="{{.Dir}}/report.html">{{.Point}}</a></td><td class="{{.Verdict}}">{{.Verdict}}</td><td>{{.Refresh}}</td><td>{{printf "%.2f" .OKPct}}</td><td>{{printf "%.1f" .P99Ms}}</td><td>{{printf "%.0f" .Peak}}</td><td>{{printf "%.2f" .PeakMean}}</td><td>{{.Inflight}}</td><td>{{.Retries}}</td><td>{{.Shed}}</td><td>{{.Forced}}</td><td>{{.UserErrs}}</td></tr>
{{end}}</tbody></table>
{{range .Charts}}<h2>{{.Title}}</h2>
<svg class="chart" viewBox="0 0 900 260" width="900" height="260" role="img" aria-label="{{.Title}}">
{{range .Ticks}}<line x1="60" x2="890" y1="{{.Pos}}" y2="{{.Pos}}" stroke="#e5e5e5"/><text x="55" y="{{.Pos}}" font-size="11" text-anchor="end" dominant-baseline="middle">{{.Label}}</text>
{{end}}{{range .XTicks}}<text x="{{.Pos}}" y="250" font-size="11" text-anchor="middle">{{.Label}}</text>
{{end}}{{range .Lines}}<polyline fill="none" stroke="{{.Colour}}" stroke-width="1.5" points="{{.Points}}"><title>{{.Name}}</title></polyline>
{{end}}<text x="65" y="20" font-size="11">{{.Unit}}</text></svg>
<div class="legend">{{range .Lines}}<span><span class="sw" style="background:{{.Colour}}"></span>{{.Name}}</span>{{end}}</div>
{{end}}</body></html>
`))

// WriteSweepHTML writes the comparison page: the table, and the points'
// refresh herds and refresh latencies overlaid, a line per point. It is
// self-contained (no script, no network).
func WriteSweepHTML(w io.Writer, s *SweepResult) error {
	type htmlRow struct {
		Row
		Colour string
		OKPct  float64
	}
	var rows []htmlRow
	var names []string
	var herd, p99 [][]float64
	for i, r := range s.Rows() {
		rel := r.Dir
		if j := strings.LastIndexAny(rel, `/\`); j >= 0 {
			rel = rel[j+1:]
		}
		r.Dir = rel
		rows = append(rows, htmlRow{Row: r, Colour: palette[i%len(palette)], OKPct: 100 * r.OKShare})
		names = append(names, r.Point)
		res := s.Points[i].Result
		herd = append(herd, perSecond(res.Timeline.RefreshAttempts))
		p99 = append(p99, res.Timeline.RefreshLatencyMs.P99)
	}
	latStep := 1.0
	if len(s.Points) > 0 && s.Points[0].Result.Timeline.RefreshLatencyMs.WindowMs > 0 {
		latStep = float64(s.Points[0].Result.Timeline.RefreshLatencyMs.WindowMs) / 1000
	}
	return sweepPage.Execute(w, map[string]any{
		"Rows": rows, "Failed": s.Failed(),
		"Charts": []chart{
			newChart("Refresh attempts per second (the herd)", "refreshes/s", names, herd, 1),
			newChart("Refresh latency p99", "ms", names, p99, latStep),
		},
	})
}
