package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/chaos/backend"
	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

// thresholdTarget starts a backend with 1 s tokens for the test and returns
// its base URL: clients refresh within the first second of a run.
func thresholdTarget(t *testing.T) string {
	t.Helper()
	be, err := backend.New(backend.Config{TokenLifetime: time.Second, Signing: "ES256"})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := be.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv.URL
}

// smallRun is the flags of a short run of a small fleet against target.
func smallRun(target, out string, extra ...string) []string {
	return append([]string{"run", "--target", target, "--clients", "50", "--duration", "2s", "--ramp", "400ms",
		"--time-scale", "60", "--seed", "7", "--out", out, "--no-progress"}, extra...)
}

func readResult(t *testing.T, dir string) *reports.Result {
	t.Helper()
	res, err := reports.ReadFile(filepath.Join(dir, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestRunFailingThresholdExits99(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	code, stdout, stderr := runCLI(context.Background(), smallRun(thresholdTarget(t), out,
		"--threshold", "refresh.p99 < 0.001ms", "--threshold", "requests.lost == 0")...)
	if code != exitThresholds {
		t.Fatalf("exit %d, want %d; stderr %s", code, exitThresholds, stderr)
	}
	res := readResult(t, out)
	if res.Verdict != reports.VerdictFail || len(res.Thresholds) != 2 || res.Partial {
		t.Fatalf("verdict %q, thresholds %+v, partial %v", res.Verdict, res.Thresholds, res.Partial)
	}
	if got := res.Thresholds[0]; got.Expr != "refresh.p99 < 0.001ms" || got.OK || got.Value != res.Ops["refresh"].LatencyMs.P99 || got.Value <= 0.001 {
		t.Errorf("thresholds[0] = %+v; refresh p99 %g ms", got, res.Ops["refresh"].LatencyMs.P99)
	}
	if got := res.Thresholds[1]; got.Expr != "requests.lost == 0" || !got.OK {
		t.Errorf("thresholds[1] = %+v", got)
	}
	if len(res.Profile.Thresholds) != 2 {
		t.Errorf("result.json profile has thresholds %+v, want the two flags", res.Profile.Thresholds)
	}
	if !strings.Contains(stdout, "thresholds (fail):\n  ✗ refresh.p99 < 0.001ms (value ") ||
		!strings.Contains(stdout, "  ✓ requests.lost == 0 (value 0)\n") {
		t.Errorf("no thresholds block in the summary:\n%s", stdout)
	}
	if !strings.Contains(stderr, "stampede: 1 of 2 thresholds failed: refresh.p99 < 0.001ms") {
		t.Errorf("stderr does not say which threshold failed: %q", stderr)
	}
}

func TestRunPassingThresholdExitsZero(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	code, stdout, stderr := runCLI(context.Background(), smallRun(thresholdTarget(t), out, "--threshold", "requests.lost == 0")...)
	if code != exitOK {
		t.Fatalf("exit %d; stderr %s", code, stderr)
	}
	res := readResult(t, out)
	want := reports.ThresholdResult{Expr: "requests.lost == 0", Value: 0, OK: true}
	if res.Verdict != reports.VerdictPass || len(res.Thresholds) != 1 || res.Thresholds[0] != want {
		t.Fatalf("verdict %q, thresholds %+v", res.Verdict, res.Thresholds)
	}
	if !strings.Contains(stdout, "thresholds (pass):\n  ✓ requests.lost == 0 (value 0)\n") {
		t.Errorf("no thresholds block in the summary:\n%s", stdout)
	}
}

func TestRunWithoutThresholdsPasses(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	code, stdout, stderr := runCLI(context.Background(), smallRun(thresholdTarget(t), out)...)
	if code != exitOK {
		t.Fatalf("exit %d; stderr %s", code, stderr)
	}
	if res := readResult(t, out); res.Verdict != reports.VerdictPass || len(res.Thresholds) != 0 || len(res.Invariants) != 4 {
		t.Errorf("verdict %q, thresholds %+v, invariants %+v", res.Verdict, res.Thresholds, res.Invariants)
	}
	// Only the default invariants gate it.
	if !strings.Contains(stdout, "thresholds (pass):\n  ✓ requests.lost == 0 (value 0) [invariant]\n") {
		t.Errorf("no invariants in the thresholds block:\n%s", stdout)
	}
}

func TestRunBadThresholdExitsTwoNamingTheToken(t *testing.T) {
	file := writeProfile(t, "gates.yaml", "name: gates\nthresholds:\n  - refresh.p99 < 250ms\n  - {expr: \"requests.lost < 5ms\", abort_on_fail: true}\n")
	code, stdout, stderr := runCLI(context.Background(), "run", "-p", file, "--clients", "0",
		"--threshold", "refresh.p99 << 250ms", "--threshold", "refresh.p100 < 1", "--threshold", "", "--out", t.TempDir(), "--quiet")
	if code != exitUsage || stdout != "" {
		t.Fatalf("exit %d, stdout %q; want 2", code, stdout)
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	want := []string{
		"stampede: --clients: must be at least 1, got 0",
		`stampede: --threshold "refresh.p99 << 250ms": unknown operator "<<" at column 13 (want one of < <= > >= == !=)`,
		`stampede: --threshold "refresh.p100 < 1": unknown metric "refresh.p100" at column 1 (did you mean "refresh.p50"?); metrics: {sign_in,refresh,api,get_token,foreground_recovery}.{min,p50,`,
		`stampede: --threshold "": empty: want METRIC OP VALUE such as "refresh.p99 < 250ms"`,
		"stampede: " + file + `:4: thresholds[1].expr: threshold "requests.lost < 5ms": unit "ms" at column 18 does not fit requests.lost, which is a count (want a plain number)`,
	}
	if len(lines) != len(want) {
		t.Fatalf("want %d lines, got %d:\n%s", len(want), len(lines), stderr)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d:\n got %q\nwant %q", i, lines[i], w)
		}
	}
	for _, name := range []string{"herd.{peak_rps,", "requests.{issued,", "sessions.{forced_signouts,re_sign_ins}", "engine.{lag_p50,lag_p99,lag_max}"} {
		if !strings.Contains(lines[2], name) {
			t.Errorf("the unknown metric's line does not list %s", name)
		}
	}
}

func TestRunThresholdFlagsAddToTheProfiles(t *testing.T) {
	file := writeProfile(t, "gates.yaml", "thresholds:\n  - refresh.p99 < 250ms\n  - {expr: \"requests.lost == 0\", abort_on_fail: true}\n")
	o := &runOptions{profile: file, thresholds: []string{"herd.peak_to_mean<4", "refresh.error_rate < 1%"}}
	p, err := o.resolve()
	if err != nil {
		t.Fatal(err)
	}
	want := []profiles.Threshold{{Expr: "refresh.p99 < 250ms"}, {Expr: "requests.lost == 0", AbortOnFail: true},
		{Expr: "herd.peak_to_mean<4"}, {Expr: "refresh.error_rate < 1%"}}
	if len(p.Thresholds) != len(want) {
		t.Fatalf("thresholds %+v, want %+v", p.Thresholds, want)
	}
	for i := range want {
		if p.Thresholds[i] != want[i] {
			t.Errorf("thresholds[%d] = %+v, want %+v", i, p.Thresholds[i], want[i])
		}
	}
}

func TestRunAbortOnFailStopsTheRunEarly(t *testing.T) {
	t.Parallel()
	file := writeProfile(t, "abort.yaml", "name: abort\nthresholds:\n  - {expr: \"refresh.count < 1\", abort_on_fail: true}\n  - requests.lost == 0\n")
	out := t.TempDir()
	start := time.Now()
	code, stdout, stderr := runCLI(context.Background(), "run", "-p", file, "--target", thresholdTarget(t),
		"--clients", "50", "--duration", "2m", "--ramp", "400ms", "--time-scale", "60", "--out", out, "--no-progress")
	elapsed := time.Since(start)
	if code != exitThresholds {
		t.Fatalf("exit %d, want %d; stderr %s", code, exitThresholds, stderr)
	}
	// Generous: a loaded machine may be slow, but not two minutes slow.
	if elapsed > time.Minute {
		t.Errorf("the run took %s of its 2 m: abort_on_fail did not stop it", elapsed)
	}
	res := readResult(t, out)
	if res.Verdict != reports.VerdictFail || len(res.Thresholds) != 2 {
		t.Fatalf("verdict %q, thresholds %+v", res.Verdict, res.Thresholds)
	}
	got := res.Thresholds[0]
	if got.OK || !got.Aborted || !got.AbortOnFail || got.Value < 1 || got.Expr != "refresh.count < 1" {
		t.Errorf("thresholds[0] = %+v, want failed and aborted with a count of at least 1", got)
	}
	if res.Thresholds[1].Aborted {
		t.Errorf("thresholds[1] = %+v marked aborted", res.Thresholds[1])
	}
	if wall := res.EndedAt.Sub(res.StartedAt); !res.Partial || wall > time.Minute {
		t.Errorf("partial %v after %s; want a partial result of a run stopped early", res.Partial, wall)
	}
	if !strings.Contains(stdout, "✗ refresh.count < 1 (value ") || !strings.Contains(stdout, "stopped the run (abort_on_fail)") {
		t.Errorf("summary does not say the threshold stopped the run:\n%s", stdout)
	}
	if !strings.Contains(stderr, "stampede: 1 of 2 thresholds failed: refresh.count < 1 (refresh.count < 1 stopped the run early: abort_on_fail)") {
		t.Errorf("stderr does not say the threshold stopped the run: %q", stderr)
	}
}

func TestRunInterruptWinsOverThresholds(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := t.TempDir()
	o := &runOptions{streams: streams{out: &bytes.Buffer{}, err: &bytes.Buffer{}}, profile: "default",
		outDir: out, quiet: true, preflightTimeout: time.Second,
		thresholds: []string{"refresh.count > 1e9"},
		onBackend:  func(*backend.Backend) { cancel() },
	}
	err := o.run(ctx)
	if exitCode(err) != exitInterrupted {
		t.Fatalf("err %v, exit %d; want %d", err, exitCode(err), exitInterrupted)
	}
	res := readResult(t, out)
	if !res.Partial || res.Verdict != reports.VerdictFail || len(res.Thresholds) != 1 || res.Thresholds[0].OK {
		t.Errorf("partial %v, verdict %q, thresholds %+v; want the failed threshold recorded", res.Partial, res.Verdict, res.Thresholds)
	}
}
