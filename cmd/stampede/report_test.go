package main

import (
	"context"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

// writeReportResult writes a small hand-made result.json, latencies
// multiplied by scale, in a temporary directory and returns its path.
func writeReportResult(t *testing.T, scale float64) string {
	t.Helper()
	op := func(n int, errs int64, base time.Duration) *reports.Op {
		h := reports.NewHistogram()
		for i := range n {
			reports.RecordLatency(h, time.Duration(float64(base+time.Duration(i)*time.Millisecond)*scale))
		}
		enc, err := reports.EncodeHistogram(h)
		if err != nil {
			t.Fatal(err)
		}
		e := map[string]int64{}
		if errs > 0 {
			e["http_5xx"] = errs
		}
		return &reports.Op{Count: int64(n), OK: int64(n) - errs, Errors: e, LatencyMs: reports.Summarize(h), HDR: enc}
	}
	start := time.Date(2026, 11, 28, 9, 30, 0, 0, time.UTC)
	r := &reports.Result{
		Schema: reports.Schema, RunID: "20261128-093000-c0ffee", ToolVersion: "test",
		Profile:   profiles.Profile{Name: "steady", Clients: 50, Duration: profiles.Duration(30 * time.Second), TimeScale: 1, Seed: 7},
		Target:    reports.Target{Kind: "embedded", URL: "http://127.0.0.1:1"},
		StartedAt: start, EndedAt: start.Add(30 * time.Second), Shard: reports.Shard{Count: 1},
		Ops: map[string]*reports.Op{
			reports.OpSignIn:  op(50, 0, 3*time.Millisecond),
			reports.OpRefresh: op(100, 1, 20*time.Millisecond),
		},
		Herd:       reports.Herd{PeakRPS: 10, MeanRPS: 4, PeakToMean: 2.5, Amplification: 1.01},
		Sessions:   reports.Sessions{ByStatus: map[string]int64{"active": 50}},
		Requests:   reports.Requests{Issued: 10, Settled: 10, OK: 10},
		Thresholds: []reports.ThresholdResult{{Expr: "refresh.p99 < 250ms", Value: 118, OK: true}},
		Verdict:    reports.VerdictPass,
	}
	path := filepath.Join(t.TempDir(), "result.json")
	if err := reports.WriteFile(path, r); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReportEveryFormatToAFile(t *testing.T) {
	result := writeReportResult(t, 1)
	dir := t.TempDir()
	for _, format := range reports.Formats() {
		out := filepath.Join(dir, "report."+format)
		code, stdout, stderr := runCLI(context.Background(), "report", result, "--format", format, "-o", out)
		if code != exitOK || stdout != "" || stderr != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", format, code, stdout, stderr)
			continue
		}
		b, err := os.ReadFile(out)
		if err != nil || len(b) == 0 {
			t.Errorf("%s: %v, %d bytes", format, err, len(b))
			continue
		}
		var want strings.Builder
		r, _ := reports.ReadFile(result)
		if err := reports.Render(&want, r, format); err != nil || string(b) != want.String() {
			t.Errorf("%s: the file is not what Render writes (%v)", format, err)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != len(reports.Formats()) {
		t.Errorf("want one file per format and no temporary files, got %d entries", len(entries))
	}

	// Sanity of a few formats' content.
	b, _ := os.ReadFile(filepath.Join(dir, "report.junit"))
	var doc struct {
		Suites []struct {
			Cases []struct {
				Name string `xml:"name,attr"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil || len(doc.Suites) != 1 || len(doc.Suites[0].Cases) != 1 || doc.Suites[0].Cases[0].Name != "refresh.p99 < 250ms" {
		t.Errorf("junit: %v\n%s", err, b)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "report.markdown")); !strings.HasPrefix(string(b), "## stampede: PASS") {
		t.Errorf("markdown:\n%s", b)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "report.hgrm")); strings.Count(string(b), "       Value     Percentile TotalCount 1/(1-Percentile)") != 2 {
		t.Errorf("hgrm: want sign_in and refresh sections:\n%s", b)
	}
}

func TestReportDefaultsToTextOnStdout(t *testing.T) {
	result := writeReportResult(t, 1)
	code, stdout, stderr := runCLI(context.Background(), "report", result)
	r, _ := reports.ReadFile(result)
	var want strings.Builder
	if err := reports.WriteText(&want, r); err != nil {
		t.Fatal(err)
	}
	if code != exitOK || stderr != "" || stdout != want.String() {
		t.Fatalf("exit %d, stderr %q, stdout:\n%s", code, stderr, stdout)
	}
}

func TestReportHgrmOneOperation(t *testing.T) {
	result := writeReportResult(t, 1)
	code, stdout, stderr := runCLI(context.Background(), "report", result, "--format", "hgrm", "--op", "refresh")
	if code != exitOK || stderr != "" || strings.Count(stdout, "Percentile TotalCount") != 1 || !strings.Contains(stdout, "operation refresh") {
		t.Fatalf("exit %d, stderr %q, stdout:\n%s", code, stderr, stdout)
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--format", "hgrm", "--op", "api"}, []string{"api", "sign_in, refresh", result}},
		{[]string{"--format", "hgrm", "--op", "nope"}, []string{"--op", `"nope"`, "get_token"}},
		{[]string{"--format", "markdown", "--op", "refresh"}, []string{"--op", "hgrm"}},
	} {
		code, stdout, stderr := runCLI(context.Background(), append([]string{"report", result}, tc.args...)...)
		if code != exitUsage || stdout != "" {
			t.Errorf("%v: exit %d, stdout %q", tc.args, code, stdout)
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%v: stderr %q lacks %q", tc.args, stderr, w)
			}
		}
	}
}

func TestReportBadInputExitsTwo(t *testing.T) {
	result := writeReportResult(t, 1)
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.json")
	garbage := filepath.Join(dir, "garbage.json")
	if err := os.WriteFile(garbage, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"report", result, "--format", "pdf"}, append([]string{`"pdf"`}, reports.Formats()...)},
		{[]string{"report", missing}, []string{missing}},
		{[]string{"report", garbage, "--format", "json"}, []string{garbage}},
		{[]string{"report"}, []string{"arg"}},
		{[]string{"report", result, result}, []string{"arg"}},
	} {
		out := filepath.Join(dir, "out.txt")
		code, stdout, stderr := runCLI(context.Background(), append(tc.args, "-o", out)...)
		if code != exitUsage || stdout != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", tc.args, code, stdout, stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%v: stderr %q lacks %q", tc.args, stderr, w)
			}
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%v: wrote %s", tc.args, out)
		}
	}
}

func TestReportOutputReplacesTheFile(t *testing.T) {
	result := writeReportResult(t, 1)
	out := filepath.Join(t.TempDir(), "summary.md")
	if err := os.WriteFile(out, []byte(strings.Repeat("old content\n", 1000)), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI(context.Background(), "report", result, "--format", "markdown", "-o", out); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if b, _ := os.ReadFile(out); strings.Contains(string(b), "old content") {
		t.Error("old content left in the file")
	}
	if code, _, stderr := runCLI(context.Background(), "report", result, "-o", filepath.Join(t.TempDir(), "no", "such", "dir", "x")); code != exitFailure || !strings.Contains(stderr, "no such") {
		t.Errorf("unwritable output: exit %d, stderr %q", code, stderr)
	}
}
