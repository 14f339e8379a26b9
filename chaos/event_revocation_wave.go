package chaos

import "github.com/stampede-load/stampede/profiles"

// revocationWave revokes a fraction of the signed-in clients' sessions
// server-side at once.
var revocationWave = &EventKind{
	EventType: profiles.EventType{
		Name:   profiles.EventRevocationWave,
		Fields: []string{"fraction"},
		Check: func(e profiles.Event, c profiles.EventChecker) {
			c.Share("fraction", e.Fraction, false, "the active sessions revoked")
		},
	},
	Changes: revocationChanges,
}

// revocationChanges revokes the session of client idx when its place on
// the window's seeded golden-ratio sequence falls below the fraction: any
// run of consecutive clients has about the fraction revoked.
func revocationChanges(p profiles.Profile, w Window, idx int) []ClientChange {
	if spread(p.Seed, uint64(w.Index), idx) < w.Event.Fraction {
		return []ClientChange{{At: w.Start, Kind: ChangeRevoke, Window: w.Index}}
	}
	return nil
}
