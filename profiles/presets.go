package profiles

import "time"

// SDK preset names (docs/profiles.md#sdk-presets).
const (
	SDKClerk    = "clerk"
	SDKFirebase = "firebase"
	SDKAuth0SPA = "auth0-spa"
	SDKCustom   = "custom"
)

// SDKPresetNames lists the SDK presets in the order of the table in docs/profiles.md#sdk-presets.
func SDKPresetNames() []string {
	return []string{SDKClerk, SDKFirebase, SDKAuth0SPA, SDKCustom}
}

// SDKPreset returns the SDK section a preset starts from, and whether the
// name is a preset. Every preset starts from Default().SDK and changes what
// its SDK does differently; a profile may then override any field.
//
// The figures are those of the table in docs/profiles.md#sdk-presets, read from the SDKs' own
// sources (2026). Behaviour the schema has no field for is noted, not modelled.
func SDKPreset(name string) (SDK, bool) {
	s := Default().SDK
	switch name {
	case SDKClerk:
		// docs/profiles.md#sdk-presets, clerk: background refresh at exp − 17 s (43 s into a
		// 60 s token), no jitter on the poller; getToken is
		// stale-while-revalidate within 15 s of exp. (Its synchronous fetch
		// when ≤ 5 s remain has no field here.)
		s.TokenMode = TokenModeSWR
		s.RefreshAhead = Duration(17 * time.Second)
		s.StaleWindow = Duration(15 * time.Second)
		// Retry: factor 1.55, first delay 3 s, cap 50 s, no jitter, 8
		// attempts online and 3 offline (the article: "a network_error after
		// internal retries"), no retry on 4xx but 429. These figures, like
		// the exp − 17 s cadence, are not in the article: they are the
		// project brief's reading of the SDK's sources (docs/fidelity.md).
		s.Retry = Retry{
			Base:              Duration(3 * time.Second),
			Cap:               Duration(50 * time.Second),
			Multiplier:        1.55,
			Jitter:            JitterNone,
			MaxRetries:        8,
			MaxRetriesOffline: 3,
		}
		// Clerk refreshes when the network comes back.
		s.RefreshOnReconnect = true
	case SDKFirebase:
		// docs/profiles.md#sdk-presets, firebase: proactive refresh 5 min before expiry of a
		// 1 h token (so a profile using it needs backend.token_lifetime
		// above 5 min, or its own sdk.refresh_ahead); a stale token is
		// refreshed lazily within 30 s of expiry and callers wait for it.
		s.TokenMode = TokenModeBlocking
		s.RefreshAhead = Duration(5 * time.Minute)
		s.StaleWindow = Duration(30 * time.Second)
		// Retry on network errors only: 30 s doubling to 16 min, no jitter.
		// Firebase retries until it succeeds; the schema needs a count, and
		// 100 retries at the 16 min cap outlast any run.
		s.Retry = Retry{
			Base:        Duration(30 * time.Second),
			Cap:         Duration(16 * time.Minute),
			Multiplier:  2,
			Jitter:      JitterNone,
			MaxRetries:  100,
			NetworkOnly: true,
		}
		// docs/profiles.md#sdk-presets names no network-restore hook for Firebase.
		s.RefreshOnReconnect = false
	case SDKAuth0SPA:
		// docs/profiles.md#sdk-presets, auth0-spa: refresh when within 60 s of expiry (so a
		// profile using it needs backend.token_lifetime above 60 s); callers
		// wait for the one refresh in flight per client (single flight).
		s.TokenMode = TokenModeBlocking
		s.RefreshAhead = Duration(60 * time.Second)
		s.StaleWindow = Duration(60 * time.Second)
		// No retry built in.
		s.Retry.MaxRetries = 0
		// docs/profiles.md#sdk-presets names no network-restore hook for auth0-spa.
		s.RefreshOnReconnect = false
	case SDKCustom:
		// Every field explicit: the defaults of Default().
	default:
		return SDK{}, false
	}
	s.Preset = name
	return s, true
}
