// Package profiles defines what a stampede run simulates: the fleet, the SDK
// behaviour of each client, the app's habits and the embedded backend.
package profiles

import (
	"errors"
	"fmt"
	"time"
)

// Token modes of getToken (DESIGN §1).
const (
	TokenModeSWR      = "swr"
	TokenModeBlocking = "blocking"
)

// Signing algorithms of the embedded backend.
var signings = []string{"RS256", "ES256", "EdDSA"}

// Profile is one load scenario. Duration and Ramp are wall-clock time, what
// the user waits for; every other duration is simulated time and is divided
// by TimeScale when the run starts.
type Profile struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Clients     int      `json:"clients"`
	Duration    Duration `json:"duration"`
	Ramp        Duration `json:"ramp"`
	TimeScale   float64  `json:"time_scale"`
	Seed        uint64   `json:"seed"`
	SDK         SDK      `json:"sdk"`
	App         App      `json:"app"`
	Backend     Backend  `json:"backend"`
}

// SDK is how each simulated client's auth SDK keeps its session token.
type SDK struct {
	// TokenMode is how getToken answers inside the stale window: "swr" returns
	// the cached token and refreshes in the background, "blocking" waits.
	TokenMode string `json:"token_mode"`
	// RefreshAhead is how long before exp the poller refreshes.
	RefreshAhead Duration `json:"refresh_ahead"`
	// StaleWindow is how long before exp a cached token counts as stale.
	StaleWindow Duration `json:"stale_window"`
	// RequestTimeout bounds every HTTP request; it is never scaled.
	RequestTimeout Duration `json:"request_timeout"`
	Retry          Retry    `json:"retry"`
}

// Retry is the backoff policy for failed sign-ins and refreshes:
// min(base·2^attempt + U(0, jitter), cap), at most MaxRetries retries, no retry
// on 4xx except 429, Retry-After honoured.
type Retry struct {
	Base       Duration `json:"base"`
	Cap        Duration `json:"cap"`
	Jitter     Duration `json:"jitter"`
	MaxRetries int      `json:"max_retries"`
}

// App is what the simulated app does with its session.
type App struct {
	// APICallsPerMinute is each foreground client's mean rate of protected API
	// calls (Poisson arrivals); 0 disables API calls.
	APICallsPerMinute float64 `json:"api_calls_per_minute"`
	// ThinkTime is how long a user takes to sign in again after a forced sign-out.
	ThinkTime Duration `json:"think_time"`
}

// Backend configures the embedded backend (ignored against an external target).
type Backend struct {
	TokenLifetime     Duration `json:"token_lifetime"`
	MaxLifetime       Duration `json:"max_lifetime"`
	InactivityTimeout Duration `json:"inactivity_timeout"`
	Signing           string   `json:"signing"`
}

// Default returns the "default" profile: 1,000 clients for 60 s of wall time
// at time scale 10 (ten simulated minutes of 60 s RS256 tokens), 10 s ramp.
func Default() Profile {
	return Profile{
		Name:        "default",
		Description: "1,000 foreground clients refresh 60 s session tokens and call the API; a healthy baseline.",
		Clients:     1000,
		Duration:    Duration(60 * time.Second),
		Ramp:        Duration(10 * time.Second),
		TimeScale:   10,
		Seed:        1,
		SDK: SDK{
			TokenMode:      TokenModeSWR,
			RefreshAhead:   Duration(17 * time.Second),
			StaleWindow:    Duration(15 * time.Second),
			RequestTimeout: Duration(10 * time.Second),
			Retry: Retry{
				Base:       Duration(time.Second),
				Cap:        Duration(10 * time.Second),
				Jitter:     Duration(time.Second),
				MaxRetries: 3,
			},
		},
		App: App{
			APICallsPerMinute: 4,
			ThinkTime:         Duration(5 * time.Second),
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

// FieldError is one invalid profile field, named by its path (e.g. "sdk.retry.base").
type FieldError struct {
	Path    string
	Message string
}

func (e *FieldError) Error() string { return e.Path + ": " + e.Message }

// Validate reports every invalid field at once, joined; nil when the profile is valid.
func (p Profile) Validate() error {
	var errs []error
	bad := func(path, format string, args ...any) {
		errs = append(errs, &FieldError{Path: path, Message: fmt.Sprintf(format, args...)})
	}
	positive := func(path string, d Duration) {
		if d <= 0 {
			bad(path, "must be greater than 0, got %s", d)
		}
	}
	nonNegative := func(path string, d Duration) {
		if d < 0 {
			bad(path, "must not be negative, got %s", d)
		}
	}
	if p.Clients <= 0 {
		bad("clients", "must be at least 1, got %d", p.Clients)
	}
	positive("duration", p.Duration)
	nonNegative("ramp", p.Ramp)
	if p.Ramp > p.Duration && p.Duration > 0 {
		bad("ramp", "must not exceed duration (%s), got %s", p.Duration, p.Ramp)
	}
	if !(p.TimeScale >= 1) {
		bad("time_scale", "must be at least 1, got %g", p.TimeScale)
	}
	switch p.SDK.TokenMode {
	case TokenModeSWR, TokenModeBlocking:
	default:
		bad("sdk.token_mode", "must be %q or %q, got %q", TokenModeSWR, TokenModeBlocking, p.SDK.TokenMode)
	}
	nonNegative("sdk.refresh_ahead", p.SDK.RefreshAhead)
	nonNegative("sdk.stale_window", p.SDK.StaleWindow)
	positive("sdk.request_timeout", p.SDK.RequestTimeout)
	positive("sdk.retry.base", p.SDK.Retry.Base)
	positive("sdk.retry.cap", p.SDK.Retry.Cap)
	nonNegative("sdk.retry.jitter", p.SDK.Retry.Jitter)
	if p.SDK.Retry.MaxRetries < 0 {
		bad("sdk.retry.max_retries", "must not be negative, got %d", p.SDK.Retry.MaxRetries)
	}
	if p.App.APICallsPerMinute < 0 {
		bad("app.api_calls_per_minute", "must not be negative, got %g", p.App.APICallsPerMinute)
	}
	nonNegative("app.think_time", p.App.ThinkTime)
	positive("backend.token_lifetime", p.Backend.TokenLifetime)
	if p.SDK.RefreshAhead >= p.Backend.TokenLifetime && p.Backend.TokenLifetime > 0 {
		bad("sdk.refresh_ahead", "must be shorter than backend.token_lifetime (%s), got %s", p.Backend.TokenLifetime, p.SDK.RefreshAhead)
	}
	positive("backend.max_lifetime", p.Backend.MaxLifetime)
	nonNegative("backend.inactivity_timeout", p.Backend.InactivityTimeout)
	okSigning := false
	for _, s := range signings {
		okSigning = okSigning || s == p.Backend.Signing
	}
	if !okSigning {
		bad("backend.signing", "must be one of %v, got %q", signings, p.Backend.Signing)
	}
	return errors.Join(errs...)
}

// Builtin returns the built-in profile of that name.
func Builtin(name string) (Profile, error) {
	switch name {
	case "", "default":
		return Default(), nil
	}
	return Profile{}, fmt.Errorf("unknown profile %q (built-in profiles: %v)", name, BuiltinNames())
}

// BuiltinNames lists the built-in profiles.
func BuiltinNames() []string { return []string{"default"} }
