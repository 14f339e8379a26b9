package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/stampede-load/stampede/load/run"
	"github.com/stampede-load/stampede/reports"
)

// fallbackDir is where a result goes when its results directory cannot
// hold it; default os.TempDir() ($TMPDIR). Tests point it elsewhere.
var fallbackDir = os.TempDir

// announceFiles says where the run's files went, after the summary: stdout
// for --out - (result.json itself), the results directory, or, when result.json could not be written there
// (we), a fallback file in $TMPDIR, or else result.json itself on stdout,
// so that nothing measured is lost. It returns the exit-3 error of a run
// whose files were not all written; nil when they were.
func (o *runOptions) announceFiles(out string, res *reports.Result, we *run.WriteError) error {
	resultPath, reportPath := filepath.Join(out, run.ResultName), filepath.Join(out, run.ReportName)
	if o.outDir == "-" { // --out -: result.json on stdout, whatever became of the files of the moment
		b, err := run.EncodeResult(res)
		if err != nil {
			return err
		}
		fmt.Fprintln(o.err, "\nresult: stdout")
		_, err = o.out.Write(b)
		return err
	}
	if we == nil {
		fmt.Fprintf(o.out, "\nresult: %s\nreport: %s\n", resultPath, reportPath)
		return nil
	}
	if we.ResultWritten {
		fmt.Fprintf(o.out, "\nresult: %s\nreport: not written: %v\n", resultPath, we)
		return filesNotWritten(we)
	}
	b, err := run.EncodeResult(res)
	if err != nil {
		return err
	}
	fallback := filepath.Join(fallbackDir(), "stampede-"+res.RunID+"-"+run.ResultName)
	if ferr := reports.WriteAtomic(fallback, b); ferr == nil {
		fmt.Fprintf(o.out, "\nresult: %s (%v)\nreport: not written\n", fallback, we)
	} else {
		fmt.Fprintf(o.out, "\nresult: not written (%v; nor %v): result.json follows\n", we, ferr)
		o.out.Write(b)
	}
	return filesNotWritten(we)
}

// filesNotWritten is the exit-3 error of a run that completed but whose
// files were not all written.
func filesNotWritten(we *run.WriteError) error {
	return &exitError{code: exitFilesNotWritten, err: fmt.Errorf("the run completed but its files were not all written: %w", we)}
}

// asWriteError reports whether err is a *run.WriteError, returning it.
func asWriteError(err error) (*run.WriteError, bool) {
	var we *run.WriteError
	ok := errors.As(err, &we)
	return we, ok
}
