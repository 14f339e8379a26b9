package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stampede-load/stampede/reports"
)

// TestSimulateWritesTheSameResultForTheSameSeed: two simulations of a
// profile with the same seed write byte-identical result.json files, in
// simulated time, with mode simulate.
func TestSimulateWritesTheSameResultForTheSameSeed(t *testing.T) {
	t.Parallel()
	var results [2][]byte
	for i := range results {
		out := t.TempDir()
		code, stdout, stderr := runCLI(context.Background(), "simulate", "-p", "elevator", "--clients", "300", "--duration", "5m",
			"--seed", "3", "--out", out, "-q")
		if code != exitOK {
			t.Fatalf("exit %d; stderr %s", code, stderr)
		}
		if !strings.Contains(stdout, "simulated 5m0s") {
			t.Errorf("stdout lacks the simulated time:\n%s", stdout)
		}
		b, err := os.ReadFile(filepath.Join(out, "result.json"))
		if err != nil {
			t.Fatal(err)
		}
		results[i] = b
		if _, err := os.Stat(filepath.Join(out, "report.html")); err != nil {
			t.Error(err)
		}
	}
	if !bytes.Equal(results[0], results[1]) {
		t.Fatal("the same seed wrote different result.json files")
	}
	res, err := reports.DecodeResult(results[0])
	if err != nil {
		t.Fatal(err)
	}
	if res.Mode != reports.ModeSimulate || res.Engine.Sim == nil || res.Engine.Sim.SimulatedS != 300 || res.Profile.Clients != 300 {
		t.Errorf("mode %q, engine.sim %+v, clients %d: want a simulate result of 300 clients over 300 simulated seconds",
			res.Mode, res.Engine.Sim, res.Profile.Clients)
	}
	if res.Engine.Sim.EventsPerSecond != 0 || res.Engine.Sim.BytesPerClient != 0 {
		t.Errorf("engine.sim %+v: the wall-clock figures belong only to --measure", res.Engine.Sim)
	}
}

func TestSimulateExitCodes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"failing threshold", []string{"--threshold", "refresh.p99 < 0.001ms"}, exitThresholds, "1 of 1 thresholds failed"},
		{"bad duration", []string{"--duration", "-1s"}, exitUsage, "--duration: must be greater than 0"},
		{"bad backend model", []string{"--set", "backend_model.refresh.servers=-1"}, exitUsage, "backend_model.refresh.servers"},
		{"bad sweep", []string{"--sweep", "sdk.retry.jitter"}, exitUsage, "--sweep \"sdk.retry.jitter\""},
		{"bad sweep value", []string{"--sweep", "sdk.retry.jitter=full,sideways"}, exitUsage, "sideways"},
		{"missing calibration", []string{"--calibrate", "/nonexistent/result.json"}, exitUsage, "--calibrate /nonexistent/result.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"simulate", "--clients", "50", "--duration", "2m", "--out", t.TempDir(), "-q"}, tc.args...)
			code, stdout, stderr := runCLI(context.Background(), args...)
			if code != tc.code || !strings.Contains(stdout+stderr, tc.want) {
				t.Errorf("exit %d, want %d with %q; stderr %s", code, tc.code, tc.want, stderr)
			}
		})
	}
}

// TestSimulateSweep runs a grid of two axes and checks the comparison and
// the exit code of a point that fails its threshold.
func TestSimulateSweep(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	code, stdout, stderr := runCLI(context.Background(), "simulate", "-p", "elevator", "--clients", "200", "--duration", "4m", "--out", out, "-q",
		"--sweep", "sdk.retry.jitter=none,full", "--sweep", "backend_model.refresh.service=5ms,2s", "--threshold", "refresh.p50 < 1s")
	if code != exitThresholds || !strings.Contains(stderr, "2 of 4 sweep points failed") {
		t.Fatalf("exit %d, want %d (the points with 2 s refreshes fail their threshold); stderr %s", code, exitThresholds, stderr)
	}
	for _, want := range []string{"sdk.retry.jitter=none backend_model.refresh.service=5ms", "sdk.retry.jitter=full backend_model.refresh.service=2s      fail",
		"sdk.retry.jitter=full backend_model.refresh.service=2s failed: refresh.p50 < 1s", "peak/mean"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	for _, f := range []string{"sweep.txt", "sweep.json", "sweep.html", "01-sdk.retry.jitter=none_backend_model.refresh.service=5ms/result.json", "04-sdk.retry.jitter=full_backend_model.refresh.service=2s/report.html"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
}

// TestSimulateCalibratesFromAResult: --calibrate takes the service times of
// a result.json's histograms; the endpoints then say so in engine.sim.
func TestSimulateCalibratesFromAResult(t *testing.T) {
	t.Parallel()
	first, second := t.TempDir(), t.TempDir()
	if code, _, stderr := runCLI(context.Background(), "simulate", "--clients", "100", "--duration", "3m", "--out", first, "-q"); code != exitOK {
		t.Fatalf("exit %d; stderr %s", code, stderr)
	}
	code, _, stderr := runCLI(context.Background(), "simulate", "--clients", "100", "--duration", "3m", "--out", second, "-q",
		"--calibrate", filepath.Join(first, "result.json"))
	if code != exitOK {
		t.Fatalf("exit %d; stderr %s", code, stderr)
	}
	res := readResult(t, second)
	for _, op := range []string{reports.OpSignIn, reports.OpRefresh, reports.OpAPI} {
		if got := res.Engine.Sim.Backend[op].Service; !strings.HasPrefix(got, "calibrated") {
			t.Errorf("engine.sim.backend.%s.service = %q, want calibrated", op, got)
		}
	}
}
