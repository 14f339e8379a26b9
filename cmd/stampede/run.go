package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stampede-load/stampede/chaos/backend"
	"github.com/stampede-load/stampede/load"
	"github.com/stampede-load/stampede/load/run"
	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

// interruptGrace is the time in-flight requests get after an interrupt; 0
// is the engine's default (2 s). The process tests lengthen it to hold a
// graceful stop open.
var interruptGrace time.Duration

// resultWrite writes the run's result files; nil is the atomic write
// (tests inject a full disk).
var resultWrite func(path string, data []byte) error

// checkpointEvery is how often a run writes checkpoint.json; tests shorten
// it.
var checkpointEvery = run.DefaultCheckpointEvery

// runOptions holds stampede run's flags and injected dependencies.
type runOptions struct {
	streams

	profile    string
	clients    int
	duration   time.Duration
	ramp       time.Duration
	timeScale  float64
	seed       uint64
	target     string
	outDir     string
	noProgress bool
	quiet      bool
	// force runs a profile the memory estimate refuses.
	force bool
	// metricsAddr is --metrics-addr: where to serve live Prometheus
	// metrics while the run goes; empty is off (metrics.go).
	metricsAddr string
	// thresholds are the --threshold expressions, added to the profile's.
	thresholds []string
	// watchEvery is how often abort_on_fail thresholds are checked on the
	// live figures; default 1 s.
	watchEvery time.Duration

	// sets are the --set path=value overrides, applied in order.
	sets []string
	// stages is --stages: the fleet's stages, CLIENTS:RAMP:HOLD,...
	stages string
	// shardFlags: --shard i/n, --start-at and --run-id (shard.go).
	shardFlags

	// flags reports whether a flag was given on the command line.
	flags func(name string) bool
	// preflightTimeout bounds the pre-flight of --target.
	preflightTimeout time.Duration
	// skipPreflight is --skip-preflight.
	skipPreflight bool
	// onBackend, if set, receives the embedded backend once it listens (tests).
	onBackend func(*backend.Backend)
	// onMetrics, if set, receives the URL of --metrics-addr's metrics once
	// they are served (ended false), and again when the run is over, its
	// results written, just before they stop (ended true) (tests).
	onMetrics func(url string, ended bool)
	// tls: --ca-cert, --client-cert, --client-key, --insecure-skip-verify (target.go).
	tls tlsFlags
	// updateCredentials: --update-credentials (target.update_credentials).
	updateCredentials bool
	// adminToken is sent to the --target's admin API (fleet events); default
	// $STAMPEDE_ADMIN_TOKEN. Never printed.
	adminToken string
	// fdLimit raises the descriptor limit and returns it; default
	// raiseFDLimit (tests stand in a limit).
	fdLimit func() (uint64, error)
}

func newRunCmd(s streams) *cobra.Command {
	o := &runOptions{streams: s, preflightTimeout: 5 * time.Second}
	def := profiles.Default()
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run a profile: simulated clients sign in, refresh session tokens and call the API",
		Long: "Run a profile against the embedded backend (default) or a running target.\n" +
			"--duration and --ramp are wall-clock time; every other duration of the profile\n" +
			"(token lifetime, refresh-ahead, API intervals, backoff) is divided by --time-scale.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.flags = cmd.Flags().Changed
			return o.run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.profile, "profile", "p", "default", "built-in profile name or YAML file (see stampede profiles list)")
	f.IntVar(&o.clients, "clients", def.Clients, "number of simulated clients")
	f.DurationVar(&o.duration, "duration", def.Duration.D(), "wall-clock length of the run")
	f.DurationVar(&o.ramp, "ramp", def.Ramp.D(), "wall-clock time over which clients start")
	f.Float64Var(&o.timeScale, "time-scale", def.TimeScale, "divide every simulated duration by this (≥ 1)")
	f.Uint64Var(&o.seed, "seed", def.Seed, "random seed: the same seed gives the same schedule")
	f.StringVar(&o.stages, "stages", "", "grow or shrink the fleet over the run: CLIENTS:RAMP:HOLD,... such as 200:10s:30s,400:10s:30s,0:5s:0s (wall-clock; sets --clients, --duration and --ramp; see stages in docs/profiles.md)")
	f.StringVar(&o.shard, "shard", "", "run shard i of n, \"i/n\" counting from 0 (such as 0/4): the clients whose index ≡ i (mod n), with the whole run's seeds; needs --start-at and --target; results default to ./stampede-results/<run-id>/<i>; stampede merge combines the shards' results")
	f.StringVar(&o.startAt, "start-at", "", "begin at this instant, RFC 3339 such as 2026-11-28T09:30:00Z: every shard of a run is given the same, so their clocks and fleet events coincide")
	f.StringVar(&o.runID, "run-id", "", "the run's ID (default: derived from --start-at, the profile's name and seed and the shard count, so the shards of a run share it; random without --start-at)")
	f.StringArrayVar(&o.sets, "set", nil, "override a profile field by its YAML path, such as sdk.interceptor=naive or events[0].fraction=0.5 (repeatable, applied in order, before --clients, --duration, --ramp, --time-scale and --seed)")
	f.StringVar(&o.target, "target", "", "base URL of the target: a running stampede serve (default: embedded backend), or the target.url of the profile's target (oauth2, http)")
	f.StringVar(&o.adminToken, "admin-token", "", "admin token of the --target (a stampede serve --admin-token), sent as \"Authorization: Bearer TOKEN\" with the fleet events' calls to its /admin API (default $"+adminTokenEnv+"; never printed)")
	o.tls.register(f)
	f.BoolVar(&o.updateCredentials, "update-credentials", false, "write each client's newest refresh token back to target.credentials_file at every checkpoint and at the end (atomically, mode 0600), so the file survives a provider that rotates refresh tokens; as target.update_credentials: true")
	f.BoolVar(&o.skipPreflight, "skip-preflight", false, "start without the pre-flight: the checks that the target's endpoints are what the profile says (an OAuth 2.0 token endpoint refuses an invalid grant with an OAuth 2.0 error) and the first client's canary sign-in")
	f.StringVar(&o.outDir, "out", "", "results directory (default ./stampede-results/<run-id>); \"-\" prints result.json on stdout (the summary on stderr) and keeps no files")
	f.BoolVar(&o.noProgress, "no-progress", false, "plain progress lines instead of bars (automatic when stderr is not a terminal)")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "print the summary only")
	f.BoolVar(&o.force, "force", false, "run even when the memory estimate (clients, timeline, events) passes the machine's available memory")
	f.StringVar(&o.metricsAddr, "metrics-addr", "", "serve live Prometheus metrics at http://HOST:PORT/metrics while the run goes, such as 127.0.0.1:9090 (default off)")
	f.StringArrayVar(&o.thresholds, "threshold", nil, "pass/fail gate METRIC OP VALUE such as \"refresh.p99 < 250ms\" (repeatable; adds to the profile's thresholds; any failure exits 99)")
	return cmd
}

// probeBytes is the size of the probe file prepareOut writes.
const probeBytes = 4096

// prepareOut creates the results directory and proves it writable.
func prepareOut(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return usageErrorf("--out %s: cannot create the results directory: %w", dir, err)
	}
	// The probe is written and synced, so a full disk fails here, before
	// the run, not when its result is written.
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return usageErrorf("--out %s: results directory is not writable: %w", dir, err)
	}
	defer os.Remove(f.Name())
	_, err = f.Write(make([]byte, probeBytes))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return usageErrorf("--out %s: results directory is not writable: %w", dir, err)
	}
	return nil
}

func (o *runOptions) run(ctx context.Context) error {
	p, err := o.resolve()
	if err != nil {
		return err
	}
	if err := run.CheckMemory(p, o.shardIndex, o.shardCount); err != nil {
		if !o.force {
			return usageError(err)
		}
		fmt.Fprintf(o.err, "stampede: warning: --force: %v\n", err)
	}
	runID := o.shardFlags.id(p)
	out := o.outDir
	if out == "" {
		out = run.DefaultOutDir(runID, o.shardIndex, o.shardCount)
	}
	if out == "-" { // result.json on stdout: the files go to a directory of the moment
		dir, err := os.MkdirTemp("", "stampede-run-")
		if err != nil {
			return fmt.Errorf("--out -: %w", err)
		}
		defer os.RemoveAll(dir)
		out = dir
	}
	if err := checkUpdateCredentials(p, out, o.shardCount); err != nil {
		return err
	}
	if err := prepareOut(out); err != nil {
		return err
	}
	metrics, err := o.serveMetrics()
	if err != nil {
		return err
	}
	defer metrics.stop()
	tlsConfig, err := o.tls.config()
	if err != nil {
		return err
	}
	var prog *progress
	runStarting()
	res, err := run.Execute(ctx, run.Options{
		Profile: p, RunID: runID, OutDir: out, Shard: o.shardIndex, Shards: o.shardCount, StartAt: o.startTime,
		ToolVersion: toolVersion(), TargetSource: o.targetSource(), AdminToken: o.targetAdminToken(),
		PreflightTimeout: o.preflightTimeout, SkipPreflight: o.skipPreflight, TLS: tlsConfig, InsecureSkipVerify: o.tls.insecure,
		FDLimit: o.fdLimit, Interrupted: interruptGrace, Write: resultWrite, WatchEvery: o.watchEvery, CheckpointEvery: checkpointEvery,
		Warn: o.err, Register: metrics.register, OnBackend: o.onBackend,
		Started: func(eng *load.Engine, target reports.Target) {
			o.printHeader(p, runID, target)
			prog = startProgress(o.streams, o.quiet, o.noProgress, eng, p)
		},
		Stopped: func(complete bool) { prog.stop(complete) },
	})
	we, writeFailed := asWriteError(err)
	if err != nil && (!writeFailed || res == nil) {
		return err
	}
	// The summary is printed whatever became of the files.
	summary := o.streams.out
	if o.outDir == "-" {
		summary = o.streams.err // stdout holds result.json alone
	}
	if err := reports.WriteText(summary, res); err != nil {
		return err
	}
	filesErr := o.announceFiles(out, res, we)
	if res.Partial && ctx.Err() != nil {
		return errInterrupted // an interrupt wins over thresholds
	}
	if filesErr != nil {
		return filesErr // and lost files over thresholds: the summary says how they went
	}
	return thresholdsFailed(res)
}

// printHeader says what the run is about to do, unless --quiet.
func (o *runOptions) printHeader(p profiles.Profile, runID string, target reports.Target) {
	if o.quiet {
		return
	}
	fmt.Fprintf(o.err, "stampede run %s: %d clients for %s against %s %s (×%g time scale, seed %d)\n",
		runID, p.Clients, p.Duration, target.Kind, target.URL, p.TimeScale, p.Seed)
	if !o.startTime.IsZero() {
		fmt.Fprintf(o.err, "shard %d/%d (%d of the clients), starting at %s\n", o.shardIndex, o.shardCount,
			(p.Clients-o.shardIndex+o.shardCount-1)/o.shardCount, o.startTime.UTC().Format(time.RFC3339Nano))
	}
}

// targetAdminToken is the admin token for the target's admin API: of
// --admin-token, else of $STAMPEDE_ADMIN_TOKEN; "" sends none.
func (o *runOptions) targetAdminToken() string {
	if o.adminToken != "" {
		return o.adminToken
	}
	return os.Getenv(adminTokenEnv)
}

// targetSource names where the target's URL came from, for messages.
func (o *runOptions) targetSource() string {
	if o.target != "" {
		return "--target"
	}
	return "target.url"
}

// thresholdsFailed is the exit-99 error of a result whose verdict is
// "fail", naming the thresholds and invariants that failed; nil when it
// passed.
func thresholdsFailed(res *reports.Result) error {
	var failed []string
	stopped := ""
	for _, t := range res.Thresholds {
		switch {
		case !t.OK && t.NoData:
			failed = append(failed, t.Expr+" (no data)")
		case !t.OK:
			failed = append(failed, t.Expr)
		}
		if t.Aborted {
			stopped = fmt.Sprintf(" (%s stopped the run early: abort_on_fail)", t.Expr)
		}
	}
	if len(failed) == 0 && reports.FailedInvariants(res) == "" && res.Verdict != reports.VerdictFail {
		return nil
	}
	msg := fmt.Sprintf("%d of %d thresholds failed: %s%s", len(failed), len(res.Thresholds), strings.Join(failed, "; "), stopped)
	switch inv := reports.FailedInvariants(res); {
	case inv != "" && len(failed) == 0:
		msg = inv
	case inv != "":
		msg += "; " + inv
	}
	return &exitError{code: exitThresholds, err: errors.New(msg)}
}
