package profiles

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// EventType is what profiles knows of one type of fleet event: the fields
// it takes and the checks of their values. Package chaos defines every type
// it runs, each in its own file, and registers them; profiles keeps the
// Event schema and the checks all events share (the time, the type, fields
// that belong to another type), so that Validate and Parse report every
// problem of a profile at once, each with its field path and line.
type EventType struct {
	// Name is the event's type in a profile ("outage").
	Name string
	// Fields lists the fields an event of this type may have besides type
	// and at, in the order the docs list them (YAML names of Event).
	Fields []string
	// Check reports the problems of an event of this type through c. It
	// runs only after the shared checks have found the type known.
	Check func(e Event, c EventChecker)
}

// eventTypes are the registered types, in the order messages list them.
var eventTypes []EventType

// RegisterEventType adds t to the event types profiles accepts, after those
// registered before it. It is meant for init functions (package chaos
// registers every type it runs) and panics on a type without a name or
// Check, on a name already registered and on a field Event does not have.
func RegisterEventType(t EventType) {
	switch {
	case t.Name == "" || t.Check == nil:
		panic(fmt.Sprintf("profiles: RegisterEventType(%q): a type needs a name and a Check", t.Name))
	case slices.ContainsFunc(eventTypes, func(r EventType) bool { return r.Name == t.Name }):
		panic(fmt.Sprintf("profiles: RegisterEventType(%q): registered twice", t.Name))
	}
	for _, f := range t.Fields {
		if _, ok := fieldIndex(reflect.TypeFor[Event](), f); !ok || f == "type" || f == "at" {
			panic(fmt.Sprintf("profiles: RegisterEventType(%q): Event has no field %q of its own", t.Name, f))
		}
	}
	t.Fields = slices.Clone(t.Fields)
	eventTypes = append(eventTypes, t)
}

// eventType returns the registered type named name.
func eventType(name string) (EventType, bool) {
	i := slices.IndexFunc(eventTypes, func(t EventType) bool { return t.Name == name })
	if i < 0 {
		return EventType{}, false
	}
	return eventTypes[i], true
}

// EventTypes lists the fleet event types, in the order they were registered.
func EventTypes() []string {
	names := make([]string, len(eventTypes))
	for i, t := range eventTypes {
		names[i] = t.Name
	}
	return names
}

// EventFields lists the fields an event of type t may have besides type and
// at, in the order the docs list them; nil for an unknown type.
func EventFields(t string) []string {
	if et, ok := eventType(t); ok {
		return slices.Clone(et.Fields)
	}
	return nil
}

// givenFields names the fields of e other than type and at that hold a
// value other than their zero, in the order Event declares them.
func (e Event) givenFields() []string {
	var s []string
	v := reflect.ValueOf(e)
	for i := range v.NumField() {
		name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("yaml"), ",")
		if name == "" || name == "-" || name == "type" || name == "at" || v.Field(i).IsZero() {
			continue
		}
		s = append(s, name)
	}
	return s
}

// notForType is the message for a field that an event of type t does not have.
func notForType(t string) string {
	return fmt.Sprintf("does not apply to %s event (its fields: type, at, %s)", anEvent(t), strings.Join(EventFields(t), ", "))
}

// anEvent is "an outage", "a brownout": the type with its article.
func anEvent(t string) string {
	if t != "" && strings.ContainsRune("aeiou", rune(t[0])) {
		return "an " + t
	}
	return "a " + t
}

// EventChecker records the problems of one event (events[i]) found by its
// type's Check. Field names are relative to the event ("fraction",
// "toxic.attributes.rate"); "" names the event itself. Every problem
// becomes a *FieldError among those Validate returns.
type EventChecker struct {
	v   *validator
	at  string // "events[i]"
	typ string
}

// path is the profile path of the event's field name.
func (c EventChecker) path(name string) string {
	if name == "" {
		return c.at
	}
	return c.at + "." + name
}

// Bad records a problem with the field name.
func (c EventChecker) Bad(name, format string, args ...any) {
	c.v.bad(c.path(name), format, args...)
}

// BadRel is Bad for a rule that involves other fields of the event too.
func (c EventChecker) BadRel(name string, related []string, format string, args ...any) {
	paths := make([]string, len(related))
	for i, r := range related {
		paths[i] = c.path(r)
	}
	c.v.badRel(c.path(name), paths, format, args...)
}

// NonNegative checks a duration of at least 0.
func (c EventChecker) NonNegative(name string, d Duration) {
	c.v.nonNegative(c.path(name), d)
}

// Lasting checks the required, positive duration of how long the event lasts.
func (c EventChecker) Lasting(name string, d Duration) {
	if d == 0 {
		c.v.bad(c.path(name), "is required: how long %s lasts in simulated time, such as \"2m\"", anEvent(c.typ))
		return
	}
	c.v.positive(c.path(name), d)
}

// Share checks a share in [0, 1] (or (0, 1] when zeroOK is false) of what
// of names ("the clients that go offline").
func (c EventChecker) Share(name string, f float64, zeroOK bool, of string) {
	c.v.share(c.path(name), f, zeroOK, of)
}

// OneOf checks an enumerated string; "" is reported as missing.
func (c EventChecker) OneOf(name, got string, allowed []string) {
	c.v.oneOf(c.path(name), got, allowed)
}
