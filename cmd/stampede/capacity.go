package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/stampede-load/stampede/capacity"
	"github.com/stampede-load/stampede/load"
	"github.com/stampede-load/stampede/load/run"
	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

// capacityOptions holds stampede capacity's flags.
type capacityOptions struct {
	runOptions
	start, max, require int
	step                string
	stageRamp, hold     time.Duration
	lagBound            time.Duration
	cpuBound            float64
	format              string
}

func newCapacityCmd(s streams) *cobra.Command {
	o := &capacityOptions{runOptions: runOptions{streams: s, preflightTimeout: 5 * time.Second}}
	def := profiles.Default()
	cmd := &cobra.Command{
		Use:   "capacity",
		Short: "Step the fleet up until a threshold breaks, and explain the knee",
		Long: "One staged run steps the fleet up from --start by --step to --max, each stage held for at\n" +
			"least two token lifetimes; the thresholds are evaluated per stage. The report gives the last\n" +
			"passing fleet size, the first failing one, the threshold that broke and the herd figures that\n" +
			"moved most. Exit 0 when the knee is at or above --require, else 99 (docs/capacity.md).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.flags = cmd.Flags().Changed
			return o.search(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.profile, "profile", "p", "default", "built-in profile name or YAML file (see stampede profiles list)")
	f.StringArrayVar(&o.sets, "set", nil, "override a profile field by its YAML path, such as backend.max_inflight=8 (repeatable)")
	f.StringArrayVar(&o.thresholds, "threshold", nil, "gate each stage: METRIC OP VALUE such as \"refresh.p99 < 250ms\" (repeatable; adds to the profile's thresholds)")
	f.StringVar(&o.target, "target", "", "base URL of the target (default: embedded backend)")
	f.Float64Var(&o.timeScale, "time-scale", def.TimeScale, "divide every simulated duration by this (≥ 1)")
	f.Uint64Var(&o.seed, "seed", def.Seed, "random seed: the same seed gives the same schedule")
	f.IntVar(&o.start, "start", 100, "fleet size of the first stage")
	f.StringVar(&o.step, "step", "2", "growth from stage to stage: a factor (2, x1.5) or an increment (+500)")
	f.IntVar(&o.max, "max", 10000, "largest fleet size tried")
	f.DurationVar(&o.stageRamp, "stage-ramp", 5*time.Second, "wall-clock ramp from one stage's fleet to the next")
	f.DurationVar(&o.hold, "hold", 0, "wall-clock hold of each stage (default and minimum: two token lifetimes at --time-scale)")
	f.DurationVar(&o.lagBound, "lag-bound", capacity.DefaultLagBound, "a stage whose engine lag p99 passes this is marked generator_behind and never the knee")
	f.Float64Var(&o.cpuBound, "cpu-bound", capacity.DefaultCPUBound, "a stage in which stampede's process used more than this share of its cores is marked generator_behind and never the knee")
	f.IntVar(&o.require, "require", 0, "exit 99 unless the knee (last passing fleet size) is at least this")
	f.StringVar(&o.format, "format", "text", "report on stdout: text, markdown or json")
	f.StringVar(&o.outDir, "out", "", "results directory (default ./stampede-results/<run-id>): result.json of the staged run, capacity.json and capacity.html")
	return cmd
}

func (o *capacityOptions) search(ctx context.Context) error {
	step, err := capacity.ParseStep(o.step)
	if err != nil {
		return usageErrorf("--step: %w", err)
	}
	if o.start < 1 || o.max < o.start {
		return usageErrorf("--start and --max: want 1 <= --start (%d) <= --max (%d)", o.start, o.max)
	}
	write := map[string]func(*capacity.Report) error{
		"text":     func(r *capacity.Report) error { return r.WriteText(o.out) },
		"markdown": func(r *capacity.Report) error { return r.WriteMarkdown(o.out) },
		"json":     func(r *capacity.Report) error { return r.WriteJSON(o.out) },
	}[o.format]
	if write == nil {
		return usageErrorf("--format: want text, markdown or json, got %q", o.format)
	}
	p, err := o.resolve()
	if err != nil {
		return err
	}
	if !(o.cpuBound > 0 && o.cpuBound <= 1) {
		return usageErrorf("--cpu-bound: want a share of the cores above 0 and at most 1, got %g", o.cpuBound)
	}
	usage := capacity.NewUsage()
	usage.Bound = o.cpuBound
	opts := capacity.Options{Profile: p, Start: o.start, Max: o.max, Step: step, Ramp: o.stageRamp, Hold: o.hold, LagBound: o.lagBound, Usage: usage}
	staged, err := capacity.Plan(opts)
	if err != nil {
		return usageError(err)
	}
	runID := o.shardFlags.id(staged)
	out := o.outDir
	if out == "" {
		out = run.DefaultOutDir(runID, 0, 1)
	}
	if err := prepareOut(out); err != nil {
		return err
	}
	fmt.Fprintf(o.err, "stampede capacity: %d stages %v, %s each held %s, about %s\n",
		len(staged.Stages), capacity.Sizes(o.start, o.max, step), step, staged.Stages[0].Hold, staged.Duration)
	opts.Run = func(ctx context.Context, sp profiles.Profile) (*reports.Result, error) {
		// The watch stops the run once a stage fails: larger fleets would
		// only load the target further.
		runCtx, stop := context.WithCancel(ctx)
		defer stop()
		var watching sync.WaitGroup
		defer func() { stop(); watching.Wait() }()
		return run.Execute(runCtx, run.Options{Profile: sp, RunID: runID, OutDir: out, ToolVersion: toolVersion(),
			TargetSource: o.targetSource(), AdminToken: o.targetAdminToken(), PreflightTimeout: o.preflightTimeout,
			Interrupted: interruptGrace, Warn: o.err, OnBackend: o.onBackend,
			Started: func(eng *load.Engine, _ reports.Target) {
				watching.Go(func() { capacity.Watch(runCtx, sp, o.lagBound, opts.Usage, eng.Snapshot, stop) })
			},
		})
	}
	rep, err := capacity.Search(ctx, opts)
	if err != nil {
		return err
	}
	for name, render := range map[string]func(io.Writer) error{"capacity.json": rep.WriteJSON, "capacity.html": rep.WriteHTML} {
		var b bytes.Buffer
		if err := render(&b); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := reports.WriteAtomic(filepath.Join(out, name), b.Bytes()); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	if err := write(rep); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return errInterrupted // the search was cut short: no knee to gate on
	}
	if !rep.Holds(o.require) {
		return &exitError{code: exitThresholds, err: fmt.Errorf("the knee (%d clients) is below --require %d", rep.LastPass, o.require)}
	}
	return nil
}
