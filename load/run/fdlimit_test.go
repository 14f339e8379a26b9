package run

import (
	"strings"
	"testing"

	"github.com/stampede-load/stampede/profiles"
)

func TestFDBudget(t *testing.T) {
	perClient := profiles.Default()
	perClient.Connections = profiles.ConnectionsPerClient
	external := perClient
	external.Target = profiles.Target{Kind: profiles.TargetFAPI, URL: "http://127.0.0.1:8787"}
	for _, tc := range []struct {
		name    string
		p       profiles.Profile
		clients int
		limit   uint64
		want    string // "" fits
	}{
		{"shared pool: no check", profiles.Default(), 100000, 1024, ""},
		{"limit unknown", perClient, 100000, 0, ""},
		{"embedded: both ends count", perClient, 9000, 20000, ""},
		{"embedded: 20,000 clients need 40,074", perClient, 20000, 20000,
			"connections: per_client needs about 40,074 file descriptors (2 per client, the embedded backend holding the other end: 2 × 20,000 clients + 10 open + 64 spare) but the limit is 20,000"},
		{"external target: one end", external, 19000, 20000, ""},
		{"external target beyond the limit", external, 20000, 20000,
			"connections: per_client needs about 20,074 file descriptors (1 per client: 1 × 20,000 clients + 10 open + 64 spare) but the limit is 20,000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := fdBudget(tc.p, tc.clients, tc.limit, 10)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)):
				t.Errorf("err %v, want %q…", err, tc.want)
			case err != nil && strings.Contains(err.Error(), "\n"):
				t.Errorf("not one line: %q", err)
			}
		})
	}
}

// TestFDBudgetLetsASharedPoolBeyondTheLimitRun: the 500 clients refused
// per_client against a limit of 600 fit in a shared pool.
func TestFDBudgetLetsASharedPoolBeyondTheLimitRun(t *testing.T) {
	p := profiles.Default()
	p.Clients = 500
	if err := fdBudget(p, 500, 600, openFDs()); err != nil {
		t.Errorf("a shared pool was refused: %v", err)
	}
}

func TestMaxConns(t *testing.T) {
	external := profiles.Default()
	external.Target = profiles.Target{Kind: profiles.TargetFAPI, URL: "http://127.0.0.1:8787"}
	for _, tc := range []struct {
		p               profiles.Profile
		limit           uint64
		maxOpen, shared int
	}{
		{profiles.Default(), 0, 0, 1024},        // unknown limit: no bound
		{profiles.Default(), 20000, 9963, 1024}, // embedded: (20,000 − 10 − 64) / 2
		{external, 20000, 19926, 1024},          // (20,000 − 10 − 64)
		{profiles.Default(), 1024, 475, 475},    // a small limit shrinks the shared pool
		{profiles.Default(), 50, 1, 1},          // never below one
	} {
		if m, s := maxConns(tc.p, tc.limit, 10); m != tc.maxOpen || s != tc.shared {
			t.Errorf("maxConns(%s, %d) = %d, %d; want %d, %d", tc.p.TargetKind(), tc.limit, m, s, tc.maxOpen, tc.shared)
		}
	}
}
