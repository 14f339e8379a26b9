package reports

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// ModeProxy is Result.Mode of a result stampede proxy wrote: what the
// server side saw of a fleet it did not drive (docs/proxy.md).
const ModeProxy = "proxy"

// ProxyFigures are the fleet's figures as the server side sees them.
type ProxyFigures struct {
	// Sessions counts the sessions seen.
	Sessions int64 `json:"sessions"`
	// DuplicateRefreshes counts refreshes of a session started while
	// another of its own was in flight (DuplicateInflight) or for a token
	// generation a refresh had already replaced and no API call had used
	// yet (DuplicateSameGeneration).
	DuplicateRefreshes      int64 `json:"duplicate_refreshes"`
	DuplicateInflight       int64 `json:"duplicate_refreshes_inflight"`
	DuplicateSameGeneration int64 `json:"duplicate_refreshes_same_generation"`
	// RefreshTokenReuse counts refreshes presenting a refresh (or client)
	// token that an earlier answer had already rotated.
	RefreshTokenReuse int64 `json:"refresh_token_reuse"`
	// StaleRetries counts retries of an API call answered 401 (the same
	// method, path, body and call id of the session) bearing the token the
	// 401 answered, or an older one, when the session had been issued a
	// newer one.
	StaleRetries int64 `json:"stale_retries"`
	// RetryLoops counts requests (method, path, body hash and call id, per
	// session) retried more than the limit after 401s (within the window,
	// without a call id).
	RetryLoops int64 `json:"retry_loops"`
	// Unattributed counts sign-in, refresh and API requests the proxy could
	// tie to no session (no token, or one it could not read).
	Unattributed int64 `json:"unattributed"`
	// UpstreamErrors counts requests answered 502 because the upstream
	// could not be reached; Rejected those refused before forwarding
	// (too large a body).
	UpstreamErrors int64 `json:"upstream_errors"`
	Rejected       int64 `json:"rejected"`
	// Faults counts the answers the proxy's faults made, by fault.
	Faults map[string]int64 `json:"faults,omitempty"`
	// TopSessions are the sessions with the most duplicate refreshes,
	// reuses, stale retries and retry loops (at most 10), by hashed key.
	TopSessions []ProxySession `json:"top_sessions,omitempty"`
	// OverheadMs is the proxy's own time per request, in milliseconds:
	// from its handler's start to its end, less the time it waited on the
	// client's body, a fault's delay, the upstream's answer and the copy of
	// the answer's body (docs/proxy.md#what-the-proxy-costs); OverheadHDR
	// its HDR histogram (microseconds). Absent before any request.
	OverheadMs  *Summary `json:"overhead_ms,omitempty"`
	OverheadHDR string   `json:"overhead_hdr,omitempty"`
}

// ProxySession are one session's figures; Session is a digest of its key.
type ProxySession struct {
	Session            string `json:"session"`
	Refreshes          int64  `json:"refreshes"`
	DuplicateRefreshes int64  `json:"duplicate_refreshes"`
	RefreshTokenReuse  int64  `json:"refresh_token_reuse"`
	StaleRetries       int64  `json:"stale_retries"`
	RetryLoops         int64  `json:"retry_loops"`
}

// writeProxyMarkdown adds the proxy's figures to a Markdown report of a
// result stampede proxy wrote; nothing for a run's.
func writeProxyMarkdown(b *strings.Builder, r *Result) {
	p := r.Proxy
	if p == nil {
		return
	}
	b.WriteString("### The fleet seen from the proxy\n\n| figure | value |\n|---|--:|\n")
	fmt.Fprintf(b, "| sessions | %d |\n", p.Sessions)
	fmt.Fprintf(b, "| duplicate refreshes | %d (in flight %d, same generation %d) |\n", p.DuplicateRefreshes, p.DuplicateInflight, p.DuplicateSameGeneration)
	fmt.Fprintf(b, "| refresh-token reuse | %d |\n", p.RefreshTokenReuse)
	fmt.Fprintf(b, "| stale retries | %d |\n", p.StaleRetries)
	fmt.Fprintf(b, "| retry loops | %d |\n", p.RetryLoops)
	fmt.Fprintf(b, "| unattributed requests | %d |\n", p.Unattributed)
	fmt.Fprintf(b, "| upstream errors (502) | %d |\n", p.UpstreamErrors)
	fmt.Fprintf(b, "| rejected (too large) | %d |\n", p.Rejected)
	if o := p.OverheadMs; o != nil {
		fmt.Fprintf(b, "| the proxy's own time a request | p50 %.3f ms · p99 %.3f ms |\n", o.P50, o.P99)
	}
	if len(p.Faults) > 0 {
		names := make([]string, 0, len(p.Faults))
		for k := range p.Faults {
			names = append(names, k)
		}
		sort.Strings(names)
		parts := make([]string, len(names))
		for i, k := range names {
			parts[i] = fmt.Sprintf("%s %d", k, p.Faults[k])
		}
		fmt.Fprintf(b, "| answers made by faults | %s |\n", mdCell(strings.Join(parts, " · ")))
	}
	b.WriteString("\n")
}

// proxyHTMLRows are the HTML report's sessions, requests and engine tables
// for a result stampede proxy wrote: what the proxy saw.
func proxyHTMLRows(p *ProxyFigures) (sessions, requests, engine []htmlRow) {
	n := func(v int64) string { return strconv.FormatInt(v, 10) }
	sessions = []htmlRow{{Name: "sessions seen by the proxy", Value: n(p.Sessions)}}
	for _, s := range p.TopSessions {
		sessions = append(sessions, htmlRow{Name: "session " + s.Session,
			Value: fmt.Sprintf("%d refreshes · %d duplicate · %d reuse · %d stale retries · %d retry loops",
				s.Refreshes, s.DuplicateRefreshes, s.RefreshTokenReuse, s.StaleRetries, s.RetryLoops)})
	}
	requests = []htmlRow{
		{Name: "duplicate refreshes", Value: n(p.DuplicateRefreshes)},
		{Name: "… in flight at once", Value: n(p.DuplicateInflight)},
		{Name: "… of the same generation", Value: n(p.DuplicateSameGeneration)},
		{Name: "refresh-token reuse", Value: n(p.RefreshTokenReuse)},
		{Name: "stale retries", Value: n(p.StaleRetries)},
		{Name: "retry loops", Value: n(p.RetryLoops)},
		{Name: "unattributed", Value: n(p.Unattributed)},
		{Name: "upstream errors (502)", Value: n(p.UpstreamErrors)},
		{Name: "rejected (too large)", Value: n(p.Rejected)},
	}
	names := make([]string, 0, len(p.Faults))
	for k := range p.Faults {
		names = append(names, k)
	}
	sort.Strings(names)
	engine = []htmlRow{{Name: "mode", Value: "proxy: the server's view of a fleet it did not drive"}}
	if o := p.OverheadMs; o != nil {
		engine = append(engine, htmlRow{Name: "the proxy's own time a request", Value: fmt.Sprintf("p50 %.3f ms · p99 %.3f ms", o.P50, o.P99)})
	}
	for _, k := range names {
		engine = append(engine, htmlRow{Name: "answers made by " + k, Value: n(p.Faults[k])})
	}
	return sessions, requests, engine
}
