package reports

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
	// method, path and body of the session) bearing a token that a newer
	// one of the session had superseded.
	StaleRetries int64 `json:"stale_retries"`
	// RetryLoops counts requests (method, path and body hash, per session)
	// retried more than the limit after 401s within the window.
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
