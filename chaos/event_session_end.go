package chaos

import "github.com/stampede-load/stampede/profiles"

// sessionEnd ends a seeded share of the clients' sessions through the
// backend's end endpoint, as the SDK's session.end() does (the article's
// "force session end" button, or the user signing out on another screen):
// the session is ended, and the app learns it at its next refresh.
var sessionEnd = &EventKind{
	EventType: profiles.EventType{
		Name:   profiles.EventSessionEnd,
		Fields: []string{"fraction"},
		Check: func(e profiles.Event, c profiles.EventChecker) {
			c.Share("fraction", e.Fraction, false, "the sessions ended")
		},
	},
	Changes: sessionEndChanges,
}

func sessionEndChanges(p profiles.Profile, w Window, idx int) []ClientChange {
	if spread(p.Seed, uint64(w.Index), idx) < w.Event.Fraction {
		return []ClientChange{{At: w.Start, Kind: ChangeEnd, Window: w.Index}}
	}
	return nil
}
