package profiles_test

import (
	"strings"
	"testing"
	"time"

	// chaos registers the fleet event types. Linked into this test binary
	// (which holds the package's own tests too), it registers them for
	// every profiles test, as it does in stampede itself.
	"github.com/stampede-load/stampede/chaos"
	"github.com/stampede-load/stampede/profiles"
)

func TestEveryRegisteredTypeIsAKindOfChaos(t *testing.T) {
	types := profiles.EventTypes()
	want := []string{"outage", "key_rotation", "revocation_wave", "brownout", "spurious_401", "clock_skew", "client_token_rotation", "toxic", "session_task", "session_end", "slow_body"}
	if strings.Join(types, ",") != strings.Join(want, ",") {
		t.Errorf("event types %v, want %v (the order messages list them in)", types, want)
	}
	for _, name := range types {
		if chaos.Kind(name) == nil {
			t.Errorf("%s is registered but chaos cannot run it", name)
		}
	}
}

func TestUnknownEventTypeIsRefusedWithItsPath(t *testing.T) {
	p := profiles.Default()
	p.Events = []profiles.Event{
		{Type: profiles.EventKeyRotation, At: profiles.At{Share: 0.5}},
		{Type: "earthquake", At: profiles.At{Share: 0.5}, Fraction: 0.5},
	}
	fe := profiles.FieldErrors(p.Validate())
	if len(fe) != 1 || fe[0].Path != "events[1].type" ||
		fe[0].Message != `must be one of outage, key_rotation, revocation_wave, brownout, spurious_401, clock_skew, client_token_rotation, toxic, session_task, session_end, slow_body, got "earthquake"` {
		t.Fatalf("problems %v, want one at events[1].type listing the types", fe)
	}

	// From a file, it is located on its line, with the other problems.
	src := "duration: 1m\nevents:\n  - type: earthquake\n    at: 50%\n  - type: outage\n    at: 10%\n    fraction: 2\n    duration: 1m\n    mode: fail_fast\n"
	_, err := profiles.Parse("p.yaml", []byte(src))
	got := profiles.FieldErrors(err)
	if len(got) != 2 || got[0].Error() != `p.yaml:3: events[0].type: must be one of outage, key_rotation, revocation_wave, brownout, spurious_401, clock_skew, client_token_rotation, toxic, session_task, session_end, slow_body, got "earthquake"` ||
		got[1].Error() != "p.yaml:7: events[1].fraction: must be more than 0 and at most 1 (a share of the clients that go offline), got 2" {
		t.Errorf("parse: %v", err)
	}
}

func TestRegisterEventTypeRefusesMistakes(t *testing.T) {
	check := func(profiles.Event, profiles.EventChecker) {}
	for _, tc := range []struct {
		name string
		t    profiles.EventType
		want string
	}{
		{"twice", profiles.EventType{Name: profiles.EventOutage, Check: check}, "registered twice"},
		{"a field Event lacks", profiles.EventType{Name: "quake", Fields: []string{"magnitude"}, Check: check}, `Event has no field "magnitude"`},
		{"no Check", profiles.EventType{Name: "quake"}, "needs a name and a Check"},
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(r.(string), tc.want) {
					t.Errorf("%s: panic %v, want %q", tc.name, r, tc.want)
				}
			}()
			profiles.RegisterEventType(tc.t)
		}()
	}
	if len(profiles.EventTypes()) != len(chaos.EventKinds()) {
		t.Errorf("a refused type was registered: %v", profiles.EventTypes())
	}
}

func TestEventCheckerNamesTheEventsFields(t *testing.T) {
	p := profiles.Default()
	p.Events = []profiles.Event{
		{Type: profiles.EventKeyRotation, At: profiles.At{Share: 0.5}},
		{Type: profiles.EventBrownout, At: profiles.At{Share: 0.5}, Duration: profiles.Duration(time.Minute), Rate429: 0.7, Rate503: 0.7},
	}
	fe := profiles.FieldErrors(p.Validate())
	if len(fe) != 1 || fe[0].Path != "events[1].rate_503" || strings.Join(fe[0].Fields(), ",") != "events[1].rate_503,events[1].rate_429" {
		t.Fatalf("problems %v, want one at events[1].rate_503 involving events[1].rate_429", fe)
	}
}
