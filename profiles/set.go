package profiles

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Set overrides the field of p at path with value, as `stampede run --set
// path=value` does. path is the field's YAML path: "clients",
// "sdk.retry.jitter", "app.lifecycle.foreground", "events[0].fraction",
// "thresholds[1]". An index one past the end of a list, given whole
// ("events[2]" when there are two), adds an item.
//
// value is read as a YAML value with the rules and messages of Parse:
// durations such as "90s", shares and numbers, true or false, a
// distribution as "2m" or "{dist: exponential, value: 2m}", a threshold,
// a whole section or event as a flow mapping ("{type: key_rotation, at:
// 50%}"), a list as "[...]". A string field takes value as it is, without
// YAML quoting. A mapping sets the fields it gives and keeps the others,
// except a distribution or threshold mapping, which is the whole value.
//
// Setting a preset (sdk.preset, network.preset, or a preset field in a
// mapping given for sdk or network) moves the section to the new preset
// and keeps every field whose value differs from the old preset's: the
// fields the profile or an earlier override changed.
//
// Set does not validate: the profile may be invalid afterwards (call
// Validate, or call Set inside ResolveWith's adjust so that the problems
// are reported with the profile's). On error, one *FieldError per problem
// (its Path the field, without file or line), joined, and p is unchanged.
// An unknown field lists the fields valid at that level.
func Set(p *Profile, path, value string) error {
	steps, err := splitPath(path)
	if err != nil {
		return &FieldError{Message: err.Error()}
	}
	q := *p
	q.Events = slices.Clone(p.Events)
	q.Thresholds = slices.Clone(p.Thresholds)
	d := &decoder{lines: map[string]int{}, failed: map[string]bool{}, active: map[*yaml.Node]bool{}, rebase: true}
	d.set(reflect.ValueOf(&q).Elem(), "", steps, value)
	if len(d.errs) > 0 {
		errs := make([]error, len(d.errs))
		for i, fe := range d.errs {
			fe.File, fe.Line = "", 0 // the lines of value, not of a file
			errs[i] = fe
		}
		return errors.Join(errs...)
	}
	*p = q
	return nil
}

// step is one element of a field path: a field name, or a list index.
type step struct {
	name  string
	index int // when name is ""
}

// splitPath reads "sdk.retry.base" or "events[0].at" into its steps.
func splitPath(path string) ([]step, error) {
	bad := func(why string) error {
		return fmt.Errorf("invalid field path %q (%s): want the YAML path of a field such as sdk.retry.base or events[0].fraction", path, why)
	}
	var steps []step
	rest := path
	for first := true; first || rest != ""; first = false {
		switch {
		case !first && rest[0] == '[':
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return nil, bad("no closing ]")
			}
			i, err := strconv.Atoi(rest[1:end])
			if err != nil || i < 0 || rest[1] == '+' {
				return nil, bad(fmt.Sprintf("index %q is not a whole number from 0", rest[1:end]))
			}
			steps = append(steps, step{index: i})
			rest = rest[end+1:]
			continue
		case !first && rest[0] == '.':
			rest = rest[1:]
		case !first:
			return nil, bad(fmt.Sprintf("%q after %s", rest[:1], strings.TrimSuffix(path, rest)))
		}
		end := strings.IndexAny(rest, ".[]")
		if end < 0 {
			end = len(rest)
		}
		if end == 0 {
			return nil, bad("a field name is empty")
		}
		if i := strings.IndexFunc(rest[:end], notNameRune); i >= 0 {
			r, _ := utf8.DecodeRuneInString(rest[i:])
			return nil, bad(fmt.Sprintf("%q in a field name", r))
		}
		steps = append(steps, step{name: rest[:end]})
		rest = rest[end:]
	}
	return steps, nil
}

// notNameRune reports whether r cannot be part of a field name.
func notNameRune(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-')
}

// set walks steps from v, the field at path, and decodes value into the
// field they lead to.
func (d *decoder) set(v reflect.Value, path string, steps []step, value string) {
	if len(steps) == 0 {
		if n := d.valueNode(v, path, value); n != nil {
			d.value(n, path, v)
		}
		return
	}
	s, last := steps[0], len(steps) == 1
	t := v.Type()
	if s.name == "" { // an index
		fp := fmt.Sprintf("%s[%d]", path, s.index)
		if t.Kind() != reflect.Slice {
			d.fail(0, path, "is %s, not a list: %s has no items", kindOf(t), fp)
			return
		}
		n := v.Len()
		switch {
		case s.index < n:
			d.set(v.Index(s.index), fp, steps[1:], value)
		case s.index == n && last:
			item := reflect.New(t.Elem()).Elem()
			d.set(item, fp, nil, value)
			v.Set(reflect.Append(v, item))
		case n == 0:
			d.fail(0, fp, "out of range: %s has no items (give %s[0] whole to add one)", path, path)
		default:
			d.fail(0, fp, "out of range: %s has %d item%s, %s[0] to %s[%d] (give %s[%d] whole to add one)",
				path, n, plural(n), path, path, n-1, path, n)
		}
		return
	}
	fp := join(path, s.name)
	if t.Kind() != reflect.Struct || t == reflect.TypeFor[At]() {
		d.fail(0, path, "is %s, not a section: it has no field %s", kindOf(t), s.name)
		return
	}
	idx, ok := fieldIndex(t, s.name)
	if !ok {
		d.unknown(0, fp, s.name, t, v)
		return
	}
	if t == reflect.TypeFor[Event]() {
		e := v.Interface().(Event)
		if allowed := EventFields(e.Type); allowed != nil && s.name != "type" && s.name != "at" && !slices.Contains(allowed, s.name) {
			d.fail(0, fp, "%s", notForType(e.Type))
			return
		}
	}
	if last && s.name == "preset" && (t == reflect.TypeFor[SDK]() || t == reflect.TypeFor[Network]()) {
		// As {preset: value} for the section, so the section moves to it.
		d.value(&yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{
			{Kind: yaml.ScalarNode, Tag: "!!str", Value: "preset"},
			{Kind: yaml.ScalarNode, Tag: "!!str", Value: value},
		}}, path, v)
		return
	}
	d.set(v.Field(idx), fp, steps[1:], value)
}

// valueNode reads a --set value for the field v at path: the text itself
// for a string field, else the YAML value it holds (nothing for ""); nil
// when it is not YAML.
func (d *decoder) valueNode(v reflect.Value, path, value string) *yaml.Node {
	if v.Kind() == reflect.String {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(value), &doc); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		d.fail(0, path, "invalid YAML value: %s", strings.TrimPrefix(msg, "line 1: "))
		return nil
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}
	}
	return doc.Content[0]
}

// kindOf says what a field of type t holds, for "is ..., not a section".
func kindOf(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[Duration]():
		return "a duration"
	case reflect.TypeFor[At]():
		return "an event time"
	}
	if t.Kind() == reflect.Struct {
		return "a section"
	}
	return want(t.Kind())
}

// plural is "s" unless n is 1.
func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// startFrom starts the section v (SDK or Network) from next, its preset's
// values. An override (Set) keeps the fields the section changed from its
// old preset; a profile file starts from the preset outright.
func (d *decoder) startFrom(v, next reflect.Value) {
	if d.rebase {
		var base reflect.Value
		switch s := v.Interface().(type) {
		case SDK:
			b, ok := SDKPreset(s.Preset)
			if !ok {
				b, _ = SDKPreset(SDKCustom)
			}
			base = reflect.ValueOf(b)
		case Network:
			b, _ := NetworkPreset(s.Preset) // an unknown preset: from none
			base = reflect.ValueOf(b)
		}
		next = rebaseSection(v, base, next)
	}
	v.Set(next)
}

// rebaseSection moves the section cur, which started from the preset
// section base, to the preset section next: the result is next with every
// field of cur that differs from base (the preset name aside).
func rebaseSection(cur, base, next reflect.Value) reflect.Value {
	out := reflect.New(next.Type()).Elem()
	out.Set(next)
	t := cur.Type()
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); name == "preset" {
			continue
		}
		c, b := cur.Field(i), base.Field(i)
		if c.Kind() == reflect.Struct {
			out.Field(i).Set(rebaseSection(c, b, next.Field(i)))
			continue
		}
		if !reflect.DeepEqual(c.Interface(), b.Interface()) {
			out.Field(i).Set(c)
		}
	}
	return out
}
