package main

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/stampede-load/stampede/profiles"
)

// setting is one --set path=value of stampede run.
type setting struct {
	i     int    // its place among the --set flags
	arg   string // as given: "sdk.interceptor=naive"
	path  string
	value string
}

// setProblem is a problem with the i-th --set; its message names the flag.
type setProblem struct {
	i   int
	err error
}

func (e *setProblem) Error() string { return e.err.Error() }
func (e *setProblem) Unwrap() error { return e.err }

// parseSets reads the --set arguments, in order; each malformed one is an
// error naming the flag.
func parseSets(args []string) ([]setting, []error) {
	var sets []setting
	var errs []error
	for i, arg := range args {
		path, value, ok := strings.Cut(arg, "=")
		if !ok {
			errs = append(errs, &setProblem{i, fmt.Errorf("--set %s: want path=value, such as --set sdk.interceptor=naive or --set events[0].fraction=0.5", arg)})
			continue
		}
		sets = append(sets, setting{i: i, arg: arg, path: strings.TrimSpace(path), value: value})
	}
	return sets, errs
}

// applySets sets the fields of p in the order given, returning one error
// per problem, each naming its --set.
func applySets(p *profiles.Profile, sets []setting) []error {
	var errs []error
	for _, s := range sets {
		if err := profiles.Set(p, s.path, s.value); err != nil {
			fes := profiles.FieldErrors(err)
			if len(fes) == 0 {
				errs = append(errs, &setProblem{s.i, fmt.Errorf("--set %s: %w", s.arg, err)})
			}
			for _, fe := range fes {
				errs = append(errs, s.problem(fe))
			}
		}
	}
	return errs
}

// problem is a problem with the field s sets, or a field inside it, named
// by the flag rather than by the profile's file and line.
func (s setting) problem(fe *profiles.FieldError) error {
	c := *fe
	c.File, c.Line = "", 0
	if c.Path == s.path {
		c.Path = ""
	}
	return &setProblem{s.i, fmt.Errorf("--set %s: %w", s.arg, &c)}
}

// withSets returns the problems of a run's flags and profile (errs) and of
// applying its --set flags (applyErrs): each profile problem (a
// *profiles.FieldError in errs) about a field a --set gave, or a field of
// a section or item it gave, is rewritten to name that --set (the last
// one, as it won), and so is one whose rule involves such a field. The
// --set problems come last, in the order of the flags.
func withSets(sets []setting, errs, applyErrs []error) []error {
	for i, e := range errs {
		fe, ok := e.(*profiles.FieldError)
		if !ok {
			continue // not a profile problem, or already named by a flag
		}
	fields:
		for _, f := range fe.Fields() {
			for j := len(sets) - 1; j >= 0; j-- {
				if covers(sets[j].path, f) {
					errs[i] = sets[j].problem(fe)
					break fields
				}
			}
		}
	}
	errs = append(errs, applyErrs...)
	slices.SortStableFunc(errs, func(a, b error) int { return cmp.Compare(setIndex(a), setIndex(b)) })
	return errs
}

// setIndex places a problem: -1 before every --set problem, else its --set's place.
func setIndex(err error) int {
	if sp, ok := err.(*setProblem); ok {
		return sp.i
	}
	return -1
}

// covers reports whether setting the field at path sets field: the field
// itself, or one inside it.
func covers(path, field string) bool {
	return field == path || strings.HasPrefix(field, path+".") || strings.HasPrefix(field, path+"[")
}
