package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stampede-load/stampede/reports"
)

// TestSimulateBadPartitions: --partitions 0, negative, more than the
// clients or not a number is a one-line usage error, exit 2.
func TestSimulateBadPartitions(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"0", "-2", "51", "many"} {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runCLI(context.Background(), "simulate", "--clients", "50", "--duration", "2m", "--out", t.TempDir(), "-q",
				"--partitions", v)
			msg := strings.TrimSpace(stderr)
			if code != exitUsage || !strings.Contains(msg, "--partitions") || strings.Count(msg, "\n") > 0 {
				t.Errorf("--partitions %s: exit %d, want %d with one line naming --partitions; stdout %s stderr %s", v, code, exitUsage, stdout, stderr)
			}
		})
	}
}

// TestSimulatePartitionsFlag: --partitions N runs N partitions and says
// so in engine.sim.partitions; a sweep's points are partitioned too.
func TestSimulatePartitionsFlag(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	code, _, stderr := runCLI(context.Background(), "simulate", "-p", "elevator", "--clients", "300", "--duration", "3m", "--out", out, "-q",
		"--partitions", "3", "--sweep", "sdk.retry.jitter=none,full")
	if code != exitOK {
		t.Fatalf("exit %d; stderr %s", code, stderr)
	}
	dirs, err := filepath.Glob(filepath.Join(out, "0*", "result.json"))
	if err != nil || len(dirs) != 2 {
		t.Fatalf("sweep points' results: %v, %v", dirs, err)
	}
	for _, d := range dirs {
		b, err := os.ReadFile(d)
		if err != nil {
			t.Fatal(err)
		}
		res, err := reports.DecodeResult(b)
		if err != nil {
			t.Fatal(err)
		}
		if res.Engine.Sim.Partitions != 3 || res.Engine.Clients != 300 || res.Ops[reports.OpSignIn].OK != 300 {
			t.Errorf("%s: engine.sim.partitions %d, clients %d, sign-ins ok %d: want 3 partitions of 300 clients, all signed in",
				d, res.Engine.Sim.Partitions, res.Engine.Clients, res.Ops[reports.OpSignIn].OK)
		}
	}
}
