package capacity

import (
	"runtime"
	"sync"
	"time"
)

// DefaultCPUBound is the share of the cores it may use above which
// stampede's process is saturated: a stage that ran so is not trusted.
const DefaultCPUBound = 0.95

// Usage is the CPU stampede's process used in each stage of a search, as
// a share of the cores it may use (GOMAXPROCS); against the embedded
// backend the backend's share is in it, as the machine shares it.
type Usage struct {
	// Bound is the share above which a stage is saturated; default
	// DefaultCPUBound.
	Bound  float64
	mu     sync.Mutex
	shares map[int]float64
	cpu    func() time.Duration
}

// NewUsage returns an empty Usage that reads the process's CPU time.
func NewUsage() *Usage { return &Usage{shares: map[int]float64{}, cpu: processCPU} }

// Share is stage i's CPU share; false when it was not measured.
func (u *Usage) Share(i int) (float64, bool) {
	if u == nil {
		return 0, false
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	s, ok := u.shares[i]
	return s, ok
}

// set records stage i's share from the CPU time used over wall.
func (u *Usage) set(i int, cpu, wall time.Duration) {
	if u == nil || wall <= 0 || cpu <= 0 {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.shares[i] = cpu.Seconds() / wall.Seconds() / float64(runtime.GOMAXPROCS(0))
}

// read is the process's CPU time so far (0 for a nil Usage).
func (u *Usage) read() time.Duration {
	if u == nil || u.cpu == nil {
		return 0
	}
	return u.cpu()
}

// saturated says whether stage i ran with the process's cores saturated,
// and its share.
func (u *Usage) saturated(i int) (float64, bool) {
	s, ok := u.Share(i)
	bound := DefaultCPUBound
	if u != nil && u.Bound > 0 {
		bound = u.Bound
	}
	return s, ok && s >= bound
}
