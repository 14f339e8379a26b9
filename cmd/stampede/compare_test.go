package main

import (
	"context"
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
	var p99 string
	for _, l := range strings.Split(stdout, "\n") {
		if strings.HasPrefix(l, "refresh.p99 ") {
			p99 = l
		}
	}
	if !strings.Contains(p99, "+5") || !strings.HasSuffix(p99, "REGRESSION") {
		t.Errorf("refresh.p99 line %q, want ≈ +50%% and REGRESSION", p99)
	}
	if !strings.Contains(stderr, "regressed") || !strings.Contains(stderr, slow) || !strings.Contains(stderr, "refresh.p99") {
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
