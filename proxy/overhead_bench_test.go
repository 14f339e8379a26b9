package proxy

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stampede-load/stampede/gcpace"
	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

// round is one paced round of API calls: the p99 from send to the answer
// read, how many failed, and the CPU the whole process used meanwhile (in
// cores: CPU time over wall time).
type round struct {
	p50    time.Duration
	p99    time.Duration
	failed int64
	cores  float64
	// busy is the share of the machine's CPU time (all its cores, every
	// process) spent busy during the round; -1 where unknown.
	busy float64
}

// machineCPU reads the machine's busy and total CPU time (in clock ticks)
// from /proc/stat; ok is false where there is none.
func machineCPU() (busy, total int64, ok bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, false
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 6 || f[0] != "cpu" {
		return 0, 0, false
	}
	for i, v := range f[1:] {
		n, _ := strconv.ParseInt(v, 10, 64)
		total += n
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return busy, total, true
}

// pacedRound sends rate requests a second to target for d through hc,
// from workers goroutines each taking the next slot of the schedule.
func pacedRound(hc *http.Client, target, token string, rate, workers int, d time.Duration) round {
	n := int64(rate) * int64(d) / int64(time.Second)
	interval := time.Second / time.Duration(rate)
	h := reports.NewHistogram()
	var mu sync.Mutex
	var failed int64
	var next atomic.Int64
	start := time.Now().Add(20 * time.Millisecond)
	cpu0 := cpuTime()
	busy0, total0, haveStat := machineCPU()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= n {
					return
				}
				time.Sleep(time.Until(start.Add(time.Duration(i) * interval)))
				req, _ := http.NewRequest(http.MethodGet, target+"/api/items?n="+strconv.FormatInt(i, 10), nil)
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
	wall := time.Since(start)
	busyShare := -1.0
	if busy1, total1, ok := machineCPU(); ok && haveStat && total1 > total0 {
		busyShare = float64(busy1-busy0) / float64(total1-total0)
	}
	return round{busy: busyShare, p50: time.Duration(h.ValueAtQuantile(50)) * time.Microsecond,
		p99: time.Duration(h.ValueAtQuantile(99)) * time.Microsecond, failed: failed,
		cores: float64(cpuTime()-cpu0) / float64(wall)}
}

// median of durations (the upper one of an even count's two).
func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// loadAverage is the machine's 1-minute load average ("" where unknown).
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	return strings.Fields(string(b))[0]
}

// BenchmarkProxyAddedP99At5000RPS measures the p99 of API calls at 5,000
// requests a second straight to a backend (A) and through the proxy (B),
// in alternating short rounds (A B A B …, after a warm-up of each), so
// that drift in the machine's load hits both alike. It reports the median
// of each side's per-round p99s, their difference (the p99 the proxy
// adds) and ratio, the medians of the per-round p50s, the proxy's own
// time per request as it measures it itself (proxy.overhead_ms), the CPU
// the process used (cores), the share of the whole machine's CPU busy
// (every process: is the machine saturated?) and its load average. Run it
// alone, once (about 25 s):
//
//	go test -run '^$' -bench ProxyAddedP99 -benchtime 1x ./proxy/
func BenchmarkProxyAddedP99At5000RPS(b *testing.B) {
	const (
		rate    = 5000
		workers = 64
		rounds  = 8 // of each side
		length  = 1500 * time.Millisecond
	)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	defer up.Close()
	u, _ := url.Parse(up.URL)
	px, err := New(Config{Upstream: u, Profile: profiles.Default()})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(px)
	defer srv.Close()
	token := jwt(map[string]any{"sid": "bench", "iat": time.Now().Unix()})
	client := func() *http.Client {
		return &http.Client{Transport: &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024}, Timeout: 5 * time.Second}
	}
	direct, proxied := client(), client()
	defer direct.CloseIdleConnections()
	defer proxied.CloseIdleConnections()
	// The collector's pace stampede proxy sets (cmd/stampede/proxy.go),
	// here for the whole process: both sides alike.
	gcCtx, stopGC := context.WithCancel(context.Background())
	gcDone := make(chan struct{})
	go func() { defer close(gcDone); gcpace.Run(gcCtx, gcpace.Floor) }()
	defer func() { stopGC(); <-gcDone }()
	load := loadAverage()
	for b.Loop() {
		// Warm-up: connections open, the proxy's session known.
		pacedRound(direct, up.URL, token, rate, workers, 500*time.Millisecond)
		pacedRound(proxied, srv.URL, token, rate, workers, 500*time.Millisecond)
		var a, p, a50, p50 []time.Duration
		var coresA, coresB, busyA, busyB float64
		for i := range rounds {
			ra := pacedRound(direct, up.URL, token, rate, workers, length)
			rb := pacedRound(proxied, srv.URL, token, rate, workers, length)
			if ra.failed+rb.failed > 0 {
				b.Fatalf("round %d: %d direct and %d proxied requests failed", i, ra.failed, rb.failed)
			}
			a, p = append(a, ra.p99), append(p, rb.p99)
			a50, p50 = append(a50, ra.p50), append(p50, rb.p50)
			coresA, coresB = coresA+ra.cores/rounds, coresB+rb.cores/rounds
			busyA, busyB = busyA+ra.busy/rounds, busyB+rb.busy/rounds
			b.Logf("round %d: direct p50 %v p99 %v (%.2f cores; machine %.0f%% busy), proxied p50 %v p99 %v (%.2f cores; machine %.0f%% busy)",
				i, ra.p50, ra.p99, ra.cores, 100*ra.busy, rb.p50, rb.p99, rb.cores, 100*rb.busy)
		}
		ma, mp := median(a), median(p)
		res, err := px.Result("bench", "bench", false)
		if err != nil {
			b.Fatal(err)
		}
		own := res.Proxy.OverheadMs
		b.Logf("load average %s before, %s after; the proxy's own time p50 %.3f ms, p99 %.3f ms", load, loadAverage(), own.P50, own.P99)
		b.ReportMetric(float64(median(a50))/float64(time.Millisecond), "direct-p50-ms")
		b.ReportMetric(float64(median(p50))/float64(time.Millisecond), "proxied-p50-ms")
		b.ReportMetric(float64(ma)/float64(time.Millisecond), "direct-p99-ms")
		b.ReportMetric(float64(mp)/float64(time.Millisecond), "proxied-p99-ms")
		b.ReportMetric(float64(mp-ma)/float64(time.Millisecond), "added-p99-ms")
		b.ReportMetric(float64(mp)/float64(max(ma, time.Microsecond)), "p99-ratio")
		b.ReportMetric(own.P50*1000, "own-p50-µs")
		b.ReportMetric(own.P99*1000, "own-p99-µs")
		b.ReportMetric(coresA, "cores-direct")
		b.ReportMetric(coresB, "cores-proxied")
		b.ReportMetric(busyA, "machine-busy-direct")
		b.ReportMetric(busyB, "machine-busy-proxied")
	}
}

// cannedTransport answers every request with a fixed 200, in memory.
type cannedTransport struct{}

func (cannedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(`{"ok":true}`)), Request: r}, nil
}

// discardWriter is a ResponseWriter that keeps the status and drops the
// rest, its header map reused.
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }

// BenchmarkProxyServeHTTP measures the proxy's own work per API call:
// classification, the session's bookkeeping and forwarding, with the
// network taken out (an in-memory upstream, whose answer's three
// allocations are counted too, and a discarding writer); the requests are
// built once, outside the loop.
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
	var id atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		base := int(id.Add(1)) * 7919
		reqs := make([]*http.Request, 256)
		for i := range reqs {
			reqs[i] = httptest.NewRequest(http.MethodGet, "/api/items?id="+strconv.Itoa(base+i), nil)
			reqs[i].Header.Set("Authorization", "Bearer "+tokens[(base+i)%len(tokens)])
		}
		w := &discardWriter{h: http.Header{}}
		i := 0
		for pb.Next() {
			clear(w.h)
			w.code = 0
			px.ServeHTTP(w, reqs[i%len(reqs)])
			if w.code != http.StatusOK {
				b.Fatalf("status %d", w.code)
			}
			i++
		}
	})
}
