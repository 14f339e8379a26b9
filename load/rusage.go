//go:build unix

package load

import (
	"runtime"
	"syscall"
)

// maxRSS is the process's peak resident set size in bytes (0 if unknown).
func maxRSS() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		return int64(ru.Maxrss) // bytes
	}
	return int64(ru.Maxrss) * 1024 // Linux and the BSDs report KiB
}
