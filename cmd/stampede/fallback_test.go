package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stampede-load/stampede/reports"
)

// TestRunOnAFullDiskPrintsItsSummaryAndSavesItsResult fills the disk at the
// end of a run: result.json cannot be written. The summary is printed all
// the same, the result goes to $TMPDIR, announced, and the run exits 3; and
// when $TMPDIR is full too, result.json is printed on stdout.
func TestRunOnAFullDiskPrintsItsSummaryAndSavesItsResult(t *testing.T) {
	target := thresholdTarget(t)
	full := func(path string, data []byte) error {
		return &os.PathError{Op: "write", Path: path, Err: syscall.ENOSPC}
	}
	resultWrite = full
	defer func() { resultWrite = nil; fallbackDir = os.TempDir }()

	tmp := t.TempDir()
	fallbackDir = func() string { return tmp }
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := runCLI(context.Background(), smallRun(target, out, "--quiet")...)
	if code != exitFilesNotWritten {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitFilesNotWritten, stderr)
	}
	for _, want := range []string{"sign_in", "thresholds (pass)", "no space left on device", "report: not written"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	matches, _ := filepath.Glob(filepath.Join(tmp, "stampede-*-result.json"))
	if len(matches) != 1 {
		t.Fatalf("fallback files %v, want one", matches)
	}
	if !strings.Contains(stdout, "result: "+matches[0]) {
		t.Errorf("stdout does not announce %s:\n%s", matches[0], stdout)
	}
	res, err := reports.ReadFile(matches[0])
	if err != nil {
		t.Fatal(err)
	}
	if res.Ops["sign_in"].Count != 50 {
		t.Errorf("fallback result holds %d sign-ins, want 50", res.Ops["sign_in"].Count)
	}
	if _, err := os.Stat(filepath.Join(out, "result.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("result.json in the results directory: %v", err)
	}
	if !strings.Contains(stderr, "the run completed but its files were not all written") {
		t.Errorf("stderr:\n%s", stderr)
	}

	// $TMPDIR unwritable too: the result is printed after the summary.
	fallbackDir = func() string { return filepath.Join(tmp, "missing", "dir") }
	code, stdout, _ = runCLI(context.Background(), smallRun(target, filepath.Join(t.TempDir(), "out"), "--quiet")...)
	if code != exitFilesNotWritten {
		t.Fatalf("exit %d, want %d", code, exitFilesNotWritten)
	}
	_, doc, ok := strings.Cut(stdout, "result.json follows\n")
	if !ok {
		t.Fatalf("no result on stdout:\n%s", stdout)
	}
	var r reports.Result
	if err := json.Unmarshal([]byte(doc), &r); err != nil || r.Ops["sign_in"].Count != 50 {
		t.Fatalf("result on stdout: %v (%+v)", err, r.Ops["sign_in"])
	}
}

// TestPrepareOutLeavesNoProbe: the start-up check writes and syncs a probe
// file (so that a full disk fails before the run), then removes it.
func TestPrepareOutLeavesNoProbe(t *testing.T) {
	dir := t.TempDir()
	if err := prepareOut(dir); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the probe was left behind: %v", entries)
	}
}

// TestRunOutDashPrintsTheResultOnStdout: with --out -, stdout holds
// result.json alone, the summary goes to stderr and no file is kept.
func TestRunOutDashPrintsTheResultOnStdout(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	code, stdout, stderr := runCLI(context.Background(), smallRun(thresholdTarget(t), "-", "--quiet")...)
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	var r reports.Result
	if err := json.Unmarshal([]byte(stdout), &r); err != nil || r.Ops["sign_in"].Count != 50 {
		t.Fatalf("stdout is not the result: %v\n%.500s", err, stdout)
	}
	if !strings.Contains(stderr, "thresholds (pass)") || !strings.Contains(stderr, "result: stdout") {
		t.Errorf("stderr lacks the summary:\n%s", stderr)
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("files kept: %v", entries)
	}
}
