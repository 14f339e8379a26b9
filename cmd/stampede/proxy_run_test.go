package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/proxy"
	"github.com/stampede-load/stampede/reports"
)

// TestRunThroughTheProxySeesTheSameDuplicateRefreshes runs stampede run
// through stampede proxy, for each built-in interceptor strategy, with a
// key rotation and a spurious-401 storm on the proxy's timeline, and holds
// both views of one fleet together: stale retries and retry loops equal
// (the run sends each app call's id as X-Request-Id, so the proxy tells a
// retry from a new call), refresh-token reuse equal (none on either side:
// the run's clients present their newest client token and the embedded
// backend does not rotate it), and duplicate refreshes (the refreshes the
// run's clients started while another of their own was in flight, against
// the proxy's in flight and same-generation ones) within a few. The buggy
// strategies make their figure nonzero, so no equality is that of two
// zeros.
func TestRunThroughTheProxySeesTheSameDuplicateRefreshes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a 4 s fleet per interceptor strategy")
	}
	storm := filepath.Join(t.TempDir(), "storm.yaml")
	if err := os.WriteFile(storm, []byte(`name: storm
time_scale: 1
events:
  # The storm first: the proxy applies the first fault that matches a
  # call, so the rotation does not take every 401 of a slow fleet.
  - {type: spurious_401, at: 2s, duration: 1500ms, rate: 0.3}
  - {type: key_rotation, at: 1500ms}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, ic := range profiles.Interceptors() {
		t.Run(ic, func(t *testing.T) {
			runDir, pxDir := t.TempDir(), t.TempDir()
			var runCode int
			var runErr string
			o := &proxyOptions{
				streams:  streams{out: &bytes.Buffer{}, err: &bytes.Buffer{}},
				upstream: "embedded", listen: "127.0.0.1:0", adminAddr: "127.0.0.1:0", profile: storm, outDir: pxDir,
				maxBody: proxy.DefaultMaxBody, retryLimit: proxy.DefaultRetryLimit, retryWindow: proxy.DefaultRetryWindow,
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			o.onListen = func(proxyURL, _ string) {
				go func() {
					defer cancel()
					runCode, _, runErr = runCLI(context.Background(), "run", "--target", proxyURL, "--clients", "30",
						"--duration", "4s", "--ramp", "500ms", "--time-scale", "3", "--out", runDir, "-q",
						"--set", "sdk.interceptor="+ic, "--set", "app.api_calls_per_minute=60", "--set", "app.burst=3")
				}()
			}
			_ = o.run(ctx) // stopped by cancel: partial, exit 130
			if runCode != exitOK && runCode != exitThresholds {
				t.Fatalf("run exit %d: %s", runCode, runErr)
			}
			run, err := reports.ReadFile(filepath.Join(runDir, "result.json"))
			if err != nil {
				t.Fatal(err)
			}
			px, err := reports.ReadFile(filepath.Join(pxDir, "result.json"))
			if err != nil {
				t.Fatal(err)
			}
			if px.Proxy == nil || px.Proxy.Sessions != 30 {
				t.Fatalf("proxy figures %+v, want 30 sessions", px.Proxy)
			}
			if px.Proxy.Faults["spurious_401"] == 0 {
				t.Fatalf("the storm made no 401: %+v", px.Proxy.Faults)
			}
			p := px.Proxy
			for _, c := range []struct {
				name      string
				run, prox int64
			}{
				{"stale retries", run.Requests.StaleTokenRetries, p.StaleRetries},
				{"retry loops", run.Requests.RetryLoops, p.RetryLoops},
				// The run's clients never present a client token they know
				// was replaced: the run's own count is 0 by construction.
				{"refresh-token reuse", 0, p.RefreshTokenReuse},
			} {
				if c.run != c.prox {
					t.Errorf("%s: run %d, proxy %d", c.name, c.run, c.prox)
				}
			}
			// Duplicate refreshes differ only by the client's reading of a
			// refresh answer after it left the proxy (the client holds the
			// refresh in flight until then): a few at most.
			runDup, pxDup := run.Herd.DuplicateRefreshes, p.DuplicateRefreshes
			if tol := max(int64(3), runDup/20); runDup-pxDup > tol || pxDup-runDup > tol {
				t.Errorf("duplicate refreshes: run %d, proxy %d (in flight %d, same generation %d)",
					runDup, pxDup, p.DuplicateInflight, p.DuplicateSameGeneration)
			}
			// Each bug shows in its own figure, on both sides.
			if n, ok := map[string]int64{
				profiles.InterceptorNaive:          run.Herd.DuplicateRefreshes,
				profiles.InterceptorBugNoRetryFlag: run.Requests.RetryLoops,
				profiles.InterceptorBugStaleRetry:  run.Requests.StaleTokenRetries,
			}[ic]; ok && n == 0 {
				t.Errorf("%s: the storm did not make its figure nonzero", ic)
			}
			t.Logf("%s: duplicate refreshes run %d, proxy %d; stale retries run %d, proxy %d; retry loops run %d, proxy %d",
				ic, runDup, pxDup, run.Requests.StaleTokenRetries, px.Proxy.StaleRetries, run.Requests.RetryLoops, px.Proxy.RetryLoops)
		})
	}
}
