package reports

import (
	"strings"
	"testing"
	"time"
)

// htmlSampleTLS is the TLS section of htmlSampleResult: 2,000 first dials
// during the ramp, then 800 clients redialling after the outage's end at
// 30 s, all but 8 of them resuming.
func htmlSampleTLS(t *testing.T) *TLS {
	t.Helper()
	h := NewHistogram()
	tl := TLSTimeline{BucketMs: 100, Dials: make([]int64, 600), HandshakesFull: make([]int64, 600), HandshakesResumed: make([]int64, 600)}
	for b := range 50 { // the ramp: 40 first dials a bucket
		tl.Dials[b], tl.HandshakesFull[b] = 40, 40
		for range 40 {
			RecordLatency(h, 3*time.Millisecond)
		}
	}
	for b := 300; b < 304; b++ { // the restore: 200 a bucket, 2 of them full
		tl.Dials[b], tl.HandshakesFull[b], tl.HandshakesResumed[b] = 200, 2, 198
		for range 200 {
			RecordLatency(h, time.Millisecond)
		}
	}
	hdr, err := EncodeHistogram(h)
	if err != nil {
		t.Fatal(err)
	}
	r := &TLS{Resumption: true, HandshakesFull: 2008, HandshakesResumed: 792, HandshakeMs: Summarize(h), HDR: hdr, Timeline: tl,
		Backend: &TLSBackend{HandshakesFull: 2008, HandshakesResumed: 792, CPUFullNs: 2008 * 600_000, CPUResumedNs: 792 * 250_000, MeasuredFull: 2008, MeasuredResumed: 792}}
	r.Derive()
	return r
}

// TestTLSFiguresAndStorm: the ratio, peaks, the backend's CPU per
// handshake and the storm after the outage follow from the counts.
func TestTLSFiguresAndStorm(t *testing.T) {
	r := htmlSampleResult(t)
	Analyze(r)
	tls := r.Engine.TLS
	if got := tls.ResumptionRatio; got < 0.2828 || got > 0.2829 {
		t.Errorf("resumption ratio %v, want 792/2800", got)
	}
	if tls.PeakHandshakesPerS != 2000 || tls.PeakAtS != 30 || tls.PeakDialsPerS != 2000 {
		t.Errorf("peak %v/s at %v s, dials %v/s; want 2000/s at 30 s", tls.PeakHandshakesPerS, tls.PeakAtS, tls.PeakDialsPerS)
	}
	if b := tls.Backend; b.CPUPerFullUs != 600 || b.CPUPerResumedUs != 250 {
		t.Errorf("backend CPU per handshake: %+v", b)
	}
	// Time scale 1: the storm window is the 10 s after the restore at 30 s.
	if len(tls.Storms) != 1 {
		t.Fatalf("storms %+v, want one after the outage", tls.Storms)
	}
	s := tls.Storms[0]
	if s.Event != 0 || s.FromS != 30 || s.ToS != 40 || s.HandshakesFull != 8 || s.HandshakesResumed != 792 || s.ResumptionRatio != 0.99 || s.PeakHandshakesPerS != 2000 {
		t.Errorf("storm %+v", s)
	}
	line := TLSLine(tls)
	for _, want := range []string{"2800 handshakes: 2008 full, 792 resumed (28.3% resumed; resumption on)", "after event 0: 800 handshakes (99.0% resumed), peak 2000/s at 30.0 s", "backend CPU per handshake"} {
		if !strings.Contains(line, want) {
			t.Errorf("text line lacks %q:\n%s", want, line)
		}
	}
}

// TestHTMLShowsTLS: the HTML report has the TLS section, its storm row and
// the handshakes chart's series.
func TestHTMLShowsTLS(t *testing.T) {
	r := htmlSampleResult(t)
	Analyze(r)
	_, b := renderHTML(t, r, t.TempDir())
	page := string(b)
	for _, want := range []string{`<section id="tls">`, "<td>2008 / 792 / 0</td>", "<td>28.3%</td>", "<td class=\"num\">99.0%</td>", "<td>501 / 600 / 250 µs</td>"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	d := parseDataBlock(t, page)
	c, ok := d.Charts[ChartTLS]
	if !ok || len(c.Series) != 3 || *c.Series[1].Values[300] != 198 {
		t.Errorf("tls chart: %+v", c)
	}
	r.Engine.TLS = nil
	_, b = renderHTML(t, r, t.TempDir())
	if page := string(b); strings.Contains(page, `<section id="tls">`) || !strings.Contains(page, "No TLS handshakes in this result") {
		t.Error("a result without TLS shows a TLS section or no note on its chart")
	}
}

// TestMergeAddsTLS: merged shards add their handshakes, timelines and the
// backend's CPU, and merge the latency histograms exactly.
func TestMergeAddsTLS(t *testing.T) {
	a, b := htmlSampleTLS(t), htmlSampleTLS(t)
	m, err := mergeTLS(nil, a, 0)
	if err == nil {
		m, err = mergeTLS(m, b, 0)
	}
	if err != nil {
		t.Fatal(err)
	}
	if m.HandshakesFull != 4016 || m.HandshakesResumed != 1584 || m.Timeline.HandshakesResumed[300] != 396 || m.Backend.CPUPerFullUs != 600 {
		t.Errorf("merged %+v", m)
	}
	h, err := DecodeHistogram(m.HDR)
	if err != nil || h.TotalCount() != 5600 {
		t.Errorf("merged histogram: %v, %v", h.TotalCount(), err)
	}
	// A shard that started 1 s later has its buckets placed 10 later.
	late, err := mergeTLS(nil, htmlSampleTLS(t), 0)
	if err == nil {
		late, err = mergeTLS(late, htmlSampleTLS(t), 10)
	}
	if err != nil {
		t.Fatal(err)
	}
	if tl := late.Timeline; len(tl.Dials) != 610 || tl.HandshakesResumed[300] != 198 || tl.HandshakesResumed[305] != 0 || tl.HandshakesResumed[310] != 198 {
		t.Errorf("shifted merge: %d buckets, resumed at 300 %d, 305 %d, 310 %d", len(tl.Dials), tl.HandshakesResumed[300], tl.HandshakesResumed[305], tl.HandshakesResumed[310])
	}
}

// TestMarkdownShowsTLS: the Markdown summary has the TLS table and its storm.
func TestMarkdownShowsTLS(t *testing.T) {
	r := htmlSampleResult(t)
	Analyze(r)
	var b strings.Builder
	if err := WriteMarkdown(&b, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"### TLS handshakes", "| handshakes full / resumed / failed | 2008 / 792 / 0 |", "| resumption ratio | 28.3% |",
		"| after event 0 (30–40 s): handshakes, resumed, peak/s | 800, 99.0%, 2000 |", "| backend CPU per handshake, all / full / resumed (µs) | 501 / 600 / 250 |"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, b.String())
		}
	}
}

// TestJUnitCarriesTLSProperties: the JUnit suite's properties give the
// handshakes and the resumption ratio.
func TestJUnitCarriesTLSProperties(t *testing.T) {
	r := htmlSampleResult(t)
	Analyze(r)
	var b strings.Builder
	if err := WriteJUnit(&b, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<property name="tls_handshakes_resumed" value="792"></property>`, `<property name="tls_resumption_ratio" value="0.283"></property>`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("junit lacks %s:\n%s", want, b.String())
		}
	}
}
