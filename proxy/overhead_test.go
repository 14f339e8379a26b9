package proxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

// slowTransport answers every request after a delay, in memory.
type slowTransport struct{ delay time.Duration }

func (s slowTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	time.Sleep(s.delay)
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(`{"ok":true}`)), Request: r}, nil
}

// TestProxyOverheadLeavesOutTheUpstreamAndFaults: the proxy's own time
// (result.json proxy.overhead_ms) counts every request it forwarded, and
// none of the time it waited on the upstream (1 s an answer) or on a
// brownout's injected delay (2 s a refresh): in a bubble whose clock moves
// only while the proxy waits, its own time is 0 while the latency through
// it is the waits'. Thresholds gate it (proxy.overhead_p50, _p99).
func TestProxyOverheadLeavesOutTheUpstreamAndFaults(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u, _ := url.Parse("http://upstream.invalid")
		p := profiles.Default()
		p.Events = []profiles.Event{{Type: profiles.EventBrownout, Latency: profiles.Duration(2 * time.Second), Duration: profiles.Duration(time.Hour)}}
		p.Thresholds = []profiles.Threshold{{Expr: "proxy.overhead_p99 < 1ms"}, {Expr: "proxy.overhead_p50 > 5ms"}}
		px, err := New(Config{Upstream: u, Profile: p, Transport: slowTransport{delay: time.Second}})
		if err != nil {
			t.Fatal(err)
		}
		tok := jwt(map[string]any{"sid": "s1", "iat": time.Now().Unix()})
		for i := range 5 {
			r := httptest.NewRequest(http.MethodGet, "/api/items", nil)
			r.Header.Set("Authorization", "Bearer "+tok)
			if i == 4 {
				r = httptest.NewRequest(http.MethodPost, "/v1/client/sessions/s1/tokens", strings.NewReader("{}"))
				r.Header.Set("Authorization", "Bearer client-token")
			}
			w := httptest.NewRecorder()
			px.ServeHTTP(w, r)
			if w.Code != http.StatusOK {
				t.Fatalf("request %d: status %d", i, w.Code)
			}
		}
		res, err := px.Result("r", "test", false)
		if err != nil {
			t.Fatal(err)
		}
		o := res.Proxy.OverheadMs
		if o == nil {
			t.Fatal("no proxy.overhead_ms")
		}
		if o.Max != 0 {
			t.Errorf("the proxy's own time is %+v ms: it counts waiting", *o)
		}
		if api, rf := res.Ops["api"].LatencyMs, res.Ops["refresh"].LatencyMs; api.P50 < 1000 || rf.Max < 3000 {
			t.Errorf("latency through the proxy: api %+v, refresh %+v: want the upstream's 1 s, and the brownout's 2 s more", api, rf)
		}
		if len(res.Thresholds) != 2 || !res.Thresholds[0].OK || res.Thresholds[1].OK {
			t.Errorf("thresholds on the proxy's own time: %+v", res.Thresholds)
		}
		var md strings.Builder
		if err := reports.Render(&md, res, "markdown"); err != nil || !strings.Contains(md.String(), "| the proxy's own time a request | p50 0.000 ms · p99 0.000 ms |") {
			t.Errorf("report.md shows no own time (%v):\n%s", err, md.String())
		}
		if h, err := reports.DecodeHistogram(res.Proxy.OverheadHDR); err != nil || h.TotalCount() != 5 {
			t.Errorf("overhead histogram: %v, %v; want 5 requests", h, err)
		}
	})
}
