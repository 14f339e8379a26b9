package reports

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"slices"
	"strings"
	"testing"

	"github.com/stampede-load/stampede/profiles"
)

// invariantResult is a run of a single-flight app that lost 28 requests
// and duplicated 3 refreshes, with the evidence the engine kept.
func invariantResult(inv profiles.Invariants) *Result {
	p := profiles.Default()
	p.Invariants = inv
	r := evalResult()
	r.Profile = p
	r.Requests = Requests{Issued: 770, Settled: 742, Lost: 28, OK: 700, UserVisibleErrors: 42}
	r.Herd.DuplicateRefreshes = 3
	for i := range 7 {
		r.Samples.Lost = AddSample(r.Samples.Lost, RequestSample{Client: 40 - i, AtS: 30 + float64(i), IssuedS: 30 + float64(i),
			TokenGeneration: 2, NewestGeneration: 3, Retries: 1, Interceptor: "queued behind an interceptor flag never reset"})
	}
	r.Samples.DuplicateRefreshes = []RequestSample{{Client: 5, AtS: 12.5, IssuedS: 12.5, TokenGeneration: 4, NewestGeneration: 4, Interceptor: "idle"}}
	return r
}

func TestInvariantsGateTheVerdict(t *testing.T) {
	r := invariantResult(profiles.Invariants{})
	if err := Evaluate(r, nil); err != nil {
		t.Fatal(err)
	}
	if r.Verdict != VerdictFail || len(r.Invariants) != 4 {
		t.Fatalf("verdict %s, invariants %+v", r.Verdict, r.Invariants)
	}
	want := map[string]struct {
		value     float64
		ok, gated bool
	}{
		"requests.lost == 0":                {28, false, true},
		"requests.retry_loops == 0":         {0, true, true},
		"requests.stale_token_retries == 0": {0, true, true},
		"herd.duplicate_refreshes == 0":     {3, false, true},
	}
	for _, i := range r.Invariants {
		w := want[i.Expr]
		if i.Value != w.value || i.OK != w.ok || i.Gated != w.gated || i.Relaxed {
			t.Errorf("%+v, want %+v", i, w)
		}
	}
	if got := FailedInvariants(r); got != "invariants failed: requests.lost == 0 (value 28); herd.duplicate_refreshes == 0 (value 3)" {
		t.Errorf("FailedInvariants: %q", got)
	}
	if len(r.Samples.Lost) != MaxSamples || r.Samples.Lost[0].AtS != 30 {
		t.Errorf("the sample keeps the %d earliest: %+v", MaxSamples, r.Samples.Lost)
	}

	// Relaxing both failing invariants: the run passes, and says so.
	r = invariantResult(profiles.Invariants{Lost: profiles.InvariantOff, DuplicateRefreshes: profiles.InvariantOff})
	if err := Evaluate(r, nil); err != nil {
		t.Fatal(err)
	}
	if r.Verdict != VerdictPass || !r.Invariants[0].Relaxed || r.Invariants[0].Gated || r.Invariants[0].OK {
		t.Errorf("relaxed: verdict %s, %+v", r.Verdict, r.Invariants[0])
	}
}

func TestInvariantsFollowTheInterceptorsPromise(t *testing.T) {
	for _, tc := range []struct {
		interceptor string
		gated       []bool // lost, retry_loops, stale_token_retries, duplicate_refreshes
	}{
		{profiles.InterceptorSingleFlight, []bool{true, true, true, true}},
		{profiles.InterceptorBugStaleRetry, []bool{true, true, true, true}},
		{profiles.InterceptorNaive, []bool{true, true, false, false}},
		{profiles.InterceptorRetryOnce, []bool{true, true, false, false}},
	} {
		r := invariantResult(profiles.Invariants{})
		r.Profile.SDK.Interceptor = tc.interceptor
		for i, ir := range EvaluateInvariants(r) {
			if ir.Gated != tc.gated[i] {
				t.Errorf("%s: %s gated %v, want %v (%s)", tc.interceptor, ir.Name, ir.Gated, tc.gated[i], ir.Note)
			}
		}
	}
	// "on" gates it even where the interceptor does not promise it.
	r := invariantResult(profiles.Invariants{DuplicateRefreshes: profiles.InvariantOn})
	r.Profile.SDK.Interceptor = profiles.InterceptorNaive
	if ir := EvaluateInvariants(r)[3]; !ir.Gated || ir.OK {
		t.Errorf("forced on: %+v", ir)
	}
}

// No API call: not a pass when the app was to make some; not gated when it makes none.
func TestInvariantsWithoutAPICalls(t *testing.T) {
	r := invariantResult(profiles.Invariants{})
	r.Requests, r.Herd.DuplicateRefreshes = Requests{}, 0
	got := EvaluateInvariants(r)
	if got[0].OK || !got[0].Gated || !strings.Contains(got[0].Note, "no API request was made") || !got[3].OK {
		t.Errorf("no API call made: %+v", got)
	}
	r.Profile.App.APICallsPerMinute = 0
	got = EvaluateInvariants(r)
	if got[0].Gated || !strings.Contains(got[0].Note, "makes no API call") || !got[3].Gated {
		t.Errorf("an app without API calls: %+v", got)
	}
}

// junitDoc is the part of a JUnit report the invariant tests read.
type junitDoc struct {
	Suites []struct {
		Skipped int `xml:"skipped,attr"`
		Cases   []struct {
			Classname string `xml:"classname,attr"`
			Name      string `xml:"name,attr"`
			Skipped   *struct {
				Message string `xml:"message,attr"`
			} `xml:"skipped"`
			Failure *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func TestJUnitHasOneTestcasePerInvariant(t *testing.T) {
	r := invariantResult(profiles.Invariants{DuplicateRefreshes: profiles.InvariantOff})
	if err := Evaluate(r, []profiles.Threshold{{Expr: "refresh.p99 < 400ms"}}); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteJUnit(&b, r); err != nil {
		t.Fatal(err)
	}
	var doc junitDoc
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	cases := map[string]int{}
	for i, c := range doc.Suites[0].Cases {
		if c.Classname == "stampede.invariants" {
			cases[c.Name] = i
		}
	}
	if len(cases) != 4 {
		t.Fatalf("invariant testcases %v, want 4\n%s", cases, b.String())
	}
	lost := doc.Suites[0].Cases[cases["requests.lost == 0"]]
	if lost.Failure == nil || lost.Failure.Type != "invariant" || lost.Failure.Message != "requests.lost = 28, want 0" ||
		strings.Count(lost.Failure.Text, "queued behind an interceptor flag never reset") != 3 || !strings.Contains(lost.Failure.Text, "client 40 at 30.000 s") {
		t.Errorf("requests.lost testcase: %+v", lost.Failure)
	}
	dup := doc.Suites[0].Cases[cases["herd.duplicate_refreshes == 0"]]
	if dup.Failure != nil || dup.Skipped == nil || !strings.Contains(dup.Skipped.Message, "invariants.duplicate_refreshes: off") {
		t.Errorf("a relaxed invariant is a skipped testcase saying so: %+v %+v", dup.Skipped, dup.Failure)
	}
	if ok := doc.Suites[0].Cases[cases["requests.retry_loops == 0"]]; ok.Failure != nil || ok.Skipped != nil {
		t.Errorf("a holding invariant passes: %+v", ok)
	}
	if doc.Suites[0].Skipped != 1 {
		t.Errorf("suite skipped %d, want 1", doc.Suites[0].Skipped)
	}
}

// A relaxed invariant is visible in every report format.
func TestRelaxedInvariantShowsInEveryFormat(t *testing.T) {
	r := invariantResult(profiles.Invariants{Lost: profiles.InvariantOff})
	if err := Evaluate(r, nil); err != nil {
		t.Fatal(err)
	}
	for _, f := range Formats() {
		var b bytes.Buffer
		if err := Render(&b, r, f); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out := b.String()
		switch f {
		case "json":
			var back Result
			if err := json.Unmarshal(b.Bytes(), &back); err != nil || !back.Invariants[0].Relaxed || back.Profile.Invariants.Lost != "off" {
				t.Errorf("json: %v %+v", err, back.Invariants)
			}
		case "text":
			if !strings.Contains(out, "- requests.lost == 0 (value 28) [invariant, relaxed]: relaxed by the profile (invariants.lost: off)") {
				t.Errorf("text:\n%s", out)
			}
			if !strings.Contains(out, "client 40 at 30.000 s: token generation 2 (newest 3), 1 retry: queued behind an interceptor flag never reset") {
				t.Errorf("text shows no evidence:\n%s", out)
			}
		case "markdown":
			if !strings.Contains(out, "| `requests.lost == 0` (invariant) | 28 | relaxed (`invariants.lost: off`) |") ||
				!strings.Contains(out, "Relaxed by the profile: lost.") {
				t.Errorf("markdown:\n%s", out)
			}
		case "junit":
			if !strings.Contains(out, `<skipped message="relaxed by the profile (invariants.lost: off) (value 28)">`) {
				t.Errorf("junit:\n%s", out)
			}
		case "html":
			if !strings.Contains(out, "relaxed (invariants.lost: off)") || !strings.Contains(out, `<span class="kind">invariant</span>`) ||
				!strings.Contains(out, "Evidence: <code>requests.lost == 0</code> (28)") || !strings.Contains(out, "queued behind an interceptor flag never reset") {
				t.Errorf("html shows no relaxed invariant or no evidence")
			}
		case "hgrm":
			// histograms only
		default:
			t.Errorf("format %s: add it to this test", f)
		}
	}
}

func TestMergeKeepsTheEarliestSamples(t *testing.T) {
	a := Samples{Lost: []RequestSample{{Client: 1, AtS: 5}, {Client: 3, AtS: 9}}}
	b := Samples{Lost: []RequestSample{{Client: 2, AtS: 1}, {Client: 4, AtS: 2}, {Client: 6, AtS: 3}, {Client: 8, AtS: 4}}}
	var m Samples
	m.Merge(a)
	m.Merge(b.Shifted(2)) // b's run started 2 s later
	var got []int
	for _, s := range m.Lost {
		got = append(got, s.Client)
	}
	if want := []int{2, 4, 1, 6, 8}; !slices.Equal(got, want) { // 3, 4, 5, 5 (ties by client), 6 s
		t.Errorf("merged %v, want %v", got, want)
	}
}
