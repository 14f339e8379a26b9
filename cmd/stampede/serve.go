package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stampede-load/stampede/chaos/backend"
	"github.com/stampede-load/stampede/profiles"
)

// serveOptions holds stampede serve's flags and injected dependencies.
type serveOptions struct {
	streams
	addr              string
	tokenLifetime     time.Duration
	maxLifetime       time.Duration
	inactivityTimeout time.Duration
	signing           string
	// adminToken guards /admin and /metrics (serveauth.go).
	adminToken string
	// Admission control: 0 takes the backend's default.
	maxInflight int
	maxQueue    int
	queueWait   time.Duration
	// metricsAddr is --metrics-addr: a second address serving the
	// backend's metrics without the admin token; empty is off.
	metricsAddr string
	// tls is --tls, --tls-cert, --tls-key and --tls-cert-out (servetls.go).
	tls serveTLSFlags
	// onListen, if set, receives the server once it listens (tests).
	onListen func(*backend.Server)
	// onMetrics, if set, receives the URL of --metrics-addr's metrics
	// before onListen is called (tests).
	onMetrics func(url string)
}

func newServeCmd(s streams) *cobra.Command {
	o := &serveOptions{streams: s}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the embedded session backend standalone",
		Long: "Run the embedded backend (sign-in, token mint, JWKS, protected /api/, admin, metrics)\n" +
			"as a standalone server, for stampede run --target on another host or process.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	f := cmd.Flags()
	f.StringVar(&o.addr, "addr", "127.0.0.1:8787", "address to listen on")
	f.DurationVar(&o.tokenLifetime, "token-lifetime", backend.DefaultTokenLifetime, "session JWT lifetime")
	f.DurationVar(&o.maxLifetime, "max-lifetime", backend.DefaultMaxLifetime, "session maximum lifetime (status expired)")
	f.DurationVar(&o.inactivityTimeout, "inactivity-timeout", 0, "session inactivity timeout (status abandoned); 0 is off")
	f.StringVar(&o.signing, "signing", backend.DefaultSigning, "JWT signing algorithm: RS256, ES256 or EdDSA")
	f.IntVar(&o.maxInflight, "max-inflight", 0, "client requests handled at once; beyond that they wait in the queue (0: 4 × CPUs)")
	f.IntVar(&o.maxQueue, "max-queue", 0, "client requests waiting for a slot; beyond that they are answered 503 overloaded (0: 1024)")
	f.DurationVar(&o.queueWait, "queue-wait", 0, "longest wait for a slot before 503 overloaded (0: 2s)")
	f.StringVar(&o.metricsAddr, "metrics-addr", "", "also serve the backend's Prometheus metrics, with the Go runtime's and the process's, at http://HOST:PORT/metrics, without the admin token (default off)")
	o.tls.register(f)
	f.StringVar(&o.adminToken, "admin-token", "", "require this token as \"Authorization: Bearer TOKEN\" on /admin/* and /metrics (default $"+adminTokenEnv+"); required to listen beyond loopback")
	return cmd
}

func (o *serveOptions) run(cmd *cobra.Command) error {
	var errs []string
	if o.tokenLifetime <= 0 {
		errs = append(errs, fmt.Sprintf("--token-lifetime: must be greater than 0, got %s", o.tokenLifetime))
	}
	if o.maxLifetime <= 0 {
		errs = append(errs, fmt.Sprintf("--max-lifetime: must be greater than 0, got %s", o.maxLifetime))
	}
	if o.inactivityTimeout < 0 {
		errs = append(errs, fmt.Sprintf("--inactivity-timeout: must not be negative, got %s", o.inactivityTimeout))
	}
	if o.maxInflight < 0 {
		errs = append(errs, fmt.Sprintf("--max-inflight: must not be negative, got %d", o.maxInflight))
	}
	if o.maxQueue < 0 {
		errs = append(errs, fmt.Sprintf("--max-queue: must not be negative, got %d", o.maxQueue))
	}
	if o.queueWait < 0 {
		errs = append(errs, fmt.Sprintf("--queue-wait: must not be negative, got %s", o.queueWait))
	}
	switch o.signing {
	case "RS256", "ES256", "EdDSA":
	default:
		errs = append(errs, fmt.Sprintf("--signing: must be RS256, ES256 or EdDSA, got %s", profiles.Quote(o.signing)))
	}
	if err := checkMetricsAddr(o.addr); err != nil { // the same HOST:PORT check
		errs = append(errs, "--addr"+strings.TrimPrefix(err.Error(), "--metrics-addr"))
	}
	if o.metricsAddr != "" {
		if err := checkMetricsAddr(o.metricsAddr); err != nil {
			errs = append(errs, err.Error())
		}
	}
	errs = append(errs, o.tls.check()...)
	adminToken, problem := o.resolveAdminToken()
	if problem != "" {
		errs = append(errs, problem)
	}
	if len(errs) > 0 {
		return usageErrorf("%s", strings.Join(errs, "\n"))
	}
	be, err := backend.New(backend.Config{
		AdminToken:        adminToken,
		TokenLifetime:     o.tokenLifetime,
		MaxLifetime:       o.maxLifetime,
		InactivityTimeout: o.inactivityTimeout,
		Signing:           o.signing,
		MaxInflight:       o.maxInflight,
		MaxQueue:          o.maxQueue,
		QueueWait:         o.queueWait,
	})
	if err != nil {
		return usageError(err)
	}
	var srv *backend.Server
	tlsNote := ""
	if o.tls.enabled() {
		cert, generated, err := o.tls.certificate()
		if err != nil {
			return err
		}
		if srv, err = be.ListenTLS(o.addr, cert); err != nil {
			return fmt.Errorf("serve: %w", err)
		}
		tlsNote = "TLS 1.3, certificate " + o.tls.certFile
		if generated {
			tlsNote = "TLS 1.3, self-signed certificate"
			if o.tls.certOut != "" {
				tlsNote += " written to " + o.tls.certOut
			}
		}
		tlsNote += ", SHA-256 fingerprint " + backend.Fingerprint(cert) + "; "
	} else if srv, err = be.Listen(o.addr); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	var metrics *metricsServer
	if o.metricsAddr != "" {
		if metrics, err = listenMetrics(o.metricsAddr, newMetricsRegistry(be.Collector())); err != nil {
			srv.Close()
			return fmt.Errorf("serve: %w", err)
		}
	}
	cfg := be.Config()
	fmt.Fprintf(o.streams.out, "stampede backend listening on %s (%s%s, tokens %s, %d in flight, %d queued up to %s); stop with Ctrl-C\n",
		srv.URL, tlsNote, o.signing, o.tokenLifetime, cfg.MaxInflight, cfg.MaxQueue, cfg.QueueWait)
	if !isLoopbackAddr(o.addr) {
		fmt.Fprintf(o.streams.err, "stampede: warning: listening on %s, beyond loopback: anyone who reaches it can sign in and call the API; /admin and /metrics require the admin token\n", srv.Addr)
	}
	if metrics != nil {
		fmt.Fprintf(o.streams.out, "metrics on %s\n", metrics.URL)
		if !isLoopbackAddr(o.metricsAddr) {
			fmt.Fprintf(o.streams.err, "stampede: warning: --metrics-addr %s is beyond loopback: anyone who reaches it can read the backend's metrics, without the admin token\n", o.metricsAddr)
		}
		if o.onMetrics != nil {
			o.onMetrics(metrics.URL)
		}
	}
	if o.onListen != nil {
		o.onListen(srv)
	}
	<-cmd.Context().Done()
	if metrics != nil {
		metrics.close()
	}
	if err := srv.Close(); err != nil {
		return fmt.Errorf("serve: shutdown: %w", err)
	}
	fmt.Fprintln(o.streams.out, "stampede backend stopped")
	return errStopped
}
