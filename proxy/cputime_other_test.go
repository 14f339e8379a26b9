//go:build !unix

package proxy

import "time"

// cpuTime is 0 where the process's CPU time is not read: the benchmark
// then reports no CPU figure.
func cpuTime() time.Duration { return 0 }
