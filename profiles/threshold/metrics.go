package threshold

import "strings"

// Kind is what a threshold metric measures, which decides the units its
// limit may carry.
type Kind int

// Metric kinds.
const (
	// Latency is a duration in milliseconds; a limit takes "ms" or "s", and
	// no unit means ms.
	Latency Kind = iota + 1
	// Rate is a share: a fraction 0..1, or a percentage when the limit is
	// written with "%".
	Rate
	// Count is a number of things; its limit takes no unit.
	Count
	// Ratio is a dimensionless figure (requests per second, peak to mean,
	// variance to mean); its limit takes no unit.
	Ratio
)

// String names the kind as error messages do: "a latency", "a rate".
func (k Kind) String() string {
	switch k {
	case Latency:
		return "a latency"
	case Rate:
		return "a rate"
	case Count:
		return "a count"
	case Ratio:
		return "a ratio"
	}
	return "an unknown kind"
}

// Metric is one figure of a run's result that a threshold may hold
// against a limit: "refresh.p99", "requests.lost", "herd.peak_to_mean".
type Metric struct {
	Name string
	Kind Kind
}

// ops are the operations of a result whose figures are metrics, in report
// order; they match the operations of result.json (see docs/results.md).
var ops = []string{"sign_in", "refresh", "api", "get_token", "foreground_recovery"}

// errorClasses are the error classes counted per operation, in report order.
var errorClasses = []string{"http_401", "http_429", "http_5xx", "network", "timeout", "other", "cancelled", "superseded_token"}

// field is a metric name after its group's prefix, with its kind.
type field struct {
	name string
	kind Kind
}

// group is a set of metrics sharing their field names under one or more
// prefixes: "refresh.p99", "api.p99", ... It is the unit of the compact
// listing in error messages.
type group struct {
	prefixes []string
	fields   []field
}

// groups lists every metric, grouped, in documentation order.
var groups = func() []group {
	latencies := func(prefix string) []field {
		var fs []field
		for _, n := range []string{"min", "p50", "p90", "p95", "p99", "p999", "max", "mean"} {
			fs = append(fs, field{prefix + n, Latency})
		}
		return fs
	}
	opFields := append(latencies(""), latencies("service_")...)
	opFields = append(opFields, field{"count", Count}, field{"ok", Count}, field{"errors", Count})
	for _, c := range errorClasses {
		opFields = append(opFields, field{"errors." + c, Count})
	}
	opFields = append(opFields, field{"error_rate", Rate})
	return []group{
		{ops, opFields},
		{[]string{"herd"}, []field{
			{"peak_rps", Ratio}, {"mean_rps", Ratio}, {"peak_to_mean", Ratio}, {"max_inflight", Count},
			{"amplification", Ratio}, {"duplicate_refreshes", Count}, {"retries", Count},
			{"retries_share", Rate}, {"dispersion", Ratio},
		}},
		{[]string{"requests"}, []field{
			{"issued", Count}, {"settled", Count}, {"lost", Count}, {"ok", Count},
			{"user_visible_errors", Count}, {"cancelled", Count}, {"retry_loops", Count},
			{"stale_token_retries", Count},
		}},
		{[]string{"sessions"}, []field{{"forced_signouts", Count}, {"re_sign_ins", Count}}},
		{[]string{"engine"}, []field{{"lag_p50", Latency}, {"lag_p99", Latency}, {"lag_max", Latency}}},
		{[]string{"proxy"}, []field{
			{"sessions", Count}, {"duplicate_refreshes", Count}, {"duplicate_refreshes_inflight", Count},
			{"duplicate_refreshes_same_generation", Count}, {"refresh_token_reuse", Count},
			{"stale_retries", Count}, {"retry_loops", Count}, {"unattributed", Count},
			{"upstream_errors", Count}, {"rejected", Count},
			{"overhead_p50", Latency}, {"overhead_p99", Latency},
		}},
	}
}()

// metrics is every metric in documentation order; byName indexes it.
var metrics, byName = func() ([]Metric, map[string]Metric) {
	var list []Metric
	index := map[string]Metric{}
	for _, g := range groups {
		for _, p := range g.prefixes {
			for _, f := range g.fields {
				m := Metric{Name: p + "." + f.name, Kind: f.kind}
				list = append(list, m)
				index[m.Name] = m
			}
		}
	}
	return list, index
}()

// Metrics returns every metric a threshold may use, in documentation
// order. The slice is the caller's own.
func Metrics() []Metric {
	out := make([]Metric, len(metrics))
	copy(out, metrics)
	return out
}

// Lookup returns the metric named name; ok is false for a name Metrics
// does not list.
func Lookup(name string) (m Metric, ok bool) {
	m, ok = byName[name]
	return m, ok
}

// listing is every metric name in compact brace form, for error messages:
// "{sign_in,refresh,...}.{min,p50,...}; herd.{peak_rps,...}; ...".
var listing = func() string {
	brace := func(s []string) string {
		if len(s) == 1 {
			return s[0]
		}
		return "{" + strings.Join(s, ",") + "}"
	}
	parts := make([]string, len(groups))
	for i, g := range groups {
		names := make([]string, len(g.fields))
		for j, f := range g.fields {
			names[j] = f.name
		}
		parts[i] = brace(g.prefixes) + "." + brace(compactFields(names))
	}
	return strings.Join(parts, "; ")
}()

// compactFields folds field names sharing a first part into one brace
// entry: errors.http_401, errors.http_429 → errors.{http_401,http_429};
// service_p50, service_p99 → service_{p50,p99}.
func compactFields(fields []string) []string {
	var heads []string
	sub := map[string][]string{}
	for _, f := range fields {
		head, tail := "", f
		if h, t, ok := strings.Cut(f, "."); ok {
			head, tail = h+".", t
		} else if t, ok := strings.CutPrefix(f, "service_"); ok {
			head, tail = "service_", t
		}
		if _, seen := sub[head]; !seen || head == "" {
			heads = append(heads, head)
		}
		sub[head] = append(sub[head], tail)
	}
	var out []string
	plain := 0
	for _, h := range heads {
		if h == "" {
			out = append(out, sub[""][plain])
			plain++
			continue
		}
		out = append(out, h+"{"+strings.Join(sub[h], ",")+"}")
	}
	return out
}

// suggest returns the metric name closest to name when it is close enough
// to be a likely typo, else "".
func suggest(name string) string {
	best, bestD := "", 3
	for _, m := range metrics {
		if d := editDistance(name, m.Name, bestD); d < bestD {
			best, bestD = m.Name, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b, or limit when it is
// at least limit.
func editDistance(a, b string, limit int) int {
	if d := len(a) - len(b); d >= limit || -d >= limit {
		return limit
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin >= limit {
			return limit
		}
		prev, cur = cur, prev
	}
	return min(prev[len(b)], limit)
}

// SampledOp reports whether the metric named name is a figure computed from
// an operation's samples — a latency (service_ ones included) or the error
// rate of sign_in, refresh, api, get_token or foreground_recovery — and
// names that operation. Such a figure has no value when the operation
// never ran: a threshold on it fails with "no data" unless it allows none.
// Counts (refresh.count, refresh.errors) are figures even when 0.
func SampledOp(name string) (op string, ok bool) {
	m, known := byName[name]
	if !known || (m.Kind != Latency && m.Kind != Rate) {
		return "", false
	}
	op, _, _ = strings.Cut(name, ".")
	for _, o := range ops {
		if o == op {
			return op, true
		}
	}
	return "", false
}
