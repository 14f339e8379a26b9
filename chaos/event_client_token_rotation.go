package chaos

import (
	"context"

	"github.com/stampede-load/stampede/chaos/adminapi"
	"github.com/stampede-load/stampede/profiles"
)

// clientTokenRotation has the backend rotate client tokens on every refresh
// (reuse after grace revokes the session) for its duration, or until the
// end of the run.
var clientTokenRotation = &EventKind{
	EventType: profiles.EventType{
		Name:   profiles.EventClientTokenRotation,
		Fields: []string{"grace", "duration"},
		Check: func(e profiles.Event, c profiles.EventChecker) {
			c.NonNegative("grace", e.Grace)
			c.NonNegative("duration", e.Duration)
		},
	},
	End:       forDurationOrRun,
	OnBackend: always,
	Start: func(ctx context.Context, a Admin, p profiles.Profile, e profiles.Event) error {
		return a.SetRotation(ctx, adminapi.Rotation{Enabled: true, Grace: p.Scale(e.Grace)})
	},
	Stop: func(ctx context.Context, a Admin, _ profiles.Profile, _ profiles.Event) error {
		return a.SetRotation(ctx, adminapi.Rotation{})
	},
}
