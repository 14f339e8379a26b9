package backend

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Descriptions of the metrics the backend exports.
var (
	descResponses = prometheus.NewDesc("stampede_backend_responses_total",
		"Responses served by the backend, by endpoint and HTTP status code.", []string{"endpoint", "code"}, nil)
	descSessions = prometheus.NewDesc("stampede_backend_sessions",
		"Sessions by status.", []string{"status"}, nil)
	descTokensMinted = prometheus.NewDesc("stampede_backend_tokens_minted_total",
		"Session JWTs signed.", nil, nil)
)

// Collector returns a Prometheus collector of what the backend has served
// and holds, read when it is scraped: responses by endpoint and status code,
// sessions by status and tokens minted (see Stats).
func (b *Backend) Collector() prometheus.Collector { return backendCollector{b} }

// backendCollector is the collector Collector returns.
type backendCollector struct{ b *Backend }

// Describe sends the descriptions of the backend's metrics.
func (backendCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descResponses
	ch <- descSessions
	ch <- descTokensMinted
}

// Collect sends the backend's counters and its sessions by status.
func (c backendCollector) Collect(ch chan<- prometheus.Metric) {
	c.b.counters.each(func(ep endpoint, status int, n int64) {
		ch <- prometheus.MustNewConstMetric(descResponses, prometheus.CounterValue, float64(n), endpointNames[ep], strconv.Itoa(status))
	})
	sessions := c.b.sessions.counts(c.b.cfg.Now())
	for _, status := range sessionStatuses {
		ch <- prometheus.MustNewConstMetric(descSessions, prometheus.GaugeValue, float64(sessions[status]), status)
	}
	ch <- prometheus.MustNewConstMetric(descTokensMinted, prometheus.CounterValue, float64(c.b.tokensMinted.Load()))
}

// newMetricsHandler serves b's metrics in the Prometheus exposition formats
// from a registry of its own.
func newMetricsHandler(b *Backend) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(b.Collector())
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}

// handleMetrics serves the backend's metrics (GET /metrics). The scrape
// itself is counted once its status is written, after the metrics were read.
func (b *Backend) handleMetrics(w http.ResponseWriter, r *http.Request, _ string) {
	b.metrics.ServeHTTP(w, r)
}
