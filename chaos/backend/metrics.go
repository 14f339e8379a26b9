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
	descShed = prometheus.NewDesc("stampede_backend_shed_total",
		"Client requests answered 503 overloaded by admission control, by reason.", []string{"reason"}, nil)
	descTLSHandshakes = prometheus.NewDesc("stampede_backend_tls_handshakes_total",
		"TLS handshakes served, by kind: full or resumed (from a session ticket).", []string{"kind"}, nil)
	descTLSCPU = prometheus.NewDesc("stampede_backend_tls_handshake_cpu_seconds_total",
		"CPU time the server's side of the measured TLS handshakes took, by kind.", []string{"kind"}, nil)
	descTLSMeasured = prometheus.NewDesc("stampede_backend_tls_handshakes_measured_total",
		"TLS handshakes whose server-side CPU time was measured, by kind.", []string{"kind"}, nil)
	descAdmission = []struct {
		desc  *prometheus.Desc
		value func(AdmissionStats) int64
	}{
		{prometheus.NewDesc("stampede_backend_inflight", "Client requests being handled.", nil, nil), func(a AdmissionStats) int64 { return a.Inflight }},
		{prometheus.NewDesc("stampede_backend_queued", "Client requests waiting for a slot.", nil, nil), func(a AdmissionStats) int64 { return a.Queued }},
		{prometheus.NewDesc("stampede_backend_inflight_peak", "Highest number of client requests handled at once.", nil, nil), func(a AdmissionStats) int64 { return a.InflightPeak }},
		{prometheus.NewDesc("stampede_backend_queued_peak", "Highest number of client requests waiting at once.", nil, nil), func(a AdmissionStats) int64 { return a.QueuedPeak }},
		{prometheus.NewDesc("stampede_backend_max_inflight", "Bound on client requests handled at once.", nil, nil), func(a AdmissionStats) int64 { return int64(a.MaxInflight) }},
		{prometheus.NewDesc("stampede_backend_max_queue", "Bound on client requests waiting for a slot.", nil, nil), func(a AdmissionStats) int64 { return int64(a.MaxQueue) }},
	}
)

// Collector returns a Prometheus collector of what the backend has served
// and holds, read when it is scraped: responses by endpoint and status code,
// sessions by status, tokens minted and admission control (see Stats).
func (b *Backend) Collector() prometheus.Collector { return backendCollector{b} }

// backendCollector is the collector Collector returns.
type backendCollector struct{ b *Backend }

// Describe sends the descriptions of the backend's metrics.
func (backendCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descResponses
	ch <- descSessions
	ch <- descTokensMinted
	ch <- descShed
	ch <- descTLSHandshakes
	ch <- descTLSCPU
	ch <- descTLSMeasured
	for _, m := range descAdmission {
		ch <- m.desc
	}
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
	a := c.b.admission.stats()
	ch <- prometheus.MustNewConstMetric(descShed, prometheus.CounterValue, float64(a.ShedQueueFull), ShedQueueFull)
	ch <- prometheus.MustNewConstMetric(descShed, prometheus.CounterValue, float64(a.ShedQueueWait), ShedQueueWait)
	for _, m := range descAdmission {
		ch <- prometheus.MustNewConstMetric(m.desc, prometheus.GaugeValue, float64(m.value(a)))
	}
	if t := c.b.tls.stats(); t != nil {
		for _, k := range []struct {
			kind           string
			n, cpu, measur int64
		}{{"full", t.HandshakesFull, t.CPUFullNs, t.MeasuredFull}, {"resumed", t.HandshakesResumed, t.CPUResumedNs, t.MeasuredResumed}} {
			ch <- prometheus.MustNewConstMetric(descTLSHandshakes, prometheus.CounterValue, float64(k.n), k.kind)
			ch <- prometheus.MustNewConstMetric(descTLSCPU, prometheus.CounterValue, float64(k.cpu)/1e9, k.kind)
			ch <- prometheus.MustNewConstMetric(descTLSMeasured, prometheus.CounterValue, float64(k.measur), k.kind)
		}
	}
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
