package chaos

import (
	"context"
	"time"

	"github.com/stampede-load/stampede/chaos/adminapi"
	"github.com/stampede-load/stampede/profiles"
)

// EventKind is everything stampede does with one type of fleet event: the
// fields a profile gives it and their checks (the embedded
// profiles.EventType, registered with package profiles), its window on the
// run's timeline, what it does to each client and to the backend, and how
// reports measure it. Each kind lives in its own file (event_outage.go,
// ...) and is listed once in eventKinds; a nil func means the kind has no
// such part.
type EventKind struct {
	profiles.EventType

	// End is where the window of an event that starts at start (a
	// wall-clock offset) ends; nil for an instant event. Plan clips it to
	// the end of the run.
	End func(p profiles.Profile, e profiles.Event, start time.Duration) time.Duration

	// Changes lists what the event of window w does to client idx, which
	// the engine carries out at their offsets (see ClientChanges).
	Changes func(p profiles.Profile, w Window, idx int) []ClientChange

	// OnBackend reports whether the event acts on the backend through its
	// admin API (see Fleet): by Faults, or by Start and Stop.
	OnBackend func(e profiles.Event) bool
	// Faults adds the faults of an open window of the event to ft; the
	// fleet merges those of every open window whenever one opens or closes.
	Faults func(ft *adminapi.Faults, p profiles.Profile, e profiles.Event)
	// Start acts on the backend when a window of a kind without Faults
	// opens; Stop undoes it when the window closes, or when the run ends
	// while it is open.
	Start, Stop func(ctx context.Context, a Admin, p profiles.Profile, e profiles.Event) error

	// BurstFromEnd has reports count the event's burst and recovery from
	// the end of its window rather than its start (an outage: the herd is
	// the reconnection after it).
	BurstFromEnd bool
}

// eventKinds are the fleet event types stampede runs, in the order
// messages list them. A new type is one file and one line here.
var eventKinds = []*EventKind{
	outage,
	keyRotation,
	revocationWave,
	brownout,
	spurious401,
	clockSkew,
	clientTokenRotation,
	toxic,
	sessionTask,
	sessionEnd,
	slowBody,
}

func init() {
	for _, k := range eventKinds {
		profiles.RegisterEventType(k.EventType)
	}
}

// EventKinds returns every fleet event type stampede runs.
func EventKinds() []*EventKind { return eventKinds }

// Kind returns the kind of the event type name; nil for an unknown type
// (which Validate refuses).
func Kind(name string) *EventKind {
	for _, k := range eventKinds {
		if k.Name == name {
			return k
		}
	}
	return nil
}

// always is OnBackend of a kind whose every event acts on the backend.
func always(profiles.Event) bool { return true }

// forDuration is End of an event that lasts its (required) duration.
func forDuration(p profiles.Profile, e profiles.Event, start time.Duration) time.Duration {
	return start + p.Scale(e.Duration)
}

// forDurationOrRun is End of an event that lasts its duration, or until
// the end of the run when that is 0.
func forDurationOrRun(p profiles.Profile, e profiles.Event, start time.Duration) time.Duration {
	if e.Duration > 0 {
		return start + p.Scale(e.Duration)
	}
	return p.Duration.D()
}
