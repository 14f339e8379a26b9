package run

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/stampede-load/stampede/reports"
)

// WriteError is a run that completed, its figures in the result Execute
// returns with it, whose files were not all written (a full disk, a
// results directory gone): ResultWritten says whether result.json was.
type WriteError struct {
	// Path is the file that could not be written; "" for the histogram
	// logs (the error names the file).
	Path string
	// ResultWritten says result.json was written: only a report or a
	// histogram log is missing.
	ResultWritten bool
	Err           error
}

func (e *WriteError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("could not write the histogram logs: %v", e.Err)
	}
	return fmt.Sprintf("could not write %s: %v", e.Path, e.Err)
}

// Unwrap returns the write's error.
func (e *WriteError) Unwrap() error { return e.Err }

// EncodeResult is result.json's text: r as indented JSON.
func EncodeResult(r *reports.Result) ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode result: %w", err)
	}
	return append(b, '\n'), nil
}

// writeResults writes result.json first, then the histogram logs and
// report.html, each atomically (a temporary file synced and renamed) with
// write; the first failure stops it and is returned as a *WriteError.
// removeCheckpoint runs once result.json is written, which supersedes it.
func writeResults(dir string, res *reports.Result, write func(path string, data []byte) error, removeCheckpoint func()) error {
	resultPath := filepath.Join(dir, ResultName)
	b, err := EncodeResult(res)
	if err != nil {
		return err
	}
	if err := write(resultPath, b); err != nil {
		return &WriteError{Path: resultPath, Err: err}
	}
	removeCheckpoint()
	if err := reports.WriteHistogramLogs(dir, res); err != nil {
		return &WriteError{ResultWritten: true, Err: err}
	}
	var html bytes.Buffer
	if err := reports.Render(&html, res, "html"); err != nil {
		return err
	}
	reportPath := filepath.Join(dir, ReportName)
	if err := write(reportPath, html.Bytes()); err != nil {
		return &WriteError{Path: reportPath, ResultWritten: true, Err: err}
	}
	return nil
}
