package chaos

import (
	"context"

	"github.com/stampede-load/stampede/profiles"
)

// keyRotation has the backend sign with a new key at once; without overlap
// every outstanding session token stops verifying.
var keyRotation = &EventKind{
	EventType: profiles.EventType{
		Name:   profiles.EventKeyRotation,
		Fields: []string{"overlap"},
		Check:  func(profiles.Event, profiles.EventChecker) {}, // overlap is true or false
	},
	OnBackend: always,
	Start: func(ctx context.Context, a Admin, _ profiles.Profile, e profiles.Event) error {
		return a.RotateKeys(ctx, e.Overlap)
	},
}
