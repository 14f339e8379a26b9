package chaos

import (
	"github.com/stampede-load/stampede/chaos/adminapi"
	"github.com/stampede-load/stampede/profiles"
)

// spurious401 has the protected API answer a share of calls with valid
// tokens 401 for its duration.
var spurious401 = &EventKind{
	EventType: profiles.EventType{
		Name:   profiles.EventSpurious401,
		Fields: []string{"duration", "rate"},
		Check: func(e profiles.Event, c profiles.EventChecker) {
			c.Lasting("duration", e.Duration)
			c.Share("rate", e.Rate, false, "API calls answered with a spurious 401")
		},
	},
	End:       forDuration,
	OnBackend: always,
	Faults: func(ft *adminapi.Faults, _ profiles.Profile, e profiles.Event) {
		ft.Spurious401 = max(ft.Spurious401, e.Rate)
	},
}
