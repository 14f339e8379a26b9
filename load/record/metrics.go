package record

import (
	"slices"
	"sync"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/stampede-load/stampede/load/model"
	"github.com/stampede-load/stampede/reports"
)

// latencyBuckets are the upper bounds, in seconds, of the Prometheus
// histograms of request latency and scheduling lag: 100 µs to 10 s.
var latencyBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// latencyBucketsUs are latencyBuckets in microseconds, the unit of the
// recorder's histograms.
var latencyBucketsUs = func() []int64 {
	us := make([]int64, len(latencyBuckets))
	for i, s := range latencyBuckets {
		us[i] = int64(s*1e6 + 0.5)
	}
	return us
}()

// clientStates are the state labels of the stampede_clients gauge.
var clientStates = []string{"started", "signed_in", "signed_out", "valid_token", "background", "offline"}

// settledResults are the result labels of stampede_app_calls_settled_total.
var settledResults = []string{"ok", "user_visible_error", "cancelled"}

// Descriptions of the metrics the engine's collector exports.
var (
	descRequestDuration = prometheus.NewDesc("stampede_request_duration_seconds",
		"Latency of the HTTP requests of the simulated clients, from their intended start, by operation (sign_in, refresh, api); requests given up when the run ended have none.",
		[]string{"op"}, nil)
	descRequests = prometheus.NewDesc("stampede_requests_total",
		"HTTP requests of the simulated clients that ended, by operation and outcome class (ok, http_401, http_429, http_5xx, network, timeout, other, cancelled).",
		[]string{"op", "class"}, nil)
	descRefreshesInFlight = prometheus.NewDesc("stampede_refreshes_in_flight",
		"Refresh requests sent and not yet answered, fleet-wide.", nil, nil)
	descClients = prometheus.NewDesc("stampede_clients",
		"Simulated clients by state; the states overlap: started (its ramp slot came), signed_in, signed_out, valid_token (holds an unexpired token), background, offline.",
		[]string{"state"}, nil)
	descEngineLag = prometheus.NewDesc("stampede_engine_lag_seconds",
		"How late the engine started scheduled work (client starts, timers): high values mean stampede, not the target, is the bottleneck.",
		nil, nil)
	descDuplicateRefreshes = prometheus.NewDesc("stampede_duplicate_refreshes_total",
		"Refreshes a client started while another of its own was in flight.", nil, nil)
	descRefreshRetries = prometheus.NewDesc("stampede_refresh_retries_total",
		"Refresh attempts that were retries.", nil, nil)
	descForcedSignouts = prometheus.NewDesc("stampede_forced_signouts_total",
		"Sessions the server ended (the client was signed out).", nil, nil)
	descReSignIns = prometheus.NewDesc("stampede_re_sign_ins_total",
		"Sign-ins that followed a forced sign-out.", nil, nil)
	descAppCallsIssued = prometheus.NewDesc("stampede_app_calls_issued_total",
		"API calls the simulated apps wanted to make.", nil, nil)
	descAppCallsSettled = prometheus.NewDesc("stampede_app_calls_settled_total",
		"API calls of the apps that ended, by result (ok, user_visible_error, cancelled).",
		[]string{"result"}, nil)
	descAppCallsUnsettled = prometheus.NewDesc("stampede_app_calls_unsettled",
		"API calls of the apps issued and not settled: in flight while the run goes, lost once it is over.", nil, nil)
	descAppRetryLoops = prometheus.NewDesc("stampede_app_call_retry_loops_total",
		"API calls retried past the one retry the interceptor allows.", nil, nil)
	descAppStaleRetries = prometheus.NewDesc("stampede_app_call_stale_token_retries_total",
		"API call retries sent with a token older than the client's newest.", nil, nil)
)

// NewCollector returns a Prometheus collector of the figures of the
// recorder that current returns (nil before a run starts). It reads the
// recorder's own counters and histograms when it is scraped and adds
// nothing to the requests' path; after the run its counts are those of the
// result.
func NewCollector(current func() *Recorder) prometheus.Collector {
	c := &collector{current: current, lag: reports.NewHistogram()}
	for i := range c.latency {
		c.latency[i] = reports.NewHistogram()
	}
	return c
}

// collector is a run's Prometheus collector. Its histograms are
// scratch space for merging the shards', one scrape at a time.
type collector struct {
	current func() *Recorder
	mu      sync.Mutex
	latency [OpAPI + 1]*hdrhistogram.Histogram
	lag     *hdrhistogram.Histogram
}

// Describe sends the descriptions of every metric the collector exports.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRequestDuration, descRequests, descRefreshesInFlight, descClients,
		descEngineLag, descDuplicateRefreshes, descRefreshRetries, descForcedSignouts, descReSignIns,
		descAppCallsIssued, descAppCallsSettled, descAppCallsUnsettled, descAppRetryLoops, descAppStaleRetries} {
		ch <- d
	}
}

// opCounts is one operation's counts summed over the shards.
type opCounts struct {
	ok, outOfRange int64
	errors         [model.NumClasses]int64
}

// Collect merges the shards' counts and histograms, each under its shard's
// lock, and sends them with the fleet's live gauges.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	r := c.current()
	if r == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, h := range c.latency {
		h.Reset()
	}
	c.lag.Reset()
	var ops [OpAPI + 1]opCounts
	var req reports.Requests
	var forced, resigns int64
	for _, s := range r.shards {
		s.mu.Lock()
		for o := range ops {
			m, x := &ops[o], &s.ops[o]
			m.ok += x.ok
			m.outOfRange += x.outOfRange + c.latency[o].Merge(x.latency)
			for cl := range m.errors {
				m.errors[cl] += x.errors[cl]
			}
		}
		c.lag.Merge(s.lag)
		req.Add(s.requests) // Lost stays 0 in the shards
		forced += s.forced
		resigns += s.resigns
		s.mu.Unlock()
	}

	for o := range ops {
		name := reports.OpNames[o]
		ch <- constHistogram(descRequestDuration, c.latency[o], ops[o].outOfRange, name)
		for cl := model.ClassOK; cl < model.NumClasses; cl++ {
			n := ops[o].errors[cl]
			if cl == model.ClassOK {
				n = ops[o].ok
			}
			ch <- prometheus.MustNewConstMetric(descRequests, prometheus.CounterValue, float64(n), name, cl.String())
		}
	}
	ch <- constHistogram(descEngineLag, c.lag, 0)

	gauge := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), labels...)
	}
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge(descRefreshesInFlight, r.refreshInflight.Load())
	for i, v := range []int64{r.started.Load(), r.signedIn.Load(), r.signedOut.Load(), r.validToken.Load(),
		r.background.Load(), r.offline.Load()} {
		gauge(descClients, v, clientStates[i])
	}
	counter(descDuplicateRefreshes, r.duplicates.Load())
	counter(descRefreshRetries, r.retries.Load())
	counter(descForcedSignouts, forced)
	counter(descReSignIns, resigns)
	counter(descAppCallsIssued, req.Issued)
	for i, v := range []int64{req.OK, req.UserVisibleErrors, req.Cancelled} {
		counter(descAppCallsSettled, v, settledResults[i])
	}
	gauge(descAppCallsUnsettled, req.Issued-req.Settled)
	counter(descAppRetryLoops, req.RetryLoops)
	counter(descAppStaleRetries, req.StaleTokenRetries)
}

// constHistogram turns a histogram of microseconds into a Prometheus
// histogram in seconds with latencyBuckets. A value falls in the first
// bucket that holds the highest value equivalent to it at the histogram's
// precision (3 significant figures), as its quantiles in result.json do;
// values above the histogram's range (counted in outOfRange, not recorded)
// count only in the +Inf bucket and not in the sum.
func constHistogram(d *prometheus.Desc, h *hdrhistogram.Histogram, outOfRange int64, labels ...string) prometheus.Metric {
	per := make([]uint64, len(latencyBucketsUs))
	if h.TotalCount() > 0 {
		for _, bar := range h.Distribution() {
			if bar.Count == 0 {
				continue
			}
			if i, _ := slices.BinarySearch(latencyBucketsUs, bar.To); i < len(per) {
				per[i] += uint64(bar.Count)
			}
		}
	}
	buckets := make(map[float64]uint64, len(per))
	var cum uint64
	for i, n := range per {
		cum += n
		buckets[latencyBuckets[i]] = cum
	}
	total := h.TotalCount()
	sum := h.Mean() * float64(total) / 1e6
	return prometheus.MustNewConstHistogram(d, uint64(total+outOfRange), sum, buckets, labels...)
}
