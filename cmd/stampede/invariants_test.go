package main

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stampede-load/stampede/reports"
)

// --set relaxes an invariant by name; the summary and result.json say so.
func TestRunRelaxesAnInvariantWithSet(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	code, stdout, stderr := runCLI(context.Background(), smallRun(thresholdTarget(t), out, "--set", "invariants.duplicate_refreshes=off")...)
	if code != exitOK {
		t.Fatalf("exit %d; stderr %s", code, stderr)
	}
	res := readResult(t, out)
	if d := res.Invariants[3]; d.Name != "duplicate_refreshes" || !d.Relaxed || d.Gated || res.Profile.Invariants.DuplicateRefreshes != "off" {
		t.Errorf("invariant %+v, profile %+v", d, res.Profile.Invariants)
	}
	if !strings.Contains(stdout, "- herd.duplicate_refreshes == 0 (value 0) [invariant, relaxed]: relaxed by the profile (invariants.duplicate_refreshes: off)") {
		t.Errorf("the summary does not say it was relaxed:\n%s", stdout)
	}
}

func TestRunBadInvariantSettingExitsTwo(t *testing.T) {
	t.Parallel()
	code, _, stderr := runCLI(context.Background(), "run", "--set", "invariants.lost=maybe", "--no-progress")
	if code != exitUsage || stderr != "stampede: --set invariants.lost=maybe: must be one of on, off, got \"maybe\"\n" {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

// A failing invariant exits 99, naming it and its count.
func TestFailedInvariantExits99(t *testing.T) {
	res := &reports.Result{Verdict: reports.VerdictFail, Invariants: []reports.InvariantResult{
		{Name: "lost", Expr: "requests.lost == 0", Value: 28, Gated: true},
		{Name: "duplicate_refreshes", Expr: "herd.duplicate_refreshes == 0", Value: 3, Relaxed: true},
	}}
	err := thresholdsFailed(res)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitThresholds || err.Error() != "invariant failed: requests.lost == 0 (value 28)" {
		t.Errorf("%v", err)
	}
	res.Invariants[0].Value, res.Invariants[0].OK, res.Verdict = 0, true, reports.VerdictPass
	if err := thresholdsFailed(res); err != nil {
		t.Errorf("a relaxed invariant failed the run: %v", err)
	}
}
