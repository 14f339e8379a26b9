package reports

import (
	"fmt"
	"strconv"
)

// ChartTLS is the HTML chart of the dials and TLS handshakes over time.
const ChartTLS = "tls"

// htmlTLSChart is the data of ChartTLS: full and resumed handshakes and
// dials per bucket of engine.tls.timeline; a note when the result has none.
func htmlTLSChart(r *Result) *htmlChartJSON {
	t := r.Engine.TLS
	if t == nil || t.Timeline.BucketMs <= 0 {
		return &htmlChartJSON{StepS: float64(r.Timeline.BucketMs) / 1000,
			Note:   "No TLS handshakes in this result (engine.tls is absent): the target was plain HTTP.",
			Series: []htmlSeries{{Label: "full handshakes", Key: "full"}, {Label: "resumed handshakes", Key: "resumed"}, {Label: "dials", Key: "dials"}}}
	}
	tl := t.Timeline
	n := max(len(tl.HandshakesFull), len(tl.HandshakesResumed), len(tl.Dials))
	return &htmlChartJSON{StepS: float64(tl.BucketMs) / 1000, Series: []htmlSeries{
		{Label: "full handshakes", Key: "full", Values: htmlCounts(tl.HandshakesFull, n)},
		{Label: "resumed handshakes", Key: "resumed", Values: htmlCounts(tl.HandshakesResumed, n)},
		{Label: "dials", Key: "dials", Values: htmlCounts(tl.Dials, n)},
	}}
}

// htmlTLS is the TLS section of the HTML report.
type htmlTLS struct {
	Rows   []htmlRow
	Storms []htmlStorm
}

type htmlStorm struct {
	Event, Window, Full, Resumed, Ratio, Peak, PeakAt string
}

// htmlTLSView is the TLS section's rows, nil without engine.tls.
func htmlTLSView(r *Result) *htmlTLS {
	t := r.Engine.TLS
	if t == nil {
		return nil
	}
	on := "on"
	if !t.Resumption {
		on = "off"
	}
	h := t.HandshakeMs
	v := &htmlTLS{Rows: []htmlRow{
		{Name: "session resumption", Value: on},
		{Name: "handshakes full / resumed / failed", Value: fmt.Sprintf("%d / %d / %d", t.HandshakesFull, t.HandshakesResumed, t.HandshakesFailed)},
		{Name: "resumption ratio", Value: fmt.Sprintf("%.1f%%", 100*t.ResumptionRatio)},
		{Name: "handshake latency p50 / p99 / max", Value: fmt.Sprintf("%s / %s / %s ms", ms(h.P50), ms(h.P99), ms(h.Max))},
		{Name: "peak handshakes/s", Value: fmt.Sprintf("%s at %s s", fmtFigure(t.PeakHandshakesPerS), fmtFigure(t.PeakAtS))},
		{Name: "peak dials/s", Value: fmtFigure(t.PeakDialsPerS)},
	}}
	if b := t.Backend; b != nil {
		v.Rows = append(v.Rows,
			htmlRow{Name: "backend handshakes full / resumed", Value: fmt.Sprintf("%d / %d", b.HandshakesFull, b.HandshakesResumed)})
		if b.MeasuredFull+b.MeasuredResumed > 0 {
			v.Rows = append(v.Rows, htmlRow{Name: "backend CPU per handshake (all / full / resumed)",
				Value: fmt.Sprintf("%.0f / %.0f / %.0f µs", b.CPUPerHandshakeUs, b.CPUPerFullUs, b.CPUPerResumedUs)})
		}
	}
	for _, s := range t.Storms {
		v.Storms = append(v.Storms, htmlStorm{Event: strconv.Itoa(s.Event), Window: fmt.Sprintf("%s–%s", fmtFigure(s.FromS), fmtFigure(s.ToS)),
			Full: strconv.FormatInt(s.HandshakesFull, 10), Resumed: strconv.FormatInt(s.HandshakesResumed, 10),
			Ratio: fmt.Sprintf("%.1f%%", 100*s.ResumptionRatio), Peak: fmtFigure(s.PeakHandshakesPerS), PeakAt: fmtFigure(s.PeakAtS)})
	}
	return v
}
