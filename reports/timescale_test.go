package reports

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/profiles"
)

func TestTimeScaleFlagsADistortedHerd(t *testing.T) {
	p := profiles.Default() // as commute: ×20, 10 s timeout, 60 s tokens, 400 ms round trips
	p.TimeScale, p.Network.Latency = 20, profiles.Duration(400*time.Millisecond)
	ts := TimeScaleOf(p)
	want := TimeScale{TimeScale: 20, TokenLifetimeS: 60, RequestTimeoutS: 10, RequestTimeoutSimulatedS: 200, RoundTripS: 0.4,
		RoundTripSimulatedS: 8, TimeoutPerLifetime: 3.3333, RoundTripPerLifetime: 0.1333, Distorted: true, FaithfulTimeScale: 3}
	if *ts != want {
		t.Errorf("commute: %+v, want %+v", *ts, want)
	}
	r := &Result{Ops: map[string]*Op{}, TimeScale: ts}
	for name, render := range map[string]func(*bytes.Buffer) error{
		"text":     func(b *bytes.Buffer) error { return WriteText(b, r) },
		"markdown": func(b *bytes.Buffer) error { return Render(b, r, "markdown") },
		"html":     func(b *bytes.Buffer) error { return Render(b, r, "html") },
	} {
		var b bytes.Buffer
		if err := render(&b); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), "distorted herd: at time scale 20 the request timeout lasts 200s simulated, 3.33 token lifetimes (faithful up to time scale 3)") {
			t.Errorf("%s does not flag the distorted herd", name)
		}
	}
	p.TimeScale = 3
	if ts := TimeScaleOf(p); ts.Distorted || ts.Flag() != "" {
		t.Errorf("×3: %+v, flag %q", ts, ts.Flag())
	}
}
