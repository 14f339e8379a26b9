// Command stampede load-tests session token refresh paths with simulated
// mobile clients. See the README for usage.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-signals
		a := currentInterrupt()
		fmt.Fprintln(os.Stderr, "\nstampede: "+a.message)
		if !a.graceful {
			os.Exit(exitInterrupted)
		}
		cancel()
		<-signals
		fmt.Fprintln(os.Stderr, "stampede: interrupted twice; exiting now")
		os.Exit(exitInterrupted)
	}()
	stopProfiling := startProfiling(os.Stderr)
	code := execute(ctx, os.Args[1:], streams{in: os.Stdin, out: os.Stdout, err: os.Stderr, errTTY: isTerminal(os.Stderr)})
	cancel()
	stopProfiling()
	os.Exit(code)
}

// streams are a command's standard streams.
type streams struct {
	in     io.Reader
	out    io.Writer
	err    io.Writer
	errTTY bool // err is a terminal: progress may draw bars
}

// execute runs the command line and returns the exit code, printing any
// error as one line per problem on the error stream.
func execute(ctx context.Context, args []string, s streams) int {
	root := newRootCmd(s)
	root.SetArgs(args)
	if cmd, _, err := root.Find(args); err == nil {
		interruptOf.Store(interruptFor(cmd))
	}
	err := root.ExecuteContext(ctx)
	if err != nil && err != errInterrupted && err != errStopped {
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintf(s.err, "stampede: %s\n", line)
		}
	}
	return exitCode(err)
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
