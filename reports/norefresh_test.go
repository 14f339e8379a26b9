package reports

import (
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/profiles"
)

// A run without a refresh keeps the refresh row at 0 with the reason, and
// names target.refresh_interval when the tokens outlived an OAuth 2.0 run.
func TestSummaryKeepsAZeroRefreshRowWithItsReason(t *testing.T) {
	p := profiles.Default()
	p.Duration = profiles.Duration(time.Minute)
	p.TimeScale = 1
	p.Target = profiles.Target{Kind: profiles.TargetOAuth2, URL: "http://idp", TokenEndpoint: "/token"}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := &Result{Profile: p, StartedAt: start, EndedAt: start.Add(time.Minute),
		Target: Target{Kind: "oauth2", URL: "http://idp/token", TokenLifetimeS: 7200},
		Ops:    map[string]*Op{OpSignIn: {Count: 5, OK: 5, Errors: map[string]int64{}}, OpRefresh: {Errors: map[string]int64{}}}}
	var b strings.Builder
	if err := WriteText(&b, r); err != nil {
		t.Fatal(err)
	}
	var row string
	for _, l := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "refresh ") {
			row = l
		}
	}
	if f := strings.Fields(row); len(f) < 4 || f[1] != "0" || f[3] != "0" {
		t.Errorf("refresh row %q, want it kept with 0", row)
	}
	for _, want := range []string{"no refreshes: the session tokens live 2h0m0s", "set target.refresh_interval"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, b.String())
		}
	}

	r.Ops[OpSignIn].OK = 0
	if got := NoRefreshReason(r); !strings.Contains(got, "no client signed in") {
		t.Errorf("reason without sign-ins: %q", got)
	}
	r.Ops[OpRefresh].Count = 1
	if got := NoRefreshReason(r); got != "" {
		t.Errorf("reason with a refresh: %q", got)
	}
}
