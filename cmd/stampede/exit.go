package main

import (
	"errors"
	"fmt"

	"github.com/stampede-load/stampede/load/target"
)

// Exit codes, the same for every command (docs/results.md#exit-codes).
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
	// exitFilesNotWritten: the run completed, its summary printed, but its
	// files were not all written (the result went to a fallback path).
	exitFilesNotWritten = 3
	exitThresholds      = 99
	exitInterrupted     = 130
)

// exitError carries the exit code an error maps to.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageError marks err as bad usage or bad input: exit 2.
func usageError(err error) error { return &exitError{code: exitUsage, err: err} }

// usageErrorf formats a bad-usage error: exit 2.
func usageErrorf(format string, args ...any) error {
	return usageError(fmt.Errorf(format, args...))
}

// errInterrupted ends a run stopped by a signal: exit 130, after the partial
// results are written.
var errInterrupted = &exitError{code: exitInterrupted, err: errors.New("interrupted: partial results written")}

// errStopped ends a command stopped by a signal that has said so itself
// (serve: "stampede backend stopped"): exit 130, nothing more printed.
var errStopped = &exitError{code: exitInterrupted, err: errors.New("interrupted")}

// exitCode maps an error returned by a command to the process exit code;
// this is the only place that does.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	var ce *target.ConfigError // the profile's target or what it names
	if errors.As(err, &ce) {
		return exitUsage
	}
	return exitFailure
}
