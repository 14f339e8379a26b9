package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/stampede-load/stampede/profiles"
)

// metricsShutdownTimeout bounds how long a scrape in progress may hold up
// the metrics server's shutdown.
const metricsShutdownTimeout = 2 * time.Second

// checkMetricsAddr validates a --metrics-addr value: HOST:PORT with a port
// from 0 to 65535 (0 picks a free one); an empty HOST listens on every
// interface.
func checkMetricsAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		var ae *net.AddrError
		if errors.As(err, &ae) {
			return fmt.Errorf("--metrics-addr: %s is not HOST:PORT: %s", profiles.Quote(addr), ae.Err)
		}
		return fmt.Errorf("--metrics-addr: %s is not HOST:PORT: %w", profiles.Quote(addr), err)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("--metrics-addr: %s: the port must be a number from 0 to 65535", profiles.Quote(addr))
	}
	return nil
}

// newMetricsRegistry returns a registry of its own (not Prometheus's
// global one) holding the Go runtime's and the process's collectors and cs.
func newMetricsRegistry(cs ...prometheus.Collector) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(cs...)
	return reg
}

// metricsServer serves a registry's metrics at /metrics on an address of
// its own (--metrics-addr).
type metricsServer struct {
	// URL is where the metrics are served, "http://HOST:PORT/metrics".
	URL  string
	srv  *http.Server
	done chan struct{}
}

// listenMetrics serves g's metrics at /metrics on addr until close. The
// error names --metrics-addr and the address.
func listenMetrics(addr string, g prometheus.Gatherer) (*metricsServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics-addr %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	m := &metricsServer{
		URL: "http://" + ln.Addr().String() + "/metrics",
		srv: &http.Server{
			Handler:           mux,
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       90 * time.Second,
			ErrorLog:          log.New(io.Discard, "", 0),
		},
		done: make(chan struct{}),
	}
	go func() {
		defer close(m.done)
		_ = m.srv.Serve(ln) // ErrServerClosed once close is called
	}()
	return m, nil
}

// close stops the server: a scrape in progress gets metricsShutdownTimeout
// to finish. It returns once the server's goroutines have ended.
func (m *metricsServer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), metricsShutdownTimeout)
	defer cancel()
	if m.srv.Shutdown(ctx) != nil {
		m.srv.Close()
	}
	<-m.done
}

// runMetrics is what stampede run serves on --metrics-addr; a nil
// *runMetrics (no --metrics-addr) serves nothing.
type runMetrics struct {
	reg   *prometheus.Registry
	srv   *metricsServer
	ended func(url string)
}

// serveMetrics starts serving the run's metrics on --metrics-addr, nil
// without the flag. The run's collectors are registered as they come.
func (o *runOptions) serveMetrics() (*runMetrics, error) {
	if o.metricsAddr == "" {
		return nil, nil
	}
	reg := newMetricsRegistry()
	srv, err := listenMetrics(o.metricsAddr, reg)
	if err != nil {
		return nil, err
	}
	if !isLoopbackAddr(o.metricsAddr) {
		fmt.Fprintf(o.err, "stampede: warning: --metrics-addr %s is beyond loopback: anyone who reaches it can read the run's metrics\n", o.metricsAddr)
	}
	if !o.quiet {
		fmt.Fprintf(o.err, "metrics: %s\n", srv.URL)
	}
	m := &runMetrics{reg: reg, srv: srv}
	if o.onMetrics != nil {
		o.onMetrics(srv.URL, false)
		m.ended = func(url string) { o.onMetrics(url, true) }
	}
	return m, nil
}

// register adds collectors to the metrics served.
func (m *runMetrics) register(cs ...prometheus.Collector) {
	if m == nil {
		return
	}
	for _, c := range cs {
		if c != nil {
			m.reg.MustRegister(c)
		}
	}
}

// stop stops serving: the run is over.
func (m *runMetrics) stop() {
	if m == nil {
		return
	}
	if m.ended != nil {
		m.ended(m.srv.URL)
	}
	m.srv.close()
}
