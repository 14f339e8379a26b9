package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/stampede-load/stampede/chaos"
	"github.com/stampede-load/stampede/chaos/backend"
	"github.com/stampede-load/stampede/load"
	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

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

	// flags reports whether a flag was given on the command line.
	flags func(name string) bool
	// preflightTimeout bounds the reachability check of --target.
	preflightTimeout time.Duration
	// onBackend, if set, receives the embedded backend once it listens (tests).
	onBackend func(*backend.Backend)
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
	f.StringVar(&o.target, "target", "", "base URL of a running stampede serve (default: embedded backend)")
	f.StringVar(&o.outDir, "out", "", "results directory (default ./stampede-results/<run-id>)")
	f.BoolVar(&o.noProgress, "no-progress", false, "plain progress lines instead of bars (automatic when stderr is not a terminal)")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "print the summary only")
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
			errs = append(errs, fmt.Errorf("--target: %w", err))
		}
	}
	// The flags given override the profile before it is validated, so a
	// problem they cause still names the profile's file and line.
	p, err := profiles.ResolveWith(o.profile, func(p *profiles.Profile) {
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
	})
	fieldFlag := map[string]string{"clients": "clients", "duration": "duration", "ramp": "ramp", "time_scale": "time-scale"}
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
	if len(errs) > 0 {
		return p, usageError(errors.Join(errs...))
	}
	return p, nil
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

// newHTTPClient returns the one keep-alive client every simulated client shares.
func newHTTPClient(clients int) *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:          0,
			MaxIdleConnsPerHost:   max(clients, 100),
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
			DisableCompression:    true,
		},
		// Redirects are answers to classify, not to follow.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
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
	runID := newRunID()
	out := o.outDir
	if out == "" {
		out = filepath.Join("stampede-results", runID)
	}
	if err := prepareOut(out); err != nil {
		return err
	}

	hc := newHTTPClient(p.Clients)
	defer hc.CloseIdleConnections()
	target := reports.Target{Kind: "fapi", URL: o.target}
	if o.target != "" {
		if err := preflight(ctx, hc, o.target, o.preflightTimeout); err != nil {
			return fmt.Errorf("--target %s is unreachable: %w", o.target, err)
		}
	} else {
		be, err := backend.New(backend.Config{
			TokenLifetime:     p.Scale(p.Backend.TokenLifetime),
			MaxLifetime:       p.Scale(p.Backend.MaxLifetime),
			InactivityTimeout: p.Scale(p.Backend.InactivityTimeout),
			Signing:           p.Backend.Signing,
		})
		if err != nil {
			return fmt.Errorf("embedded backend: %w", err)
		}
		srv, err := be.Listen("127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("embedded backend: %w", err)
		}
		defer srv.Close()
		if o.onBackend != nil {
			o.onBackend(be)
		}
		target = reports.Target{Kind: "embedded", URL: srv.URL}
	}

	fapi := &load.FAPI{Base: target.URL, Client: hc}
	admin := &chaos.AdminClient{Base: target.URL, Client: hc}
	eng, err := load.New(load.Config{Profile: p, Auth: fapi, Resource: fapi, Admin: admin})
	if err != nil {
		return err
	}
	res := &reports.Result{
		Schema:      reports.Schema,
		RunID:       runID,
		ToolVersion: toolVersion(),
		Target:      target,
		Shard:       reports.Shard{Index: 0, Count: 1},
	}
	if !o.quiet {
		fmt.Fprintf(o.err, "stampede run %s: %d clients for %s against %s %s (×%g time scale, seed %d)\n",
			runID, p.Clients, p.Duration, target.Kind, target.URL, p.TimeScale, p.Seed)
	}
	prog := startProgress(o.streams, o.quiet, o.noProgress, eng, p)
	runErr := eng.Run(ctx, res)
	prog.stop(!res.Partial)
	if runErr != nil {
		return fmt.Errorf("run: %w", runErr)
	}
	path := filepath.Join(out, "result.json")
	if err := reports.WriteFile(path, res); err != nil {
		return err
	}
	if err := reports.WriteText(o.streams.out, res); err != nil {
		return err
	}
	fmt.Fprintf(o.streams.out, "\nresult: %s\n", path)
	if res.Partial {
		return errInterrupted
	}
	return nil
}
