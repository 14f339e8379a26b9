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
var ErrorClasses = []string{"http_401", "http_429", "http_5xx", "network", "timeout", "other", "cancelled"}

// Result is everything one run measured: the content of result.json.
type Result struct {
	Schema      string           `json:"schema"`
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
	Events      []Event          `json:"events"`
	Timeline    Timeline         `json:"timeline"`
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
	// Burst10s counts refresh attempts in the 10 simulated seconds from the
	// event's start (after it ends, for an outage: the reconnection herd);
	// API401 and ForcedSignouts count over the same window.
	Burst10s       int64 `json:"burst_10s"`
	API401         int64 `json:"api_401"`
	ForcedSignouts int64 `json:"forced_signouts"`
}

// Target is what the run was aimed at.
type Target struct {
	// Kind is "embedded" (the in-process backend) or "fapi" (a server with
	// the embedded backend's endpoints, such as stampede serve).
	Kind string `json:"kind"`
	URL  string `json:"url"`
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
}
