package run

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stampede-load/stampede/reports"
)

// TestWriteResultsWritesTheResultFirst: result.json is written before any
// report, and a failure says whether it was.
func TestWriteResultsWritesTheResultFirst(t *testing.T) {
	res := &reports.Result{Schema: reports.Schema, RunID: "r", Shard: reports.Shard{Count: 1}, Ops: map[string]*reports.Op{}}
	for _, tc := range []struct {
		failOn        string
		resultWritten bool
	}{{ResultName, false}, {ReportName, true}} {
		t.Run(tc.failOn, func(t *testing.T) {
			dir := t.TempDir()
			var order []string
			removed := false
			write := func(path string, data []byte) error {
				order = append(order, filepath.Base(path))
				if filepath.Base(path) == tc.failOn {
					return &os.PathError{Op: "write", Path: path, Err: syscall.ENOSPC}
				}
				return reports.WriteAtomic(path, data)
			}
			err := writeResults(dir, res, write, func() { removed = true })
			var we *WriteError
			if !errors.As(err, &we) || we.ResultWritten != tc.resultWritten || !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("writeResults = %v", err)
			}
			if order[0] != ResultName {
				t.Errorf("wrote %v: result.json not first", order)
			}
			if removed != tc.resultWritten {
				t.Errorf("checkpoint removed: %v, result written: %v", removed, tc.resultWritten)
			}
			_, statErr := os.Stat(filepath.Join(dir, ResultName))
			if (statErr == nil) != tc.resultWritten {
				t.Errorf("result.json on disk: %v", statErr)
			}
		})
	}
}
