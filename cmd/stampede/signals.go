package main

import (
	"sync/atomic"

	"github.com/spf13/cobra"
)

// onInterrupt is what the first SIGINT or SIGTERM does to a command: the
// line it prints and whether the command stops by itself, its context
// cancelled (run writes its partial results, serve closes its listener),
// or the process exits 130 at once (a command that only reads and
// renders, which may be blocked reading a FIFO: nothing of it is lost).
type onInterrupt struct {
	message  string
	graceful bool
}

// interruptOf is the current command's onInterrupt, set by execute.
var interruptOf atomic.Pointer[onInterrupt]

// interruptFor returns what an interrupt does to cmd (docs/results.md#exit-codes).
func interruptFor(cmd *cobra.Command) *onInterrupt {
	switch cmd.Name() {
	case "run":
		// Until the run starts (runStarting), nothing is measured.
		return &onInterrupt{message: "interrupted before the run started; nothing written"}
	case "serve":
		return &onInterrupt{message: "interrupted; stopping the backend (interrupt again to quit at once)", graceful: true}
	case "creds":
		return &onInterrupt{message: "interrupted; stopping the sign-ins and writing the tokens minted so far (interrupt again to quit at once)", graceful: true}
	case "merge":
		return &onInterrupt{message: "interrupted; merge stopped (an -o file is replaced whole or not at all)"}
	}
	return &onInterrupt{message: "interrupted; " + cmd.CommandPath() + " stopped"}
}

// currentInterrupt is the running command's onInterrupt; before a command
// is known, the process stops at once.
func currentInterrupt() *onInterrupt {
	if a := interruptOf.Load(); a != nil {
		return a
	}
	return &onInterrupt{message: "interrupted"}
}

// runStarting makes the next interrupt stop the run gracefully: it has
// begun to measure, and writes its partial results.
func runStarting() {
	interruptOf.Store(&onInterrupt{message: "interrupted; stopping and writing partial results (interrupt again to quit at once)", graceful: true})
}
