package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/stampede-load/stampede/chaos/backend"
	"github.com/stampede-load/stampede/load"
	"github.com/stampede-load/stampede/load/transport"
	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/profiles/threshold"
	"github.com/stampede-load/stampede/reports"
)

// interruptGrace is the time in-flight requests get after an interrupt; 0
// is the engine's default (2 s). The process tests lengthen it to hold a
// graceful stop open.
var interruptGrace time.Duration

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
	// shardFlags: --shard i/n, --start-at and --run-id (shard.go).
	shardFlags

	// flags reports whether a flag was given on the command line.
	flags func(name string) bool
	// preflightTimeout bounds the reachability check of --target.
	preflightTimeout time.Duration
	// onBackend, if set, receives the embedded backend once it listens (tests).
	onBackend func(*backend.Backend)
	// onMetrics, if set, receives the URL of --metrics-addr's metrics once
	// they are served (ended false), and again when the run is over, its
	// results written, just before they stop (ended true) (tests).
	onMetrics func(url string, ended bool)
	// tls: --ca-cert, --client-cert, --client-key, --insecure-skip-verify (target.go).
	tls tlsFlags
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
	f.StringVar(&o.shard, "shard", "", "run shard i of n, \"i/n\" counting from 0 (such as 0/4): the clients whose index ≡ i (mod n), with the whole run's seeds; needs --start-at and --target; results default to ./stampede-results/<run-id>/<i>; stampede merge combines the shards' results")
	f.StringVar(&o.startAt, "start-at", "", "begin at this instant, RFC 3339 such as 2026-11-28T09:30:00Z: every shard of a run is given the same, so their clocks and fleet events coincide")
	f.StringVar(&o.runID, "run-id", "", "the run's ID (default: derived from --start-at, the profile's name and seed and the shard count, so the shards of a run share it; random without --start-at)")
	f.StringArrayVar(&o.sets, "set", nil, "override a profile field by its YAML path, such as sdk.interceptor=naive or events[0].fraction=0.5 (repeatable, applied in order, before --clients, --duration, --ramp, --time-scale and --seed)")
	f.StringVar(&o.target, "target", "", "base URL of the target: a running stampede serve (default: embedded backend), or the target.url of the profile's target (oauth2, http)")
	f.StringVar(&o.adminToken, "admin-token", "", "admin token of the --target (a stampede serve --admin-token), sent as \"Authorization: Bearer TOKEN\" with the fleet events' calls to its /admin API (default $"+adminTokenEnv+"; never printed)")
	o.tls.register(f)
	f.StringVar(&o.outDir, "out", "", "results directory (default ./stampede-results/<run-id>)")
	f.BoolVar(&o.noProgress, "no-progress", false, "plain progress lines instead of bars (automatic when stderr is not a terminal)")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "print the summary only")
	f.StringVar(&o.metricsAddr, "metrics-addr", "", "serve live Prometheus metrics at http://HOST:PORT/metrics while the run goes, such as 127.0.0.1:9090 (default off)")
	f.StringArrayVar(&o.thresholds, "threshold", nil, "pass/fail gate METRIC OP VALUE such as \"refresh.p99 < 250ms\" (repeatable; adds to the profile's thresholds; any failure exits 99)")
	return cmd
}

// resolve builds the profile from the built-in or file named by -p and the
// flags given, reporting every problem at once: each names its flag, or the
// profile file, line and field.
func (o *runOptions) resolve() (profiles.Profile, error) {
	var errs []error
	given := func(name string) bool { return o.flags != nil && o.flags(name) }
	bad := map[string]bool{} // flags whose own value is invalid
	flagErr := func(flag, format string, args ...any) {
		bad[flag] = true
		errs = append(errs, fmt.Errorf("--"+flag+": "+format, args...))
	}
	if given("clients") && o.clients < 1 {
		flagErr("clients", "must be at least 1, got %d", o.clients)
	}
	if given("duration") && o.duration <= 0 {
		flagErr("duration", "must be greater than 0, got %s", o.duration)
	}
	if given("ramp") && o.ramp < 0 {
		flagErr("ramp", "must not be negative, got %s", o.ramp)
	}
	if given("time-scale") && !(o.timeScale >= 1) {
		flagErr("time-scale", "must be at least 1, got %g", o.timeScale)
	}
	if o.target != "" {
		if err := checkTargetURL(o.target); err != nil {
			bad["target"] = true // the profile's check of target.url would say it again
			errs = append(errs, fmt.Errorf("--target: %w", err))
		}
	}
	if o.metricsAddr != "" {
		if err := checkMetricsAddr(o.metricsAddr); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, o.shardFlags.parse(time.Now())...)
	flagThresholds, thresholdErrs := o.flagThresholds()
	errs = append(errs, thresholdErrs...)
	sets, setErrs := parseSets(o.sets)
	errs = append(errs, setErrs...)
	var applyErrs []error
	// The flags given override the profile before it is validated, so a
	// problem they cause still names the profile's file and line.
	p, err := profiles.ResolveWith(o.profile, func(p *profiles.Profile) {
		// --set first: the dedicated flags, applied next, win over it.
		applyErrs = applySets(p, sets)
		if given("clients") {
			p.Clients = o.clients
		}
		if given("duration") {
			p.Duration = profiles.Duration(o.duration)
		}
		if given("ramp") {
			p.Ramp = profiles.Duration(o.ramp)
		}
		if given("time-scale") {
			p.TimeScale = o.timeScale
		}
		if given("seed") {
			p.Seed = o.seed
		}
		if o.target != "" {
			p.Target.URL = o.target
		}
	})
	fieldFlag := map[string]string{"clients": "clients", "duration": "duration", "ramp": "ramp", "time_scale": "time-scale", "target.url": "target"}
	for _, e := range unjoin(err) {
		var fe *profiles.FieldError
		if !errors.As(e, &fe) {
			errs = append(errs, fmt.Errorf("--profile: %w", e)) // unknown name, unreadable file
			continue
		}
		if flag, ok := fieldFlag[fe.Path]; ok && given(flag) {
			if !bad[flag] { // a rule the flag's value breaks (ramp > duration)
				errs = append(errs, fmt.Errorf("--%s: %s", flag, fe.Message))
			}
			continue
		}
		errs = append(errs, e)
	}
	if err == nil {
		errs = append(errs, o.shardFlags.sharedTarget(p)...)
	}
	errs = withSets(sets, errs, applyErrs) // --set problems name the flag, in flag order
	if len(errs) > 0 {
		return p, usageError(errors.Join(errs...))
	}
	p.Thresholds = append(p.Thresholds, flagThresholds...)
	return p, nil
}

// flagThresholds parses the --threshold expressions, returning them as
// profile thresholds and one error per bad one, naming the flag.
func (o *runOptions) flagThresholds() ([]profiles.Threshold, []error) {
	var ths []profiles.Threshold
	var errs []error
	for _, expr := range o.thresholds {
		if _, err := threshold.Parse(expr); err != nil {
			var te *threshold.Error
			if errors.As(err, &te) {
				errs = append(errs, fmt.Errorf("--threshold %q: %s", expr, te.Reason))
			} else {
				errs = append(errs, fmt.Errorf("--threshold %q: %w", expr, err))
			}
			continue
		}
		ths = append(ths, profiles.Threshold{Expr: expr})
	}
	return ths, errs
}

func unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func checkTargetURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("invalid URL %q: %w", s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("URL %q must start with http:// or https://", s)
	}
	if u.Host == "" {
		return fmt.Errorf("URL %q has no host", s)
	}
	return nil
}

// prepareOut creates the results directory and proves it writable.
func prepareOut(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return usageErrorf("--out %s: cannot create the results directory: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return usageErrorf("--out %s: results directory is not writable: %w", dir, err)
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}

func newRunID() string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return time.Now().UTC().Format("20060102-150405") + "-" + hex.EncodeToString(b[:])
}

// newHTTPClient returns a keep-alive client of at most 1,024 connections
// per host (stampede creds; a run uses load.Transport).
func newHTTPClient(clients int) *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			Proxy:        http.ProxyFromEnvironment,
			DialContext:  (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns: 0,
			// The shared pool: at most 1,024 connections; a request that finds
			// none free waits for one, and the wait counts in its latency.
			MaxConnsPerHost:       transport.SharedConns,
			MaxIdleConnsPerHost:   transport.SharedConns,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
			DisableCompression:    true,
		},
		CheckRedirect: noRedirects,
	}
}

// noRedirects makes an http.Client return redirects: they are answers to
// classify, not to follow.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// transport raises the descriptor limit, checks that a per_client run fits
// in it (exit 1 with the numbers when it does not) and builds the run's
// transport, which warns on o.err when dials run out of ports or
// descriptors. It returns the limit (0 if unknown).
func (o *runOptions) transport(p profiles.Profile, tlsConfig *tls.Config) (uint64, *transport.Transport, error) {
	raise := o.fdLimit
	if raise == nil {
		raise = raiseFDLimit
	}
	limit, err := raise()
	if err != nil {
		fmt.Fprintf(o.err, "stampede: warning: cannot raise the open-file limit: %v\n", err)
	}
	clients := (p.Clients - o.shardIndex + o.shardCount - 1) / o.shardCount // this shard's
	open := openFDs()
	if err := fdBudget(p, clients, limit, open); err != nil {
		return limit, nil, err
	}
	maxOpen, shared := maxConns(p, limit, open)
	var mu sync.Mutex
	tr := transport.NewTransport(transport.TransportConfig{
		PerClient:   p.Connections == profiles.ConnectionsPerClient,
		Clients:     p.Clients,
		SharedConns: shared,
		MaxOpen:     maxOpen,
		TLS:         tlsConfig,
		FDLimit:     limit,
		Warn: func(msg string) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(o.err, "stampede: warning: %s\n", msg)
		},
	})
	return limit, tr, nil
}

// preflight proves the target answers HTTP before any client starts.
func preflight(ctx context.Context, hc *http.Client, base string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	u, _ := url.JoinPath(base, "/.well-known/jwks.json")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

func (o *runOptions) run(ctx context.Context) error {
	p, err := o.resolve()
	if err != nil {
		return err
	}
	runID := o.shardFlags.id(p)
	out := o.outDir
	if out == "" {
		out = filepath.Join("stampede-results", runID, o.shardFlags.dir())
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
	fdLimit, tr, err := o.transport(p, tlsConfig)
	if err != nil {
		return err
	}
	defer tr.CloseIdleConnections()
	o.tls.warn(o.err)
	// The engine's senders keep a connection each to a plain-HTTP target
	// (shared connections); every other request goes through tr.
	hc := &http.Client{Transport: &transport.SenderTransport{Fallback: tr, Dial: tr.DialShared, Proxy: http.ProxyFromEnvironment}, CheckRedirect: noRedirects}
	tg, err := o.openTarget(ctx, p, hc)
	if err != nil {
		return err
	}
	defer tg.close()
	target := tg.report
	target.InsecureSkipVerify = o.tls.insecure

	// The engine records the profile in result.json: without its secrets.
	eng, err := load.New(load.Config{Profile: p.Redacted(), Auth: tg.auth, Resource: tg.resource, Admin: tg.admin,
		Shard: o.shardIndex, Shards: o.shardCount, StartAt: o.startTime, Interrupted: interruptGrace, Conns: tr, MaxInFlight: tr.MaxInFlight()})
	if err != nil {
		return err
	}
	metrics.register(eng.Collector(), tg.metrics)
	res := &reports.Result{
		Schema:      reports.Schema,
		RunID:       runID,
		ToolVersion: toolVersion(),
		Target:      target,
		Shard:       reports.Shard{Index: o.shardIndex, Count: o.shardCount},
	}
	if !o.quiet {
		fmt.Fprintf(o.err, "stampede run %s: %d clients for %s against %s %s (×%g time scale, seed %d)\n",
			runID, p.Clients, p.Duration, target.Kind, target.URL, p.TimeScale, p.Seed)
	}
	if !o.quiet && !o.startTime.IsZero() {
		fmt.Fprintf(o.err, "shard %d/%d (%d of the clients), starting at %s\n", o.shardIndex, o.shardCount,
			(p.Clients-o.shardIndex+o.shardCount-1)/o.shardCount, o.startTime.UTC().Format(time.RFC3339Nano))
	}
	prog := startProgress(o.streams, o.quiet, o.noProgress, eng, p)
	// A failing abort_on_fail threshold cancels runCtx: the run stops
	// early and still writes its (partial) results.
	runCtx, abortRun := context.WithCancel(ctx)
	defer abortRun()
	watch := watchThresholds(eng, p, o.watchEvery, abortRun)
	cp := startCheckpoints(eng, res, out) // checkpoint.json every 5 s while running
	toxics := startToxics(runCtx, p, cmp.Or(o.startTime, time.Now()), o.shardIndex, o.err)
	gcCtx, stopGC := context.WithCancel(ctx)
	gcDone := make(chan struct{})
	go func() { defer close(gcDone); tuneGC(gcCtx) }()
	runErr := eng.Run(runCtx, res)
	stopGC()
	<-gcDone
	res.Engine.FDLimit = fdLimit
	toxics.finish(res)
	if err := cp.stop(); err != nil {
		fmt.Fprintf(o.err, "stampede: warning: %v\n", err)
	}
	abortedBy, abortResult := watch.stop()
	prog.stop(!res.Partial)
	if runErr != nil {
		return fmt.Errorf("run: %w", runErr)
	}
	if err := reports.Evaluate(res, p.Thresholds); err != nil {
		return fmt.Errorf("thresholds: %w", err)
	}
	if abortedBy >= 0 {
		reports.MarkAborted(res, abortedBy, abortResult)
	}
	path := filepath.Join(out, "result.json")
	if err := reports.WriteFile(path, res); err != nil {
		return err
	}
	if err := cp.remove(); err != nil { // result.json supersedes it
		fmt.Fprintf(o.err, "stampede: warning: %v\n", err)
	}
	if err := reports.WriteHistogramLogs(out, res); err != nil {
		return err
	}
	html := filepath.Join(out, "report.html")
	if err := reports.RenderFile(html, res, "html"); err != nil {
		return err
	}
	if err := reports.WriteText(o.streams.out, res); err != nil {
		return err
	}
	fmt.Fprintf(o.streams.out, "\nresult: %s\nreport: %s\n", path, html)
	if res.Partial && ctx.Err() != nil {
		return errInterrupted // an interrupt wins over thresholds
	}
	return thresholdsFailed(res)
}

// thresholdsFailed is the exit-99 error of a result whose verdict is
// "fail", naming the thresholds and invariants that failed; nil when it
// passed.
func thresholdsFailed(res *reports.Result) error {
	var failed []string
	stopped := ""
	for _, t := range res.Thresholds {
		if !t.OK {
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

// thresholdWatch checks a run's abort_on_fail thresholds on the engine's
// live figures.
type thresholdWatch struct {
	done chan struct{}
	wg   sync.WaitGroup
	// index and result: the threshold that failed and stopped the run, -1 when none.
	index  int
	result reports.ThresholdResult
}

// watchThresholds checks p's abort_on_fail thresholds every interval
// (default 1 s) on a snapshot of eng, once the ramp is over, and calls abort
// when one fails. It watches nothing when no threshold has abort_on_fail.
func watchThresholds(eng *load.Engine, p profiles.Profile, every time.Duration, abort func()) *thresholdWatch {
	w := &thresholdWatch{done: make(chan struct{}), index: -1}
	if !slices.ContainsFunc(p.Thresholds, func(t profiles.Threshold) bool { return t.AbortOnFail }) {
		return w
	}
	if every <= 0 {
		every = time.Second
	}
	w.wg.Go(func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-w.done:
				return
			case <-tick.C:
			}
			var snap reports.Result
			if err := eng.Snapshot(&snap); err != nil || snap.StartedAt.IsZero() ||
				snap.EndedAt.Sub(snap.StartedAt) < max(p.Ramp.D(), every) {
				continue // not started, or too little data before the ramp ends
			}
			if i, tr, err := reports.CheckAbort(&snap, p.Thresholds); err == nil && i >= 0 {
				w.index, w.result = i, tr
				abort()
				return
			}
		}
	})
	return w
}

// stop ends the watch and returns the threshold that stopped the run, with
// its live result; index -1 when none did.
func (w *thresholdWatch) stop() (index int, result reports.ThresholdResult) {
	close(w.done)
	w.wg.Wait()
	return w.index, w.result
}
