package profiles

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// FuzzParse holds Parse to its contract on any input: no panic, and either
// a valid profile or an error made of located *FieldError lines.
func FuzzParse(f *testing.F) {
	for _, name := range BuiltinNames() {
		src, err := BuiltinSource(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	files, _ := filepath.Glob("testdata/*.yaml")
	files = append(files, "../examples/profile.yaml")
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz.yaml", data)
		if err != nil {
			if !reflect.DeepEqual(p, Profile{}) {
				t.Fatalf("error %v with a non-zero profile", err)
			}
			fes := FieldErrors(err)
			if len(fes) == 0 || len(fes) != strings.Count(err.Error(), "\n")+1 {
				t.Fatalf("error is not one *FieldError per line: %q", err)
			}
			for _, fe := range fes {
				if fe.File != "fuzz.yaml" || fe.Message == "" {
					t.Fatalf("problem without file or message: %+v", fe)
				}
			}
			return
		}
		if verr := p.Validate(); verr != nil {
			t.Fatalf("Parse returned an invalid profile: %v", verr)
		}
	})
}

// FuzzSet holds Set to its contract on any path and value: no panic; on
// error the profile is unchanged and every problem is a *FieldError without
// a file or line; on success setting the same again changes nothing.
func FuzzSet(f *testing.F) {
	for _, s := range [][2]string{
		{"clients", "20"}, {"sdk.interceptor", "naive"}, {"app.burst", "3"}, {"sdk.retry.jitter", "full"},
		{"sdk.retry.base", "5"}, {"sdk.preset", "clerk"}, {"network.preset", "chrome-slow-3g"},
		{"sdk", "{preset: firebase, refresh_ahead: 20s}"}, {"app.lifecycle.foreground", "{dist: exponential, value: 2m}"},
		{"events[0].fraction", "0.5"}, {"events[1]", "{type: key_rotation, at: 50%}"}, {"events[3].at", "1m"},
		{"events", "[{type: outage, at: 10%, duration: 1m, fraction: 0.1, mode: fail_fast}]"},
		{"thresholds[0]", "refresh.p99 < 250ms"}, {"thresholds", "[{expr: x, abort_on_fail: true}]"},
		{"events[0", "1"}, {"a..b", ""}, {"clients[0].x", "&a [*a]"}, {"seed", "-1"}, {"description", "*x"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, path, value string) {
		p := withEvents()
		if err := Set(&p, path, value); err != nil {
			if !reflect.DeepEqual(p, withEvents()) {
				t.Fatalf("error %v, and the profile changed", err)
			}
			fes := FieldErrors(err)
			if len(fes) == 0 || len(fes) != strings.Count(err.Error(), "\n")+1 {
				t.Fatalf("error is not one *FieldError per line: %q", err)
			}
			for _, fe := range fes {
				if fe.File != "" || fe.Line != 0 || fe.Message == "" {
					t.Fatalf("problem with a file or line, or without a message: %+v", fe)
				}
			}
			return
		}
		q := p
		q.Events, q.Thresholds = slices.Clone(p.Events), slices.Clone(p.Thresholds)
		if err := Set(&q, path, value); err != nil || !reflect.DeepEqual(p, q) {
			t.Fatalf("setting %s=%q again: %v\n%+v\n%+v", path, value, err, p, q)
		}
	})
}
