package run

import (
	"fmt"
	"time"

	"github.com/stampede-load/stampede/chaos"
	"github.com/stampede-load/stampede/load/record"
	"github.com/stampede-load/stampede/profiles"
)

// What a run holds in memory, as Estimate counts it (docs/scale.md#memory).
// The per-client figure is the measured one (about 3,000 bytes per idle
// client, docs/performance.md) with room for in-flight requests.
const (
	baseBytes            = 64 << 20 // the process, the target's client, the histograms
	clientBytes          = 4 << 10  // one simulated client in the engine
	embeddedSessionBytes = 2 << 10  // its session in the embedded backend
	perClientConnBytes   = 48 << 10 // its own connection (connections: per_client), both ends
	bucketBytes          = 1 << 10  // one 100 ms timeline bucket: per worker, merged, result.json and report.html
	eventBytes           = 64 << 10 // one fleet event's figures
	changeBytes          = 64       // one client change an event plans (outage, revocation, clock skew)
)

// Estimate is the memory a run of p needs, in bytes, with what makes it up.
type Estimate struct {
	Bytes uint64
	// Clients is the clients this process holds (its shard's).
	Clients int
	// Duration is the run's; Buckets the timeline's length at its end.
	Duration time.Duration
	Buckets  int64
}

// EstimateMemory estimates the memory a run of p needs in the process
// running shard of shards: its clients, its timeline over the whole
// duration (which grows as the run goes) and its events. It saturates
// rather than overflows.
func EstimateMemory(p profiles.Profile, shard, shards int) Estimate {
	if shards < 1 {
		shard, shards = 0, 1
	}
	n := 0
	if p.Clients > shard {
		n = (p.Clients-shard-1)/shards + 1
	}
	per := uint64(clientBytes)
	if p.TargetKind() == profiles.TargetBuiltin {
		per += embeddedSessionBytes
	}
	if p.Connections == profiles.ConnectionsPerClient {
		per += perClientConnBytes
	}
	clientEvents := 0
	for _, e := range p.Events {
		if k := chaos.Kind(e.Type); k != nil && k.Changes != nil {
			clientEvents++
		}
	}
	per += uint64(clientEvents) * changeBytes
	buckets := int64(time.Duration(p.Duration)/record.TimelineBucket) + 1
	total := satAdd(baseBytes, satMul(uint64(n), per))
	total = satAdd(total, satMul(uint64(max(buckets, 0)), bucketBytes))
	total = satAdd(total, satMul(uint64(len(p.Events)), eventBytes))
	return Estimate{Bytes: total, Clients: n, Duration: time.Duration(p.Duration), Buckets: buckets}
}

// MemoryError is a run that would not fit in the machine's memory.
type MemoryError struct {
	Estimate
	// Available is the memory the run may use (free and reclaimable, within
	// the process's cgroup limit); Total the machine's (or the cgroup's).
	Available, Total uint64
}

func (e *MemoryError) Error() string {
	return fmt.Sprintf("a run of %d clients for %s (%d timeline buckets) needs about %s of memory, but the machine has %s available (of %s): run fewer clients (or shard the fleet: --shard i/n), a shorter --duration or fewer events; --force runs anyway",
		e.Clients, e.Duration, e.Buckets, Bytes(e.Bytes), Bytes(e.Available), Bytes(e.Total))
}

// CheckMemory refuses, with a *MemoryError, a run of p whose estimate
// passes the memory the machine has available; where that is unknown
// (outside Linux) it refuses only an estimate past a terabyte.
func CheckMemory(p profiles.Profile, shard, shards int) error {
	est := EstimateMemory(p, shard, shards)
	avail, total := machineMemory()
	if avail == 0 {
		avail, total = 1<<40, 0
	}
	if est.Bytes > avail {
		return &MemoryError{Estimate: est, Available: avail, Total: total}
	}
	return nil
}

// Bytes formats n bytes in binary units: "512 MiB", "1.5 GiB".
func Bytes(n uint64) string {
	switch {
	case n == 0:
		return "unknown"
	case n >= 1<<40:
		return fmt.Sprintf("%.1f TiB", float64(n)/(1<<40))
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	default:
		return fmt.Sprintf("%d MiB", n>>20)
	}
}

func satAdd(a, b uint64) uint64 {
	if a+b < a {
		return ^uint64(0)
	}
	return a + b
}

func satMul(a, b uint64) uint64 {
	if a != 0 && b > ^uint64(0)/a {
		return ^uint64(0)
	}
	return a * b
}
