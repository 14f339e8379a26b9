package sim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/stampede-load/stampede/reports"
)

// Calibrated is a service-time distribution measured by a live run: the
// values of its service-time histogram with their counts, drawn from in
// proportion.
type Calibrated struct {
	values []int64 // ns, ascending
	cum    []int64 // cumulative counts
	total  int64
	// Throughput is the operations per second the live run served.
	Throughput float64
}

func (c Calibrated) draw(rng *rand.Rand) int64 {
	if c.total == 0 {
		return 1
	}
	u := rng.Int64N(c.total)
	i, _ := slices.BinarySearch(c.cum, u+1)
	return max(c.values[min(i, len(c.values)-1)], 1)
}

func (c Calibrated) String() string {
	return fmt.Sprintf("calibrated (%d samples)", c.total)
}

// Calibrate reads the service-time histograms of a live run's result
// (ops.*.service_hdr) into calibrated distributions, per operation
// (sign_in, refresh, api), with the throughput each was served at.
// Operations the run never served are left out. Service times at or
// past the run's request timeout are its timeouts, not the backend's
// work, and are left out too.
func Calibrate(res *reports.Result) (map[string]Calibrated, error) {
	out := map[string]Calibrated{}
	secs := res.EndedAt.Sub(res.StartedAt).Seconds()
	timeout := res.Profile.SDK.RequestTimeout.D()
	for _, name := range endpointNames {
		op := res.Ops[name]
		if op == nil || op.ServiceHDR == "" {
			continue
		}
		h, err := reports.DecodeHistogram(op.ServiceHDR)
		if err != nil {
			return nil, fmt.Errorf("ops.%s.service_hdr: %w", name, err)
		}
		var c Calibrated
		for _, b := range h.Distribution() {
			if b.Count == 0 || timeout > 0 && time.Duration(b.From)*time.Microsecond >= timeout*99/100 {
				continue
			}
			c.total += b.Count
			// The histogram holds microseconds (reports.RecordLatency).
			c.values = append(c.values, int64(time.Duration(b.To)*time.Microsecond))
			c.cum = append(c.cum, c.total)
		}
		if c.total == 0 {
			continue
		}
		if secs > 0 {
			c.Throughput = float64(op.Count) / secs
		}
		out[name] = c
	}
	return out, nil
}
