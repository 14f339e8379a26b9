package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
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

// TestRunPerClientBeyondTheDescriptorLimitExitsOne: a per_client run the
// descriptor limit cannot hold stops before it starts, exit 1, saying the
// numbers; the same run with a shared pool is not refused.
func TestRunPerClientBeyondTheDescriptorLimitExitsOne(t *testing.T) {
	var errb bytes.Buffer
	out := t.TempDir()
	o := &runOptions{streams: streams{out: &bytes.Buffer{}, err: &errb}, profile: "default",
		sets: []string{"connections=per_client", "clients=500"}, outDir: out, quiet: true,
		fdLimit: func() (uint64, error) { return 600, nil }}
	err := o.run(context.Background())
	if exitCode(err) != exitFailure || err == nil ||
		!strings.Contains(err.Error(), "2 × 500 clients") || !strings.Contains(err.Error(), "the limit is 600") {
		t.Fatalf("err %v (exit %d); want exit 1 giving the clients and the limit", err, exitCode(err))
	}
	if _, statErr := os.Stat(filepath.Join(out, "result.json")); statErr == nil {
		t.Error("the run started: result.json written")
	}
	p := profiles.Default()
	p.Clients = 500
	if err := fdBudget(p, 500, 600, openFDs()); err != nil {
		t.Errorf("a shared pool was refused: %v", err)
	}
}

// TestRunRecordsConnections: a per_client run against the embedded backend
// dials at least once per client and records it, with the descriptor
// limit, in result.json and the summary.
func TestRunRecordsConnections(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := runCLI(context.Background(), "run", "--clients", "50", "--duration", "2s", "--ramp", "500ms",
		"--time-scale", "60", "--set", "connections=per_client", "--set", "backend.signing=ES256", "--out", out, "--no-progress")
	if code != exitOK {
		t.Fatalf("exit %d; stderr %s", code, stderr)
	}
	res, err := reports.ReadFile(filepath.Join(out, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	c := res.Engine.Connections
	if res.Profile.Connections != profiles.ConnectionsPerClient || c.Dials < 50 || c.PeakOpen < 50 || c.SourceAddrs != 1 {
		t.Errorf("connections %q: %+v; want ≥ 50 dials and open from one address", res.Profile.Connections, c)
	}
	if runtime.GOOS == "linux" && res.Engine.FDLimit == 0 {
		t.Error("engine.fd_limit not recorded")
	}
	if !strings.Contains(stdout, "conns      per_client · ") {
		t.Errorf("summary has no connections line:\n%s", stdout)
	}
}
