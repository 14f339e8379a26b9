//go:build !linux

package backend

import "time"

// threadCPU is -1: the system offers no thread CPU clock stampede reads.
func threadCPU() (time.Duration, int) { return -1, 0 }
