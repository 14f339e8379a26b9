package reports

import (
	"fmt"
	"strings"
	"testing"
)

// Answers of the same kind add up, the first sample stays, kinds beyond
// the bound fold into their class's "(other)", and the total never changes.
func TestAddErrorAnswersAddsUpAndBoundsKinds(t *testing.T) {
	var all []ErrorAnswer
	var want int64
	for i := range MaxErrorAnswers + 10 {
		a := ErrorAnswer{Class: "other", Status: 400, Code: fmt.Sprintf("code_%02d", i), Count: int64(i + 1), Sample: "first"}
		all = AddErrorAnswers(all, []ErrorAnswer{a})
		a.Sample = "second"
		all = AddErrorAnswers(all, []ErrorAnswer{a})
		want += 2 * int64(i+1)
	}
	all = AddErrorAnswers(all, []ErrorAnswer{{Class: "http_401", Status: 401, Code: "invalid_grant", Count: 1000}})
	want += 1000
	var sum int64
	others := 0
	for _, a := range all {
		sum += a.Count
		if a.Code == OtherAnswers {
			others++
			continue
		}
		if a.Code != "invalid_grant" && a.Sample != "first" {
			t.Errorf("%s sample %q, want the first", a.Label(), a.Sample)
		}
	}
	if sum != want {
		t.Errorf("counts add up to %d, want %d", sum, want)
	}
	// invalid_grant is a new class's answer beyond the bound: it folds too.
	if len(all) != MaxErrorAnswers+2 || others != 2 {
		t.Errorf("%d kinds (%d other), want %d (2 other): %s", len(all), others, MaxErrorAnswers+2, TopErrorAnswers(all, 100))
	}
	if all[0].Class != "http_401" || all[0].Code != OtherAnswers || all[0].Count != 1000 {
		t.Errorf("most frequent first: %+v", all[0])
	}
}

func TestErrorAnswerLabels(t *testing.T) {
	for _, c := range []struct {
		a    ErrorAnswer
		want string
	}{
		{ErrorAnswer{Class: "http_401", Status: 401, Code: "invalid_grant"}, "401 invalid_grant"},
		{ErrorAnswer{Class: "other", Status: 404}, "404"},
		{ErrorAnswer{Class: "network", Code: "connection_refused"}, "network connection_refused"},
		{ErrorAnswer{Class: "timeout"}, "timeout"},
		{ErrorAnswer{Class: ClassSuperseded, Status: 400, Code: "invalid_token"}, "400 invalid_token (superseded_token)"},
	} {
		if got := c.a.Label(); got != c.want {
			t.Errorf("Label(%+v) = %q, want %q", c.a, got, c.want)
		}
	}
	as := []ErrorAnswer{{Class: "http_401", Status: 401, Code: "invalid_grant", Count: 25}, {Class: "other", Status: 400, Code: "invalid_request", Count: 3},
		{Class: "timeout", Count: 2}, {Class: "network", Count: 1}}
	if got, want := TopErrorAnswers(as, 3), "401 invalid_grant: 25, 400 invalid_request: 3, timeout: 2, … and 1 more kind"; got != want {
		t.Errorf("TopErrorAnswers = %q, want %q", got, want)
	}
}

// A sample body never carries a token or a secret, is bounded and on one line.
func TestSampleBodyMasksSecretsAndIsBounded(t *testing.T) {
	jwt := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
	secrets := []string{jwt, "8f3a9c2e71b44d0f9a6e5c3b2a1d0e9f", "hunter2", "rt-opaque-1234567890abcdefghij", "s3cr3t"}
	body := `{"error":"invalid_grant",
	  "error_description":"refresh token rt-opaque-1234567890abcdefghij was revoked",
	  "access_token":"` + jwt + `", "refresh_token":"8f3a9c2e71b44d0f9a6e5c3b2a1d0e9f", "password":"hunter2", "client_secret":"s3cr3t"}`
	got := SampleBody([]byte(body))
	for _, s := range secrets {
		if strings.Contains(got, s) {
			t.Errorf("sample %q holds the secret %q", got, s)
		}
	}
	if !strings.Contains(got, `"error":"invalid_grant"`) || strings.Contains(got, "\n") {
		t.Errorf("sample %q: want the error code kept, on one line", got)
	}
	long := SampleBody([]byte(`{"error":"server_error","error_description":"` + strings.Repeat("é", 500) + `"}`))
	if len(long) > SampleBytes+len("…") || !strings.HasSuffix(long, "…") {
		t.Errorf("sample of %d bytes, want at most %d and cut with …", len(long), SampleBytes)
	}
	if SampleBody([]byte("  \n ")) != "" {
		t.Error("a blank body's sample is not empty")
	}
}

// Every report shows what the server said: the text summary the top kinds
// of each operation, HTML and Markdown every kind with its sample, escaped.
func TestReportsShowWhatTheServerSaid(t *testing.T) {
	r := sampleResult(t)
	r.Ops[OpRefresh].ErrorAnswers = []ErrorAnswer{
		{Class: "http_5xx", Status: 503, Code: "overloaded", Count: 1, Sample: `{"error":"<b>busy</b> | retry"}`},
		{Class: "timeout", Count: 1},
	}
	var text, md, html strings.Builder
	if err := WriteText(&text, r); err != nil {
		t.Fatal(err)
	}
	if err := WriteMarkdown(&md, r); err != nil {
		t.Fatal(err)
	}
	if err := WriteHTML(&html, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "refresh   503 overloaded: 1, timeout: 1") {
		t.Errorf("text summary:\n%s", text.String())
	}
	if !strings.Contains(md.String(), "| refresh | http_5xx | 503 | `overloaded` | 1 | `{\"error\":\"<b>busy</b> \\| retry\"}` |") {
		t.Errorf("markdown:\n%s", md.String())
	}
	h := html.String()
	if !strings.Contains(h, "What the server said") || !strings.Contains(h, "&lt;b&gt;busy&lt;/b&gt;") || strings.Contains(h, "<b>busy") {
		t.Errorf("html lacks the escaped answers table")
	}
}
