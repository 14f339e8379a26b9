package sim

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

// benchClients is the fleet BenchmarkSimulateElevator simulates, and
// benchDuration the simulated time it covers.
var (
	benchClients  = 10_000
	benchDuration = 10 * time.Minute
)

// BenchmarkSimulateElevator simulates the elevator profile, 10,000
// clients for 10 simulated minutes, and reports events per second and
// the heap held per client (docs/simulate.md has the large figures).
func BenchmarkSimulateElevator(b *testing.B) {
	p, err := profiles.Builtin("elevator")
	if err != nil {
		b.Fatal(err)
	}
	p = Simulated(p)
	p.Clients = benchClients
	p.Duration = profiles.Duration(benchDuration)
	var events int64
	var perClient float64
	start := time.Now()
	for b.Loop() {
		var res reports.Result
		if err := Run(context.Background(), Config{Profile: p, Measure: true}, &res); err != nil {
			b.Fatal(err)
		}
		events += res.Engine.Sim.EventsProcessed
		perClient = res.Engine.Sim.BytesPerClient
	}
	b.ReportMetric(float64(events)/time.Since(start).Seconds(), "events/s")
	b.ReportMetric(perClient, "B/client")
	runtime.GC()
}

func init() {
	if n := os.Getenv("STAMPEDE_SIM_BENCH_CLIENTS"); n != "" {
		if v, err := strconv.Atoi(n); err == nil && v > 0 {
			benchClients = v
		}
	}
	if d := os.Getenv("STAMPEDE_SIM_BENCH_DURATION"); d != "" {
		if v, err := time.ParseDuration(d); err == nil && v > 0 {
			benchDuration = v
		}
	}
}
