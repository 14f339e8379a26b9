package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stampede-load/stampede/chaos/backend"
	"github.com/stampede-load/stampede/reports"
)

// TestCompareTellsNoiseFromARealRegression runs the steady profile ten
// times in pairs (twenty runs) with different seeds against the embedded
// backend, small and time-scaled: compare raises no regression in any
// pair. The same pairs, with the new run's refresh endpoint slowed by a
// 30 ms latency fault, are flagged every time, naming refresh p50, p95
// and p99.
func TestCompareTellsNoiseFromARealRegression(t *testing.T) {
	if testing.Short() {
		t.Skip("runs thirty short fleets")
	}
	const pairs, maxAttempts = 10, 4
	dir := t.TempDir()
	var runFailed atomic.Bool
	run := func(name string, seed uint64, fault time.Duration) string {
		t.Helper()
		out := filepath.Join(dir, name)
		set := map[string]bool{"clients": true, "duration": true, "ramp": true, "time-scale": true, "seed": true}
		o := &runOptions{streams: streams{out: &bytes.Buffer{}, err: &bytes.Buffer{}}, profile: "steady",
			clients: 30, duration: 2 * time.Second, ramp: 500 * time.Millisecond, timeScale: 60, seed: seed,
			sets: []string{"app.api_calls_per_minute=1", "backend.signing=EdDSA"},
			outDir: out, quiet: true, preflightTimeout: 5 * time.Second, flags: func(n string) bool { return set[n] },
			onBackend: func(be *backend.Backend) {
				if fault > 0 {
					if err := be.SetFaults(backend.Faults{TokenLatency: fault}); err != nil {
						t.Errorf("set faults: %v", err)
					}
				}
			},
		}
		if err := o.run(context.Background()); err != nil {
			runFailed.Store(true)
			t.Errorf("run %s: %v (exit %d)", name, err, exitCode(err))
		}
		if r, err := reports.ReadFile(filepath.Join(out, "result.json")); err == nil {
			t.Logf("%s: lag %+v refresh %+v n=%d", name, r.Engine.LagMs, r.Ops["refresh"].LatencyMs, r.Ops["refresh"].Count)
		}
		return filepath.Join(out, "result.json")
	}
	compare := func(base, cur string) (reports.Comparison, string) {
		t.Helper()
		b, err := reports.ReadFile(base)
		if err != nil {
			t.Fatal(err)
		}
		c, err := reports.ReadFile(cur)
		if err != nil {
			t.Fatal(err)
		}
		cmp := reports.Compare(b, c, reports.CompareOptions{MaxRegression: 0.1})
		var text bytes.Buffer
		if err := reports.WriteComparison(&text, cmp); err != nil {
			t.Fatal(err)
		}
		return cmp, text.String()
	}
	for i := range pairs {
		seed := uint64(100 + 2*i)
		// The three runs of a pair go side by side, each with its own
		// embedded backend, so that whatever else the machine is doing
		// weighs on all of them alike. compare widens latency intervals by
		// the difference of the runs' own generator lag; a pair the machine
		// held up unevenly (p99 lags further apart than half the fault)
		// measured the machine, not the backend: it is run again, a few
		// times at most.
		var base, healthy, slow string
		for attempt := 1; ; attempt++ {
			var wg sync.WaitGroup
			wg.Go(func() { base = run(fmt.Sprintf("base-%d-%d", i, attempt), seed, 0) })
			wg.Go(func() { healthy = run(fmt.Sprintf("new-%d-%d", i, attempt), seed+1, 0) })
			wg.Go(func() { slow = run(fmt.Sprintf("slow-%d-%d", i, attempt), seed+1, 30*time.Millisecond) })
			wg.Wait()
			if runFailed.Load() {
				t.FailNow()
			}
			lag := lagP99Apart(t, base, healthy, slow)
			if lag <= 15 {
				break
			}
			if attempt == maxAttempts {
				t.Logf("pair %d: the machine held the generator up in all %d attempts (engine lag p99 %.1f ms apart): judging the last", i, attempt, lag)
				break
			}
			t.Logf("pair %d: the machine held the generator up (engine lag p99 %.1f ms apart): running the pair again", i, lag)
		}

		if c, text := compare(base, healthy); c.Regressed() {
			t.Errorf("pair %d (seeds %d, %d), same backend: compare raised a regression:\n%s", i, seed, seed+1, text)
		}
		c, text := compare(base, slow)
		for _, name := range []string{"refresh.p50", "refresh.p95", "refresh.p99"} {
			if m, ok := c.Metric(name); !ok || m.Verdict != reports.VerdictRegression || !m.Failed {
				t.Errorf("pair %d: 30 ms refresh fault: %s not flagged:\n%s", i, name, text)
			}
		}
		if !strings.Contains(text, "refresh.p50, refresh.p95, refresh.p99") {
			t.Errorf("pair %d: the closing line does not name refresh p50, p95 and p99:\n%s", i, text)
		}
	}
}

// lagP99Apart is how far apart the engine.lag_ms.p99 of the results at
// paths are.
func lagP99Apart(t *testing.T, paths ...string) float64 {
	t.Helper()
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range paths {
		r, err := reports.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		lo, hi = min(lo, r.Engine.LagMs.P99), max(hi, r.Engine.LagMs.P99)
	}
	return hi - lo
}
