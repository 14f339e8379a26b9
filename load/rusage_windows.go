package load

import (
	"syscall"
	"unsafe"
)

// processMemoryCounters is PROCESS_MEMORY_COUNTERS (psapi.h).
type processMemoryCounters struct {
	cb                         uint32
	pageFaultCount             uint32
	peakWorkingSetSize         uintptr
	workingSetSize             uintptr
	quotaPeakPagedPoolUsage    uintptr
	quotaPagedPoolUsage        uintptr
	quotaPeakNonPagedPoolUsage uintptr
	quotaNonPagedPoolUsage     uintptr
	pagefileUsage              uintptr
	peakPagefileUsage          uintptr
}

// getProcessMemoryInfo is kernel32's K32GetProcessMemoryInfo (Windows 7 and
// later).
var getProcessMemoryInfo = syscall.NewLazyDLL("kernel32.dll").NewProc("K32GetProcessMemoryInfo")

// maxRSS is the process's peak working set in bytes, Windows' peak resident
// set size (0 if unknown).
func maxRSS() int64 {
	if getProcessMemoryInfo.Find() != nil {
		return 0
	}
	proc, err := syscall.GetCurrentProcess()
	if err != nil {
		return 0
	}
	var pmc processMemoryCounters
	pmc.cb = uint32(unsafe.Sizeof(pmc))
	ok, _, _ := getProcessMemoryInfo.Call(uintptr(proc), uintptr(unsafe.Pointer(&pmc)), uintptr(pmc.cb))
	if ok == 0 {
		return 0
	}
	return int64(pmc.peakWorkingSetSize)
}
