package run

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// machineMemory returns the memory a run may use and the machine's total,
// in bytes: MemAvailable and MemTotal of /proc/meminfo (syscall.Sysinfo's
// free and total memory if it cannot be read), each bounded by the
// cgroup's memory.max when the process has one; 0, 0 if unknown.
func machineMemory() (avail, total uint64) {
	if m, err := readMeminfo("/proc/meminfo"); err == nil {
		avail, total = m["MemAvailable"], m["MemTotal"]
	}
	if total == 0 {
		var si syscall.Sysinfo_t
		if syscall.Sysinfo(&si) == nil {
			unit := uint64(max(si.Unit, 1))
			avail, total = uint64(si.Freeram)*unit+uint64(si.Bufferram)*unit, uint64(si.Totalram)*unit
		}
	}
	if limit := cgroupLimit(); limit > 0 && (total == 0 || limit < total) {
		total = limit
		avail = min(avail, limit)
		if avail == 0 {
			avail = limit
		}
	}
	return avail, total
}

// readMeminfo reads /proc/meminfo's "Name: N kB" lines, in bytes.
func readMeminfo(path string) (map[string]uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := map[string]uint64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		n, err := strconv.ParseUint(fields[0], 10, 64)
		if err != nil {
			continue
		}
		if len(fields) > 1 && fields[1] == "kB" {
			n <<= 10
		}
		m[name] = n
	}
	return m, sc.Err()
}

// cgroupLimit is the cgroup v2 memory.max of the process's cgroup, 0 when
// there is none.
func cgroupLimit() uint64 {
	b, err := os.ReadFile("/sys/fs/cgroup/memory.max")
	if err != nil {
		return 0
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0 // "max"
	}
	return n
}
