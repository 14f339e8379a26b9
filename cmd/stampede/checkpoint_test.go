package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/load/run"
	"github.com/stampede-load/stampede/reports"
)

// waitForFile polls for path until it exists, the deadline passes or done
// is closed; it reports whether the file appeared.
func waitForFile(path string, deadline time.Duration, done <-chan struct{}) bool {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	end := time.Now().Add(deadline)
	for time.Now().Before(end) {
		if _, err := os.Stat(path); err == nil {
			return true
		}
		select {
		case <-done:
			_, err := os.Stat(path)
			return err == nil
		case <-tick.C:
		}
	}
	return false
}

// TestKilledRunLeavesACheckpointThatReportRenders: a run killed with
// SIGKILL (no chance to write result.json) leaves checkpoint.json, a
// partial result that stampede report renders in every format.
func TestKilledRunLeavesACheckpointThatReportRenders(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a stampede process")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	cmd := exec.Command(exe, "run", "--clients", "50", "--duration", "12s", "--ramp", "500ms",
		"--time-scale", "60", "--out", out, "--no-progress", "-q")
	cmd.Env = append(os.Environ(), "STAMPEDE_TEST_AS_MAIN=1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })

	checkpoint := filepath.Join(out, run.CheckpointName)
	if !waitForFile(checkpoint, 60*time.Second, exited) {
		t.Fatalf("no %s appeared; stderr:\n%s", run.CheckpointName, stderr.String())
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-exited
	if _, err := os.Stat(filepath.Join(out, "result.json")); err == nil {
		t.Fatal("the killed run wrote result.json: it was not killed mid-run")
	}
	res, err := reports.ReadFile(checkpoint)
	if err != nil {
		t.Fatal(err)
	}
	// The embedded backend listens on loopback only.
	if !res.Partial || res.RunID == "" || res.StartedAt.IsZero() || res.Target.Kind != "embedded" ||
		!strings.HasPrefix(res.Target.URL, "http://127.0.0.1:") {
		t.Errorf("checkpoint: partial %v, run %q, started %v, target %+v", res.Partial, res.RunID, res.StartedAt, res.Target)
	}
	if o := res.Ops[reports.OpSignIn]; o == nil || o.Count == 0 || o.HDR == "" {
		t.Errorf("checkpoint has no sign-ins: %+v", o)
	}
	for _, format := range reports.Formats() {
		code, stdout, stderr := runCLI(context.Background(), "report", checkpoint, "--format", format)
		if code != exitOK || stdout == "" || stderr != "" {
			t.Errorf("report --format %s: exit %d, stderr %q, %d bytes", format, code, stderr, len(stdout))
		}
	}
	code, stdout, _ := runCLI(context.Background(), "report", checkpoint)
	if code != exitOK || !strings.Contains(stdout, "sign_in") {
		t.Errorf("report: exit %d, stdout:\n%s", code, stdout)
	}
}
