package chaos

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/profiles"
)

// eventExamples holds, for every event type, an event a profile may hold
// and one Validate refuses, with the path of the problem.
var eventExamples = map[string]struct {
	good, bad profiles.Event
	badPath   string
}{
	profiles.EventOutage: {
		good:    profiles.Event{Duration: minutes(1), Fraction: 0.3, Mode: profiles.OutageFailFast},
		bad:     profiles.Event{Duration: minutes(1), Fraction: 0.3, Mode: "airplane"},
		badPath: "mode",
	},
	profiles.EventKeyRotation: {
		good:    profiles.Event{Overlap: true},
		bad:     profiles.Event{Fraction: 0.5},
		badPath: "fraction",
	},
	profiles.EventRevocationWave: {
		good:    profiles.Event{Fraction: 0.2},
		bad:     profiles.Event{Fraction: 1.5},
		badPath: "fraction",
	},
	profiles.EventSessionTask: {
		good:    profiles.Event{Fraction: 0.2, Task: profiles.TaskSetupMFA, Duration: profiles.Duration(time.Minute)},
		bad:     profiles.Event{Fraction: 0.2, Task: "make-tea", Duration: profiles.Duration(time.Minute)},
		badPath: "task",
	},
	profiles.EventSessionEnd: {
		good:    profiles.Event{Fraction: 0.2},
		bad:     profiles.Event{Fraction: 0},
		badPath: "fraction",
	},
	profiles.EventBrownout: {
		good:    profiles.Event{Duration: minutes(1), Rate429: 0.5, RetryAfter: minutes(1)},
		bad:     profiles.Event{Duration: minutes(1)},
		badPath: "",
	},
	profiles.EventSpurious401: {
		good:    profiles.Event{Duration: minutes(1), Rate: 0.05},
		bad:     profiles.Event{Rate: 0.05},
		badPath: "duration",
	},
	profiles.EventClockSkew: {
		good:    profiles.Event{ServerOffset: minutes(-2)},
		bad:     profiles.Event{ServerOffset: minutes(-2), Fraction: 0.5},
		badPath: "fraction",
	},
	profiles.EventClientTokenRotation: {
		good:    profiles.Event{Grace: minutes(1)},
		bad:     profiles.Event{Grace: minutes(-1)},
		badPath: "grace",
	},
	profiles.EventSlowBody: {
		good:    profiles.Event{Duration: minutes(1), BytesPerSecond: 2048, Route: profiles.RouteAPI},
		bad:     profiles.Event{Duration: minutes(1), BytesPerSecond: 2048, Route: "images"},
		badPath: "route",
	},
	profiles.EventToxic: {
		good: profiles.Event{Proxy: "dex", Toxic: profiles.Toxic{Type: profiles.ToxicBandwidth,
			Attributes: profiles.ToxicAttributes{Rate: 64}}},
		bad: profiles.Event{Proxy: "dex", Toxic: profiles.Toxic{Type: profiles.ToxicBandwidth,
			Attributes: profiles.ToxicAttributes{Rate: 64, Delay: profiles.Duration(time.Second)}}},
		badPath: "toxic.attributes.delay",
	},
}

func minutes(n int) profiles.Duration { return profiles.Duration(time.Duration(n) * time.Minute) }

func TestEveryEventKindValidatesItsExamples(t *testing.T) {
	if len(EventKinds()) != len(profiles.EventTypes()) {
		t.Fatalf("chaos runs %d event types, profiles accepts %v", len(EventKinds()), profiles.EventTypes())
	}
	for _, k := range EventKinds() {
		ex, ok := eventExamples[k.Name]
		if !ok {
			t.Errorf("%s: no examples; add a good and a bad one to eventExamples", k.Name)
			continue
		}
		if !slices.Equal(profiles.EventFields(k.Name), k.Fields) {
			t.Errorf("%s: profiles has fields %v, the kind %v", k.Name, profiles.EventFields(k.Name), k.Fields)
		}
		p := profiles.Default()
		// Another event first, so the path shows the index is the event's own.
		p.Events = []profiles.Event{{Type: profiles.EventRevocationWave, At: profiles.At{Share: 0.1}, Fraction: 0.1}, ex.good}
		p.Events[1].Type, p.Events[1].At = k.Name, profiles.At{Share: 0.5}
		if err := p.Validate(); err != nil {
			t.Errorf("%s: a good example is refused: %v", k.Name, err)
		}
		p.Events[1] = ex.bad
		p.Events[1].Type, p.Events[1].At = k.Name, profiles.At{Share: 0.5}
		fe := profiles.FieldErrors(p.Validate())
		want := strings.TrimSuffix("events[1]."+ex.badPath, ".")
		if len(fe) != 1 || fe[0].Path != want {
			t.Errorf("%s: a bad example gives %v, want one problem at %s", k.Name, fe, want)
		}
	}
}

func TestPlanGivesEachKindItsWindow(t *testing.T) {
	p := profiles.Default() // 60 s at ×10
	for _, k := range EventKinds() {
		e := eventExamples[k.Name].good
		e.Type, e.At = k.Name, profiles.At{Share: 0.5}
		p.Events = []profiles.Event{e}
		w := Plan(p)[0]
		switch {
		case w.Start != 30*time.Second:
			t.Errorf("%s starts at %s, want 30s", k.Name, w.Start)
		case k.End == nil && w.End != w.Start:
			t.Errorf("%s is instant but ends at %s", k.Name, w.End)
		case k.End != nil && e.Duration > 0 && w.End != w.Start+p.Scale(e.Duration):
			t.Errorf("%s ends at %s, want after its duration", k.Name, w.End)
		case k.End != nil && e.Duration == 0 && w.End != time.Minute:
			t.Errorf("%s without a duration ends at %s, want the end of the run", k.Name, w.End)
		}
	}
}
