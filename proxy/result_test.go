package proxy

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

// A fleet of one session, on the proxy's clock: 10 API calls and a
// refresh a second for 10 s, a spurious-401 storm of every API call from
// 10 s to 12 s, a herd of 20 refreshes a second for the 3 s after it,
// then the steady traffic again until 25 s. The fleet is back 3 s after
// the fault's end; a fault still on at the end has no recovery.
func TestProxyResultGivesEachFaultItsRecovery(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Unix(1_700_000_000, 0).UnixNano())
	h := newHarness(t, &fakeFAPI{}, profiles.Default(), func(c *Config) {
		c.Now = func() time.Time { return time.Unix(0, clock.Load()) }
	})
	ct, tok := h.signIn()
	start := h.px.Start()
	at := func(d time.Duration) { clock.Store(start.Add(d).UnixNano()) }
	for b := range 250 { // 100 ms buckets
		at(time.Duration(b) * 100 * time.Millisecond)
		switch {
		case b == 100:
			if _, err := h.px.AddFault(profiles.Event{Type: profiles.EventSpurious401, Rate: 1, Duration: profiles.Duration(2 * time.Second)}); err != nil {
				t.Fatal(err)
			}
		case b == 240:
			if _, err := h.px.AddFault(profiles.Event{Type: profiles.EventBrownout, Latency: profiles.Duration(time.Millisecond)}); err != nil {
				t.Fatal(err)
			}
		}
		if b%10 == 0 || (b >= 120 && b < 150) {
			tok = h.refresh(ct)
			if b >= 120 && b < 150 {
				h.refresh(ct) // the herd: 20 a second
			}
		}
		h.do("GET", "/api/me", tok, "")
	}
	res := h.result()
	if len(res.Events) != 2 {
		t.Fatalf("events %+v, want the storm and the brownout", res.Events)
	}
	storm, brownout := res.Events[0], res.Events[1]
	if storm.RecoveryS == nil || *storm.RecoveryS != 3 || storm.RecoveryReason != "" {
		t.Errorf("storm recovery %v (%q), want 3 s", deref(storm.RecoveryS), storm.RecoveryReason)
	}
	if storm.API401 == 0 {
		t.Errorf("storm made no 401: %+v", storm)
	}
	if brownout.RecoveryS != nil || brownout.RecoveryReason != reports.RecoveryFaultActive {
		t.Errorf("brownout recovery %v (%q), want null (%s)", deref(brownout.RecoveryS), brownout.RecoveryReason, reports.RecoveryFaultActive)
	}
}

// The reports show each fault's recovery, or why there is none.
func TestProxyReportsShowEachFaultsRecovery(t *testing.T) {
	rec := 3.0
	res := &reports.Result{Mode: reports.ModeProxy, Proxy: &reports.ProxyFigures{}, Events: []reports.Event{
		{Index: 0, Type: "spurious_401", At: "live", StartS: 10, EndS: 12, RecoveryS: &rec},
		{Index: 1, Type: "brownout", At: "live", StartS: 24, EndS: 25, RecoveryReason: reports.RecoveryFaultActive},
	}}
	var md, html strings.Builder
	if err := reports.WriteMarkdown(&md, res); err != nil {
		t.Fatal(err)
	}
	if err := reports.WriteHTML(&html, res); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "| 3.0 |") {
		t.Error("report.md does not show the storm's recovery of 3 s")
	}
	if !strings.Contains(html.String(), `<td class="num">3</td><td></td></tr>`) {
		t.Error("report.html does not show the storm's recovery of 3 s")
	}
	for name, out := range map[string]string{"report.md": md.String(), "report.html": html.String()} {
		if !strings.Contains(out, "not recovered (fault_active)") {
			t.Errorf("%s does not say why the brownout has no recovery", name)
		}
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}
