package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/spf13/cobra"

	"github.com/stampede-load/stampede/chaos/backend"
)

// scrape is one parsed GET of a /metrics URL.
type scrape struct {
	body string
	fams map[string]*dto.MetricFamily
}

// getMetrics scrapes url and parses the text exposition.
func getMetrics(url string) (scrape, error) {
	resp, err := http.Get(url)
	if err != nil {
		return scrape{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return scrape{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return scrape{}, fmt.Errorf("GET %s: status %d: %s", url, resp.StatusCode, raw)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(raw))
	if err != nil {
		return scrape{}, fmt.Errorf("parse %s: %w", url, err)
	}
	return scrape{body: string(raw), fams: fams}, nil
}

// metric returns the series of family name with exactly labels (name,
// value pairs, sorted by name as the exposition sorts them).
func (s scrape) metric(t *testing.T, name string, labels ...string) *dto.Metric {
	t.Helper()
	mf := s.fams[name]
	if mf == nil {
		t.Fatalf("no metric family %s in:\n%s", name, s.body)
	}
	for _, m := range mf.GetMetric() {
		var got []string
		for _, lp := range m.GetLabel() {
			got = append(got, lp.GetName(), lp.GetValue())
		}
		if slices.Equal(got, labels) {
			return m
		}
	}
	t.Fatalf("%s has no series %v", name, labels)
	return nil
}

// value is the value of a counter or gauge series.
func (s scrape) value(t *testing.T, name string, labels ...string) int64 {
	t.Helper()
	m := s.metric(t, name, labels...)
	return int64(m.GetCounter().GetValue() + m.GetGauge().GetValue())
}

// refreshSession returns the session of a refresh request's path.
func refreshSession(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, "/v1/client/sessions/")
	if !ok {
		return "", false
	}
	sid, ok := strings.CutSuffix(rest, "/tokens")
	return sid, ok
}

// shortRun returns the options of a short run of n clients to out: 60 s
// tokens at ×60 (1 s), seed 42.
func shortRun(out string, n int, d time.Duration) *runOptions {
	return &runOptions{streams: streams{out: &bytes.Buffer{}, err: &bytes.Buffer{}}, profile: "default",
		clients: n, duration: d, ramp: d / 5, timeScale: 60, seed: 42, outDir: out, preflightTimeout: 5 * time.Second,
		flags: func(name string) bool {
			return slices.Contains([]string{"clients", "duration", "ramp", "time-scale", "seed"}, name)
		}}
}

// checkQuantileBucket checks that the histogram's bucket holding quantile q
// (0–1) of its values is the one whose bounds enclose want (seconds), the
// quantile result.json gives.
func checkQuantileBucket(t *testing.T, name string, h *dto.Histogram, q, want float64) {
	t.Helper()
	rank := max(uint64(q*float64(h.GetSampleCount())+0.5), 1)
	lower := 0.0
	for _, b := range h.GetBucket() {
		if b.GetCumulativeCount() >= rank {
			if want <= lower || want > b.GetUpperBound() {
				t.Errorf("%s: quantile %g of result.json is %gs, outside the bucket (%g, %g] holding it", name, q, want, lower, b.GetUpperBound())
			}
			return
		}
		lower = b.GetUpperBound()
	}
	if want <= lower {
		t.Errorf("%s: quantile %g is %gs, but the histogram puts it above %gs", name, q, want, lower)
	}
}

// TestRunServesLiveMetricsThatEndAtTheResult runs 200 clients against a
// backend the test holds with --metrics-addr on an ephemeral port. The
// target scrapes the metrics while it holds a client's second refresh (so
// the run is going and the first was counted); the end hook scrapes them
// once result.json is written, and every count must equal the result's.
func TestRunServesLiveMetricsThatEndAtTheResult(t *testing.T) {
	be, err := backend.New(backend.Config{TokenLifetime: time.Second, Signing: "ES256"})
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu        sync.Mutex
		url       string
		refreshes = map[string]int{}
		liveOnce  sync.Once
		live      = make(chan scrape, 1)
		liveErr   error
		final     scrape
		finalErr  error
	)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sid, ok := refreshSession(r.URL.Path); ok {
			mu.Lock()
			refreshes[sid]++
			second, u := refreshes[sid] == 2, url
			mu.Unlock()
			if second {
				liveOnce.Do(func() {
					s, err := getMetrics(u)
					liveErr = err
					live <- s
				})
			}
		}
		be.ServeHTTP(w, r)
	}))
	defer target.Close()

	out := t.TempDir()
	o := shortRun(out, 200, 3*time.Second)
	o.target, o.metricsAddr = target.URL, "127.0.0.1:0"
	o.onMetrics = func(u string, ended bool) {
		if !ended {
			mu.Lock()
			url = u
			mu.Unlock()
			return
		}
		final, finalErr = getMetrics(u)
	}
	if err := o.run(context.Background()); err != nil {
		t.Fatalf("run: %v; stderr %s", err, o.err)
	}
	if !strings.Contains(o.err.(*bytes.Buffer).String(), "metrics: "+url) {
		t.Errorf("stderr does not give the metrics URL %s: %s", url, o.err)
	}
	res := readResult(t, out)

	var mid scrape
	select {
	case mid = <-live:
	default:
		t.Fatal("no client refreshed twice: no live scrape")
	}
	if liveErr != nil {
		t.Fatalf("live scrape: %v", liveErr)
	}
	if finalErr != nil {
		t.Fatalf("final scrape: %v", finalErr)
	}
	// While the target held a refresh: that refresh in flight, its client
	// started and signed in, its first refresh counted.
	if n := mid.value(t, "stampede_refreshes_in_flight"); n < 1 {
		t.Errorf("live: %d refreshes in flight while the target held one", n)
	}
	if n := mid.value(t, "stampede_clients", "state", "started"); n < 1 || n > 200 {
		t.Errorf("live: %d clients started", n)
	}
	midOK := mid.value(t, "stampede_requests_total", "class", "ok", "op", "refresh")
	if midOK < 1 || mid.value(t, "stampede_requests_total", "class", "ok", "op", "sign_in") < 1 {
		t.Errorf("live: %d refreshes ok, want at least the first of the client refreshing again", midOK)
	}
	if got := final.value(t, "stampede_requests_total", "class", "ok", "op", "refresh"); got <= midOK {
		t.Errorf("refreshes ok: %d at the end, %d mid-run: the metrics did not move", got, midOK)
	}

	served := be.Stats().Endpoints
	for op, ep := range map[string]string{"sign_in": backend.EndpointSignIn, "refresh": backend.EndpointToken, "api": backend.EndpointAPI} {
		o := res.Ops[op]
		var total int64
		classes := []string{"ok"}
		for class := range o.Errors {
			classes = append(classes, class)
		}
		for _, class := range classes {
			want := o.Errors[class]
			if class == "ok" {
				want = o.OK
			}
			got := final.value(t, "stampede_requests_total", "class", class, "op", op)
			if got != want {
				t.Errorf("stampede_requests_total{op=%q,class=%q} = %d, result.json %d", op, class, got, want)
			}
			total += got
		}
		var srv int64
		for _, n := range served[ep] {
			srv += n
		}
		if total != srv || total == 0 {
			t.Errorf("%s: %d requests scraped, the target served %d", op, total, srv)
		}
		h := final.metric(t, "stampede_request_duration_seconds", "op", op).GetHistogram()
		if want := o.Count - o.Errors["cancelled"]; int64(h.GetSampleCount()) != want {
			t.Errorf("%s latency histogram holds %d, result.json %d", op, h.GetSampleCount(), want)
		}
		if mean := h.GetSampleSum() / float64(h.GetSampleCount()) * 1000; math.Abs(mean-o.LatencyMs.Mean) > 1e-6*o.LatencyMs.Mean {
			t.Errorf("%s mean latency %g ms, result.json %g ms", op, mean, o.LatencyMs.Mean)
		}
		checkQuantileBucket(t, op, h, 0.5, o.LatencyMs.P50/1000)
		checkQuantileBucket(t, op, h, 0.99, o.LatencyMs.P99/1000)
	}
	lag := final.metric(t, "stampede_engine_lag_seconds").GetHistogram()
	if lag.GetSampleCount() < 200 {
		t.Errorf("lag histogram holds %d, want at least one per client start", lag.GetSampleCount())
	}
	checkQuantileBucket(t, "lag", lag, 0.99, res.Engine.LagMs.P99/1000)
	for name, want := range map[string]int64{
		"stampede_duplicate_refreshes_total": res.Herd.DuplicateRefreshes,
		"stampede_refresh_retries_total":     res.Herd.Retries,
		"stampede_forced_signouts_total":     res.Sessions.ForcedSignouts,
		"stampede_app_calls_issued_total":    res.Requests.Issued,
		"stampede_app_calls_unsettled":       res.Requests.Lost,
		"stampede_refreshes_in_flight":       0,
	} {
		if got := final.value(t, name); got != want {
			t.Errorf("%s = %d, result.json %d", name, got, want)
		}
	}
	if final.value(t, "stampede_clients", "state", "started") != 200 {
		t.Errorf("final: %d clients started, want 200", final.value(t, "stampede_clients", "state", "started"))
	}
	if final.fams["go_goroutines"] == nil {
		t.Error("no go_goroutines: the Go runtime's metrics are missing")
	}
	if final.fams["stampede_backend_responses_total"] != nil {
		t.Error("backend metrics of an external target")
	}
	if strings.Contains(mid.body+final.body, "eyJ") {
		t.Error("token material in the metrics")
	}
	// The server stopped with the run.
	if resp, err := http.Get(url); err == nil {
		resp.Body.Close()
		t.Errorf("%s still answers after the run", url)
	}
}

// TestRunMetricsIncludeTheEmbeddedBackend runs against the embedded
// backend: its own metrics are served too and agree with the clients'.
func TestRunMetricsIncludeTheEmbeddedBackend(t *testing.T) {
	out := t.TempDir()
	o := shortRun(out, 50, time.Second)
	o.quiet, o.metricsAddr = true, "127.0.0.1:0"
	var final scrape
	var finalErr error
	o.onMetrics = func(u string, ended bool) {
		if ended {
			final, finalErr = getMetrics(u)
		}
	}
	if err := o.run(context.Background()); err != nil {
		t.Fatalf("run: %v; stderr %s", err, o.err)
	}
	if finalErr != nil {
		t.Fatal(finalErr)
	}
	res := readResult(t, out)
	var tokenResponses int64
	for _, m := range final.fams["stampede_backend_responses_total"].GetMetric() {
		for _, lp := range m.GetLabel() {
			if lp.GetName() == "endpoint" && lp.GetValue() == backend.EndpointToken {
				tokenResponses += int64(m.GetCounter().GetValue())
			}
		}
	}
	if refresh := res.Ops["refresh"]; tokenResponses != refresh.Count || tokenResponses == 0 {
		t.Errorf("the backend's metrics count %d token responses, result.json %d refreshes", tokenResponses, refresh.Count)
	}
	var sessions int64
	for _, m := range final.fams["stampede_backend_sessions"].GetMetric() {
		sessions += int64(m.GetGauge().GetValue())
	}
	if signIns := res.Ops["sign_in"].OK; sessions != signIns {
		t.Errorf("the backend's metrics hold %d sessions, result.json %d sign-ins", sessions, signIns)
	}
}

func TestMetricsAddrBadExitsTwoNamingTheFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"run", "--metrics-addr", "9090"}, []string{"--metrics-addr"}},
		{[]string{"run", "--metrics-addr", "127.0.0.1:99999"}, []string{"--metrics-addr"}},
		{[]string{"run", "--metrics-addr", "127.0.0.1:prom"}, []string{"--metrics-addr"}},
		{[]string{"run", "--metrics-addr", "[::1:9090"}, []string{"--metrics-addr"}},
		{[]string{"run", "--metrics-addr", "nope", "--clients", "0"}, []string{"--metrics-addr", "--clients"}},
		{[]string{"serve", "--metrics-addr", "localhost", "--signing", "HS256"}, []string{"--metrics-addr", "--signing"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, stdout, stderr := runCLI(context.Background(), tc.args...)
			if code != exitUsage || stdout != "" {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit 2", code, stdout, stderr)
			}
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			if len(lines) != len(tc.want) {
				t.Errorf("want %d lines, got %q", len(tc.want), stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q does not name %s", stderr, w)
				}
			}
		})
	}
}

func TestMetricsAddrInUseExitsOneNamingIt(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	out := t.TempDir()
	for _, args := range [][]string{
		{"run", "--metrics-addr", addr, "--out", out, "--quiet"},
		{"serve", "--addr", "127.0.0.1:0", "--metrics-addr", addr, "--signing", "EdDSA"},
	} {
		code, stdout, stderr := runCLI(context.Background(), args...)
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if code != exitFailure || len(lines) != 1 || !strings.Contains(stderr, "--metrics-addr "+addr) || stdout != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 1, one line naming --metrics-addr %s", args[0], code, stdout, stderr, addr)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "result.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the run went ahead: result.json %v", err)
	}
}

// TestServeMetricsAddrServesTheBackendWithoutTheAdminToken: with an admin
// token, the backend's /metrics needs it; --metrics-addr serves the same
// figures, and the Go runtime's, without it, and stops with the server.
func TestServeMetricsAddrServesTheBackendWithoutTheAdminToken(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out bytes.Buffer
	const admin = "admin-secret-0123456789"
	o := &serveOptions{streams: streams{out: &out, err: &bytes.Buffer{}}, addr: "127.0.0.1:0", metricsAddr: "127.0.0.1:0",
		adminToken: admin, tokenLifetime: backend.DefaultTokenLifetime, maxLifetime: backend.DefaultMaxLifetime, signing: "EdDSA"}
	var metricsURL, signInBody string
	var s scrape
	var guarded int
	var scrapeErr error
	o.onMetrics = func(u string) { metricsURL = u }
	o.onListen = func(srv *backend.Server) {
		defer cancel()
		resp, err := http.Post(srv.URL+"/v1/client/sign_ins", "application/json", nil)
		if err != nil {
			scrapeErr = err
			return
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		signInBody = string(raw)
		guarded = status(t, http.DefaultClient, http.MethodGet, srv.URL+"/metrics", "")
		s, scrapeErr = getMetrics(metricsURL)
	}
	cmd := &cobra.Command{}
	cmd.SetContext(ctx)
	if err := o.run(cmd); err != nil && err != errStopped { // serve stops with exit 130
		t.Fatal(err)
	}
	if scrapeErr != nil {
		t.Fatal(scrapeErr)
	}
	if guarded != http.StatusUnauthorized {
		t.Errorf("the backend's own /metrics answered %d without the admin token, want 401", guarded)
	}
	if got := s.value(t, "stampede_backend_responses_total", "code", "200", "endpoint", "sign_in"); got != 1 {
		t.Errorf("sign-ins scraped: %d, want 1", got)
	}
	if got := s.value(t, "stampede_backend_responses_total", "code", "401", "endpoint", "metrics"); got != 1 {
		t.Errorf("guarded scrapes counted: %d, want 1", got)
	}
	if got := s.value(t, "stampede_backend_sessions", "status", "active"); got != 1 {
		t.Errorf("active sessions: %d, want 1", got)
	}
	if s.fams["go_goroutines"] == nil || s.fams["stampede_backend_tokens_minted_total"] == nil {
		t.Errorf("families missing:\n%s", s.body)
	}
	if !strings.Contains(out.String(), "metrics on "+metricsURL) {
		t.Errorf("output does not give the metrics URL %s: %q", metricsURL, out.String())
	}
	if !strings.Contains(signInBody, "eyJ") {
		t.Fatalf("sign-in answered without a JWT: %s", signInBody)
	}
	for _, secret := range []string{"eyJ", admin} {
		if strings.Contains(s.body+out.String(), secret) {
			t.Errorf("secret material %.3s... in the metrics or output", secret)
		}
	}
	if resp, err := http.Get(metricsURL); err == nil {
		resp.Body.Close()
		t.Errorf("%s still answers after serve stopped", metricsURL)
	}
}
