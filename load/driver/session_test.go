package driver_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/chaos"
	"github.com/stampede-load/stampede/load/driver"
	"github.com/stampede-load/stampede/load/model"
	"github.com/stampede-load/stampede/load/record"
	"github.com/stampede-load/stampede/profiles"
)

// A session_task event asks the engine to put the chosen clients'
// sessions into pending with the task and, its duration later, to complete
// it; a session_end event to end the chosen sessions with their client
// tokens. The share of clients is the event's fraction.
func TestDriverAsksForSessionTasksAndEnds(t *testing.T) {
	p := profiles.Default()
	p.Clients = 100
	p.Events = []profiles.Event{
		{Type: profiles.EventSessionTask, At: profiles.At{Share: 0.3}, Fraction: 0.4, Task: profiles.TaskSetupMFA, Duration: profiles.Duration(time.Minute)},
		{Type: profiles.EventSessionEnd, At: profiles.At{Share: 0.8}, Fraction: 0.2},
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	be := &fakeBackend{lifetime: p.Scale(p.Backend.TokenLifetime), exp: map[string]time.Time{}}
	indices := make([]int, p.Clients)
	for i := range indices {
		indices[i] = i
	}
	ccfg := model.NewClientConfig(p)
	rec := record.NewRecorder(1, start, p.Duration.D()+p.SDK.RequestTimeout.D(), len(p.Events))
	d := driver.New(driver.Config{Profile: p, Model: &ccfg, Windows: chaos.Plan(p), Start: start, Sink: rec}, indices)
	counts := map[driver.OutputKind]int{}
	var firstPending, firstDone time.Time
	end := start.Add(p.Duration.D())
	var todo []driver.Output
	for {
		at, ok := d.Next()
		if !ok || !at.Before(end) {
			break
		}
		todo = append(todo[:0], d.Advance(at)...)
		for len(todo) > 0 {
			o := todo[0]
			todo = todo[1:]
			switch o.Kind {
			case driver.OutSend:
				ev := be.answer(at, o.Request)
				todo = append(todo, d.Answer(at, driver.Answer{Client: o.Client, Slot: o.Slot, Event: ev, Op: o.Op,
					Intended: o.Action.At, Sent: o.Sent, Wire: at, Done: at})...)
			case driver.OutPending, driver.OutCompleteTask, driver.OutEnd:
				counts[o.Kind]++
				if !strings.HasPrefix(o.SessionID, "sess-") {
					t.Errorf("output %d for session %q", o.Kind, o.SessionID)
				}
				switch {
				case o.Kind == driver.OutPending && (o.Task != profiles.TaskSetupMFA || o.Window != 0):
					t.Errorf("pending with task %q for window %d", o.Task, o.Window)
				case o.Kind == driver.OutEnd && (!strings.HasPrefix(o.ClientToken, "ct-") || o.Window != 1):
					t.Errorf("end with client token %q for window %d", o.ClientToken, o.Window)
				}
				if o.Kind == driver.OutPending && firstPending.IsZero() {
					firstPending = at
				}
				if o.Kind == driver.OutCompleteTask && firstDone.IsZero() {
					firstDone = at
				}
			}
		}
	}
	d.Stop(end)
	if n := counts[driver.OutPending]; n < 38 || n > 42 {
		t.Errorf("%d sessions made pending, want about 40 of 100", n)
	}
	if counts[driver.OutCompleteTask] != counts[driver.OutPending] {
		t.Errorf("%d tasks completed of %d", counts[driver.OutCompleteTask], counts[driver.OutPending])
	}
	if got := firstDone.Sub(firstPending); got != p.Scale(profiles.Duration(time.Minute)) {
		t.Errorf("the task took %v, want the event's duration (6s at ×10)", got)
	}
	if n := counts[driver.OutEnd]; n < 18 || n > 22 {
		t.Errorf("%d sessions ended, want about 20 of 100", n)
	}
}
