//go:build !unix && !windows

package load

// maxRSS is 0 (unknown) where the system has no getrusage.
func maxRSS() int64 { return 0 }
