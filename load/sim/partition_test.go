package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

func simulateIn(t *testing.T, p profiles.Profile, parts int) *reports.Result {
	t.Helper()
	res := reports.Result{Schema: reports.Schema, RunID: ID(p)}
	if err := Run(context.Background(), Config{Profile: p, Partitions: parts}, &res); err != nil {
		t.Fatal(err)
	}
	return &res
}

func resultBytes(t *testing.T, res *reports.Result) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "result.json")
	if err := reports.WriteFile(path, res); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPartitionedResultIsTheSameOnAnyMachine: the same seed and the same
// partitions give a byte-identical result.json whether the partitions run
// one at a time (GOMAXPROCS 1) or side by side.
func TestPartitionedResultIsTheSameOnAnyMachine(t *testing.T) {
	p := builtin(t, "elevator", 900, 4*time.Minute)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	var out [3][]byte
	for i, procs := range []int{1, 2, 2} {
		runtime.GOMAXPROCS(procs)
		out[i] = resultBytes(t, simulateIn(t, p, 3))
	}
	if !bytes.Equal(out[0], out[1]) || !bytes.Equal(out[1], out[2]) {
		t.Fatal("3 partitions of the same seed wrote different result.json files at GOMAXPROCS 1 and 2")
	}
	res, err := reports.DecodeResult(out[0])
	if err != nil {
		t.Fatal(err)
	}
	if res.Engine.Sim.Partitions != 3 || res.Engine.Clients != p.Clients {
		t.Errorf("engine.sim.partitions %d, engine.clients %d: want 3 partitions of %d clients", res.Engine.Sim.Partitions, res.Engine.Clients, p.Clients)
	}
}

// runPartition simulates partition k of parts on its own, as
// runPartitions does, and returns its result.
func runPartition(t *testing.T, p profiles.Profile, k, parts int) (*reports.Result, partitionStats) {
	t.Helper()
	s := newSim(Config{Profile: p}, k, parts)
	if err := s.loop(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := &reports.Result{Schema: reports.Schema, RunID: ID(p)}
	if err := s.fill(r); err != nil {
		t.Fatal(err)
	}
	r.Shard = reports.Shard{Index: k, Count: parts}
	return r, partitionStats{now: s.now, busyNs: [numEndpoints]int64{s.eps[0].busyNs, s.eps[1].busyNs, s.eps[2].busyNs}}
}

// TestPartitionsAddUp: every count of a partitioned simulation is the sum
// of its partitions' (each simulated on its own), every client is in
// exactly one partition, and each endpoint's servers are divided among them.
func TestPartitionsAddUp(t *testing.T) {
	p := builtin(t, "elevator", 1001, 4*time.Minute)
	p.BackendModel.Refresh.Servers = 66 // 22, 22, 22
	p.BackendModel.SignIn.Servers = 32  // 11, 11, 10
	const parts = 3
	merged := simulateIn(t, p, parts)
	var sum reports.Result
	sum.Ops = map[string]*reports.Op{}
	var events int64
	var arrived, served, servers [numEndpoints]int64
	var attempts int64
	eventClients := make([]int64, len(merged.Events))
	statuses := map[string]int64{}
	for k := range parts {
		r, _ := runPartition(t, p, k, parts)
		sum.Engine.Clients += r.Engine.Clients
		for name, o := range r.Ops {
			if sum.Ops[name] == nil {
				sum.Ops[name] = &reports.Op{}
			}
			sum.Ops[name].Count += o.Count
			sum.Ops[name].OK += o.OK
		}
		events += r.Engine.Sim.EventsProcessed
		for i, name := range endpointNames {
			ep := r.Engine.Sim.Backend[name]
			arrived[i] += ep.Arrived
			served[i] += ep.Served
			servers[i] += int64(ep.Servers)
		}
		for _, v := range r.Timeline.RefreshAttempts {
			attempts += v
		}
		for i, e := range r.Events {
			eventClients[i] += e.Clients
		}
		for st, n := range r.Sessions.ServerByStatus {
			statuses[st] += n
		}
	}
	if sum.Engine.Clients != p.Clients || merged.Engine.Clients != p.Clients {
		t.Errorf("clients: partitions %d, merged %d, want %d", sum.Engine.Clients, merged.Engine.Clients, p.Clients)
	}
	for name, o := range sum.Ops {
		if m := merged.Ops[name]; m == nil || m.Count != o.Count || m.OK != o.OK {
			t.Errorf("%s: partitions %d (%d ok), merged %+v", name, o.Count, o.OK, m)
		}
	}
	if merged.Ops[reports.OpRefresh].Count == 0 {
		t.Fatal("no refreshes: nothing to add up")
	}
	if merged.Engine.Sim.EventsProcessed != events {
		t.Errorf("events: partitions %d, merged %d", events, merged.Engine.Sim.EventsProcessed)
	}
	want := [numEndpoints]int64{32, 66, 256}
	for i, name := range endpointNames {
		ep := merged.Engine.Sim.Backend[name]
		if ep.Arrived != arrived[i] || ep.Served != served[i] || int64(ep.Servers) != servers[i] || servers[i] != want[i] {
			t.Errorf("%s: merged arrived %d served %d servers %d, partitions %d %d %d, want %d servers",
				name, ep.Arrived, ep.Served, ep.Servers, arrived[i], served[i], servers[i], want[i])
		}
	}
	var mergedAttempts int64
	for _, v := range merged.Timeline.RefreshAttempts {
		mergedAttempts += v
	}
	if mergedAttempts != attempts || attempts != merged.Ops[reports.OpRefresh].Count {
		t.Errorf("timeline refresh attempts: merged %d, partitions %d, refreshes %d", mergedAttempts, attempts, merged.Ops[reports.OpRefresh].Count)
	}
	for i, e := range merged.Events {
		if e.Clients != eventClients[i] || e.Clients == 0 {
			t.Errorf("event %d (%s): merged %d clients, partitions %d", i, e.Type, e.Clients, eventClients[i])
		}
	}
	for st, n := range statuses {
		if merged.Sessions.ServerByStatus[st] != n {
			t.Errorf("backend sessions %s: merged %d, partitions %d", st, merged.Sessions.ServerByStatus[st], n)
		}
	}
}

// TestOnePartitionMergedIsTheSimulation: the merge of a single partition
// is the simulation itself, field for field, so a partitioned result
// loses nothing a simulation writes (only engine.sim.partitions and the
// goroutines say it was merged).
func TestOnePartitionMergedIsTheSimulation(t *testing.T) {
	p := builtin(t, "elevator", 400, 4*time.Minute)
	direct := simulateIn(t, p, 1)
	r, st := runPartition(t, p, 0, 1)
	merged, err := mergePartitions(p, []*reports.Result{r}, []partitionStats{st})
	if err != nil {
		t.Fatal(err)
	}
	merged.Engine.Sim.Partitions = 0
	for _, res := range []*reports.Result{direct, merged} {
		if err := reports.Evaluate(res, p.Thresholds); err != nil {
			t.Fatal(err)
		}
	}
	a, _ := json.Marshal(direct)
	b, _ := json.Marshal(merged)
	if !bytes.Equal(a, b) {
		t.Fatalf("one partition merged differs from the simulation:\n%s\n%s", a, b)
	}
}

// TestPartitionedAgreesWithOne: a fleet split into 4 partitions, each with
// enough servers, does what it does in one: each operation's count within
// 5 % and the herd's peak and peak/mean within 15 %, the fidelity test's
// tolerances.
func TestPartitionedAgreesWithOne(t *testing.T) {
	p := builtin(t, "elevator", 4000, 5*time.Minute)
	p.BackendModel.SignIn.Servers = 128
	p.BackendModel.Refresh.Servers = 256
	p.BackendModel.API.Servers = 1024
	one, four := simulateIn(t, p, 1), simulateIn(t, p, 4)
	for _, op := range []string{reports.OpSignIn, reports.OpRefresh, reports.OpAPI, reports.OpGetToken} {
		a, b := one.Ops[op].Count, four.Ops[op].Count
		if a == 0 || !within(float64(b), float64(a), 0.05) {
			t.Errorf("%s: 1 partition %d, 4 partitions %d: more than 5%% apart", op, a, b)
		}
	}
	if a, b := one.Herd.PeakRPS, four.Herd.PeakRPS; !within(b, a, 0.15) {
		t.Errorf("herd peak: 1 partition %.0f/s, 4 partitions %.0f/s: more than 15%% apart", a, b)
	}
	if a, b := one.Herd.PeakToMean, four.Herd.PeakToMean; !within(b, a, 0.15) {
		t.Errorf("herd peak/mean: 1 partition %.2f, 4 partitions %.2f: more than 15%% apart", a, b)
	}
	t.Logf("1 / 4 partitions: refresh %d / %d, api %d / %d, peak %.0f / %.0f, peak/mean %.2f / %.2f",
		one.Ops[reports.OpRefresh].Count, four.Ops[reports.OpRefresh].Count, one.Ops[reports.OpAPI].Count, four.Ops[reports.OpAPI].Count,
		one.Herd.PeakRPS, four.Herd.PeakRPS, one.Herd.PeakToMean, four.Herd.PeakToMean)
}

func TestAutoPartitions(t *testing.T) {
	for _, tc := range []struct {
		clients, signIn, refresh, api int
		want                          int
	}{
		{99_999, 0, 0, 0, 1},
		{1_000_000, 0, 0, 0, 4},          // the default sign_in's 32 servers: 8 each in 4
		{124_999, 512, 256, 4096, 1},     // under two partitions' worth
		{1_000_000, 512, 256, 0, 16},     // 16 by the fleet
		{250_000, 512, 256, 4096, 4},     // by the fleet
		{10_000_000, 512, 256, 4096, 32}, // at most 32 (and 256 refresh servers: 8 each)
		{10_000_000, 512, 40, 4096, 5},   // 40 refresh servers: 8 each in 5
		{10_000_000, 512, 7, 4096, 1},    // fewer than 8 servers: one partition
		{1_000_000, 512, 256, 4096, 16},
	} {
		p := profiles.Default()
		p.Clients = tc.clients
		p.BackendModel.SignIn.Servers, p.BackendModel.Refresh.Servers, p.BackendModel.API.Servers = tc.signIn, tc.refresh, tc.api
		if got := AutoPartitions(p); got != tc.want {
			t.Errorf("%d clients, servers %d/%d/%d: %d partitions, want %d", tc.clients, tc.signIn, tc.refresh, tc.api, got, tc.want)
		}
	}
}

func TestPartitionModelDividesTheBackend(t *testing.T) {
	m := Resolve(profiles.BackendModel{Refresh: profiles.EndpointModel{Servers: 10, MaxQueue: 3}})
	var servers, queue []int
	for k := range 4 {
		pm := partitionModel(m, k, 4)
		servers = append(servers, pm.Refresh.Servers)
		queue = append(queue, pm.Refresh.MaxQueue)
		if pm.Refresh.Service.Value != m.Refresh.Service.Value || pm.Refresh.QueueWait != m.Refresh.QueueWait {
			t.Errorf("partition %d: service %v wait %v, want the whole model's", k, pm.Refresh.Service, pm.Refresh.QueueWait)
		}
	}
	if want := []int{3, 3, 2, 2}; !slices.Equal(servers, want) {
		t.Errorf("10 servers in 4 partitions: %v, want %v (the remainder to the first)", servers, want)
	}
	if want := []int{1, 1, 1, 1}; !slices.Equal(queue, want) {
		t.Errorf("max_queue 3 in 4 partitions: %v, want %v (at least 1)", queue, want)
	}
}

func within(got, want, share float64) bool {
	d := got - want
	return d <= share*want && -d <= share*want
}

// TestPartitionsStopWithTheContext: an interrupted partitioned simulation
// returns the context's error and no result.
func TestPartitionsStopWithTheContext(t *testing.T) {
	p := builtin(t, "elevator", 600, 4*time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var res reports.Result
	if err := Run(ctx, Config{Profile: p, Partitions: 3, Workers: 1}, &res); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run with a cancelled context: %v, want context.Canceled", err)
	}
	if res.Engine.Sim != nil {
		t.Errorf("engine.sim %+v: an interrupted simulation has no result", res.Engine.Sim)
	}
}
