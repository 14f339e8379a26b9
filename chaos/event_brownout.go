package chaos

import (
	"github.com/stampede-load/stampede/chaos/adminapi"
	"github.com/stampede-load/stampede/profiles"
)

// brownout slows the token endpoint and has it answer a share of refreshes
// 429 (with Retry-After) or 503 for its duration.
var brownout = &EventKind{
	EventType: profiles.EventType{
		Name:   profiles.EventBrownout,
		Fields: []string{"duration", "latency", "rate_429", "retry_after", "rate_503"},
		Check:  checkBrownout,
	},
	End:       forDuration,
	OnBackend: always,
	Faults: func(ft *adminapi.Faults, p profiles.Profile, e profiles.Event) {
		ft.TokenLatency = max(ft.TokenLatency, e.Latency.D()) // wall-clock, never scaled
		ft.Rate429 = max(ft.Rate429, e.Rate429)
		ft.Rate503 = max(ft.Rate503, e.Rate503)
		ft.RetryAfter = max(ft.RetryAfter, p.Scale(e.RetryAfter))
	},
}

func checkBrownout(e profiles.Event, c profiles.EventChecker) {
	c.Lasting("duration", e.Duration)
	c.NonNegative("latency", e.Latency)
	c.Share("rate_429", e.Rate429, true, "refreshes answered 429")
	c.Share("rate_503", e.Rate503, true, "refreshes answered 503")
	c.NonNegative("retry_after", e.RetryAfter)
	if e.Latency <= 0 && e.Rate429 <= 0 && e.Rate503 <= 0 {
		c.Bad("", "a brownout needs at least one of latency, rate_429 or rate_503")
	}
	if e.Rate429+e.Rate503 > 1 && e.Rate429 <= 1 && e.Rate503 <= 1 {
		c.BadRel("rate_503", []string{"rate_429"}, "rate_429 + rate_503 must not exceed 1 (they are shares of the same refreshes), got %g + %g", e.Rate429, e.Rate503)
	}
}
