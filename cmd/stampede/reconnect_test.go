package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stampede-load/stampede/reports"
)

// stormClients is the fleet of reconnectStorm.
const stormClients = 40

// reconnectStorm runs the built-in reconnect-storm profile, scaled down to
// a few seconds: 40 clients, 30% of them offline for a simulated minute
// (1 s of wall time at ×60) from 2.8 s, against the embedded backend
// served over TLS. A client resumes only if its first handshake completed
// before the outage, and the storm is measured over 3 s of wall time after
// the restore: on a machine so starved that some first handshakes had not
// completed, or fewer than 3 redials fell in that window, the run is made
// again (up to 3 times) before it is judged.
func reconnectStorm(t *testing.T, extra ...string) (string, *reports.Result) {
	t.Helper()
	var out string
	var res *reports.Result
	for attempt := 1; attempt <= 3; attempt++ {
		out = t.TempDir()
		args := append([]string{"run", "-p", "reconnect-storm", "--clients", fmt.Sprint(stormClients), "--duration", "7s", "--ramp", "500ms",
			"--time-scale", "60", "--seed", "3", "--out", out, "--no-progress"}, extra...)
		code, stdout, stderr := runCLI(context.Background(), args...)
		if code != exitOK {
			t.Fatalf("exit %d; stdout %s; stderr %s", code, stdout, stderr)
		}
		if !strings.Contains(stdout, "tls        ") {
			t.Errorf("the summary has no tls line:\n%s", stdout)
		}
		res = readResult(t, out)
		first, storm := firstHandshakesBefore(res), stormHandshakes(res)
		if first >= stormClients && storm >= 3 {
			break
		}
		t.Logf("attempt %d: %d of %d first handshakes completed before the outage, %d in the storm after it (engine lag p99 %.1f ms): the machine was starved, running again",
			attempt, first, stormClients, storm, res.Engine.LagMs.P99)
	}
	return out, res
}

// stormHandshakes counts the handshakes of the first storm, if any.
func stormHandshakes(res *reports.Result) int64 {
	if t := res.Engine.TLS; t != nil && len(t.Storms) > 0 {
		return t.Storms[0].HandshakesFull + t.Storms[0].HandshakesResumed
	}
	return 0
}

// firstHandshakesBefore counts the handshakes completed before the first
// event started.
func firstHandshakesBefore(res *reports.Result) int64 {
	t := res.Engine.TLS
	if t == nil || len(res.Events) == 0 || t.Timeline.BucketMs <= 0 {
		return 0
	}
	end := int(res.Events[0].StartS * 1000 / float64(t.Timeline.BucketMs))
	var n int64
	for i := 0; i < end && i < len(t.Timeline.HandshakesFull); i++ {
		n += t.Timeline.HandshakesFull[i] + t.Timeline.HandshakesResumed[i]
	}
	return n
}

// TestReconnectStormResumesSessions: after the outage's restore the
// clients that lost their network redial at once, and nearly every one
// resumes its TLS session; result.json and report.html say so.
func TestReconnectStormResumesSessions(t *testing.T) {
	t.Parallel()
	out, res := reconnectStorm(t)
	if res.Target.Kind != "embedded" || !strings.HasPrefix(res.Target.URL, "https://127.0.0.1:") {
		t.Fatalf("target %+v, want the embedded backend over https", res.Target)
	}
	tls := res.Engine.TLS
	if tls == nil || len(tls.Storms) != 1 || len(res.Events) != 1 {
		t.Fatalf("engine.tls %+v, events %+v; want one storm after the outage", tls, res.Events)
	}
	s, restore := tls.Storms[0], res.Events[0].EndS
	if s.HandshakesFull+s.HandshakesResumed < 3 || s.PeakHandshakesPerS <= 0 || s.PeakAtS < restore-0.1 {
		t.Errorf("storm %+v after the restore at %.2f s: want a handshake peak after it", s, restore)
	}
	if s.ResumptionRatio <= 0.9 {
		t.Errorf("storm resumption ratio %.3f, want above 0.9: %+v", s.ResumptionRatio, s)
	}
	if tls.HandshakesFull < stormClients || tls.HandshakesResumed < 3 || !tls.Resumption || tls.HandshakeMs.P50 <= 0 || tls.HDR == "" {
		t.Errorf("engine.tls %+v: want a full handshake per client, resumed ones after the outage, latencies", tls)
	}
	// The backend counts every handshake the clients completed (and those
	// whose last flight an outage or the end of the run cut off).
	if b := tls.Backend; b == nil || b.HandshakesFull < tls.HandshakesFull || b.HandshakesResumed < tls.HandshakesResumed {
		t.Errorf("backend's count %+v, want at least the clients' %d full and %d resumed", b, tls.HandshakesFull, tls.HandshakesResumed)
	}
	page, err := os.ReadFile(filepath.Join(out, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf(`<td class="num">%.1f%%</td>`, 100*s.ResumptionRatio)
	for _, w := range []string{`<section id="tls">`, "TLS handshakes", want, `data-chart="tls"`} {
		if !strings.Contains(string(page), w) {
			t.Errorf("report.html lacks %q", w)
		}
	}
}

// TestReconnectStormWithoutResumption: with tls_resumption off every
// handshake, the storm's included, is a full one.
func TestReconnectStormWithoutResumption(t *testing.T) {
	t.Parallel()
	_, res := reconnectStorm(t, "--set", "tls_resumption=false")
	tls := res.Engine.TLS
	if tls == nil || len(tls.Storms) != 1 {
		t.Fatalf("engine.tls %+v: want one storm", tls)
	}
	if s := tls.Storms[0]; s.HandshakesFull < 3 || s.HandshakesResumed != 0 || s.ResumptionRatio != 0 {
		t.Errorf("storm %+v: want only full handshakes", s)
	}
	if tls.HandshakesResumed != 0 || tls.ResumptionRatio != 0 || tls.Resumption {
		t.Errorf("engine.tls %+v: want no resumption", tls)
	}
}
