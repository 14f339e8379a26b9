package sim

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

// The files a simulation writes into its results directory, as a run's.
const (
	ResultName = "result.json"
	ReportName = "report.html"
)

// Options are one simulation and where its results go.
type Options struct {
	// Profile is the resolved, valid profile in simulated time (Simulated).
	Profile profiles.Profile
	// RunID names it in result.json; default ID(Profile).
	RunID string
	// OutDir is the results directory, created if need be.
	OutDir      string
	ToolVersion string
	// Service, Measure and Progress: see Config.
	Service  map[string]Calibrated
	Measure  bool
	Progress func(simulated time.Duration, events int64)
	// Partitions is how many partitions the simulation runs in; 0 is
	// AutoPartitions(Profile). Workers bounds those run at once; 0 is
	// GOMAXPROCS. See Config.
	Partitions int
	Workers    int
}

// ID is a simulation's default run ID: the profile's name and seed, so
// that the same simulation writes the same result.json.
func ID(p profiles.Profile) string {
	return fmt.Sprintf("sim-%s-seed%d", p.Name, p.Seed)
}

// Execute simulates o.Profile, evaluates its thresholds and writes
// result.json, the histogram logs and report.html into o.OutDir, as a
// run does. A failing threshold is no error: the verdict says so.
func Execute(ctx context.Context, o Options) (*reports.Result, error) {
	if o.RunID == "" {
		o.RunID = ID(o.Profile)
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create the results directory: %w", err)
	}
	res := &reports.Result{Schema: reports.Schema, RunID: o.RunID, ToolVersion: o.ToolVersion,
		Target: reports.Target{Kind: "simulated", URL: "sim://backend_model"}}
	parts := o.Partitions
	if parts == 0 {
		parts = AutoPartitions(o.Profile)
	}
	cfg := Config{Profile: o.Profile.Redacted(), Service: o.Service, Measure: o.Measure, Progress: o.Progress,
		Partitions: parts, Workers: o.Workers}
	if err := Run(ctx, cfg, res); err != nil {
		return nil, err
	}
	if err := reports.Evaluate(res, o.Profile.Thresholds); err != nil {
		return nil, fmt.Errorf("thresholds: %w", err)
	}
	if err := reports.WriteFile(filepath.Join(o.OutDir, ResultName), res); err != nil {
		return nil, err
	}
	if err := reports.WriteHistogramLogs(o.OutDir, res); err != nil {
		return nil, err
	}
	if err := reports.RenderFile(filepath.Join(o.OutDir, ReportName), res, "html"); err != nil {
		return nil, err
	}
	return res, nil
}

// Warnings are the lines a simulation of p prints before it starts: the
// parts of the profile it leaves out.
func Warnings(p profiles.Profile) []string {
	var out []string
	for i, e := range p.Events {
		if e.Type == profiles.EventToxic {
			out = append(out, fmt.Sprintf("events[%d] (toxic) acts through a Toxiproxy proxy, which a simulation has not: it is left out", i))
		}
	}
	if p.Connections == profiles.ConnectionsPerClient {
		out = append(out, "connections: per_client is not modelled: a simulation has no connections, dials or TLS handshakes")
	}
	if k := p.TargetKind(); k != profiles.TargetBuiltin && k != profiles.TargetFAPI {
		out = append(out, fmt.Sprintf("target.kind %s is not simulated: the modelled backend answers as the embedded backend does", k))
	}
	return out
}
