//go:build !linux

package run

// machineMemory is unknown (0, 0) outside Linux: CheckMemory then refuses
// only estimates past a terabyte.
func machineMemory() (avail, total uint64) { return 0, 0 }
