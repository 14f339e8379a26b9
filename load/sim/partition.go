package sim

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

// Partitions (docs/simulate.md#partitions): a simulation split into P
// independent simulations, partition k simulating the clients whose fleet
// index is k modulo P against a P-th of the backend. Every client's own
// draws come from the seed and its fleet index (its model, ramp slot,
// link, lifecycle and the fleet events that select it), so a client does
// in a partition what it would do in the whole; what differs is the
// backend: P queues of c/P servers instead of one of c, which pools less.

// Auto-partitioning: one partition per AutoPartitionClients clients (a
// fleet below twice that runs in one), at most MaxAutoPartitions, and never so many that an endpoint keeps fewer
// than MinPartitionServers servers per partition.
const (
	AutoPartitionClients = 62_500
	MaxAutoPartitions    = 32
	MinPartitionServers  = 8
)

// AutoPartitions is the partitions a simulation of p runs in by default: a
// function of the fleet and the backend model only, never of the machine,
// so that the same seed gives the same result.json everywhere.
func AutoPartitions(p profiles.Profile) int {
	n := min(MaxAutoPartitions, p.Clients/AutoPartitionClients)
	m := Resolve(p.BackendModel)
	for _, e := range []profiles.EndpointModel{m.SignIn, m.Refresh, m.API} {
		n = min(n, e.Servers/MinPartitionServers)
	}
	return max(n, 1)
}

// CheckPartitions reports whether n partitions fit p: at least 1, at most
// one per client.
func CheckPartitions(p profiles.Profile, n int) error {
	if n < 1 || n > p.Clients {
		return fmt.Errorf("must be from 1 to the number of clients (%d), got %d", p.Clients, n)
	}
	return nil
}

// share is partition part's share of n split among parts: n/parts, the
// remainder going one each to the first partitions, at least 1.
func share(n, part, parts int) int {
	s := n / parts
	if part < n%parts {
		s++
	}
	return max(s, 1)
}

// partitionModel is partition part's share of the backend model m: each
// endpoint's servers and max_queue divided among the partitions.
func partitionModel(m profiles.BackendModel, part, parts int) profiles.BackendModel {
	if parts <= 1 {
		return m
	}
	for _, e := range []*profiles.EndpointModel{&m.SignIn, &m.Refresh, &m.API} {
		e.Servers = share(e.Servers, part, parts)
		e.MaxQueue = share(e.MaxQueue, part, parts)
	}
	return m
}

// runPartitions runs cfg's cfg.Partitions partitions, at most cfg.Workers
// (default GOMAXPROCS) at once, and merges their results into res as
// stampede merge merges a sharded run's (reports.Merge), then engine.sim.
// A partition's state is dropped once its result is filled, so at most
// Workers partitions' fleets are in memory at once.
func runPartitions(ctx context.Context, cfg Config, res *reports.Result) error {
	p, parts := cfg.Profile, cfg.Partitions
	if err := CheckPartitions(p, parts); err != nil {
		return fmt.Errorf("partitions: %w", err)
	}
	workers := cfg.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, parts)
	wallStart := time.Now()
	var heapBefore runtime.MemStats
	if cfg.Measure {
		runtime.GC()
		runtime.ReadMemStats(&heapBefore)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	prog := newPartitionProgress(cfg.Progress, parts)
	results := make([]*reports.Result, parts)
	stats := make([]partitionStats, parts)
	errs := make([]error, parts)
	var peakMu sync.Mutex
	var peak runtime.MemStats
	sem := make(chan struct{}, workers)
	var wg sync.WaitGroup
	for k := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if ctx.Err() != nil {
				errs[k] = ctx.Err()
				return
			}
			pc := cfg
			pc.Progress = prog.of(k)
			s := newSim(pc, k, parts)
			if err := s.loop(ctx); err != nil {
				errs[k] = err
				cancel()
				return
			}
			if cfg.Measure { // the heap the partitions running now hold
				var m runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&m)
				peakMu.Lock()
				if m.HeapInuse > peak.HeapInuse {
					peak = m
				}
				peakMu.Unlock()
			}
			r := &reports.Result{Schema: res.Schema, RunID: res.RunID, ToolVersion: res.ToolVersion, Target: res.Target}
			if err := s.fill(r); err != nil {
				errs[k] = err
				cancel()
				return
			}
			r.Shard = reports.Shard{Index: k, Count: parts}
			results[k] = r
			stats[k] = partitionStats{now: s.now, busyNs: [numEndpoints]int64{s.eps[0].busyNs, s.eps[1].busyNs, s.eps[2].busyNs}}
		}()
	}
	wg.Wait()
	if err := firstError(ctx, errs); err != nil {
		return err
	}
	merged, err := mergePartitions(p, results, stats)
	if err != nil {
		return err
	}
	*res = *merged
	if cfg.Measure {
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		wall := time.Since(wallStart).Seconds()
		res.Engine.Sim.WallS = wall
		res.Engine.Sim.EventsPerSecond = float64(res.Engine.Sim.EventsProcessed) / wall
		res.Engine.Sim.BytesPerClient = float64(peak.HeapInuse-min(heapBefore.HeapInuse, peak.HeapInuse)) / float64(p.Clients)
		res.Engine.MaxRSSBytes = int64(max(after.Sys, peak.Sys))
	}
	return nil
}

// firstError is the partitions' error: ctx's own when it ended (an
// interrupt), else the first partition's that failed.
func firstError(ctx context.Context, errs []error) error {
	var first error
	for _, err := range errs {
		if err == nil {
			continue
		}
		if !errors.Is(err, context.Canceled) {
			return err
		}
		if first == nil {
			first = err
		}
	}
	return first
}

// partitionStats is what a partition's endpoints did that its result does
// not keep: the simulated time it ran to and each endpoint's server time.
type partitionStats struct {
	now    int64
	busyNs [numEndpoints]int64
}

// mergePartitions merges the partitions' results (in partition order) into
// the whole simulation's: reports.Merge for what a sharded run has, then
// what a simulation adds (mode, time scale, engine.sim).
func mergePartitions(p profiles.Profile, results []*reports.Result, stats []partitionStats) (*reports.Result, error) {
	merged, err := reports.Merge(results...)
	if err != nil {
		return nil, fmt.Errorf("merging the partitions: %w", err)
	}
	merged.Mode = reports.ModeSimulate
	merged.TimeScale = reports.TimeScaleOf(p)
	merged.Engine.Goroutines = len(results)
	sim := &reports.Sim{SimulatedS: p.Duration.D().Seconds(), Partitions: len(results), Backend: map[string]reports.SimEndpoint{}}
	for i, name := range endpointNames {
		var ep reports.SimEndpoint
		var busy float64 // servers' busy share, summed over partitions, in servers
		for k, r := range results {
			st := r.Engine.Sim.Backend[name]
			if k == 0 {
				ep.QueueWait, ep.Service = st.QueueWait, st.Service
			}
			ep.Servers += st.Servers
			ep.MaxQueue += st.MaxQueue
			ep.Arrived += st.Arrived
			ep.Served += st.Served
			ep.ShedFull += st.ShedFull
			ep.ShedWait += st.ShedWait
			ep.Abandoned += st.Abandoned
			ep.PeakQueue += st.PeakQueue
			busy += float64(stats[k].busyNs[i]) / float64(max(stats[k].now, 1))
		}
		if ep.Servers > 0 {
			ep.Utilisation = busy / float64(ep.Servers)
		}
		sim.Backend[name] = ep
	}
	for _, r := range results {
		sim.EventsProcessed += r.Engine.Sim.EventsProcessed
	}
	merged.Engine.Sim = sim
	return merged, nil
}

// partitionProgress turns the partitions' progress into the whole
// simulation's: the simulated time reached, averaged over the partitions
// (those not started count 0), and every partition's events.
type partitionProgress struct {
	mu      sync.Mutex
	report  func(time.Duration, int64)
	reached []time.Duration
	events  []int64
}

func newPartitionProgress(report func(time.Duration, int64), parts int) *partitionProgress {
	return &partitionProgress{report: report, reached: make([]time.Duration, parts), events: make([]int64, parts)}
}

// of is partition k's Config.Progress; nil when nothing is reported.
func (pp *partitionProgress) of(k int) func(time.Duration, int64) {
	if pp.report == nil {
		return nil
	}
	return func(at time.Duration, n int64) {
		pp.mu.Lock()
		defer pp.mu.Unlock()
		pp.reached[k], pp.events[k] = at, n
		var sum time.Duration
		var total int64
		for i := range pp.reached {
			sum += pp.reached[i]
			total += pp.events[i]
		}
		pp.report(sum/time.Duration(len(pp.reached)), total)
	}
}
