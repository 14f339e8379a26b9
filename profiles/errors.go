package profiles

import (
	"errors"
	"strconv"
	"strings"
)

// FieldError is one problem with a profile, named by its field path (e.g.
// "sdk.retry.base", "events[2].fraction") and, for a profile read from YAML,
// by the file and line it is on.
type FieldError struct {
	Path    string
	Message string
	// File and Line locate the field in a profile file; "" and 0 when the
	// profile was not read from one (or the field was not given in it).
	File string
	Line int
	// Err is the error behind Message when there is one (a threshold's
	// *threshold.Error); Unwrap returns it.
	Err error

	// InFile says the problem is in the profile file's text itself (bad
	// YAML, a key given twice, a value of the wrong kind), not a rule that
	// an override such as a command-line flag could break.
	InFile bool

	// related names other fields the rule involves (ramp's rule involves
	// duration): where the field itself is not in the file, its line is
	// taken from the first of these that is.
	related []string
}

// Error formats the problem as "file:line: path: message", dropping the
// parts that are not known: "path: message" for a profile built in Go.
func (e *FieldError) Error() string {
	var b strings.Builder
	switch {
	case e.File != "" && e.Line > 0:
		b.WriteString(e.File + ":" + strconv.Itoa(e.Line) + ": ")
	case e.File != "":
		b.WriteString(e.File + ": ")
	case e.Line > 0:
		b.WriteString("line " + strconv.Itoa(e.Line) + ": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// Unwrap returns the error behind the problem, if any.
func (e *FieldError) Unwrap() error { return e.Err }

// Fields returns the paths of the fields the problem involves: Path, then
// those of the other fields its rule involves (for ramp's rule, duration).
func (e *FieldError) Fields() []string {
	return append([]string{e.Path}, e.related...)
}

// FieldErrors returns the *FieldError values joined in err (as Parse,
// LoadFile and Validate return them), in order; nil when err holds none.
func FieldErrors(err error) []*FieldError {
	var out []*FieldError
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		var fe *FieldError
		if errors.As(err, &fe) {
			out = append(out, fe)
		}
	}
	walk(err)
	return out
}
