//go:build !linux

package run

// raiseFDLimit leaves the limit alone outside Linux and reports it unknown (0).
func raiseFDLimit() (uint64, error) { return 0, nil }

// openFDs is 0 (unknown) outside Linux.
func openFDs() int { return 0 }
