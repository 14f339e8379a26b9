package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

// writeShardResults writes hand-made results of the n shards of one run,
// each in its own directory <dir>/<i>/result.json, after change (if set)
// has had its way with each, and returns their paths.
func writeShardResults(t *testing.T, n int, change func(i int, r *reports.Result)) []string {
	t.Helper()
	dir := t.TempDir()
	start := time.Date(2026, 11, 28, 9, 30, 0, 0, time.UTC)
	p := profiles.Default()
	p.Clients, p.Seed = 40, 7
	p.Duration, p.Ramp = profiles.Duration(3*time.Second), profiles.Duration(600*time.Millisecond)
	p.Thresholds = []profiles.Threshold{{Expr: "refresh.p99 < 250ms"}}
	paths := make([]string, n)
	for i := range n {
		h := reports.NewHistogram()
		for k := range 10 {
			reports.RecordLatency(h, time.Duration(i+k+1)*time.Millisecond)
		}
		enc, err := reports.EncodeHistogram(h)
		if err != nil {
			t.Fatal(err)
		}
		attempts := make([]int64, 31)
		attempts[10+i] = 10
		r := &reports.Result{
			Schema: reports.Schema, RunID: "20261128-093000-abc123", ToolVersion: "test", Profile: p,
			Target: reports.Target{Kind: "fapi", URL: "http://stampede-backend:8787"}, StartedAt: start,
			EndedAt: start.Add(3100 * time.Millisecond), Shard: reports.Shard{Index: i, Count: n},
			Ops: map[string]*reports.Op{
				reports.OpRefresh: {Count: 10, OK: 10, Errors: map[string]int64{}, LatencyMs: reports.Summarize(h), HDR: enc},
			},
			Sessions: reports.Sessions{ByStatus: map[string]int64{"active": int64(p.Clients / n)}},
			Requests: reports.Requests{Issued: 5, Settled: 5, OK: 5},
			Engine:   reports.Engine{Clients: p.Clients / n},
			Timeline: reports.Timeline{BucketMs: 100, RefreshAttempts: attempts},
		}
		if change != nil {
			change(i, r)
		}
		paths[i] = filepath.Join(dir, string(rune('0'+i)), "result.json")
		if err := os.MkdirAll(filepath.Dir(paths[i]), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := reports.WriteFile(paths[i], r); err != nil {
			t.Fatal(err)
		}
	}
	return paths
}

func TestMergeWritesTheMergeAndItsSummary(t *testing.T) {
	paths := writeShardResults(t, 3, nil)
	outDir := t.TempDir()
	out := filepath.Join(outDir, "merged.json")
	code, stdout, stderr := runCLI(context.Background(), append(append([]string{"merge"}, paths...), "-o", out)...)
	if code != exitOK || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	m, err := reports.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if m.Ops[reports.OpRefresh].Count != 30 || m.Engine.Clients != 39 || m.Shard != (reports.Shard{Index: 0, Count: 1}) || m.Verdict != reports.VerdictPass {
		t.Errorf("merged: refresh %d, clients %d, shard %+v, verdict %s", m.Ops[reports.OpRefresh].Count, m.Engine.Clients, m.Shard, m.Verdict)
	}
	if m.Herd.PeakRPS != 30 {
		t.Errorf("herd.peak_rps %v, want 30 (recomputed from the merged timeline)", m.Herd.PeakRPS)
	}
	for _, want := range []string{"refresh", "merged 3 shards of run 20261128-093000-abc123: " + out, "refresh.p99 < 250ms"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if entries, _ := os.ReadDir(outDir); len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	// Every report renders from the merge.
	for _, format := range reports.Formats() {
		code, stdout, stderr := runCLI(context.Background(), "report", out, "--format", format)
		if code != exitOK || stdout == "" || stderr != "" {
			t.Errorf("report --format %s: exit %d, %d bytes, stderr %q", format, code, len(stdout), stderr)
		}
	}
}

func TestMergeExpandsGlobsItself(t *testing.T) {
	paths := writeShardResults(t, 4, nil)
	pattern := filepath.Join(filepath.Dir(filepath.Dir(paths[0])), "*", "result.json")
	code, stdout, stderr := runCLI(context.Background(), "merge", pattern)
	if code != exitOK || !strings.Contains(stdout, "merged 4 shards") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	nothing := filepath.Join(t.TempDir(), "*", "result.json")
	code, _, stderr = runCLI(context.Background(), "merge", nothing)
	if code != exitUsage || !strings.Contains(stderr, nothing) || !strings.Contains(stderr, "no file matches") {
		t.Errorf("a pattern matching nothing: exit %d, stderr %q", code, stderr)
	}
}

func TestMergeFailingThresholdsExit99(t *testing.T) {
	paths := writeShardResults(t, 2, func(_ int, r *reports.Result) {
		r.Profile.Thresholds = []profiles.Threshold{{Expr: "refresh.p99 < 5ms"}}
	})
	out := filepath.Join(t.TempDir(), "merged.json")
	code, stdout, stderr := runCLI(context.Background(), "merge", paths[0], paths[1], "-o", out)
	if code != exitThresholds || !strings.Contains(stderr, "refresh.p99 < 5ms") {
		t.Fatalf("exit %d, stderr %q; want 99 naming the threshold", code, stderr)
	}
	m, err := reports.ReadFile(out)
	if err != nil || m.Verdict != reports.VerdictFail || !strings.Contains(stdout, "✗") {
		t.Errorf("the failing merge was not written as such: %v, %+v", err, m)
	}
}

func TestMergeRefusalsExitTwoNamingTheFiles(t *testing.T) {
	for _, tc := range []struct {
		name   string
		n      int
		change func(i int, r *reports.Result)
		args   func(paths []string) []string
		want   []string // each must appear in stderr
	}{
		{"seed", 2, func(i int, r *reports.Result) { r.Profile.Seed += uint64(i) }, nil,
			[]string{"different seeds", "0/result.json and ", "1/result.json"}},
		{"profile", 2, func(i int, r *reports.Result) { r.Profile.Clients += i }, nil, []string{"profile.clients differs"}},
		{"shard count", 2, func(i int, r *reports.Result) { r.Shard.Count += i }, nil, []string{"different shard counts"}},
		{"twice", 2, nil, func(p []string) []string { return []string{p[0], p[1], p[1]} }, []string{"shard 1/2 given twice", "1/result.json and "}},
		{"missing", 3, nil, func(p []string) []string { return p[:2] }, []string{"missing shard 2/3"}},
		{"out of range", 2, func(i int, r *reports.Result) { r.Shard.Index *= 5 }, nil, []string{"1/result.json: shard index 5 out of range"}},
		{"corrupt histogram", 2, func(i int, r *reports.Result) {
			if i == 1 {
				r.Ops[reports.OpRefresh].HDR = "HISTF garbage"
			}
		}, nil, []string{"1/result.json", "ops.refresh.hdr"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			paths := writeShardResults(t, tc.n, tc.change)
			args := paths
			if tc.args != nil {
				args = tc.args(paths)
			}
			out := filepath.Join(t.TempDir(), "merged.json")
			code, stdout, stderr := runCLI(context.Background(), append(append([]string{"merge"}, args...), "-o", out)...)
			if code != exitUsage || stdout != "" {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit 2", code, stdout, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q lacks %q", stderr, w)
				}
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("a refused merge was written")
			}
		})
	}
}

func TestMergeBadInputExitsTwoNamingTheFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.json")
	for _, args := range [][]string{{"merge", bad}, {"merge", missing}} {
		code, _, stderr := runCLI(context.Background(), args...)
		if code != exitUsage || !strings.Contains(stderr, args[1]) && !strings.Contains(stderr, filepath.Base(args[1])) {
			t.Errorf("%v: exit %d, stderr %q; want 2 naming the file", args, code, stderr)
		}
	}
	if code, _, stderr := runCLI(context.Background(), "merge"); code != exitUsage {
		t.Errorf("no arguments: exit %d, stderr %q", code, stderr)
	}
}
