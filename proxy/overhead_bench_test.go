package proxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

// pacedP99 sends rate requests a second to target for d, from workers
// goroutines each taking the next slot of the schedule, and returns the
// p99 of the time from send to the answer read, and how many failed.
func pacedP99(tb testing.TB, target, token string, rate int, d time.Duration) (p99 time.Duration, failed int64) {
	tb.Helper()
	tr := &http.Transport{MaxIdleConns: 512, MaxIdleConnsPerHost: 512}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	n := int64(rate) * int64(d) / int64(time.Second)
	interval := time.Second / time.Duration(rate)
	h := reports.NewHistogram()
	var mu sync.Mutex
	var next atomic.Int64
	start := time.Now().Add(50 * time.Millisecond)
	var wg sync.WaitGroup
	for range 128 {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= n {
					return
				}
				time.Sleep(time.Until(start.Add(time.Duration(i) * interval)))
				req, _ := http.NewRequest(http.MethodGet, target+"/api/items", nil)
				req.Header.Set("Authorization", "Bearer "+token)
				sent := time.Now()
				resp, err := hc.Do(req)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				took := time.Since(sent)
				mu.Lock()
				if err != nil || resp.StatusCode != http.StatusOK {
					failed++
				}
				reports.RecordLatency(h, took)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return time.Duration(h.ValueAtQuantile(99)) * time.Microsecond, failed
}

// BenchmarkProxyAddedP99At5000RPS measures the p99 of API calls at 5,000
// requests a second straight to a backend and through the proxy, and
// reports both, the difference (the proxy's own added p99) and their
// ratio. Run it alone, once: go test -run '^$' -bench ProxyAddedP99 -benchtime 1x ./proxy/
func BenchmarkProxyAddedP99At5000RPS(b *testing.B) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	defer up.Close()
	u, _ := url.Parse(up.URL)
	px, err := New(Config{Upstream: u, Profile: profiles.Default(),
		Transport: &http.Transport{MaxIdleConns: 512, MaxIdleConnsPerHost: 512}})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(px)
	defer srv.Close()
	token := jwt(map[string]any{"sid": "bench", "iat": time.Now().Unix()})
	const rate, d = 5000, 3 * time.Second
	for b.Loop() {
		direct, f1 := pacedP99(b, up.URL, token, rate, d)
		proxied, f2 := pacedP99(b, srv.URL, token, rate, d)
		if f1+f2 > 0 {
			b.Fatalf("%d direct and %d proxied requests failed", f1, f2)
		}
		b.ReportMetric(float64(direct)/float64(time.Millisecond), "direct-p99-ms")
		b.ReportMetric(float64(proxied)/float64(time.Millisecond), "proxied-p99-ms")
		b.ReportMetric(float64(proxied-direct)/float64(time.Millisecond), "added-p99-ms")
		b.ReportMetric(float64(proxied)/float64(max(direct, time.Microsecond)), "p99-ratio")
	}
}

// cannedTransport answers every request with a fixed 200, in memory.
type cannedTransport struct{}

func (cannedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(`{"ok":true}`)), Request: r}, nil
}

// BenchmarkProxyServeHTTP measures the proxy's own work per API call:
// classification, the session's bookkeeping and forwarding, with the
// network taken out (an in-memory upstream and recorder).
func BenchmarkProxyServeHTTP(b *testing.B) {
	u, _ := url.Parse("http://upstream.invalid")
	px, err := New(Config{Upstream: u, Profile: profiles.Default(), Transport: cannedTransport{}})
	if err != nil {
		b.Fatal(err)
	}
	tokens := make([]string, 1000)
	for i := range tokens {
		tokens[i] = jwt(map[string]any{"sid": "s" + strconv.Itoa(i), "iat": time.Now().Unix()})
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			req := httptest.NewRequest(http.MethodGet, "/api/items?id="+strconv.Itoa(i), nil)
			req.Header.Set("Authorization", "Bearer "+tokens[i%len(tokens)])
			w := httptest.NewRecorder()
			px.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Fatalf("status %d", w.Code)
			}
			i++
		}
	})
}
