package main

import (
	"context"
	"strings"
	"testing"

	"github.com/stampede-load/stampede/reports"
)

// quietRun is the flags of a 1 s run of a few clients whose tokens outlive
// it: they sign in and call the API, and never refresh.
func quietRun(out string, extra ...string) []string {
	return append([]string{"run", "-p", "steady", "--clients", "5", "--duration", "1s", "--ramp", "200ms",
		"--time-scale", "1", "--seed", "3", "--set", "app.api_calls_per_minute=600", "--out", out, "--no-progress"}, extra...)
}

// TestThresholdOnAnOperationThatNeverRanFailsWithNoData: a latency gate on
// refresh after a run without refreshes is not a pass: exit 99, "no data"
// in the message, the summary and result.json.
func TestThresholdOnAnOperationThatNeverRanFailsWithNoData(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	code, stdout, stderr := runCLI(context.Background(), quietRun(out, "--threshold", "refresh.p99 < 1ms", "--threshold", "refresh.count == 0")...)
	res := readResult(t, out)
	if n := res.Ops[reports.OpRefresh].Count; n != 0 {
		t.Fatalf("the run made %d refreshes; the test needs none", n)
	}
	if code != exitThresholds {
		t.Fatalf("exit %d, want %d; stderr %s", code, exitThresholds, stderr)
	}
	if got := res.Thresholds[0]; got.OK || !got.NoData || got.Value != 0 {
		t.Errorf("thresholds[0] = %+v, want failed with no data", got)
	}
	if got := res.Thresholds[1]; !got.OK || got.NoData {
		t.Errorf("thresholds[1] = %+v: a count of 0 is a figure, and holds", got)
	}
	if res.Verdict != reports.VerdictFail {
		t.Errorf("verdict %q", res.Verdict)
	}
	if !strings.Contains(stderr, "1 of 2 thresholds failed: refresh.p99 < 1ms (no data)") {
		t.Errorf("stderr does not say no data: %q", stderr)
	}
	if !strings.Contains(stdout, "✗ refresh.p99 < 1ms (no data: refresh had no samples)") {
		t.Errorf("summary does not say no data:\n%s", stdout)
	}
}

// TestAllowNoDataLetsAThresholdPassWithoutSamples: a profile's threshold
// with allow_no_data: true passes when its operation never ran, and says so.
func TestAllowNoDataLetsAThresholdPassWithoutSamples(t *testing.T) {
	t.Parallel()
	file := writeProfile(t, "quiet.yaml", "thresholds:\n  - {expr: \"refresh.p99 < 1ms\", allow_no_data: true}\n")
	out := t.TempDir()
	args := quietRun(out)
	args[2] = file
	code, stdout, stderr := runCLI(context.Background(), args...)
	if code != exitOK {
		t.Fatalf("exit %d; stderr %s", code, stderr)
	}
	res := readResult(t, out)
	want := reports.ThresholdResult{Expr: "refresh.p99 < 1ms", OK: true, NoData: true, AllowNoData: true}
	if res.Verdict != reports.VerdictPass || len(res.Thresholds) != 1 || res.Thresholds[0] != want {
		t.Fatalf("verdict %q, thresholds %+v", res.Verdict, res.Thresholds)
	}
	if !strings.Contains(stdout, "✓ refresh.p99 < 1ms (no data: refresh had no samples, allowed)") {
		t.Errorf("summary does not say no data was allowed:\n%s", stdout)
	}
}
