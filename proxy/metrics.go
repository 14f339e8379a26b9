package proxy

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Live metrics of a running proxy (docs/proxy.md#live-metrics).
var (
	descRequests = prometheus.NewDesc("stampede_proxy_requests_total",
		"Requests through the proxy by operation and answer (ok or the error class).", []string{"op", "result"}, nil)
	descSessions = prometheus.NewDesc("stampede_proxy_sessions",
		"Sessions the proxy has seen.", nil, nil)
	descRefreshInflight = prometheus.NewDesc("stampede_proxy_refresh_inflight",
		"Refreshes in flight through the proxy now.", nil, nil)
	descDuplicates = prometheus.NewDesc("stampede_proxy_duplicate_refreshes_total",
		"Duplicate refreshes of a session: kind inflight (another of its own in flight) or same_generation.", []string{"kind"}, nil)
	descReuse = prometheus.NewDesc("stampede_proxy_refresh_token_reuse_total",
		"Refreshes presenting a refresh or client token an earlier answer had rotated.", nil, nil)
	descStale = prometheus.NewDesc("stampede_proxy_stale_retries_total",
		"Retries of an API call answered 401 bearing a superseded token.", nil, nil)
	descLoops = prometheus.NewDesc("stampede_proxy_retry_loops_total",
		"Requests retried after 401s past the retry limit.", nil, nil)
	descFaults = prometheus.NewDesc("stampede_proxy_fault_answers_total",
		"Answers the proxy's faults made, by fault.", []string{"fault"}, nil)
	descUpstreamErrors = prometheus.NewDesc("stampede_proxy_upstream_errors_total",
		"Requests answered 502: the upstream unreachable or its answer too large.", nil, nil)
)

// collector reads a proxy's figures at scrape time.
type collector struct{ p *Proxy }

// Collector returns a Prometheus collector of the proxy's live figures.
func (p *Proxy) Collector() prometheus.Collector { return collector{p} }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRequests, descSessions, descRefreshInflight, descDuplicates,
		descReuse, descStale, descLoops, descFaults, descUpstreamErrors} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	f := c.p.fleet
	f.mu.Lock()
	type opCount struct {
		op, result string
		n          int64
	}
	var ops []opCount
	for k, op := range f.ops {
		ops = append(ops, opCount{k.String(), "ok", op.OK})
		for class, n := range op.Errors {
			ops = append(ops, opCount{k.String(), class, n})
		}
	}
	fig := f.fig
	faults := make(map[string]int64, len(f.fig.Faults))
	for k, v := range f.fig.Faults {
		faults[k] = v
	}
	inflight := f.inflight
	f.mu.Unlock()
	for _, o := range ops {
		ch <- prometheus.MustNewConstMetric(descRequests, prometheus.CounterValue, float64(o.n), o.op, o.result)
	}
	ch <- prometheus.MustNewConstMetric(descSessions, prometheus.GaugeValue, float64(fig.Sessions))
	ch <- prometheus.MustNewConstMetric(descRefreshInflight, prometheus.GaugeValue, float64(inflight))
	ch <- prometheus.MustNewConstMetric(descDuplicates, prometheus.CounterValue, float64(fig.DuplicateInflight), "inflight")
	ch <- prometheus.MustNewConstMetric(descDuplicates, prometheus.CounterValue, float64(fig.DuplicateSameGeneration), "same_generation")
	ch <- prometheus.MustNewConstMetric(descReuse, prometheus.CounterValue, float64(fig.RefreshTokenReuse))
	ch <- prometheus.MustNewConstMetric(descStale, prometheus.CounterValue, float64(fig.StaleRetries))
	ch <- prometheus.MustNewConstMetric(descLoops, prometheus.CounterValue, float64(fig.RetryLoops))
	ch <- prometheus.MustNewConstMetric(descUpstreamErrors, prometheus.CounterValue, float64(fig.UpstreamErrors))
	for k, v := range faults {
		ch <- prometheus.MustNewConstMetric(descFaults, prometheus.CounterValue, float64(v), k)
	}
}
