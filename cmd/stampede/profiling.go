package main

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"runtime/trace"
)

// startProfiling starts the profiles the environment asks for: a CPU
// profile to the file STAMPEDE_CPUPROFILE names, a runtime execution trace
// to STAMPEDE_TRACE's (docs/performance.md shows what they found). The
// function it returns stops them and closes the files; call it before the
// process exits. A file that cannot be created is reported on errw and the
// command runs without that profile.
func startProfiling(errw io.Writer) (stop func()) {
	var stops []func()
	if path := os.Getenv("STAMPEDE_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err != nil {
			fmt.Fprintf(errw, "stampede: STAMPEDE_CPUPROFILE: %v\n", err)
		} else if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(errw, "stampede: STAMPEDE_CPUPROFILE: %v\n", err)
			f.Close()
		} else {
			stops = append(stops, func() { pprof.StopCPUProfile(); f.Close() })
		}
	}
	if path := os.Getenv("STAMPEDE_TRACE"); path != "" {
		if f, err := os.Create(path); err != nil {
			fmt.Fprintf(errw, "stampede: STAMPEDE_TRACE: %v\n", err)
		} else if err := trace.Start(f); err != nil {
			fmt.Fprintf(errw, "stampede: STAMPEDE_TRACE: %v\n", err)
			f.Close()
		} else {
			stops = append(stops, func() { trace.Stop(); f.Close() })
		}
	}
	return func() {
		for _, s := range stops {
			s()
		}
	}
}
