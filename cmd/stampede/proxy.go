package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stampede-load/stampede/chaos/backend"
	"github.com/stampede-load/stampede/gcpace"
	"github.com/stampede-load/stampede/load/run"
	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/profiles/threshold"
	"github.com/stampede-load/stampede/proxy"
	"github.com/stampede-load/stampede/reports"
)

// proxyOptions holds stampede proxy's flags and injected dependencies.
type proxyOptions struct {
	streams
	listen, upstream, profile string
	duration                  time.Duration
	timeScale                 float64
	outDir                    string
	thresholds                []string
	sets                      []string
	adminAddr, adminToken     string
	metricsAddr               string
	tlsCert, tlsKey           string
	tlsSelfSigned             bool
	maxBody                   int64
	retryLimit                int
	retryWindow               time.Duration
	tls                       tlsFlags
	// onListen, if set, receives the proxy's and the admin API's URLs
	// once both listen (tests).
	onListen func(proxyURL, adminURL string)
}

func newProxyCmd(s streams) *cobra.Command {
	o := &proxyOptions{streams: s}
	cmd := &cobra.Command{
		Use:   "proxy",
		Short: "Put a reverse proxy in front of a backend: auth-aware faults, the fleet's refresh behaviour seen from the server",
		Long: "Run a reverse proxy in front of --upstream (a URL, or the embedded backend) that tells sign-ins,\n" +
			"refreshes and API calls apart by the profile's target section, injects the profile's faults\n" +
			"(key_rotation, spurious_401, brownout, outage) and live ones from its admin API, and measures\n" +
			"what the clients did: duplicate refreshes, rotated-token reuse, stale retries, retry loops.\n" +
			"Results are written at --duration or on Ctrl-C; a failed threshold exits 99. See docs/proxy.md.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd.Context()) },
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", "127.0.0.1:8788", "address the proxy listens on")
	f.StringVar(&o.upstream, "upstream", "", "the backend's base URL (http:// or https://), or \"embedded\" for the embedded backend in process (required)")
	f.StringVarP(&o.profile, "profile", "p", "", "built-in profile name or YAML file whose target section classifies requests and whose events are the fault timeline (default: the embedded backend's endpoints, no faults)")
	f.StringArrayVar(&o.sets, "set", nil, "override a profile field by its YAML path, such as events[0].rate=0.3 (repeatable)")
	f.Float64Var(&o.timeScale, "time-scale", 0, "divide the profile's event times and durations by this (≥ 1), as stampede run --time-scale does, so the faults line up with a run's (default: the profile's time_scale)")
	f.DurationVar(&o.duration, "duration", 0, "stop and write the results after this long (0: at Ctrl-C)")
	f.StringVar(&o.outDir, "out", "", "results directory (default ./stampede-results/<run-id>)")
	f.StringArrayVar(&o.thresholds, "threshold", nil, "pass/fail gate METRIC OP VALUE such as \"proxy.duplicate_refreshes == 0\" (repeatable; adds to the profile's thresholds; any failure exits 99)")
	f.StringVar(&o.adminAddr, "admin-addr", "127.0.0.1:0", "address of the proxy's admin API (POST /admin/faults); port 0 picks a free one, printed at start")
	f.StringVar(&o.adminToken, "admin-token", "", "require this token as \"Authorization: Bearer TOKEN\" on the admin API (default $"+adminTokenEnv+"); required to serve it beyond loopback")
	f.StringVar(&o.metricsAddr, "metrics-addr", "", "serve the proxy's live Prometheus metrics at http://HOST:PORT/metrics, such as 127.0.0.1:9091 (default off)")
	f.Int64Var(&o.maxBody, "max-body", proxy.DefaultMaxBody, "largest request body, in bytes, the proxy accepts (413 beyond), and largest sign-in or refresh answer it reads (502 beyond)")
	f.IntVar(&o.retryLimit, "retry-limit", proxy.DefaultRetryLimit, "a request retried more than this many times after 401s is a retry loop")
	f.DurationVar(&o.retryWindow, "retry-window", proxy.DefaultRetryWindow, "a request without a call id (X-Request-Id, Idempotency-Key) sent again within this time of a 401 to it is a retry (toward --retry-limit); later, a new call")
	f.StringVar(&o.tlsCert, "tls-cert", "", "serve HTTPS on --listen with this PEM certificate (with --tls-key)")
	f.StringVar(&o.tlsKey, "tls-key", "", "PEM private key of --tls-cert")
	f.BoolVar(&o.tlsSelfSigned, "tls-self-signed", false, "serve HTTPS on --listen with a generated self-signed certificate, written to the results directory as "+proxyCertName+" for clients to trust")
	o.tls.register(f)
	cmd.AddCommand(newProxyFaultCmd(s))
	return cmd
}

// resolve checks the flags and reads the profile: every problem at once.
func (o *proxyOptions) resolve() (profiles.Profile, string, error) {
	var errs []string
	if o.upstream == "" {
		errs = append(errs, "--upstream: required: the backend's URL, or \"embedded\"")
	} else if o.upstream != "embedded" {
		if err := checkTargetURL(o.upstream); err != nil {
			errs = append(errs, fmt.Sprintf("--upstream: %v", err))
		}
	}
	if o.duration < 0 {
		errs = append(errs, fmt.Sprintf("--duration: must not be negative, got %s", o.duration))
	}
	if o.timeScale != 0 && !(o.timeScale >= 1) {
		errs = append(errs, fmt.Sprintf("--time-scale: must be at least 1, got %g", o.timeScale))
	}
	if o.maxBody <= 0 {
		errs = append(errs, fmt.Sprintf("--max-body: must be greater than 0, got %d", o.maxBody))
	}
	if o.retryLimit < 1 {
		errs = append(errs, fmt.Sprintf("--retry-limit: must be at least 1, got %d", o.retryLimit))
	}
	if o.retryWindow <= 0 {
		errs = append(errs, fmt.Sprintf("--retry-window: must be greater than 0, got %s", o.retryWindow))
	}
	if (o.tlsCert == "") != (o.tlsKey == "") {
		errs = append(errs, "--tls-cert and --tls-key go together: give both")
	}
	if o.tlsCert != "" && o.tlsSelfSigned {
		errs = append(errs, "--tls-self-signed and --tls-cert: give one")
	}
	if o.metricsAddr != "" {
		if err := checkMetricsAddr(o.metricsAddr); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if _, _, err := net.SplitHostPort(o.listen); err != nil {
		errs = append(errs, fmt.Sprintf("--listen: %v", err))
	}
	token := o.adminToken
	if token == "" {
		token = os.Getenv(adminTokenEnv)
	}
	if token == "" && !isLoopbackAddr(o.adminAddr) {
		errs = append(errs, fmt.Sprintf("--admin-addr %s is beyond loopback: give --admin-token", o.adminAddr))
	}
	var ths []profiles.Threshold
	for _, expr := range o.thresholds {
		if _, err := threshold.Parse(expr); err != nil {
			var te *threshold.Error
			if errors.As(err, &te) {
				errs = append(errs, fmt.Sprintf("--threshold %q: %s", expr, te.Reason))
			} else {
				errs = append(errs, fmt.Sprintf("--threshold %q: %v", expr, err))
			}
			continue
		}
		ths = append(ths, profiles.Threshold{Expr: expr})
	}
	sets, setErrs := parseSets(o.sets)
	for _, e := range setErrs {
		errs = append(errs, e.Error())
	}
	var p profiles.Profile
	if o.profile == "" {
		p = profiles.Default()
		p.Events = nil
		for _, e := range applySets(&p, sets) {
			errs = append(errs, e.Error())
		}
	} else {
		var applyErrs []error
		var err error
		p, err = profiles.ResolveWith(o.profile, func(p *profiles.Profile) { applyErrs = applySets(p, sets) })
		for _, e := range applyErrs {
			errs = append(errs, e.Error())
		}
		if err != nil {
			for _, e := range unjoin(err) {
				errs = append(errs, e.Error())
			}
		}
	}
	p.Thresholds = append(p.Thresholds, ths...)
	if o.timeScale >= 1 {
		p.TimeScale = o.timeScale
	}
	if len(errs) > 0 {
		return p, token, usageErrorf("%s", strings.Join(errs, "\n"))
	}
	return p, token, nil
}

func (o *proxyOptions) run(ctx context.Context) error {
	p, adminToken, err := o.resolve()
	if err != nil {
		return err
	}
	tlsCfg, err := o.tls.config()
	if err != nil {
		return err
	}
	upstream := o.upstream
	if upstream == "embedded" {
		be, err := backend.New(backend.Config{})
		if err != nil {
			return fmt.Errorf("proxy: embedded backend: %w", err)
		}
		srv, err := be.Listen("127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("proxy: embedded backend: %w", err)
		}
		defer srv.Close()
		upstream = srv.URL
	}
	u, err := url.Parse(upstream)
	if err != nil {
		return usageErrorf("--upstream: %v", err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 1024
	tr.MaxIdleConns = 4096
	if tlsCfg != nil {
		tr.TLSClientConfig = tlsCfg
	}
	px, err := proxy.New(proxy.Config{Upstream: u, Transport: tr, Profile: p, MaxBody: o.maxBody,
		RetryLimit: o.retryLimit, RetryWindow: o.retryWindow})
	if err != nil {
		return usageError(err)
	}
	for _, s := range px.Skipped() {
		fmt.Fprintf(o.err, "stampede: warning: %s: the proxy does not apply this event type (it applies %s)\n", s, strings.Join(proxy.ProxyEventTypes, ", "))
	}
	runID := run.ID(p, 1, time.Time{})
	outDir := o.outDir
	if outDir == "" {
		outDir = filepath.Join("stampede-results", runID)
	}
	listenHost, _, _ := net.SplitHostPort(o.listen)
	serverTLS, certFile, err := o.listenerTLS(listenHost, outDir)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("proxy: --listen: %w", err)
	}
	scheme := "http"
	if serverTLS != nil {
		ln = tls.NewListener(ln, serverTLS)
		scheme = "https"
	}
	adminLn, err := net.Listen("tcp", o.adminAddr)
	if err != nil {
		ln.Close()
		return fmt.Errorf("proxy: --admin-addr: %w", err)
	}
	var metrics *metricsServer
	if o.metricsAddr != "" {
		if metrics, err = listenMetrics(o.metricsAddr, newMetricsRegistry(px.Collector())); err != nil {
			ln.Close()
			adminLn.Close()
			return fmt.Errorf("proxy: %w", err)
		}
		defer metrics.close()
		fmt.Fprintf(o.out, "metrics on %s\n", metrics.URL)
	}
	// The collector runs every 64 MiB of allocation, not every few
	// megabytes of a small heap: each collection is a pause in the latency
	// the proxy adds (docs/proxy.md#what-the-proxy-costs).
	gcCtx, stopGC := context.WithCancel(ctx)
	gcDone := make(chan struct{})
	go func() { defer close(gcDone); gcpace.Run(gcCtx, gcpace.Floor) }()
	defer func() { stopGC(); <-gcDone }()
	srv := &http.Server{Handler: px, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 64 << 10}
	admin := &http.Server{Handler: px.AdminHandler(adminToken), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	go func() { _ = admin.Serve(adminLn) }()
	proxyURL, adminURL := scheme+"://"+ln.Addr().String(), "http://"+adminLn.Addr().String()
	fmt.Fprintf(o.out, "stampede proxy %s listening on %s → %s (%s target); admin API on %s/admin/faults; stop with Ctrl-C\n",
		runID, proxyURL, u.Redacted(), p.TargetKind(), adminURL)
	if certFile != "" {
		fmt.Fprintf(o.out, "TLS certificate: %s\n", certFile)
	}
	if !isLoopbackAddr(o.listen) {
		fmt.Fprintf(o.err, "stampede: warning: listening on %s, beyond loopback\n", ln.Addr())
	}
	if o.onListen != nil {
		o.onListen(proxyURL, adminURL)
	}
	var timeout <-chan time.Time
	if o.duration > 0 {
		t := time.NewTimer(o.duration)
		defer t.Stop()
		timeout = t.C
	}
	partial := false
	select {
	case <-timeout:
	case <-ctx.Done():
		partial = true
	}
	px.Stop()
	shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdown)
	_ = admin.Shutdown(shutdown)
	res, err := px.Result(runID, toolVersion(), partial)
	if err != nil {
		return err
	}
	if err := proxy.WriteResults(outDir, res); err != nil {
		return fmt.Errorf("proxy: %w", err)
	}
	fmt.Fprint(o.out, proxySummary(res))
	fmt.Fprintf(o.out, "results in %s\n", outDir)
	if err := thresholdsFailed(res); err != nil {
		return err
	}
	if partial {
		return errInterrupted
	}
	return nil
}

// proxySummary is the proxy's figures for the terminal.
func proxySummary(r *reports.Result) string {
	var b strings.Builder
	f := r.Proxy
	fmt.Fprintf(&b, "sessions %d · duplicate refreshes %d (in flight %d, same generation %d) · refresh-token reuse %d · stale retries %d · retry loops %d\n",
		f.Sessions, f.DuplicateRefreshes, f.DuplicateInflight, f.DuplicateSameGeneration, f.RefreshTokenReuse, f.StaleRetries, f.RetryLoops)
	for _, name := range []string{reports.OpSignIn, reports.OpRefresh, reports.OpAPI} {
		if op := r.Ops[name]; op != nil && op.Count > 0 {
			fmt.Fprintf(&b, "%-8s %6d requests, %d ok, p99 %.2f ms through the proxy\n", name, op.Count, op.OK, op.LatencyMs.P99)
		}
	}
	fmt.Fprintf(&b, "herd: peak %.0f/s, mean %.1f/s, max in flight %d\n", r.Herd.PeakRPS, r.Herd.MeanRPS, r.Herd.MaxInflight)
	for _, e := range r.Events {
		rec := "not recovered (" + e.RecoveryReason + ")"
		if e.RecoveryS != nil {
			rec = fmt.Sprintf("recovered %.0f s after it", *e.RecoveryS)
		}
		fmt.Fprintf(&b, "fault %d %s at %.1f s: burst %d refreshes in 10 s, %d API 401s; %s\n",
			e.Index, e.Type, e.StartS, e.Burst10s, e.API401, rec)
	}
	if o := f.OverheadMs; o != nil {
		fmt.Fprintf(&b, "the proxy's own time: p50 %.3f ms, p99 %.3f ms a request\n", o.P50, o.P99)
	}
	if f.UpstreamErrors+f.Rejected+f.Unattributed > 0 {
		fmt.Fprintf(&b, "upstream errors %d · rejected %d · unattributed %d\n", f.UpstreamErrors, f.Rejected, f.Unattributed)
	}
	for _, t := range r.Thresholds {
		b.WriteString(reports.ThresholdLine(t) + "\n")
	}
	return b.String()
}

// proxyFaultOptions holds stampede proxy fault's flags.
type proxyFaultOptions struct {
	streams
	admin, adminToken string
	clear, list       bool
	event             profiles.Event
	duration          time.Duration
	latency           time.Duration
	retryAfter        time.Duration
	chunkDelay        time.Duration
	client            *http.Client
}

func newProxyFaultCmd(s streams) *cobra.Command {
	o := &proxyFaultOptions{streams: s}
	cmd := &cobra.Command{
		Use:   "fault [TYPE]",
		Short: "Start a fault on a running stampede proxy now, list its faults, or clear them",
		Long: "Start a fault on a running stampede proxy through its admin API: TYPE is key_rotation,\n" +
			"spurious_401, brownout, outage or slow_body, with the fields of a profile event as flags.\n" +
			"--list shows the faults, --clear ends every active one.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return o.run(cmd.Context(), args) },
	}
	f := cmd.Flags()
	f.StringVar(&o.admin, "admin", "", "the proxy's admin API base URL, as stampede proxy printed it (required)")
	f.StringVar(&o.adminToken, "admin-token", "", "the proxy's --admin-token (default $"+adminTokenEnv+")")
	f.BoolVar(&o.list, "list", false, "list the proxy's faults")
	f.BoolVar(&o.clear, "clear", false, "end every active fault")
	f.DurationVar(&o.duration, "for", 0, "how long the fault lasts (0: until --clear)")
	f.Float64Var(&o.event.Rate, "rate", 0, "spurious_401: the share of API calls answered 401")
	f.DurationVar(&o.latency, "latency", 0, "brownout: latency added to each refresh")
	f.Float64Var(&o.event.Rate429, "rate-429", 0, "brownout: the share of refreshes answered 429")
	f.DurationVar(&o.retryAfter, "retry-after", 0, "brownout: the Retry-After of a 429")
	f.Float64Var(&o.event.Rate503, "rate-503", 0, "brownout: the share of refreshes answered 503")
	f.StringVar(&o.event.Mode, "mode", "", "outage: blackhole (held until it ends) or fail_fast (connections reset)")
	f.Float64Var(&o.event.Fraction, "fraction", 0, "outage: the share of sessions affected (0: all)")
	f.Float64Var(&o.event.BytesPerSecond, "bytes-per-second", 0, "slow_body: the rate the answers' bodies trickle at")
	f.DurationVar(&o.chunkDelay, "chunk-delay", 0, "slow_body: the wait between chunks (instead of --bytes-per-second)")
	f.IntVar(&o.event.ChunkSize, "chunk-size", 0, "slow_body: the chunk size in bytes (0: 1024)")
	f.StringVar(&o.event.Route, "route", "", "slow_body: the answers slowed: token (sign-ins and refreshes), api or all (default all)")
	return cmd
}

func (o *proxyFaultOptions) run(ctx context.Context, args []string) error {
	var errs []string
	if o.admin == "" {
		errs = append(errs, "--admin: required: the admin API URL stampede proxy printed")
	} else if err := checkTargetURL(o.admin); err != nil {
		errs = append(errs, fmt.Sprintf("--admin: %v", err))
	}
	n := 0
	for _, b := range []bool{o.list, o.clear, len(args) == 1} {
		if b {
			n++
		}
	}
	if n != 1 {
		errs = append(errs, "give a fault TYPE, --list or --clear (one of them)")
	}
	if len(errs) > 0 {
		return usageErrorf("%s", strings.Join(errs, "\n"))
	}
	method, body := http.MethodGet, []byte(nil)
	switch {
	case o.clear:
		method = http.MethodDelete
	case len(args) == 1:
		method = http.MethodPost
		e := o.event
		e.Type = args[0]
		e.Duration = profiles.Duration(o.duration)
		e.Latency = profiles.Duration(o.latency)
		e.RetryAfter = profiles.Duration(o.retryAfter)
		e.ChunkDelay = profiles.Duration(o.chunkDelay)
		body, _ = json.Marshal(e)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(o.admin, "/")+"/admin/faults", bytes.NewReader(body))
	if err != nil {
		return usageErrorf("--admin: %v", err)
	}
	token := o.adminToken
	if token == "" {
		token = os.Getenv(adminTokenEnv)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	hc := o.client
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("proxy fault: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 300 {
		var e struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal(b, &e)
		err := fmt.Errorf("proxy fault: the proxy answered %s: %s", resp.Status, e.Message)
		if resp.StatusCode == http.StatusBadRequest {
			return usageError(err)
		}
		return err
	}
	_, err = o.out.Write(b)
	return err
}
