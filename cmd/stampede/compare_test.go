package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stampede-load/stampede/reports"
)

func TestCompareWithItselfExitsZero(t *testing.T) {
	result := writeReportResult(t, 1)
	code, stdout, stderr := runCLI(context.Background(), "compare", result, result)
	if code != exitOK || stderr != "" {
		t.Fatalf("exit %d, stderr %q, stdout:\n%s", code, stderr, stdout)
	}
	for _, want := range []string{"metric", "base", "new", "change", "refresh.p99", "herd.peak_to_mean", "requests.lost", "95% interval", "noise", "no regression"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, stdout)
		}
	}
}

func TestCompareDoctoredSlowerCopyExits99(t *testing.T) {
	base, slow := writeReportResult(t, 1), writeReportResult(t, 1.5)
	code, stdout, stderr := runCLI(context.Background(), "compare", base, slow)
	if code != exitThresholds {
		t.Fatalf("exit %d, want %d; stdout:\n%s\nstderr %q", code, exitThresholds, stdout, stderr)
	}
	lines := map[string]string{}
	for _, l := range strings.Split(stdout, "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			lines[f[0]] = l
		}
	}
	if l := lines["refresh.p50"]; !strings.Contains(l, "+5") || !strings.HasSuffix(l, "REGRESSION") {
		t.Errorf("refresh.p50 line %q, want ≈ +50%% and REGRESSION", l)
	}
	// Fewer than MinTailSamples refreshes lie beyond the fixture's p99: it
	// is shown with its change, not gated, and a note says why.
	if l := lines["refresh.p99"]; !strings.Contains(l, "+5") || !strings.HasSuffix(l, "info") ||
		!strings.Contains(stdout, "refresh.p99") || !strings.Contains(stdout, "beyond the percentile: shown, not gated") {
		t.Errorf("refresh.p99 line %q, want ≈ +50%%, info and a note:\n%s", l, stdout)
	}
	if !strings.Contains(stderr, "regressed") || !strings.Contains(stderr, slow) || !strings.Contains(stderr, "refresh.p50") {
		t.Errorf("stderr %q should name the file and the metrics", stderr)
	}

	// Within a wider limit it passes; the other way round it is an improvement.
	for _, args := range [][]string{
		{"compare", base, slow, "--max-regression", "60%"},
		{"compare", base, slow, "--max-regression", "0.6"},
		{"compare", slow, base},
	} {
		if code, stdout, _ := runCLI(context.Background(), args...); code != exitOK {
			t.Errorf("%v: exit %d:\n%s", args[3:], code, stdout)
		}
	}
}

func TestCompareBadInputExitsTwo(t *testing.T) {
	result := writeReportResult(t, 1)
	missing := filepath.Join(t.TempDir(), "missing.json")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"compare", result, result, "--max-regression", "ten"}, "--max-regression"},
		{[]string{"compare", result, result, "--max-regression", "-5%"}, "--max-regression"},
		{[]string{"compare", result, result, "--max-regression", "10"}, `"10%"`},
		{[]string{"compare", result, result, "--max-regression", "NaN"}, "--max-regression"},
		{[]string{"compare", result, missing}, missing},
		{[]string{"compare", missing, result}, missing},
		{[]string{"compare", result}, "arg"},
	} {
		code, stdout, stderr := runCLI(context.Background(), tc.args...)
		if code != exitUsage || stdout != "" || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q (want %q)", tc.args[1:], code, stdout, stderr, tc.want)
		}
	}
}

func TestParseMaxRegression(t *testing.T) {
	for in, want := range map[string]float64{"10%": 0.1, "0.1": 0.1, " 25 % ": 0.25, "0": 0, "0%": 0, "1": 1, "150%": 1.5, "2.5%": 0.025} {
		if got, err := reports.ParseRelativeLimit(in); err != nil || got < want-1e-12 || got > want+1e-12 {
			t.Errorf("%q: %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "%", "ten", "10", "-0.1", "Inf", "1e400"} {
		if _, err := reports.ParseRelativeLimit(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

func TestCompareBaselinesBudgetAndReports(t *testing.T) {
	dir := t.TempDir()
	a, b, c := writeReportResult(t, 1), writeReportResult(t, 1.02), writeReportResult(t, 0.98)
	slow := writeReportResult(t, 1.5)
	budget := filepath.Join(dir, "budget.yaml")
	if err := os.WriteFile(budget, []byte("max_change: 5%\nmetrics:\n  sign_in.*: off\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	md, junit, page := filepath.Join(dir, "c.md"), filepath.Join(dir, "c.xml"), filepath.Join(dir, "c.html")
	code, stdout, stderr := runCLI(context.Background(), "compare", "--baseline", a, b, c, slow, "--budget", budget,
		"--report", "markdown="+md, "--report", "junit="+junit, "--report", "html="+page)
	if code != exitThresholds || !strings.Contains(stdout, "3 baselines") || !strings.Contains(stdout, "budget "+budget) {
		t.Fatalf("exit %d, stderr %q, stdout:\n%s", code, stderr, stdout)
	}
	if l := lineWith(stdout, "refresh.p50 "); !strings.HasSuffix(l, "REGRESSION") {
		t.Errorf("refresh.p50 line %q", l)
	}
	if l := lineWith(stdout, "sign_in.p50 "); !strings.HasSuffix(l, "off") {
		t.Errorf("sign_in.p50 line %q, want off (budget)", l)
	}
	for file, want := range map[string]string{md: "**REGRESSION**", junit: `type="regression"`, page: `data-verdict="regression"`} {
		got, err := os.ReadFile(file)
		if err != nil || !strings.Contains(string(got), want) {
			t.Errorf("%s: %v; lacks %q", file, err, want)
		}
	}
	// The baselines against one of themselves: no regression.
	if code, stdout, _ := runCLI(context.Background(), "compare", "--baseline", a, b, c, "--format", "json"); code != exitOK || !strings.Contains(stdout, `"regressed": false`) {
		t.Errorf("exit %d:\n%s", code, stdout)
	}
}

func TestCompareBadBudgetOrFlagsExitTwo(t *testing.T) {
	dir := t.TempDir()
	result := writeReportResult(t, 1)
	bad := filepath.Join(dir, "budget.yaml")
	if err := os.WriteFile(bad, []byte("metrics:\n  refresh.p99: {floor: fast}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"compare", result, result, "--budget", bad}, bad + `:2: metrics.refresh.p99.floor: want a duration`},
		{[]string{"compare", result, result, "--budget", filepath.Join(dir, "none.yaml")}, "none.yaml"},
		{[]string{"compare", result, result, "--format", "pdf"}, "--format"},
		{[]string{"compare", result, result, "--report", "pdf=x"}, "--report"},
		{[]string{"compare", result, result, "--report", "markdown"}, "--report"},
		{[]string{"compare", "--baseline", result}, "--baseline"},
		{[]string{"compare", result, result, result}, "--baseline"},
	} {
		code, stdout, stderr := runCLI(context.Background(), tc.args...)
		if code != exitUsage || stdout != "" || !strings.Contains(stderr, tc.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q (want one line with %q)", tc.args[1:], code, stdout, stderr, tc.want)
		}
	}
}

func TestCompareNoDataInTheNewRunExits99(t *testing.T) {
	base := writeReportResult(t, 1)
	r, err := reports.ReadFile(base)
	if err != nil {
		t.Fatal(err)
	}
	delete(r.Ops, reports.OpRefresh)
	empty := filepath.Join(t.TempDir(), "result.json")
	if err := reports.WriteFile(empty, r); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(context.Background(), "compare", base, empty)
	if code != exitThresholds || !strings.Contains(stdout, "refresh.p99 (no data)") || !strings.Contains(stderr, "refresh.p99") {
		t.Errorf("exit %d, stderr %q:\n%s", code, stderr, stdout)
	}
}

// lineWith returns the first line of s starting with prefix, without
// trailing spaces.
func lineWith(s, prefix string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			return strings.TrimRight(l, " ")
		}
	}
	return ""
}
