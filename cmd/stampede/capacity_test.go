package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stampede-load/stampede/capacity"
	"github.com/stampede-load/stampede/reports"
)

// TestCapacityFindsTheKneeOfABoundedBackend: the embedded backend bounded
// like stampede serve --max-inflight 8 --max-queue 32, each request holding
// its slot 100 ms (1 s simulated at ×10), can serve 8 / 0.1 s = 80
// requests a second. stampede capacity --start 200 --step 2 with
// refresh.p99 < 250ms finds a knee within one step of the fleet that rate
// holds (computed from the measured service time and the requests a
// client makes a second), stops the run at the first failing stage, and
// the backend's 503 shedding is in the explanation. --require above the
// knee exits 99, the reports written all the same.
func TestCapacityFindsTheKneeOfABoundedBackend(t *testing.T) {
	if testing.Short() {
		t.Skip("a live search of about 35 s")
	}
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	root := newRootCmd(streams{in: strings.NewReader(""), out: &stdout, err: &stderr})
	root.SetArgs([]string{"capacity", "--start", "200", "--step", "2", "--max", "3200",
		"--threshold", "refresh.p99 < 250ms", "--set", "backend.max_inflight=8", "--set", "backend.max_queue=32",
		"--set", "backend.service_time=1s", "--set", "app.api_calls_per_minute=0",
		"--time-scale", "10", "--stage-ramp", "4s", "--lag-bound", "100ms", "--require", "3200",
		"--format", "markdown", "--out", dir})
	err := root.ExecuteContext(context.Background())
	if exitCode(err) != exitThresholds {
		t.Fatalf("exit %d (%v), want 99: the knee is below --require 3200\n%s", exitCode(err), err, stderr.String())
	}
	var rep capacity.Report
	readJSONFile(t, filepath.Join(dir, "capacity.json"), &rep)
	var res reports.Result
	readJSONFile(t, filepath.Join(dir, "result.json"), &res)
	if _, err := os.Stat(filepath.Join(dir, "capacity.html")); err != nil {
		t.Error(err)
	}
	if rep.GeneratorLimited || rep.FirstFail == 0 || rep.LastPass == 0 || rep.FirstFail != 2*rep.LastPass {
		t.Fatalf("knee %d → %d (generator limited %v)\n%s", rep.LastPass, rep.FirstFail, rep.GeneratorLimited, stdout.String())
	}
	first := rep.Stages[0]
	serviceS := first.ServiceP50Ms / 1000
	perClient := first.ThroughputRPS / float64(first.Clients)
	if serviceS <= 0 || perClient <= 0 {
		t.Fatalf("first stage: service %v s, %v requests a second per client", serviceS, perClient)
	}
	holds := 8 / serviceS / perClient // clients the backend's capacity holds
	if float64(rep.LastPass) < holds/2 || float64(rep.LastPass) > holds*2 {
		t.Errorf("knee %d clients is not within one step (x2) of the %.0f clients 8 slots of %.0f ms hold at %.3f requests a second each",
			rep.LastPass, holds, 1000*serviceS, perClient)
	}
	t.Logf("knee %d → %d; capacity %.0f clients (service %.1f ms, %.3f req/s per client)", rep.LastPass, rep.FirstFail, holds, 1000*serviceS, perClient)
	var fail capacity.Row
	for _, s := range rep.Stages {
		if s.Clients == rep.FirstFail {
			fail = s
		}
	}
	if fail.Shed503 == 0 || !strings.Contains(rep.Summary, "503 shed") || strings.Contains(rep.Summary, " 0 % 503 shed") {
		t.Errorf("the backend's shedding is not in the explanation: %q (%d shed)", rep.Summary, fail.Shed503)
	}
	shed := false
	for _, m := range rep.Moved {
		shed = shed || m.Name == "shed_503_share" && m.Fail > m.Pass
	}
	if !shed || rep.Broke == nil || rep.Broke.Expr != "refresh.p99 < 250ms" || rep.Broke.Value <= 250 {
		t.Errorf("moved %+v, broke %+v", rep.Moved, rep.Broke)
	}
	// The run stopped at the first failing stage: nothing beyond it ran.
	if !res.Partial || len(rep.Stages) > len(capacity.Sizes(200, 3200, capacity.Step{Factor: 2})) {
		t.Errorf("partial %v, %d stages reported", res.Partial, len(rep.Stages))
	}
	for i, s := range res.Stages {
		if s.Clients == rep.FirstFail {
			// Judged a moment after its end: the run stops well before the
			// next stage would have ended (a few seconds under -race on
			// a loaded machine, never the next stage's whole hold).
			limit := s.EndS + 5
			if i+1 < len(res.Stages) {
				limit = min(limit, res.Stages[i+1].EndS)
			}
			if ran := res.EndedAt.Sub(res.StartedAt).Seconds(); ran >= limit {
				t.Errorf("the run went on %.1f s past the first failing stage's end", ran-s.EndS)
			}
		}
		if s.Clients > 2*rep.FirstFail && s.Joined > 0 {
			t.Errorf("stage of %d clients ran (%d joined) after the first failing one", s.Clients, s.Joined)
		}
	}
	if !strings.Contains(stdout.String(), fmt.Sprintf("| %d | fail |", rep.FirstFail)) {
		t.Errorf("markdown:\n%s", stdout.String())
	}
}

func TestCapacityRefusesBadFlags(t *testing.T) {
	for _, tc := range []struct{ args, want string }{
		{"--step 1", "--step: a factor must be a number above 1"},
		{"--step +0", "--step: an increment must be"},
		{"--start 0", "--start and --max"},
		{"--start 500 --max 100", "--start and --max"},
		{"--format pdf", "--format: want text, markdown or json"},
		{"--start 10 --max 20", "no threshold to search against"},
	} {
		root := newRootCmd(streams{in: strings.NewReader(""), out: &bytes.Buffer{}, err: &bytes.Buffer{}})
		root.SetArgs(append([]string{"capacity", "--out", t.TempDir()}, strings.Fields(tc.args)...))
		err := root.ExecuteContext(context.Background())
		if exitCode(err) != exitUsage || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: exit %d %v, want 2 and %q", tc.args, exitCode(err), err, tc.want)
		}
	}
}

func readJSONFile(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
