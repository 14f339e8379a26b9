// Package profiles defines what a stampede run simulates: the fleet, the SDK
// behaviour of each client, the app's habits and the embedded backend.
package profiles

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Connection models of Profile.Connections.
const (
	// ConnectionsShared sends every client's requests through one
	// keep-alive pool of at most 1,024 connections: the cheapest way to
	// load the target.
	ConnectionsShared = "shared"
	// ConnectionsPerClient gives each client keep-alive connections of its
	// own, as each phone has: they die when the client goes offline, is
	// suspended in the background or is killed, and coming back redials
	// (TCP and TLS handshakes), so an outage ends in a handshake storm.
	ConnectionsPerClient = "per_client"
)

// HTTP versions of Profile.HTTPVersion.
const (
	// HTTPVersionAuto speaks HTTP/2 to a TLS target that offers it (ALPN
	// h2), as a phone's stack does, and HTTP/1.1 otherwise.
	HTTPVersionAuto = "auto"
	// HTTPVersionHTTP1 speaks HTTP/1.1 only.
	HTTPVersionHTTP1 = "http1"
	// HTTPVersionHTTP2 speaks HTTP/2 only: over TLS a target that does not
	// offer h2 fails; to an http:// target it is h2c (prior knowledge).
	HTTPVersionHTTP2 = "http2"
)

// HTTPVersions lists the values of Profile.HTTPVersion.
func HTTPVersions() []string {
	return []string{HTTPVersionAuto, HTTPVersionHTTP1, HTTPVersionHTTP2}
}

// Token modes of getToken (docs/profiles.md#sdk-presets).
const (
	TokenModeSWR      = "swr"
	TokenModeBlocking = "blocking"
)

// Profile is one load scenario. Duration and Ramp are wall-clock time, what
// the user waits for; every other duration of the profile, event times
// included, is simulated time and is divided by TimeScale when the run starts.
type Profile struct {
	Name        string   `json:"name" yaml:"name"`
	Description string   `json:"description,omitempty" yaml:"description"`
	Clients     int      `json:"clients" yaml:"clients"`
	Duration    Duration `json:"duration" yaml:"duration"`
	Ramp        Duration `json:"ramp" yaml:"ramp"`
	TimeScale   float64  `json:"time_scale" yaml:"time_scale"`
	Seed        uint64   `json:"seed" yaml:"seed"`
	// Connections is how the simulated clients reach the target: one shared
	// keep-alive pool (ConnectionsShared) or connections of their own
	// (ConnectionsPerClient).
	Connections string `json:"connections" yaml:"connections"`
	// HTTPVersion is the HTTP versions the clients speak: HTTPVersionAuto
	// ("" too), HTTPVersionHTTP1 or HTTPVersionHTTP2.
	HTTPVersion string  `json:"http_version,omitempty" yaml:"http_version"`
	SDK         SDK     `json:"sdk" yaml:"sdk"`
	App         App     `json:"app" yaml:"app"`
	Network     Network `json:"network" yaml:"network"`
	Events      []Event `json:"events,omitempty" yaml:"events"`
	Backend     Backend `json:"backend" yaml:"backend"`

	// TLSResumption lets each client resume its TLS session with a ticket
	// from its previous connection when it redials (after an outage or a
	// suspension in the background), as a phone's HTTP stack does; a cold
	// start and the first dial have no ticket. With shared connections the
	// pool shares one session cache. False makes every handshake a full
	// one (docs/connections.md).
	TLSResumption bool `json:"tls_resumption" yaml:"tls_resumption"`

	// Target is what the run is aimed at: the embedded backend (the
	// default), a server like it, an OAuth 2.0 token endpoint or a custom
	// HTTP API.
	Target Target `json:"target,omitzero" yaml:"target"`
	// Thresholds gate the run: any that fails makes stampede exit 99.
	Thresholds []Threshold `json:"thresholds,omitempty" yaml:"thresholds"`
	// Invariants relaxes (or forces) the default invariant gates every
	// run has besides its thresholds (docs/profiles.md#invariants).
	Invariants Invariants `json:"invariants,omitzero" yaml:"invariants"`
	// Stages grow or shrink the fleet over the run (docs/profiles.md#stages);
	// with stages, Clients, Duration and Ramp follow from them (FitStages).
	Stages []Stage `json:"stages,omitempty" yaml:"stages"`
	// StageLeave is how a client a shrinking stage removes leaves:
	// StageLeaveGoAway (default) or StageLeaveSignOut.
	StageLeave string `json:"stage_leave,omitempty" yaml:"stage_leave"`
	// BackendModel is the modelled backend of stampede simulate; a live
	// run ignores it (backendmodel.go).
	BackendModel BackendModel `json:"backend_model,omitzero" yaml:"backend_model"`
}

// Invariants turns the default invariant gates on or off by name: each
// field is "" (the default: see InvariantGated), InvariantOn (gate it even
// where the interceptor does not promise it) or InvariantOff (relax it:
// still reported, and said to be relaxed, but it never fails the run).
type Invariants struct {
	// Lost gates requests.lost == 0: every API request the app issued settled.
	Lost string `json:"lost,omitempty" yaml:"lost"`
	// RetryLoops gates requests.retry_loops == 0: no request retried past
	// the interceptor's bound of one retry.
	RetryLoops string `json:"retry_loops,omitempty" yaml:"retry_loops"`
	// StaleTokenRetries gates requests.stale_token_retries == 0: no retry
	// sent with a token older than the client's newest.
	StaleTokenRetries string `json:"stale_token_retries,omitempty" yaml:"stale_token_retries"`
	// DuplicateRefreshes gates herd.duplicate_refreshes == 0: no client
	// refreshed while another refresh of its own was in flight.
	DuplicateRefreshes string `json:"duplicate_refreshes,omitempty" yaml:"duplicate_refreshes"`
}

// Invariant settings of the Invariants fields.
const (
	InvariantOn  = "on"
	InvariantOff = "off"
)

// Invariant names, as Invariants' YAML keys give them.
const (
	InvariantLost               = "lost"
	InvariantRetryLoops         = "retry_loops"
	InvariantStaleTokenRetries  = "stale_token_retries"
	InvariantDuplicateRefreshes = "duplicate_refreshes"
)

// InvariantNames lists the invariants in report order.
func InvariantNames() []string {
	return []string{InvariantLost, InvariantRetryLoops, InvariantStaleTokenRetries, InvariantDuplicateRefreshes}
}

// Setting is the setting of invariant name ("", on or off).
func (v Invariants) Setting(name string) string {
	switch name {
	case InvariantLost:
		return v.Lost
	case InvariantRetryLoops:
		return v.RetryLoops
	case InvariantStaleTokenRetries:
		return v.StaleTokenRetries
	case InvariantDuplicateRefreshes:
		return v.DuplicateRefreshes
	}
	return ""
}

// InvariantGated reports whether invariant name gates a run of p by
// default (its setting empty): requests.lost and requests.retry_loops
// always; requests.stale_token_retries and herd.duplicate_refreshes where
// the interceptor promises a single refresh per client
// (PromisesSingleFlight). An explicit setting wins.
func (p Profile) InvariantGated(name string) bool {
	switch p.Invariants.Setting(name) {
	case InvariantOn:
		return true
	case InvariantOff:
		return false
	}
	switch name {
	case InvariantLost, InvariantRetryLoops:
		return true
	case InvariantStaleTokenRetries, InvariantDuplicateRefreshes:
		return PromisesSingleFlight(p.SDK.Interceptor)
	}
	return false
}

// PromisesSingleFlight reports whether interceptor strategy s promises one
// refresh per client at a time whose new token every queued call is
// retried with: single_flight (and "", its default) and the bug_
// strategies, which are single_flight with a bug; naive and retry_once
// make no such promise.
func PromisesSingleFlight(s string) bool {
	return s != InterceptorNaive && s != InterceptorRetryOnce
}

// Threshold is one pass/fail gate on the result, "METRIC OP VALUE" such as
// "refresh.p99 < 250ms"; package profiles/threshold holds the grammar
// (metrics, operators, units), and Validate checks Expr with it.
type Threshold struct {
	Expr string `json:"expr" yaml:"expr"`
	// AbortOnFail stops the run as soon as the threshold fails on the live figures.
	AbortOnFail bool `json:"abort_on_fail,omitempty" yaml:"abort_on_fail"`
	// AllowNoData lets the threshold pass when its operation has no samples
	// (docs/profiles.md#thresholds); without it, no data fails.
	AllowNoData bool `json:"allow_no_data,omitempty" yaml:"allow_no_data"`
}

// SDK is how each simulated client's auth SDK keeps its session token.
type SDK struct {
	// Preset is the SDK whose behaviour the fields start from: "clerk",
	// "firebase", "auth0-spa" or "custom" (docs/profiles.md#sdk-presets; see SDKPreset). Parse
	// starts the section from the preset's values, then applies the fields
	// the profile gives.
	Preset string `json:"preset" yaml:"preset"`
	// TokenMode is how getToken answers inside the stale window: "swr" returns
	// the cached token and refreshes in the background, "blocking" waits.
	TokenMode string `json:"token_mode" yaml:"token_mode"`
	// RefreshAhead is how long before exp the poller refreshes.
	RefreshAhead Duration `json:"refresh_ahead" yaml:"refresh_ahead"`
	// StaleWindow is how long before exp a cached token counts as stale.
	StaleWindow Duration `json:"stale_window" yaml:"stale_window"`
	// RequestTimeout bounds every HTTP request; it is never scaled.
	RequestTimeout Duration `json:"request_timeout" yaml:"request_timeout"`
	// OfflineCache makes getToken return the cached token while offline
	// (the resource cache) instead of failing with a network error.
	OfflineCache bool `json:"offline_cache" yaml:"offline_cache"`
	// RefreshOnReconnect refreshes when the network comes back (a
	// NetInfo-style restore callback).
	RefreshOnReconnect bool `json:"refresh_on_reconnect" yaml:"refresh_on_reconnect"`
	// Interceptor is what the app's 401 interceptor does when an API call is
	// answered 401: one of Interceptors(), single_flight by default.
	Interceptor string `json:"interceptor" yaml:"interceptor"`
	Retry       Retry  `json:"retry" yaml:"retry"`
	// TokenCache is where the SDK keeps its tokens (the article's
	// tokenCache): TokenCacheSecure (the default) persists the client token,
	// and with OfflineCache the last session token too, across a cold
	// start; TokenCacheMemory keeps them in memory only, so a cold start
	// loses the session and the user signs in again; TokenCacheNone keeps
	// nothing: every cold start is a sign-in and the offline cache has
	// nothing to serve.
	TokenCache string `json:"token_cache" yaml:"token_cache"`
	// TreatPendingAsSignedOut makes a pending session (a session task such
	// as setup-mfa) look signed out to the app, as the SDK does by
	// default: the route guard sends the user to sign in again, which
	// replaces the pending session. False: the app shows the task and
	// waits for it, holding the session.
	TreatPendingAsSignedOut bool `json:"treat_pending_as_signed_out" yaml:"treat_pending_as_signed_out"`
}

// Token cache modes of SDK.TokenCache.
const (
	TokenCacheSecure = "secure"
	TokenCacheMemory = "memory"
	TokenCacheNone   = "none"
)

// TokenCaches lists the token cache modes, the default first.
func TokenCaches() []string { return []string{TokenCacheSecure, TokenCacheMemory, TokenCacheNone} }

// Interceptor strategies of SDK.Interceptor (issue 5): what the app does
// with an API call answered 401, after the isRefreshing / failedQueue
// pattern of the seed article. The bug_ strategies reproduce documented
// failures of that pattern, so that a run shows which invariant catches each.
const (
	// InterceptorSingleFlight is the correct pattern: one refresh per client
	// at a time; calls that get a 401 while it runs wait in a queue and are
	// retried once with the new token, or failed if the refresh fails.
	InterceptorSingleFlight = "single_flight"
	// InterceptorNaive refreshes on every 401, each call its own refresh:
	// a burst of calls that get 401 together refreshes that many times
	// (herd.duplicate_refreshes).
	InterceptorNaive = "naive"
	// InterceptorRetryOnce is the simple protected-API hook: each call that
	// gets a 401 refreshes once and retries once, with no queue; a second
	// 401 reaches the user (requests.user_visible_errors).
	InterceptorRetryOnce = "retry_once"
	// InterceptorBugUnsettledQueue is single_flight whose queued calls are
	// never settled (neither retried nor failed) when the refresh yields no
	// token: they hang (requests.lost).
	InterceptorBugUnsettledQueue = "bug_unsettled_queue"
	// InterceptorBugNoRetryFlag is single_flight without the "already
	// retried" mark: a retried call that gets 401 again refreshes and
	// retries again, without bound (requests.retry_loops).
	InterceptorBugNoRetryFlag = "bug_no_retry_flag"
	// InterceptorBugStuckFlag is single_flight whose refreshing flag is not
	// reset when the refresh fails: every later 401 joins a queue that is
	// never drained (requests.lost).
	InterceptorBugStuckFlag = "bug_stuck_flag"
	// InterceptorBugStaleRetry is single_flight whose queued calls are
	// retried with the token they first carried, not the new one
	// (requests.stale_token_retries).
	InterceptorBugStaleRetry = "bug_stale_retry"
)

// Interceptors lists the interceptor strategies: single_flight (the
// default) first, then naive and retry_once, then the reference bugs.
func Interceptors() []string {
	return []string{InterceptorSingleFlight, InterceptorNaive, InterceptorRetryOnce,
		InterceptorBugUnsettledQueue, InterceptorBugNoRetryFlag, InterceptorBugStuckFlag, InterceptorBugStaleRetry}
}

// Jitter strategies of the retry policy.
const (
	JitterNone         = "none"         // min(cap, base·m^n)
	JitterFull         = "full"         // U(0, min(cap, base·m^n))
	JitterEqual        = "equal"        // v/2 + U(0, v/2), v = min(cap, base·m^n)
	JitterDecorrelated = "decorrelated" // min(cap, U(base, 3·previous))
	JitterAdditive     = "additive"     // min(cap, base·m^n + U(0, spread)): docs/profiles.md#sdk-presets's default
)

// Retry is the backoff policy for failed sign-ins and refreshes. No retry on
// 4xx except 429; Retry-After is honoured.
type Retry struct {
	Base       Duration `json:"base" yaml:"base"`
	Cap        Duration `json:"cap" yaml:"cap"`
	Multiplier float64  `json:"multiplier" yaml:"multiplier"`
	// Jitter is the strategy: none, full, equal, decorrelated or additive.
	Jitter string `json:"jitter" yaml:"jitter"`
	// Spread is the U(0, spread) term of the additive strategy.
	Spread Duration `json:"spread" yaml:"spread"`
	// MaxRetries is how many times a request is attempted, the first
	// attempt included, as the article's retryWithBackoff(fn, maxRetries)
	// loop counts them: 3 makes three attempts (two retries); 0 and 1 make
	// one attempt, no retry.
	MaxRetries int `json:"max_retries" yaml:"max_retries"`
	// MaxRetriesOffline replaces MaxRetries while the device is offline,
	// so that getToken fails fast with a network error (the SDK's
	// "network_error after internal retries"); 0 means MaxRetries.
	MaxRetriesOffline int `json:"max_retries_offline,omitempty" yaml:"max_retries_offline"`
	// NetworkOnly retries network errors and timeouts only, not 429 or 5xx.
	NetworkOnly bool `json:"network_only" yaml:"network_only"`
}

// App is what the simulated app does with its session.
type App struct {
	// APICallsPerMinute is each foreground client's mean rate of screen
	// loads (Poisson arrivals), each firing Burst protected API calls at
	// once; 0 disables API calls. With the default Burst of 1 it is the
	// rate of API calls.
	APICallsPerMinute float64 `json:"api_calls_per_minute" yaml:"api_calls_per_minute"`
	// Burst is how many API calls a screen load fires at once, 1 to
	// MaxBurst: calls of one client that get a 401 together race to its
	// interceptor (SDK.Interceptor).
	Burst int `json:"burst" yaml:"burst"`
	// ThinkTime is how long a user takes to sign in again after a forced sign-out.
	ThinkTime Duration  `json:"think_time" yaml:"think_time"`
	Lifecycle Lifecycle `json:"lifecycle" yaml:"lifecycle"`
	// SignIn is what signing in again costs the user: the sign-in UI's
	// time, and the chances that the user cancels or the flow fails. The
	// ramp's first sign-in is the fleet's starting state and skips it.
	SignIn SignIn `json:"sign_in,omitzero" yaml:"sign_in"`
}

// Sign-in methods of SignIn.Method.
const (
	SignInPassword    = "password"     // a password form
	SignInBrowserSSO  = "browser_sso"  // OAuth in a browser (useSSO): the flow that users dismiss
	SignInNativeOAuth = "native_oauth" // the platform's credential picker (Credential Manager, ASAuthorization)
)

// SignInMethods lists the sign-in methods.
func SignInMethods() []string { return []string{SignInPassword, SignInBrowserSSO, SignInNativeOAuth} }

// SignIn is how a user signs in again after losing a session.
type SignIn struct {
	// Method names the flow (password, browser_sso or native_oauth); the
	// figures below are what it costs.
	Method string `json:"method,omitempty" yaml:"method"`
	// Latency is the time the user spends in the flow before the sign-in
	// request goes out (simulated time); zero is at once.
	Latency Dist `json:"latency,omitzero" yaml:"latency"`
	// CancelRate is the chance the user dismisses the flow and leaves:
	// the client stays signed out for the rest of the run.
	CancelRate float64 `json:"cancel_rate,omitempty" yaml:"cancel_rate"`
	// FailureRate is the chance the flow fails (an error screen): the user
	// tries again after think time.
	FailureRate float64 `json:"failure_rate,omitempty" yaml:"failure_rate"`
}

// MaxBurst bounds App.Burst.
const MaxBurst = 1000

// Lifecycle is how the app moves between foreground and background.
type Lifecycle struct {
	// Model is "foreground" (always in the foreground) or "background_foreground"
	// (foreground stints of Foreground, then background gaps of Background).
	Model      string `json:"model" yaml:"model"`
	Foreground Dist   `json:"foreground" yaml:"foreground"`
	Background Dist   `json:"background" yaml:"background"`
	// ColdStart is the chance that the app was killed while in the
	// background: it restarts from the persisted client token, with no
	// session token in memory.
	ColdStart float64 `json:"cold_start" yaml:"cold_start"`
}

// Lifecycle models.
const (
	LifecycleForeground           = "foreground"
	LifecycleBackgroundForeground = "background_foreground"
)

// Distributions of Dist.
const (
	DistFixed       = "fixed"       // always Value
	DistExponential = "exponential" // mean Value
	DistLognormal   = "lognormal"   // median Value, shape Sigma
	// DistChoice is one of Values, each as likely: the article's test plan
	// of background gaps of 1 minute, 5+ minutes and hours.
	DistChoice = "choice"
)

// Dist is a seeded random duration.
type Dist struct {
	Dist  string   `json:"dist" yaml:"dist"`
	Value Duration `json:"value,omitempty" yaml:"value"`
	Sigma float64  `json:"sigma,omitempty" yaml:"sigma"`
	// Values are the durations of a choice distribution.
	Values []Duration `json:"values,omitempty" yaml:"values"`
}

// IsZero reports whether d is unset.
func (d Dist) IsZero() bool {
	return d.Dist == "" && d.Value == 0 && d.Sigma == 0 && len(d.Values) == 0
}

// Network is every client's link to the target.
type Network struct {
	// Preset names a published link profile (see NetworkPresets); explicit
	// fields override it. "" or "none" is an unimpaired link. Parse copies
	// the preset's figures into the fields below, so the engine reads only
	// those; Preset stays as a record of where they came from.
	Preset string `json:"preset" yaml:"preset"`
	// Latency is added to each request (round trip); Jitter varies it ±.
	Latency Duration `json:"latency" yaml:"latency"`
	Jitter  Duration `json:"jitter" yaml:"jitter"`
	// Loss is the chance a request is lost: it hangs until the request timeout.
	Loss float64 `json:"loss" yaml:"loss"`
	// DownKbps and UpKbps limit bandwidth; 0 is unlimited.
	DownKbps float64 `json:"down_kbps" yaml:"down_kbps"`
	UpKbps   float64 `json:"up_kbps" yaml:"up_kbps"`
}

// Event types.
const (
	EventOutage              = "outage"
	EventKeyRotation         = "key_rotation"
	EventRevocationWave      = "revocation_wave"
	EventBrownout            = "brownout"
	EventSpurious401         = "spurious_401"
	EventClockSkew           = "clock_skew"
	EventClientTokenRotation = "client_token_rotation"
	// EventSessionTask moves a share of the sessions into pending with a
	// session task; its users complete the task after Duration.
	EventSessionTask = "session_task"
	// EventSessionEnd ends a share of the sessions through the backend's
	// end endpoint, as session.end() does.
	EventSessionEnd = "session_end"
	// EventToxic adds a Toxiproxy toxic to a proxy between stampede and the
	// target for Duration (0: until the end), then removes it.
	EventToxic = "toxic"
	// EventSlowBody has stampede proxy trickle the answers' bodies of a
	// route class for Duration.
	EventSlowBody = "slow_body"
)

// Outage modes.
const (
	OutageFailFast  = "fail_fast" // airplane mode: immediate network error
	OutageBlackhole = "blackhole" // elevator: requests hang until the timeout
)

// Event is one fleet-wide fault on the run's timeline. Which fields apply
// depends on Type.
type Event struct {
	Type string `json:"type" yaml:"type"`
	// At is when it starts: simulated time from the start, or a share of the run.
	At At `json:"at" yaml:"at"`
	// Duration is how long it lasts (outage, brownout, spurious_401, clock_skew;
	// 0 for clock_skew and client_token_rotation means until the end).
	Duration Duration `json:"duration,omitempty" yaml:"duration"`
	// Fraction is the share of clients (outage, clock_skew devices) or of
	// active sessions (revocation_wave) affected.
	Fraction float64 `json:"fraction,omitempty" yaml:"fraction"`
	// Mode is the outage mode: fail_fast or blackhole.
	Mode string `json:"mode,omitempty" yaml:"mode"`
	// RestoreSpread spreads the clients' reconnection over this window after
	// the outage (0: all at once).
	RestoreSpread Duration `json:"restore_spread,omitempty" yaml:"restore_spread"`
	// Overlap keeps the previous signing key valid (key_rotation).
	Overlap bool `json:"overlap,omitempty" yaml:"overlap"`
	// Brownout of the token endpoint: added Latency (not scaled), and the
	// shares of refreshes answered 429 (with RetryAfter) and 503.
	Latency    Duration `json:"latency,omitempty" yaml:"latency"`
	Rate429    float64  `json:"rate_429,omitempty" yaml:"rate_429"`
	RetryAfter Duration `json:"retry_after,omitempty" yaml:"retry_after"`
	Rate503    float64  `json:"rate_503,omitempty" yaml:"rate_503"`
	// Rate is the share of API calls answered with a spurious 401 (spurious_401).
	Rate float64 `json:"rate,omitempty" yaml:"rate"`
	// ServerOffset moves the server's clock (clock_skew); DeviceOffset moves
	// the clocks of Fraction of the devices.
	ServerOffset Duration `json:"server_offset,omitempty" yaml:"server_offset"`
	DeviceOffset Duration `json:"device_offset,omitempty" yaml:"device_offset"`
	// Grace is the reuse grace period of client_token_rotation: a rotated
	// client token reused within Grace is accepted, later it revokes the session.
	Grace Duration `json:"grace,omitempty" yaml:"grace"`
	// Proxy is the Toxiproxy proxy a toxic event acts on (its name).
	Proxy string `json:"proxy,omitempty" yaml:"proxy"`
	// Toxic is what a toxic event adds to Proxy.
	Toxic Toxic `json:"toxic,omitzero" yaml:"toxic"`
	// Task is the session task of a session_task event: choose-organization,
	// reset-password or setup-mfa.
	Task string `json:"task,omitempty" yaml:"task"`
	// Slow bodies (slow_body, applied by stampede proxy): the answers on
	// Route ("token": sign-ins and refreshes, "api", or "all", the
	// default) trickle out in chunks of ChunkSize bytes (0: 1024), at
	// BytesPerSecond or one chunk every ChunkDelay (wall-clock, not
	// scaled).
	BytesPerSecond float64  `json:"bytes_per_second,omitempty" yaml:"bytes_per_second"`
	ChunkDelay     Duration `json:"chunk_delay,omitempty" yaml:"chunk_delay"`
	ChunkSize      int      `json:"chunk_size,omitempty" yaml:"chunk_size"`
	Route          string   `json:"route,omitempty" yaml:"route"`
}

// Route classes of a slow_body event.
const (
	RouteToken = "token"
	RouteAPI   = "api"
	RouteAll   = "all"
)

// DefaultChunkSize is a slow_body event's chunk size when it gives none.
const DefaultChunkSize = 1024

// Session tasks of a session_task event, the article's three.
const (
	TaskChooseOrganization = "choose-organization"
	TaskResetPassword      = "reset-password"
	TaskSetupMFA           = "setup-mfa"
)

// SessionTasks lists the session tasks.
func SessionTasks() []string {
	return []string{TaskChooseOrganization, TaskResetPassword, TaskSetupMFA}
}

// At is an event time: an absolute simulated offset, or a share of the run.
type At struct {
	Offset Duration // when Share is 0
	Share  float64  // 0 < Share ≤ 1: that share of the run's duration
}

// WallOffset is when e starts, in wall-clock time from the start of the run.
func (p Profile) WallOffset(a At) time.Duration {
	if a.Share > 0 {
		return time.Duration(a.Share * float64(p.Duration))
	}
	return p.Scale(a.Offset)
}

// String writes an At as a profile would: "3m0s" or "50%".
func (a At) String() string {
	if a.Share > 0 {
		return strconv.FormatFloat(a.Share*100, 'f', -1, 64) + "%"
	}
	return a.Offset.String()
}

// MarshalJSON writes the At as a string, "3m0s" or "50%".
func (a At) MarshalJSON() ([]byte, error) { return json.Marshal(a.String()) }

// UnmarshalJSON reads "3m0s" or "50%".
func (a *At) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("event time must be a string such as \"3m\" or \"50%%\": %w", err)
	}
	v, err := ParseAt(s)
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// ParseAt reads an event time: a duration ("3m") or a share of the run ("50%").
func ParseAt(s string) (At, error) {
	if pct, ok := strings.CutSuffix(strings.TrimSpace(s), "%"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(pct), 64)
		if err != nil || !(f > 0 && f <= 100) {
			return At{}, fmt.Errorf("invalid event time %q: a share must be more than 0%% and at most 100%%", s)
		}
		return At{Share: f / 100}, nil
	}
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return At{}, fmt.Errorf("invalid event time %q: want a duration such as \"3m\" or a share such as \"50%%\"", s)
	}
	if d < 0 {
		return At{}, fmt.Errorf("invalid event time %q: must not be negative", s)
	}
	return At{Offset: Duration(d)}, nil
}

// Backend configures the embedded backend (ignored against an external target).
type Backend struct {
	TokenLifetime     Duration `json:"token_lifetime" yaml:"token_lifetime"`
	MaxLifetime       Duration `json:"max_lifetime" yaml:"max_lifetime"`
	InactivityTimeout Duration `json:"inactivity_timeout" yaml:"inactivity_timeout"`
	Signing           string   `json:"signing" yaml:"signing"`
	// MaxInflight and MaxQueue bound the embedded backend's admission
	// control (stampede serve --max-inflight, --max-queue): beyond them it
	// sheds with 503. 0 is the backend's default.
	MaxInflight int `json:"max_inflight,omitempty" yaml:"max_inflight"`
	MaxQueue    int `json:"max_queue,omitempty" yaml:"max_queue"`
	// ServiceTime is how long the embedded backend holds each admitted
	// request's slot (simulated): a stand-in for a real endpoint's
	// database work, so that its capacity is MaxInflight / ServiceTime.
	ServiceTime Duration `json:"service_time,omitempty" yaml:"service_time"`
}

// Default returns the "default" profile: 1,000 clients for 60 s of wall time
// at time scale 10 (ten simulated minutes of 60 s RS256 tokens), 10 s ramp.
// It is the one source of defaults: a parsed profile starts from it, and
// builtin/default.yaml writes every one of its fields out.
func Default() Profile {
	return Profile{
		Name: "default",
		Description: "A healthy baseline: 1,000 foreground clients refresh 60 s RS256 session tokens and call the API, no faults.\n" +
			"Look at ops.refresh.latency_ms (p99), herd.peak_to_mean (near 1: refreshes spread out) and requests.lost (0).\n" +
			"Gated by the default invariants alone, no threshold: requests.lost, requests.retry_loops, requests.stale_token_retries and herd.duplicate_refreshes, each == 0.",
		Clients:     1000,
		Duration:    Duration(60 * time.Second),
		Ramp:        Duration(10 * time.Second),
		TimeScale:   10,
		Seed:        1,
		Connections: ConnectionsShared,
		HTTPVersion: HTTPVersionAuto,

		TLSResumption: true,

		SDK: SDK{
			Preset:             "custom",
			TokenMode:          TokenModeSWR,
			RefreshAhead:       Duration(17 * time.Second),
			StaleWindow:        Duration(15 * time.Second),
			RequestTimeout:     Duration(10 * time.Second),
			RefreshOnReconnect: true,
			Interceptor:        InterceptorSingleFlight,
			TokenCache:         TokenCacheSecure,

			TreatPendingAsSignedOut: true,
			Retry: Retry{
				Base:       Duration(time.Second),
				Cap:        Duration(10 * time.Second),
				Multiplier: 2,
				Jitter:     JitterAdditive,
				Spread:     Duration(time.Second),
				MaxRetries: 3,
			},
		},
		App: App{
			APICallsPerMinute: 4,
			Burst:             1,
			ThinkTime:         Duration(5 * time.Second),
			Lifecycle:         Lifecycle{Model: LifecycleForeground},
		},
		Backend: Backend{
			TokenLifetime: Duration(60 * time.Second),
			MaxLifetime:   Duration(7 * 24 * time.Hour),
			Signing:       "RS256",
		},
	}
}

// Scale converts a simulated duration to wall-clock time under the profile's time scale.
func (p Profile) Scale(d Duration) time.Duration {
	if p.TimeScale <= 0 {
		return time.Duration(d)
	}
	return time.Duration(float64(d) / p.TimeScale)
}

// Toxiproxy toxic types of a toxic event.
const (
	ToxicLatency   = "latency"    // delays data by latency ± jitter
	ToxicBandwidth = "bandwidth"  // limits the stream to rate KB/s
	ToxicTimeout   = "timeout"    // stops all data, closes after timeout (0: never)
	ToxicResetPeer = "reset_peer" // resets connections (TCP RST) after timeout
	ToxicSlowClose = "slow_close" // delays closing connections by delay
)

// Toxic streams: the direction a toxic acts on.
const (
	StreamDownstream = "downstream" // from the target to stampede (the default)
	StreamUpstream   = "upstream"   // from stampede to the target
)

// Toxic is one Toxiproxy toxic (see github.com/Shopify/toxiproxy).
type Toxic struct {
	// Type is latency, bandwidth, timeout, reset_peer or slow_close.
	Type string `json:"type" yaml:"type"`
	// Stream is downstream (default) or upstream.
	Stream string `json:"stream,omitempty" yaml:"stream"`
	// Toxicity is the share of connections the toxic acts on; 0 means 1.
	Toxicity   float64         `json:"toxicity,omitempty" yaml:"toxicity"`
	Attributes ToxicAttributes `json:"attributes,omitzero" yaml:"attributes"`
}

// ToxicAttributes are a toxic's parameters; which apply depends on its
// type. Durations are wall-clock time (never scaled), sent to Toxiproxy in
// milliseconds.
type ToxicAttributes struct {
	Latency Duration `json:"latency,omitempty" yaml:"latency"` // latency
	Jitter  Duration `json:"jitter,omitempty" yaml:"jitter"`   // latency
	Rate    int      `json:"rate,omitempty" yaml:"rate"`       // bandwidth, KB/s
	Timeout Duration `json:"timeout,omitempty" yaml:"timeout"` // timeout, reset_peer
	Delay   Duration `json:"delay,omitempty" yaml:"delay"`     // slow_close
}

// Target kinds.
const (
	// TargetBuiltin is the embedded backend, in process.
	TargetBuiltin = "builtin"
	// TargetFAPI is a server with the embedded backend's endpoints at URL,
	// such as stampede serve.
	TargetFAPI = "fapi"
	// TargetOAuth2 is an OAuth 2.0 authorization server's token endpoint.
	TargetOAuth2 = "oauth2"
	// TargetHTTP is a custom HTTP API described by request templates.
	TargetHTTP = "http"
)

// TargetKinds lists the target kinds.
func TargetKinds() []string {
	return []string{TargetBuiltin, TargetFAPI, TargetOAuth2, TargetHTTP}
}

// OAuth 2.0 client authentication methods.
const (
	AuthMethodBasic = "basic" // client_secret_basic
	AuthMethodPost  = "post"  // client_secret_post
)

// Expiry sources of an OAuth 2.0 access token.
const (
	ExpiryAuto      = "auto"       // the JWT's exp, else expires_in
	ExpiryJWT       = "jwt"        // the JWT's exp
	ExpiryExpiresIn = "expires_in" // expires_in
)

// RedactedSecret is what a secret is replaced with wherever a profile is written out.
const RedactedSecret = "[redacted]"

// Target is what a run is aimed at. Kind "" is builtin, or fapi when a URL
// is given (by url or --target).
type Target struct {
	Kind string `json:"kind,omitempty" yaml:"kind"`
	// URL is the target's base URL (fapi, oauth2, http); --target overrides it.
	URL string `json:"url,omitempty" yaml:"url"`

	// TokenEndpoint is the OAuth 2.0 token endpoint: a path joined to URL,
	// or an absolute URL.
	TokenEndpoint string `json:"token_endpoint,omitempty" yaml:"token_endpoint"`
	ClientID      string `json:"client_id,omitempty" yaml:"client_id"`
	// ClientSecret is never written out (see RedactedSecret); ClientSecretEnv
	// names an environment variable holding it instead.
	ClientSecret    string `json:"client_secret,omitempty" yaml:"client_secret"`
	ClientSecretEnv string `json:"client_secret_env,omitempty" yaml:"client_secret_env"`
	// AuthMethod is how the client authenticates: basic (default) or post.
	AuthMethod string `json:"auth_method,omitempty" yaml:"auth_method"`
	Scope      string `json:"scope,omitempty" yaml:"scope"`
	// Users sign in with the password grant; CredentialsFile holds refresh
	// tokens minted beforehand (stampede creds), one JSON line a client.
	Users           Users  `json:"users,omitzero" yaml:"users"`
	CredentialsFile string `json:"credentials_file,omitempty" yaml:"credentials_file"`
	// AuthorizationEndpoint and DeviceAuthorizationEndpoint (paths joined
	// to URL, or absolute URLs) and RedirectURI (the client's registered
	// one, absolute) are what stampede creds needs to mint refresh tokens
	// by the authorization-code grant with PKCE (--grant code) or the
	// device authorization grant (--grant device); runs do not use them.
	AuthorizationEndpoint       string `json:"authorization_endpoint,omitempty" yaml:"authorization_endpoint"`
	DeviceAuthorizationEndpoint string `json:"device_authorization_endpoint,omitempty" yaml:"device_authorization_endpoint"`
	RedirectURI                 string `json:"redirect_uri,omitempty" yaml:"redirect_uri"`
	// UpdateCredentials writes each client's newest refresh token back to
	// CredentialsFile at every checkpoint and at the end of the run, so
	// that the file survives a provider that rotates refresh tokens.
	UpdateCredentials bool `json:"update_credentials,omitempty" yaml:"update_credentials"`
	// APIURL is the protected endpoint the apps call with the bearer token:
	// a path joined to URL, or an absolute URL.
	APIURL string `json:"api_url,omitempty" yaml:"api_url"`
	// RefreshInterval, when set, makes clients refresh this often (simulated
	// time) although the provider's access tokens live longer.
	RefreshInterval Duration `json:"refresh_interval,omitempty" yaml:"refresh_interval"`
	// Expiry is where an access token's lifetime comes from: auto (the
	// JWT's exp, else expires_in), jwt or expires_in.
	Expiry string `json:"expiry,omitempty" yaml:"expiry"`
	// ReusePattern is a regular expression matching the error_description
	// of a refused reused refresh token; "" is stampede's default.
	ReusePattern string `json:"reuse_pattern,omitempty" yaml:"reuse_pattern"`

	// SignIn, Refresh and API are the request templates of an http target;
	// Response says where its answers carry the tokens.
	SignIn   HTTPRequest  `json:"sign_in,omitzero" yaml:"sign_in"`
	Refresh  HTTPRequest  `json:"refresh,omitzero" yaml:"refresh"`
	API      HTTPRequest  `json:"api,omitzero" yaml:"api"`
	Response HTTPResponse `json:"response,omitzero" yaml:"response"`

	// TLS serves the embedded backend (kind builtin) over TLS 1.3 with a
	// certificate generated for the run, which the run's clients trust
	// (docs/connections.md).
	TLS bool `json:"tls,omitempty" yaml:"tls"`

	// Toxiproxy is the toxiproxy-server API that toxic events drive
	// (default http://127.0.0.1:8474).
	Toxiproxy string `json:"toxiproxy,omitempty" yaml:"toxiproxy"`
}

// HTTPRequest is one request template of an http target. Path, each
// header's value and Body are Go templates (text/template) over the
// client's variables: .Index, .User and .Password when signing in,
// .SessionID and .RefreshToken when refreshing, .Token for the API; the
// functions json (a JSON string) and env (an environment variable, read
// when the run starts: a secret stays out of the profile).
type HTTPRequest struct {
	// Method defaults to POST (GET for api).
	Method string `json:"method,omitempty" yaml:"method"`
	// Path is joined to target.url, or an absolute URL.
	Path string `json:"path,omitempty" yaml:"path"`
	// Headers are "Name: value" lines.
	Headers []string `json:"headers,omitempty" yaml:"headers"`
	Body    string   `json:"body,omitempty" yaml:"body"`
}

// HTTPResponse says where an http target's sign-in and refresh answers
// carry what the client keeps: JSON paths such as "data.access_token"
// (dots between keys, numbers index lists), or "header:Name".
type HTTPResponse struct {
	// Token is the session (access) token: required.
	Token string `json:"token,omitempty" yaml:"token"`
	// RefreshToken is the long-lived token refreshes send as
	// .RefreshToken; a refresh answer carrying one rotates it.
	RefreshToken string `json:"refresh_token,omitempty" yaml:"refresh_token"`
	// SessionID identifies the session (default: the user).
	SessionID string `json:"session_id,omitempty" yaml:"session_id"`
	// ExpiresIn (seconds) or ExpiresAt (Unix seconds) say when Token
	// expires when it is not a JWT with exp.
	ExpiresIn string `json:"expires_in,omitempty" yaml:"expires_in"`
	ExpiresAt string `json:"expires_at,omitempty" yaml:"expires_at"`
}

// Users are the password-grant users of an oauth2 target: client i signs
// in as Pattern with i+Offset, or as line i of File, with Password.
type Users struct {
	Pattern string `json:"pattern,omitempty" yaml:"pattern"`
	Offset  int    `json:"offset,omitempty" yaml:"offset"`
	// File lists users one a line: "name" or "name:password".
	File string `json:"file,omitempty" yaml:"file"`
	// Password is never written out; PasswordEnv names an environment
	// variable holding it instead.
	Password    string `json:"password,omitempty" yaml:"password"`
	PasswordEnv string `json:"password_env,omitempty" yaml:"password_env"`
}

// TargetKind is the kind of target the profile aims at, "" resolved:
// builtin, or fapi when a URL is given.
func (p Profile) TargetKind() string {
	if p.Target.Kind != "" {
		return p.Target.Kind
	}
	if p.Target.URL != "" {
		return TargetFAPI
	}
	return TargetBuiltin
}

// Redacted returns p with its secrets replaced by RedactedSecret: what may be
// printed or written to result.json.
func (p Profile) Redacted() Profile {
	p.Target.URL = redactURL(p.Target.URL)
	p.Target.TokenEndpoint = redactURL(p.Target.TokenEndpoint)
	p.Target.APIURL = redactURL(p.Target.APIURL)
	if p.Target.ClientSecret != "" {
		p.Target.ClientSecret = RedactedSecret
	}
	if p.Target.Users.Password != "" {
		p.Target.Users.Password = RedactedSecret
	}
	for _, r := range []*HTTPRequest{&p.Target.SignIn, &p.Target.Refresh, &p.Target.API} {
		r.Headers = redactHeaders(r.Headers)
	}
	return p
}

// redactHeaders replaces the literal values of credential-like headers
// (Authorization, cookies, keys, tokens, secrets); a template's text, such
// as "Bearer {{.Token}}" or {{env "KEY"}}, holds no secret and stays.
func redactHeaders(hs []string) []string {
	var out []string
	for i, h := range hs {
		name, value, ok := strings.Cut(h, ":")
		if !ok || strings.Contains(value, "{{") || !credentialHeader(name) {
			continue
		}
		if out == nil {
			out = slices.Clone(hs)
		}
		out[i] = name + ": " + RedactedSecret
	}
	if out == nil {
		return hs
	}
	return out
}

// credentialHeader reports whether a header's name says it carries a credential.
func credentialHeader(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"auth", "cookie", "key", "token", "secret", "password"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}
