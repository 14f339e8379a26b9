package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/stampede-load/stampede/load/sim"
	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

// simulateOptions holds stampede simulate's flags.
type simulateOptions struct {
	streams

	profile    string
	clients    int
	duration   time.Duration
	ramp       time.Duration
	seed       uint64
	sets       []string
	thresholds []string
	outDir     string
	quiet      bool
	// measure writes the wall-clock figures into engine.sim.
	measure bool
	// calibrate is a live run's result.json to take the service times from.
	calibrate string
	// sweeps are the --sweep PATH=v1,v2,... axes of a grid.
	sweeps []string
	// parallel bounds the sweep's points run at once; 0 is GOMAXPROCS.
	parallel int
	// partitions is --partitions: "auto" or a count (docs/simulate.md#partitions).
	partitions string

	flags func(name string) bool
}

func newSimulateCmd(s streams) *cobra.Command {
	o := &simulateOptions{streams: s}
	def := profiles.Default()
	cmd := &cobra.Command{
		Use:   "simulate",
		Short: "Simulate a profile in virtual time against a modelled backend: millions of clients in seconds",
		Long: "Simulate a profile with a discrete-event simulator: the same client model and fleet\n" +
			"events as run, in virtual time, against a modelled backend (backend_model: each\n" +
			"endpoint a queue with c servers that sheds 503 with Retry-After). --duration and\n" +
			"--ramp are SIMULATED time (no time scale); by default the simulated time a run of\n" +
			"the profile covers (its duration × time_scale). The same seed gives a byte-identical\n" +
			"result.json. Writes result.json and reports as run does; see docs/simulate.md.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.flags = cmd.Flags().Changed
			return o.run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.profile, "profile", "p", "default", "built-in profile name or YAML file (see stampede profiles list)")
	f.IntVar(&o.clients, "clients", def.Clients, "number of simulated clients")
	f.DurationVar(&o.duration, "duration", 0, "simulated time to cover (default: the profile's duration × its time_scale)")
	f.DurationVar(&o.ramp, "ramp", 0, "simulated time over which clients start (default: the profile's ramp × its time_scale)")
	f.Uint64Var(&o.seed, "seed", def.Seed, "random seed: the same seed gives a byte-identical result.json")
	f.StringArrayVar(&o.sets, "set", nil, "override a profile field by its YAML path, such as backend_model.refresh.servers=32 (repeatable, applied in order)")
	f.StringArrayVar(&o.thresholds, "threshold", nil, "pass/fail gate METRIC OP VALUE such as \"refresh.p99 < 250ms\" (repeatable; any failure exits 99)")
	f.StringVar(&o.outDir, "out", "", "results directory (default ./stampede-results/<run-id>)")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "print the summary only")
	f.BoolVar(&o.measure, "measure", false, "write the wall-clock figures (engine.sim.events_per_second, bytes_per_client, wall_s) into result.json, which then differs from run to run")
	f.StringArrayVar(&o.sweeps, "sweep", nil, "sweep a profile field over values, PATH=v1,v2,... such as sdk.retry.jitter=none,full (repeatable: a grid); one result per point and a comparison (sweep.txt, sweep.json, sweep.html)")
	f.IntVar(&o.parallel, "parallel", 0, "sweep points simulated at once (default: the number of CPUs)")
	f.StringVar(&o.partitions, "partitions", "auto", "split the simulation into N partitions (each a share of the fleet against a share of every endpoint's servers) run on all CPUs and merged; auto: one per 62,500 clients (1 below 125,000), up to 32, with at least 8 servers per endpoint each")
	f.StringVar(&o.calibrate, "calibrate", "", "a live run's result.json: take each endpoint's service-time distribution from its ops.*.service_hdr")
	return cmd
}

func (o *simulateOptions) run(ctx context.Context) error {
	p, err := o.resolve()
	if err != nil {
		return err
	}
	for _, w := range sim.Warnings(p) {
		fmt.Fprintf(o.err, "stampede: warning: %s\n", w)
	}
	service, err := o.calibration()
	if err != nil {
		return err
	}
	axes, err := sim.ParseAxes(o.sweeps)
	if err != nil {
		return usageError(err)
	}
	if o.flags != nil && o.flags("parallel") && o.parallel < 1 {
		return usageErrorf("--parallel: must be at least 1, got %d", o.parallel)
	}
	parts, err := o.partitionCount(p)
	if err != nil {
		return err
	}
	out := o.outDir
	if out == "" {
		out = filepath.Join("stampede-results", sim.ID(p))
	}
	if err := prepareOut(out); err != nil {
		return err
	}
	if len(axes) > 0 {
		return o.sweep(ctx, p, axes, service, out, parts)
	}
	if parts == 0 {
		parts = sim.AutoPartitions(p)
	}
	if !o.quiet {
		fmt.Fprintf(o.err, "stampede simulate %s: %d clients for %s of simulated time (seed %d)%s\n", sim.ID(p), p.Clients, p.Duration, p.Seed, partitionsNote(parts))
	}
	start := time.Now()
	progress := func(at time.Duration, events int64) {
		fmt.Fprintf(o.err, "simulated %s of %s (%.0f%%), %d events, %.0f events/s\n", at.Round(time.Second), p.Duration,
			100*at.Seconds()/p.Duration.D().Seconds(), events, float64(events)/time.Since(start).Seconds())
	}
	if o.quiet {
		progress = nil
	}
	res, err := sim.Execute(ctx, sim.Options{Profile: p, OutDir: out, ToolVersion: toolVersion(), Service: service, Measure: o.measure,
		Progress: progress, Partitions: parts})
	if err != nil {
		return o.failed(ctx, err)
	}
	if err := reports.WriteText(o.out, res); err != nil {
		return err
	}
	wall := time.Since(start)
	fmt.Fprintf(o.out, "\nsimulated %s in %s: %d events (%.0f/s)\nresult: %s\nreport: %s\n", p.Duration, wall.Round(time.Millisecond),
		res.Engine.Sim.EventsProcessed, float64(res.Engine.Sim.EventsProcessed)/wall.Seconds(),
		filepath.Join(out, sim.ResultName), filepath.Join(out, sim.ReportName))
	return thresholdsFailed(res)
}

// sweep runs every point of the grid and writes the comparison.
func (o *simulateOptions) sweep(ctx context.Context, p profiles.Profile, axes []sim.Axis, service map[string]sim.Calibrated, out string, parts int) error {
	points, err := sim.Grid(p, axes)
	if err != nil {
		return usageError(err)
	}
	if !o.quiet {
		fmt.Fprintf(o.err, "stampede simulate: sweeping %d points of %d clients for %s of simulated time\n", len(points), p.Clients, p.Duration)
	}
	sw, err := sim.RunSweep(ctx, sim.SweepOptions{Points: points, OutDir: out, ToolVersion: toolVersion(),
		Service: service, Measure: o.measure, Parallel: o.parallel, Partitions: parts})
	if err != nil {
		return o.failed(ctx, err)
	}
	if err := sim.WriteSweepText(o.out, sw); err != nil {
		return err
	}
	fmt.Fprintf(o.out, "\ncomparison: %s\n", filepath.Join(out, sim.SweepHTMLName))
	if n := sw.Failed(); n > 0 {
		return &exitError{code: exitThresholds, err: fmt.Errorf("%d of %d sweep points failed their thresholds or invariants", n, len(sw.Points))}
	}
	return nil
}

func (o *simulateOptions) failed(ctx context.Context, err error) error {
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return &exitError{code: exitInterrupted, err: errors.New("interrupted: no results written")}
	}
	return err
}

// resolve builds the profile as run does, then puts it in simulated time
// and applies --duration and --ramp as simulated time.
func (o *simulateOptions) resolve() (profiles.Profile, error) {
	given := func(name string) bool { return o.flags != nil && o.flags(name) }
	ro := &runOptions{streams: o.streams, profile: o.profile, clients: o.clients, seed: o.seed,
		sets: o.sets, thresholds: o.thresholds,
		flags: func(name string) bool { return name != "duration" && name != "ramp" && given(name) }}
	p, err := ro.resolve()
	if err != nil {
		return p, err
	}
	p = sim.Simulated(p)
	var errs []error
	if given("duration") {
		if o.duration <= 0 {
			errs = append(errs, fmt.Errorf("--duration: must be greater than 0, got %s", o.duration))
		}
		p.Duration = profiles.Duration(o.duration)
		if !given("ramp") {
			p.Ramp = min(p.Ramp, p.Duration)
		}
	}
	if given("ramp") {
		if o.ramp < 0 {
			errs = append(errs, fmt.Errorf("--ramp: must not be negative, got %s", o.ramp))
		}
		p.Ramp = profiles.Duration(o.ramp)
	}
	if len(errs) == 0 && p.Ramp > p.Duration {
		errs = append(errs, fmt.Errorf("--ramp: must not exceed the simulated duration (%s), got %s", p.Duration, p.Ramp))
	}
	if len(errs) == 0 {
		if err := p.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return p, usageError(errors.Join(errs...))
	}
	return p, nil
}

// calibration reads --calibrate's result.json.
func (o *simulateOptions) calibration() (map[string]sim.Calibrated, error) {
	if o.calibrate == "" {
		return nil, nil
	}
	b, err := os.ReadFile(o.calibrate)
	if err != nil {
		return nil, usageErrorf("--calibrate %s: %w", o.calibrate, err)
	}
	res, err := reports.DecodeResult(b)
	if err != nil {
		return nil, usageErrorf("--calibrate %s: %w", o.calibrate, err)
	}
	c, err := sim.Calibrate(res)
	if err != nil {
		return nil, usageErrorf("--calibrate %s: %w", o.calibrate, err)
	}
	if len(c) == 0 {
		return nil, usageErrorf("--calibrate %s: no operation has a service-time histogram (ops.*.service_hdr): is it a live run's result?", o.calibrate)
	}
	return c, nil
}
