package reports

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// TLS is what a run's TLS handshakes with the target cost: how many were
// full and how many resumed a session with a ticket, how long they took,
// and when they happened (docs/connections.md). Present when the run
// shook hands with an https target.
type TLS struct {
	// Resumption says whether the clients kept TLS sessions to resume
	// (the profile's tls_resumption).
	Resumption bool `json:"resumption"`
	// HandshakesFull counts handshakes with a certificate and a key
	// exchange, HandshakesResumed those that resumed a session,
	// HandshakesFailed those that failed.
	HandshakesFull    int64 `json:"handshakes_full"`
	HandshakesResumed int64 `json:"handshakes_resumed"`
	HandshakesFailed  int64 `json:"handshakes_failed"`
	// ResumptionRatio is resumed / (full + resumed), 0 to 1.
	ResumptionRatio float64 `json:"resumption_ratio"`
	// HandshakeMs is the client's handshake latency (ClientHello to the
	// handshake's end), and HDR its histogram, so that merge is exact.
	HandshakeMs Summary `json:"handshake_ms"`
	HDR         string  `json:"hdr,omitempty"`
	// PeakHandshakesPerS is the highest handshake rate of a timeline
	// bucket (per second of wall time), PeakAtS when that bucket began
	// (seconds from the start of the run); PeakDialsPerS the same for
	// TCP dials.
	PeakHandshakesPerS float64 `json:"peak_handshakes_per_s"`
	PeakAtS            float64 `json:"peak_at_s"`
	PeakDialsPerS      float64 `json:"peak_dials_per_s"`
	// Timeline counts dials and handshakes per bucket from the start of
	// the run.
	Timeline TLSTimeline `json:"timeline"`
	// Storms is the handshake storm after each event that ends with the
	// clients reconnecting (an outage), over StormWindow from its end.
	Storms []TLSStorm `json:"storms,omitempty"`
	// Backend is what the embedded backend counted of the same
	// handshakes, with the CPU they cost it; absent against another
	// target.
	Backend *TLSBackend `json:"backend,omitempty"`
}

// TLSStorm is the handshakes in the window after an event's end.
type TLSStorm struct {
	// Event is the index of the event in events; FromS and ToS bound the
	// window (seconds from the start of the run, wall time).
	Event             int     `json:"event"`
	FromS             float64 `json:"from_s"`
	ToS               float64 `json:"to_s"`
	HandshakesFull    int64   `json:"handshakes_full"`
	HandshakesResumed int64   `json:"handshakes_resumed"`
	ResumptionRatio   float64 `json:"resumption_ratio"`
	// PeakHandshakesPerS is the highest rate of a bucket in the window,
	// PeakAtS when that bucket began.
	PeakHandshakesPerS float64 `json:"peak_handshakes_per_s"`
	PeakAtS            float64 `json:"peak_at_s"`
}

// MinStormWindow is the shortest window a storm is counted over, in wall
// time: handshakes take real time, which the time scale does not shrink.
const MinStormWindow = 3 * time.Second

// StormWindow is the window after an outage's end over which its
// handshake storm counts: the 10 simulated seconds of burst_10s
// (BurstWindow divided by the time scale), but at least MinStormWindow.
func StormWindow(timeScale float64) time.Duration {
	w := BurstWindow
	if timeScale > 0 {
		w = time.Duration(float64(w) / timeScale)
	}
	return max(w, MinStormWindow)
}

// AnalyzeTLS derives engine.tls's storms from its timeline and the
// result's events: one per event whose burst counts from its end.
func AnalyzeTLS(r *Result) {
	t := r.Engine.TLS
	if t == nil || t.Timeline.BucketMs <= 0 {
		return
	}
	t.Storms = nil
	tl := t.Timeline
	bucket := time.Duration(tl.BucketMs) * time.Millisecond
	window := StormWindow(r.Profile.TimeScale)
	perS := float64(time.Second) / float64(bucket)
	for _, e := range r.Events {
		if e.BurstFrom != BurstFromEnd {
			continue
		}
		from := time.Duration(e.EndS * float64(time.Second))
		lo := int(from / bucket)
		hi := max(int((from+window+bucket-1)/bucket), lo+1)
		s := TLSStorm{Event: e.Index, FromS: float64(lo) * bucket.Seconds(), ToS: float64(hi) * bucket.Seconds()}
		for i := lo; i < hi; i++ {
			f, res := at(tl.HandshakesFull, i), at(tl.HandshakesResumed, i)
			s.HandshakesFull += f
			s.HandshakesResumed += res
			if r := float64(f+res) * perS; r > s.PeakHandshakesPerS {
				s.PeakHandshakesPerS, s.PeakAtS = r, float64(i)*bucket.Seconds()
			}
		}
		if n := s.HandshakesFull + s.HandshakesResumed; n > 0 {
			s.ResumptionRatio = float64(s.HandshakesResumed) / float64(n)
		}
		t.Storms = append(t.Storms, s)
	}
}

// TLSTimeline is dials and handshakes per BucketMs of wall time.
type TLSTimeline struct {
	BucketMs          int     `json:"bucket_ms"`
	Dials             []int64 `json:"dials"`
	HandshakesFull    []int64 `json:"handshakes_full"`
	HandshakesResumed []int64 `json:"handshakes_resumed"`
}

// TLSBackend is the embedded backend's side of the handshakes: what it
// counted, and the CPU its side of them took, measured per handshake
// with the thread's CPU clock (Linux; zero elsewhere).
type TLSBackend struct {
	HandshakesFull    int64 `json:"handshakes_full"`
	HandshakesResumed int64 `json:"handshakes_resumed"`
	// CPUFullNs and CPUResumedNs add up the CPU of the handshakes
	// measured (MeasuredFull, MeasuredResumed of them).
	CPUFullNs       int64 `json:"cpu_full_ns"`
	CPUResumedNs    int64 `json:"cpu_resumed_ns"`
	MeasuredFull    int64 `json:"measured_full"`
	MeasuredResumed int64 `json:"measured_resumed"`
	// CPUPerFullUs and CPUPerResumedUs are the mean CPU of one handshake
	// of each kind, CPUPerHandshakeUs over both, in microseconds.
	CPUPerFullUs      float64 `json:"cpu_per_full_us"`
	CPUPerResumedUs   float64 `json:"cpu_per_resumed_us"`
	CPUPerHandshakeUs float64 `json:"cpu_per_handshake_us"`
}

// Derive fills the figures that follow from the counts: the resumption
// ratio, the peaks and the backend's CPU per handshake.
func (t *TLS) Derive() {
	t.ResumptionRatio = 0
	if n := t.HandshakesFull + t.HandshakesResumed; n > 0 {
		t.ResumptionRatio = float64(t.HandshakesResumed) / float64(n)
	}
	t.PeakHandshakesPerS, t.PeakAtS, t.PeakDialsPerS = 0, 0, 0
	tl := t.Timeline
	if tl.BucketMs > 0 {
		perS := 1000 / float64(tl.BucketMs)
		for i := range max(len(tl.HandshakesFull), len(tl.HandshakesResumed)) {
			n := at(tl.HandshakesFull, i) + at(tl.HandshakesResumed, i)
			if r := float64(n) * perS; r > t.PeakHandshakesPerS {
				t.PeakHandshakesPerS, t.PeakAtS = r, float64(i*tl.BucketMs)/1000
			}
		}
		for _, n := range tl.Dials {
			t.PeakDialsPerS = max(t.PeakDialsPerS, float64(n)*perS)
		}
	}
	if b := t.Backend; b != nil {
		b.CPUPerFullUs, b.CPUPerResumedUs, b.CPUPerHandshakeUs = perUs(b.CPUFullNs, b.MeasuredFull), perUs(b.CPUResumedNs, b.MeasuredResumed),
			perUs(b.CPUFullNs+b.CPUResumedNs, b.MeasuredFull+b.MeasuredResumed)
	}
}

func at(s []int64, i int) int64 {
	if i < len(s) {
		return s[i]
	}
	return 0
}

func perUs(ns, n int64) float64 {
	if n == 0 {
		return 0
	}
	return float64(ns) / float64(n) / 1000
}

// addSeries adds b, shifted by shift elements, into a element by
// element, growing a as need be.
func addSeries(a, b []int64, shift int) []int64 {
	for i, v := range b {
		j := i + shift
		if j < 0 {
			continue
		}
		for len(a) <= j {
			a = append(a, 0)
		}
		a[j] += v
	}
	return a
}

// mergeTLS adds src's handshakes into dst (nil: a copy of src): counts and
// timelines add (src's placed shift buckets after dst's origin),
// histograms merge; the derived figures are computed again.
func mergeTLS(dst *TLS, src *TLS, shift int) (*TLS, error) {
	if src == nil {
		return dst, nil
	}
	if dst == nil {
		dst = &TLS{Resumption: src.Resumption, Timeline: TLSTimeline{BucketMs: src.Timeline.BucketMs}}
	}
	dst.Resumption = dst.Resumption || src.Resumption
	dst.HandshakesFull += src.HandshakesFull
	dst.HandshakesResumed += src.HandshakesResumed
	dst.HandshakesFailed += src.HandshakesFailed
	if src.HDR != "" {
		h, err := DecodeHistogram(src.HDR)
		if err != nil {
			return nil, fmt.Errorf("engine.tls.hdr: %w", err)
		}
		if dst.HDR != "" {
			d, err := DecodeHistogram(dst.HDR)
			if err != nil {
				return nil, fmt.Errorf("engine.tls.hdr: %w", err)
			}
			d.Merge(h)
			h = d
		}
		if dst.HDR, err = EncodeHistogram(h); err != nil {
			return nil, err
		}
		dst.HandshakeMs = Summarize(h)
	}
	if dst.Timeline.BucketMs == src.Timeline.BucketMs {
		dst.Timeline.Dials = addSeries(dst.Timeline.Dials, src.Timeline.Dials, shift)
		dst.Timeline.HandshakesFull = addSeries(dst.Timeline.HandshakesFull, src.Timeline.HandshakesFull, shift)
		dst.Timeline.HandshakesResumed = addSeries(dst.Timeline.HandshakesResumed, src.Timeline.HandshakesResumed, shift)
	}
	if b := src.Backend; b != nil {
		if dst.Backend == nil {
			dst.Backend = &TLSBackend{}
		}
		d := dst.Backend
		d.HandshakesFull += b.HandshakesFull
		d.HandshakesResumed += b.HandshakesResumed
		d.CPUFullNs += b.CPUFullNs
		d.CPUResumedNs += b.CPUResumedNs
		d.MeasuredFull += b.MeasuredFull
		d.MeasuredResumed += b.MeasuredResumed
	}
	dst.Derive()
	return dst, nil
}

// TLSLine is the one-line text summary of t, "" when t is nil.
func TLSLine(t *TLS) string {
	if t == nil {
		return ""
	}
	var b strings.Builder
	res := "on"
	if !t.Resumption {
		res = "off"
	}
	fmt.Fprintf(&b, "%d handshakes: %d full, %d resumed (%.1f%% resumed; resumption %s)",
		t.HandshakesFull+t.HandshakesResumed, t.HandshakesFull, t.HandshakesResumed, 100*t.ResumptionRatio, res)
	if t.HandshakesFailed > 0 {
		fmt.Fprintf(&b, ", %d failed", t.HandshakesFailed)
	}
	fmt.Fprintf(&b, " · handshake p50 %s ms, p99 %s ms · peak %.0f handshakes/s at %.1f s, %.0f dials/s",
		ms(t.HandshakeMs.P50), ms(t.HandshakeMs.P99), t.PeakHandshakesPerS, t.PeakAtS, t.PeakDialsPerS)
	for _, s := range t.Storms {
		fmt.Fprintf(&b, " · after event %d: %d handshakes (%.1f%% resumed), peak %.0f/s at %.1f s",
			s.Event, s.HandshakesFull+s.HandshakesResumed, 100*s.ResumptionRatio, s.PeakHandshakesPerS, s.PeakAtS)
	}
	if be := t.Backend; be != nil && be.MeasuredFull+be.MeasuredResumed > 0 {
		fmt.Fprintf(&b, " · backend CPU per handshake %.0f µs (full %.0f µs, resumed %.0f µs)", be.CPUPerHandshakeUs, be.CPUPerFullUs, be.CPUPerResumedUs)
	}
	return b.String()
}

// writeTLSMarkdown writes the TLS handshakes' section of the Markdown
// summary, nothing without engine.tls.
func writeTLSMarkdown(b *strings.Builder, t *TLS) {
	if t == nil {
		return
	}
	on := "on"
	if !t.Resumption {
		on = "off"
	}
	b.WriteString("### TLS handshakes\n\n| figure | value |\n|---|--:|\n")
	fmt.Fprintf(b, "| session resumption | %s |\n", on)
	fmt.Fprintf(b, "| handshakes full / resumed / failed | %d / %d / %d |\n", t.HandshakesFull, t.HandshakesResumed, t.HandshakesFailed)
	fmt.Fprintf(b, "| resumption ratio | %.1f%% |\n", 100*t.ResumptionRatio)
	fmt.Fprintf(b, "| handshake p50 / p99 / max (ms) | %s / %s / %s |\n", ms(t.HandshakeMs.P50), ms(t.HandshakeMs.P99), ms(t.HandshakeMs.Max))
	fmt.Fprintf(b, "| peak handshakes/s | %s at %s s |\n", fmtFigure(t.PeakHandshakesPerS), fmtFigure(t.PeakAtS))
	fmt.Fprintf(b, "| peak dials/s | %s |\n", fmtFigure(t.PeakDialsPerS))
	if be := t.Backend; be != nil && be.MeasuredFull+be.MeasuredResumed > 0 {
		fmt.Fprintf(b, "| backend CPU per handshake, all / full / resumed (µs) | %.0f / %.0f / %.0f |\n", be.CPUPerHandshakeUs, be.CPUPerFullUs, be.CPUPerResumedUs)
	}
	for _, s := range t.Storms {
		fmt.Fprintf(b, "| after event %d (%s–%s s): handshakes, resumed, peak/s | %d, %.1f%%, %s |\n", s.Event, fmtFigure(s.FromS), fmtFigure(s.ToS),
			s.HandshakesFull+s.HandshakesResumed, 100*s.ResumptionRatio, fmtFigure(s.PeakHandshakesPerS))
	}
	b.WriteString("\n")
}

// tlsJUnitProperties are the JUnit suite's properties of the TLS
// handshakes, none without engine.tls.
func tlsJUnitProperties(t *TLS) []junitProperty {
	if t == nil {
		return nil
	}
	ps := []junitProperty{
		{"tls_handshakes_full", strconv.FormatInt(t.HandshakesFull, 10)},
		{"tls_handshakes_resumed", strconv.FormatInt(t.HandshakesResumed, 10)},
		{"tls_resumption_ratio", fmtFigure(t.ResumptionRatio)},
		{"tls_peak_handshakes_per_s", fmtFigure(t.PeakHandshakesPerS)},
	}
	if b := t.Backend; b != nil && b.MeasuredFull+b.MeasuredResumed > 0 {
		ps = append(ps, junitProperty{"tls_backend_cpu_per_handshake_us", fmtFigure(b.CPUPerHandshakeUs)})
	}
	return ps
}
