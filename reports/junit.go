package reports

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// junitSuites, junitSuite, junitProperty, junitCase and junitFailure are
// JUnit's XML shape as Jenkins, GitLab, GitHub test reporters and CircleCI
// read it: testsuites > testsuite > properties, testcase > failure.
type (
	junitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Name     string       `xml:"name,attr"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Errors   int          `xml:"errors,attr"`
		Time     string       `xml:"time,attr"`
		Suites   []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name       string          `xml:"name,attr"`
		Tests      int             `xml:"tests,attr"`
		Failures   int             `xml:"failures,attr"`
		Errors     int             `xml:"errors,attr"`
		Skipped    int             `xml:"skipped,attr"`
		Time       string          `xml:"time,attr"`
		Timestamp  string          `xml:"timestamp,attr,omitempty"`
		Properties []junitProperty `xml:"properties>property"`
		Cases      []junitCase     `xml:"testcase"`
	}
	junitProperty struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	}
	junitCase struct {
		Classname string        `xml:"classname,attr"`
		Name      string        `xml:"name,attr"`
		Time      string        `xml:"time,attr"`
		Skipped   *junitSkipped `xml:"skipped,omitempty"`
		Failure   *junitFailure `xml:"failure,omitempty"`
		SystemOut string        `xml:"system-out,omitempty"`
	}
	junitSkipped struct {
		Message string `xml:"message,attr"`
	}
	junitFailure struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Text    string `xml:",chardata"`
	}
)

// WriteJUnit writes r as a JUnit XML report that CI systems show as tests:
// one testcase per threshold (classname "stampede.thresholds"), failing with
// the measured value and the limit, and one per invariant (classname
// "stampede.invariants"), failing with its count and the first requests
// that broke it, skipped when it is not gated (relaxed, say, with the
// reason). A run without thresholds gives one
// testcase, "run completed"; an interrupted (partial) run adds that
// testcase, failing. Threshold testcases take no time of their own; the
// suite's time is the run's wall-clock time.
func WriteJUnit(w io.Writer, r *Result) error {
	wall := r.EndedAt.Sub(r.StartedAt)
	suite := junitSuite{
		Name: "stampede",
		Time: junitSeconds(wall),
		Properties: []junitProperty{
			{"run_id", r.RunID},
			{"profile", r.Profile.Name},
			{"target", strings.TrimSpace(r.Target.Kind + " " + r.Target.URL)},
			{"tool_version", r.ToolVersion},
			{"seed", strconv.FormatUint(r.Profile.Seed, 10)},
			{"clients", strconv.Itoa(r.Profile.Clients)},
			{"partial", strconv.FormatBool(r.Partial)},
			{"verdict", r.Verdict},
		},
	}
	suite.Properties = append(suite.Properties, tlsJUnitProperties(r.Engine.TLS)...)
	if !r.StartedAt.IsZero() {
		suite.Timestamp = r.StartedAt.UTC().Format(time.RFC3339)
	}
	for _, t := range r.Thresholds {
		c := junitCase{Classname: "stampede.thresholds", Name: t.Expr, Time: junitSeconds(0)}
		if !t.OK {
			msg := thresholdFailureText(t)
			text := fmt.Sprintf("threshold %s did not hold: %s", t.Expr, msg)
			if t.Aborted {
				text += "\nthe run was stopped early by this threshold (abort_on_fail)"
			}
			c.Failure = &junitFailure{Message: msg, Type: "threshold", Text: text}
		}
		suite.Cases = append(suite.Cases, c)
	}
	for _, i := range r.Invariants {
		c := junitCase{Classname: "stampede.invariants", Name: i.Expr, Time: junitSeconds(0)}
		switch {
		case !i.Gated:
			c.Skipped = &junitSkipped{Message: fmt.Sprintf("%s (value %s)", i.Note, fmtFigure(i.Value))}
		case !i.OK:
			msg := fmt.Sprintf("%s = %s, want 0", strings.TrimSuffix(i.Expr, " == 0"), fmtFigure(i.Value))
			if i.Note != "" {
				msg = i.Note
			}
			text := fmt.Sprintf("invariant %s did not hold: %s", i.Expr, msg)
			for _, s := range shownSamples(r, i) {
				text += "\n  " + SampleLine(s)
			}
			c.Failure = &junitFailure{Message: msg, Type: "invariant", Text: text}
		}
		suite.Cases = append(suite.Cases, c)
	}
	if len(r.Thresholds) == 0 || r.Partial {
		c := junitCase{Classname: "stampede.run", Name: "run completed", Time: junitSeconds(wall)}
		if r.Partial {
			c.Failure = &junitFailure{
				Message: "the run was interrupted; results are partial",
				Type:    "partial",
				Text:    fmt.Sprintf("run %s stopped after %s of %s; figures cover only that part", r.RunID, wall.Round(time.Millisecond), r.Profile.Duration),
			}
		}
		suite.Cases = append(suite.Cases, c)
	}
	suite.Tests = len(suite.Cases)
	for _, c := range suite.Cases {
		if c.Failure != nil {
			suite.Failures++
		}
		if c.Skipped != nil {
			suite.Skipped++
		}
	}
	doc := junitSuites{Name: "stampede", Tests: suite.Tests, Failures: suite.Failures, Time: suite.Time, Suites: []junitSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("encode junit: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("encode junit: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// junitSeconds formats d as JUnit's time attribute: seconds, three decimals.
func junitSeconds(d time.Duration) string {
	return strconv.FormatFloat(max(d.Seconds(), 0), 'f', 3, 64)
}
