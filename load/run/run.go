// Package run runs a load test from a resolved profile to its written
// results: it opens the target, sizes the transport to the descriptor
// limit, drives the engine while it watches abort_on_fail thresholds,
// writes checkpoints and applies toxic events, then evaluates the
// thresholds and writes result.json, the histogram logs and report.html.
// It prints nothing but warnings, on the writer it is given.
package run

import (
	"cmp"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stampede-load/stampede/chaos/backend"
	"github.com/stampede-load/stampede/gcpace"
	"github.com/stampede-load/stampede/load"
	"github.com/stampede-load/stampede/load/target"
	"github.com/stampede-load/stampede/load/transport"
	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

// The files a run writes into its results directory.
const (
	ResultName = "result.json"
	ReportName = "report.html"
)

// Options are a run: its profile, where it writes and what it is given.
type Options struct {
	// Profile is the resolved, valid profile, with every threshold; it is
	// recorded in result.json without its secrets.
	Profile profiles.Profile
	// RunID names the run in result.json; default ID(Profile, Shards, StartAt).
	RunID string
	// OutDir is the results directory, created if need be; default
	// DefaultOutDir.
	OutDir string
	// Shard and Shards: this process runs the clients whose index ≡ Shard
	// (mod Shards); 0 and 1 (or 0) for a whole run.
	Shard, Shards int
	// StartAt, if set, is the instant the run begins (every shard is given
	// the same); zero starts at once.
	StartAt time.Time
	// ToolVersion is stampede's version, recorded in result.json.
	ToolVersion string

	// TargetSource names where the target's URL came from, for messages
	// (target.Options.Source).
	TargetSource string
	// AdminToken is sent to an external target's admin API; never printed.
	AdminToken string
	// PreflightTimeout bounds the target's reachability check; default 5 s.
	PreflightTimeout time.Duration
	// SkipPreflight skips the checks of the target's endpoints and the
	// canary sign-in before the ramp (--skip-preflight).
	SkipPreflight bool
	// Getenv reads the environment (secrets); default os.LookupEnv.
	Getenv func(string) (string, bool)
	// TLS configures connections to an https target; nil is Go's default.
	TLS *tls.Config
	// InsecureSkipVerify says TLS does not verify the target's certificate:
	// warned about, and recorded in result.json.
	InsecureSkipVerify bool

	// FDLimit raises the descriptor limit and returns it (0 if unknown);
	// default: the soft limit raised to the hard one, on Linux.
	FDLimit func() (uint64, error)
	// Interrupted is the time in-flight requests get after ctx ends; 0 is
	// the engine's default.
	Interrupted time.Duration
	// WatchEvery is how often abort_on_fail thresholds are checked on the
	// live figures; default 1 s.
	WatchEvery time.Duration
	// CheckpointEvery is how often checkpoint.json is written while the
	// run goes; default DefaultCheckpointEvery.
	CheckpointEvery time.Duration

	// Write writes a result file atomically; default reports.WriteAtomic
	// (tests inject a full disk).
	Write func(path string, data []byte) error

	// Warn receives warnings, one line each; nil discards them.
	Warn io.Writer
	// Register, if set, receives the engine's collector and the embedded
	// backend's, once they exist, to serve them.
	Register func(...prometheus.Collector)
	// OnBackend, if set, receives the embedded backend once it listens.
	OnBackend func(*backend.Backend)
	// Started, if set, is called once the engine is built, just before it
	// runs, with the target as result.json records it: progress output
	// reads eng.Live from then on.
	Started func(eng *load.Engine, t reports.Target)
	// Stopped, if set, is called once the engine has stopped, before the
	// results are written; complete says whether the run reached its end.
	Stopped func(complete bool)
}

// Execute runs o.Profile and writes its results into o.OutDir:
// result.json, the histogram logs and report.html, and checkpoint.json
// while it goes (removed at the end). It returns the result written.
//
// A run ends when its duration has passed, when ctx ends (an interrupt:
// the result is partial) or when an abort_on_fail threshold fails (partial,
// the threshold marked as having stopped it). A failing threshold is no
// error: the result's verdict says so. Problems with the profile's target
// are *target.ConfigError; a per_client run the descriptor limit cannot
// hold or an unreachable target is a plain error. A run that completed
// but whose files could not all be written returns its result with a
// *WriteError: result.json is written first, then the reports.
func Execute(ctx context.Context, o Options) (*reports.Result, error) {
	p := o.Profile
	if o.Shards < 1 {
		o.Shard, o.Shards = 0, 1
	}
	if o.RunID == "" {
		o.RunID = ID(p, o.Shards, o.StartAt)
	}
	if o.OutDir == "" {
		o.OutDir = DefaultOutDir(o.RunID, o.Shard, o.Shards)
	}
	if o.CheckpointEvery <= 0 {
		o.CheckpointEvery = DefaultCheckpointEvery
	}
	warn := o.Warn
	if warn == nil {
		warn = io.Discard
	}
	if w := p.CheckTimeScale().Warning(); w != "" {
		fmt.Fprintf(warn, "stampede: warning: %s\n", w)
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create the results directory: %w", err)
	}

	cert, clientTLS, err := embeddedTLS(p, o.TLS)
	if err != nil {
		return nil, err
	}
	o.TLS = clientTLS
	fdLimit, tr, err := newTransport(p, o, warn)
	if err != nil {
		return nil, err
	}
	defer tr.CloseIdleConnections()
	if o.InsecureSkipVerify {
		fmt.Fprintln(warn, target.InsecureWarning)
	}
	// The engine's senders keep a connection each to a plain-HTTP target
	// (shared connections); every other request goes through tr, every
	// one when the clients speak HTTP/2 only (h2c to a plain-HTTP target).
	hc := &http.Client{Transport: &transport.SenderTransport{Fallback: tr, Dial: tr.DialShared, Proxy: http.ProxyFromEnvironment}, CheckRedirect: transport.NoRedirects}
	if p.HTTPVersion == profiles.HTTPVersionHTTP2 {
		hc.Transport = tr
	}
	var embedded *backend.Backend
	onBackend := func(be *backend.Backend) {
		embedded = be
		if o.OnBackend != nil {
			o.OnBackend(be)
		}
	}
	tg, err := target.Open(ctx, p, target.Options{Client: hc, Source: o.TargetSource, AdminToken: o.AdminToken,
		PreflightTimeout: o.PreflightTimeout, SkipPreflight: o.SkipPreflight, FirstClient: o.Shard,
		Getenv: o.Getenv, Warn: warn, OnBackend: onBackend, TLSCert: cert})
	if err != nil {
		return nil, err
	}
	defer tg.Close()
	tgReport := tg.Report
	tgReport.InsecureSkipVerify = o.InsecureSkipVerify

	// The engine records the profile in result.json: without its secrets.
	eng, err := load.New(load.Config{Profile: p.Redacted(), Auth: tg.Auth, Resource: tg.Resource, Admin: tg.Admin,
		Shard: o.Shard, Shards: o.Shards, StartAt: o.StartAt, Interrupted: o.Interrupted, Conns: tr, MaxInFlight: tr.MaxInFlight()})
	if err != nil {
		return nil, err
	}
	if o.Register != nil {
		var cs []prometheus.Collector
		for _, c := range []prometheus.Collector{eng.Collector(), tg.Metrics} {
			if c != nil {
				cs = append(cs, c)
			}
		}
		o.Register(cs...)
	}
	res := &reports.Result{
		Schema:      reports.Schema,
		RunID:       o.RunID,
		ToolVersion: o.ToolVersion,
		Target:      tgReport,
		Shard:       reports.Shard{Index: o.Shard, Count: o.Shards},
	}
	if o.Started != nil {
		o.Started(eng, tgReport)
	}
	// A failing abort_on_fail threshold cancels runCtx: the run stops
	// early and still writes its (partial) results.
	runCtx, abortRun := context.WithCancel(ctx)
	defer abortRun()
	watch := watchThresholds(eng, p, o.WatchEvery, abortRun)
	cp := startCheckpoints(eng, res, o.OutDir, o.CheckpointEvery, tg.SaveCredentials)
	toxics := startToxics(runCtx, p, cmp.Or(o.StartAt, time.Now()), o.Shard, warn)
	gcCtx, stopGC := context.WithCancel(ctx)
	gcDone := make(chan struct{})
	go func() { defer close(gcDone); gcpace.Run(gcCtx, gcpace.Bounded) }()
	runErr := eng.Run(runCtx, res)
	stopGC()
	<-gcDone
	res.Engine.FDLimit = fdLimit
	if embedded != nil {
		res.Sessions.ServerByStatus = embedded.Stats().Sessions
	}
	if err := recordTLS(res, tr, embedded); err != nil {
		return nil, fmt.Errorf("run: %w", err)
	}
	toxics.finish(res)
	if err := cp.stop(); err != nil {
		fmt.Fprintf(warn, "stampede: warning: %v\n", err)
	}
	if tg.SaveCredentials != nil {
		// After the engine: every rotation it saw is in, interrupted or not.
		if err := tg.SaveCredentials(); err != nil {
			fmt.Fprintf(warn, "stampede: warning: target.update_credentials: %v: the file still holds older refresh tokens\n", err)
		}
	}
	abortedBy, abortResult := watch.stop()
	if o.Stopped != nil {
		o.Stopped(!res.Partial)
	}
	if runErr != nil {
		return nil, fmt.Errorf("run: %w", runErr)
	}
	if err := reports.Evaluate(res, p.Thresholds); err != nil {
		return nil, fmt.Errorf("thresholds: %w", err)
	}
	if err := reports.EvaluateStages(res, p.Thresholds); err != nil {
		return nil, fmt.Errorf("thresholds: %w", err)
	}
	if abortedBy >= 0 {
		reports.MarkAborted(res, abortedBy, abortResult)
	}
	write := o.Write
	if write == nil {
		write = reports.WriteAtomic
	}
	if err := writeResults(o.OutDir, res, write, func() {
		if err := cp.remove(); err != nil { // result.json supersedes it
			fmt.Fprintf(warn, "stampede: warning: %v\n", err)
		}
	}); err != nil {
		return res, err // the run completed: its figures are in res
	}
	return res, nil
}
