package chaos

import "github.com/stampede-load/stampede/profiles"

// sessionTask moves a seeded share of the clients' sessions into pending
// with a session task (choose-organization, reset-password, setup-mfa); each
// of those users completes the task duration later. Whether the app sees
// a pending session as signed out is the SDK's
// sdk.treat_pending_as_signed_out.
var sessionTask = &EventKind{
	EventType: profiles.EventType{
		Name:   profiles.EventSessionTask,
		Fields: []string{"fraction", "task", "duration"},
		Check: func(e profiles.Event, c profiles.EventChecker) {
			c.Share("fraction", e.Fraction, false, "the sessions given the task")
			c.OneOf("task", e.Task, profiles.SessionTasks())
			c.Lasting("duration", e.Duration)
		},
	},
	End:     forDuration,
	Changes: sessionTaskChanges,
}

// sessionTaskChanges gives client idx's session the task when its place on
// the window's seeded sequence falls below the fraction, and completes it
// when the window ends: the time its user takes over the task.
func sessionTaskChanges(p profiles.Profile, w Window, idx int) []ClientChange {
	if spread(p.Seed, uint64(w.Index), idx) >= w.Event.Fraction {
		return nil
	}
	return []ClientChange{
		{At: w.Start, Kind: ChangePending, Task: w.Event.Task, Window: w.Index},
		{At: w.Start + p.Scale(w.Event.Duration), Kind: ChangeTaskDone, Window: w.Index},
	}
}
