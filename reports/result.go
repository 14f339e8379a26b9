// Package reports holds stampede's result model (result.json), how it is
// read and written, and the renderers that present it.
package reports

import (
	"time"

	"github.com/stampede-load/stampede/profiles"
)

// Schema is the version tag of result.json.
const Schema = "stampede.result/v1"

// Operation names in Result.Ops.
const (
	OpSignIn             = "sign_in"
	OpRefresh            = "refresh"
	OpAPI                = "api"
	OpGetToken           = "get_token"
	OpForegroundRecovery = "foreground_recovery"
)

// OpNames lists the operations in report order.
var OpNames = []string{OpSignIn, OpRefresh, OpAPI, OpGetToken, OpForegroundRecovery}

// ErrorClasses lists the error classes of Op.Errors in report order.
var ErrorClasses = []string{"http_401", "http_429", "http_5xx", "network", "timeout", "other", "cancelled", ClassSuperseded}

// Result is everything one run measured: the content of result.json.
type Result struct {
	Schema string `json:"schema"`
	// Mode is ModeSimulate for a result of stampede simulate (virtual time
	// against a modelled backend), ModeProxy for one stampede proxy wrote;
	// "" for a live run.
	Mode        string           `json:"mode,omitempty"`
	RunID       string           `json:"run_id"`
	ToolVersion string           `json:"tool_version"`
	Profile     profiles.Profile `json:"profile"`
	Target      Target           `json:"target"`
	StartedAt   time.Time        `json:"started_at"`
	EndedAt     time.Time        `json:"ended_at"`
	Partial     bool             `json:"partial"`
	Shard       Shard            `json:"shard"`
	Ops         map[string]*Op   `json:"ops"`
	Sessions    Sessions         `json:"sessions"`
	Requests    Requests         `json:"requests"`
	Engine      Engine           `json:"engine"`
	Herd        Herd             `json:"herd"`
	Events      []Event          `json:"events"`
	Timeline    Timeline         `json:"timeline"`
	// Samples are the evidence behind the invariants: the earliest requests
	// that broke each.
	Samples Samples `json:"samples"`
	// Thresholds are the profile's gates evaluated on this result,
	// Invariants the default gates every run has (docs/results.md#invariants);
	// Verdict is "pass" when every threshold and every invariant not
	// relaxed held, "fail" otherwise.
	Thresholds []ThresholdResult `json:"thresholds"`
	Invariants []InvariantResult `json:"invariants"`
	Verdict    string            `json:"verdict"`
	// TimeScale says how far the time scale stretched the request timeout
	// and round trips next to the token lifetime (timescale.go).
	TimeScale *TimeScale `json:"time_scale,omitempty"`
	// Proxy is what stampede proxy saw of the fleet (reports/proxy.go).
	Proxy *ProxyFigures `json:"proxy,omitempty"`
	// Stages are a staged run's stages, each with its span and figures
	// (stages.go); none without stages.
	Stages []Stage `json:"stages,omitempty"`
}

// Verdicts.
const (
	VerdictPass = "pass"
	VerdictFail = "fail"
)

// ThresholdResult is one threshold evaluated on the result.
type ThresholdResult struct {
	Expr string `json:"expr"`
	// Value is the metric's value, in the unit the expression's limit uses
	// (ms for latencies, % for rates written with %).
	Value float64 `json:"value"`
	OK    bool    `json:"ok"`
	// AbortOnFail and Aborted: the threshold could stop the run early, and did.
	AbortOnFail bool `json:"abort_on_fail,omitempty"`
	Aborted     bool `json:"aborted,omitempty"`
	// NoData: the metric's operation had no samples, so there was no value
	// to hold (Value is 0); the threshold failed unless AllowNoData.
	NoData      bool `json:"no_data,omitempty"`
	AllowNoData bool `json:"allow_no_data,omitempty"`
}

// Herd is what the fleet did to the refresh endpoint (docs/results.md#herd-metrics). Rates are
// per wall-clock second; the run's ramp is left out of MeanRPS and Dispersion.
type Herd struct {
	// PeakRPS is the most refresh attempts in any 1 s window.
	PeakRPS float64 `json:"peak_rps"`
	// MeanRPS is refresh attempts per second after the ramp.
	MeanRPS    float64 `json:"mean_rps"`
	PeakToMean float64 `json:"peak_to_mean"`
	// MaxInflight is the most refresh requests in flight at once.
	MaxInflight int64 `json:"max_inflight"`
	// Amplification is refresh attempts per successful refresh.
	Amplification float64 `json:"amplification"`
	// DuplicateRefreshes counts refreshes a client started while another of
	// its own was in flight (single-flight violations).
	DuplicateRefreshes int64 `json:"duplicate_refreshes"`
	// Retries counts refresh attempts that were retries, and their share of all attempts.
	Retries      int64   `json:"retries"`
	RetriesShare float64 `json:"retries_share"`
	// Dispersion is the variance-to-mean ratio of refresh attempts per
	// 100 ms bucket: about 1 for independent arrivals, far above 1 for a herd.
	Dispersion float64 `json:"dispersion"`
}

// Event is one fleet event of the profile as it happened, with its own counters.
type Event struct {
	Index int    `json:"index"`
	Type  string `json:"type"`
	// At is the event time as the profile gave it ("3m0s", "50%").
	At string `json:"at"`
	// StartS and EndS are wall-clock seconds from the start of the run
	// (equal for an instant event).
	StartS float64 `json:"start_s"`
	EndS   float64 `json:"end_s"`
	// Clients is how many clients it acted on (outage, clock skew);
	// Sessions how many sessions it revoked (revocation_wave).
	Clients  int64 `json:"clients,omitempty"`
	Sessions int64 `json:"sessions,omitempty"`
	// Error is set when the target refused the event.
	Error string `json:"error,omitempty"`
	// BurstFrom is BurstFromEnd when the burst and recovery below are
	// measured from the event's end rather than its start (an outage: the
	// herd is the reconnection after it); "" for its start.
	BurstFrom string `json:"burst_from,omitempty"`
	// Burst10s counts refresh attempts in the 10 simulated seconds from the
	// event's start (after it ends, for an outage: see BurstFrom);
	// API401 and ForcedSignouts count over the same window.
	Burst10s       int64 `json:"burst_10s"`
	API401         int64 `json:"api_401"`
	ForcedSignouts int64 `json:"forced_signouts"`
	// RecoveryS is how long after the event (after the restore, for an
	// outage) the clients holding a valid token got back to 99% of their
	// number just before it; 0 when it never fell below; null when it had
	// not recovered by the end of the run.
	RecoveryS *float64 `json:"recovery_s"`
	// RecoveryReason says why RecoveryS is null in a proxy's result
	// (RecoveryRunEnded, RecoveryFaultActive, RecoveryNoBaseline), where
	// recovery is the fleet's traffic back to its pre-fault baseline
	// (FaultRecovery).
	RecoveryReason string `json:"recovery_reason,omitempty"`
}

// BurstFromEnd is Event.BurstFrom for an event measured from its end.
const BurstFromEnd = "end"

// Target is what the run was aimed at.
type Target struct {
	// Kind is "embedded" (the in-process backend), "fapi" (a server with
	// the embedded backend's endpoints, such as stampede serve), "oauth2"
	// (an OAuth 2.0 token endpoint) or "http" (a custom HTTP API).
	Kind string `json:"kind"`
	URL  string `json:"url"`
	// InsecureSkipVerify records that TLS certificates were not verified
	// (--insecure-skip-verify).
	InsecureSkipVerify bool `json:"insecure_skip_verify,omitempty"`
	// TokenLifetimeS is how long, in wall-clock seconds, the session
	// tokens lived: the embedded backend's (scaled), or the pre-flight's
	// first sign-in's; absent when not known.
	TokenLifetimeS float64 `json:"token_lifetime_s,omitempty"`
}

// Shard says which part of a sharded run this result covers.
type Shard struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// Op is one operation's counts and latencies. Count = OK + the sum of Errors.
type Op struct {
	Count  int64            `json:"count"`
	OK     int64            `json:"ok"`
	Errors map[string]int64 `json:"errors"`
	// LatencyMs is measured from the intended start of scheduled work
	// (coordinated omission corrected), ServiceMs from the moment the request
	// was sent.
	LatencyMs Summary  `json:"latency_ms"`
	ServiceMs *Summary `json:"service_ms,omitempty"`
	// HDR and ServiceHDR are the histograms, HdrHistogram's compressed base64
	// form, values in microseconds, so results merge exactly.
	HDR        string `json:"hdr,omitempty"`
	ServiceHDR string `json:"service_hdr,omitempty"`
	// OutOfRange counts latencies outside the histogram's bounds (1 µs .. 1 h).
	OutOfRange int64 `json:"out_of_range,omitempty"`
	// Windows are the latencies per time window, coarsely, for compare to
	// see how clustered in time they are (docs/results.md).
	Windows *OpWindows `json:"windows,omitempty"`
	// ErrorAnswers breaks the errors down by what the server said: class,
	// HTTP status and error code, most frequent first; they add up to
	// ErrorCount (docs/results.md#what-the-server-said).
	ErrorAnswers []ErrorAnswer `json:"error_answers,omitempty"`
}

// ErrorCount is the sum of Errors.
func (o *Op) ErrorCount() int64 {
	var n int64
	for _, v := range o.Errors {
		n += v
	}
	return n
}

// Summary is a latency distribution in milliseconds.
type Summary struct {
	Min  float64 `json:"min"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// Sessions is what happened to the fleet's sessions.
type Sessions struct {
	// ByStatus counts clients by the last known status of their session at
	// the end of the run ("active", "revoked", "sign_in_failed", "none", ...).
	ByStatus       map[string]int64 `json:"by_status"`
	ForcedSignouts int64            `json:"forced_signouts"`
	ReSignIns      int64            `json:"re_sign_ins"`
	// ForcedSignoutsByCause splits ForcedSignouts by what ended the
	// session: the server's code ("session_expired", "session_abandoned",
	// "session_pending", ...), "cold_start" when a token cache in memory
	// lost it, "signed_out" when the answer named nothing.
	ForcedSignoutsByCause map[string]int64 `json:"forced_signouts_by_cause,omitempty"`
	// SignInsCancelled counts users who dismissed the sign-in flow and
	// left; SignInFlowFailures the flows that failed and were tried again
	// after think time (app.sign_in).
	SignInsCancelled   int64 `json:"sign_ins_cancelled,omitempty"`
	SignInFlowFailures int64 `json:"sign_in_flow_failures,omitempty"`
	// ServerByStatus counts the embedded backend's sessions by status at
	// the end of the run (the SDK's eight statuses, replaced and pending
	// included); absent against another target.
	ServerByStatus map[string]int64 `json:"server_by_status,omitempty"`
}

// Requests accounts for every API request the simulated apps made:
// Issued = Settled + Lost, Settled = OK + UserVisibleErrors + Cancelled.
type Requests struct {
	Issued            int64 `json:"issued"`
	Settled           int64 `json:"settled"`
	Lost              int64 `json:"lost"`
	OK                int64 `json:"ok"`
	UserVisibleErrors int64 `json:"user_visible_errors"`
	Cancelled         int64 `json:"cancelled"`
	RetryLoops        int64 `json:"retry_loops"`
	StaleTokenRetries int64 `json:"stale_token_retries"`
}

// Engine describes the load generator itself, so users can tell when
// stampede, not the target, was the bottleneck.
type Engine struct {
	// LagMs is how late scheduled work started (actual − intended start).
	LagMs      LagSummary `json:"lag_ms"`
	Clients    int        `json:"clients"`
	Goroutines int        `json:"goroutines"`
	// MaxRSSBytes is the process's peak resident memory.
	MaxRSSBytes int64 `json:"max_rss_bytes"`
	// QueuedRequests counts requests that waited in the engine for a free
	// connection of the shared pool before going out.
	QueuedRequests int64 `json:"queued_requests"`
	// FDLimit is the process's open-file limit (RLIMIT_NOFILE) during the
	// run, after stampede raised its soft limit to the hard one; 0 if unknown.
	FDLimit uint64 `json:"fd_limit,omitempty"`
	// Connections counts the connections the run opened to the target.
	Connections Connections `json:"connections,omitzero"`
	// TLS is the run's TLS handshakes with an https target (tls.go);
	// absent against a plain-HTTP one.
	TLS *TLS `json:"tls,omitempty"`
	// Sim describes the simulator of stampede simulate (sim.go); absent
	// for a live run.
	Sim *Sim `json:"sim,omitempty"`
}

// Connections counts a run's connections to the target.
type Connections struct {
	// Dials counts the TCP connections opened, TLSHandshakes the TLS
	// handshakes completed on them (0 against an http:// target).
	Dials         int64 `json:"dials"`
	TLSHandshakes int64 `json:"tls_handshakes"`
	// PeakOpen is the most connections open at once.
	PeakOpen int64 `json:"peak_open"`
	// PortsExhausted counts the dials that failed for want of an ephemeral
	// port (EADDRNOTAVAIL), FDsExhausted those that failed for want of a
	// file descriptor (EMFILE, ENFILE).
	PortsExhausted int64 `json:"ports_exhausted"`
	FDsExhausted   int64 `json:"fds_exhausted"`
	// SourceAddrs is how many local addresses the dials were spread over;
	// 1 when the kernel chose (see load.SourceAddrs).
	SourceAddrs int `json:"source_addrs"`
	// Protocol is what the connections spoke: "HTTP/1.1", "HTTP/2" or
	// "HTTP/1.1 and HTTP/2"; HTTP1Conns and HTTP2Conns count them (a
	// connection counts at its first answer), HTTP2Requests counts the
	// requests answered over HTTP/2, and MaxStreams is the most requests
	// in flight at once on one HTTP/2 connection (0 without HTTP/2).
	Protocol      string `json:"protocol,omitempty"`
	HTTP1Conns    int64  `json:"http1_conns"`
	HTTP2Conns    int64  `json:"http2_conns"`
	HTTP2Requests int64  `json:"http2_requests"`
	MaxStreams    int64  `json:"max_streams"`
}

// LagSummary is the scheduling lag distribution in milliseconds.
type LagSummary struct {
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// Timeline holds per-bucket series from the start of the run, one value per
// BucketMs. Counters count events in the bucket; gauges (in-flight, clients
// by state) are sampled at the bucket's end.
type Timeline struct {
	BucketMs        int     `json:"bucket_ms"`
	RefreshAttempts []int64 `json:"refresh_attempts"`
	RefreshOK       []int64 `json:"refresh_ok"`
	RefreshErrors   []int64 `json:"refresh_errors"`
	RefreshInflight []int64 `json:"refresh_inflight"`
	APICalls        []int64 `json:"api_calls"`
	API401          []int64 `json:"api_401"`
	ForcedSignouts  []int64 `json:"forced_signouts"`
	SignedIn        []int64 `json:"clients_signed_in"`
	SignedOut       []int64 `json:"clients_signed_out"`
	Background      []int64 `json:"clients_background"`
	Offline         []int64 `json:"clients_offline"`
	// ValidToken counts clients holding a session token that has not
	// expired and that the target has not rejected.
	ValidToken []int64 `json:"clients_valid_token"`
	// RefreshLatencyMs is the refresh latency over time, per WindowMs.
	RefreshLatencyMs LatencySeries `json:"refresh_latency_ms"`
}

// LatencySeries is a latency distribution over time: one value per window,
// from the refreshes answered in it (0 where none were).
type LatencySeries struct {
	WindowMs int       `json:"window_ms"`
	P50      []float64 `json:"p50"`
	P99      []float64 `json:"p99"`
	Max      []float64 `json:"max"`
}

// Add adds o's counts to r's.
func (r *Requests) Add(o Requests) {
	r.Issued += o.Issued
	r.Settled += o.Settled
	r.Lost += o.Lost
	r.OK += o.OK
	r.UserVisibleErrors += o.UserVisibleErrors
	r.Cancelled += o.Cancelled
	r.RetryLoops += o.RetryLoops
	r.StaleTokenRetries += o.StaleTokenRetries
}
