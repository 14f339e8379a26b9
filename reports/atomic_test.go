package reports

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestWriteFileReplacesResultAtomically: WriteFile never writes into the
// file a reader may have open. The new result goes to a temporary file
// that is renamed over the old one, so a reader holding the old file
// still reads it whole, and the path names a new file.
func TestWriteFileReplacesResultAtomically(t *testing.T) {
	path := filepath.Join(t.TempDir(), "result.json")
	old := sampleResult(t)
	if err := WriteFile(path, old); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	before, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	next := sampleResult(t)
	next.RunID, next.Partial = "20261128-000001-fedcba", true
	if err := WriteFile(path, next); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	var seen Result
	if err := json.Unmarshal(b, &seen); err != nil || seen.RunID != old.RunID {
		t.Fatalf("a reader of the old file saw %d bytes, run %q (%v): the file was written in place", len(b), seen.RunID, err)
	}
	after, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if os.SameFile(before, after) {
		t.Error("WriteFile rewrote the file in place instead of renaming a new one over it")
	}
	if after.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", after.Mode().Perm())
	}
	back, err := ReadFile(path)
	if err != nil || back.RunID != next.RunID || !back.Partial {
		t.Fatalf("read back %v, %v", back, err)
	}
}
