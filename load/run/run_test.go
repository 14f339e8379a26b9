package run

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stampede-load/stampede/chaos/backend"
	"github.com/stampede-load/stampede/load"
	"github.com/stampede-load/stampede/load/target"
	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

// smallFleet is the default profile cut to a short run of n clients
// against the embedded backend: d of wall time at ×60.
func smallFleet(n int, d time.Duration) profiles.Profile {
	p := profiles.Default()
	p.Clients, p.Duration, p.Ramp, p.TimeScale = n, profiles.Duration(d), profiles.Duration(d/5), 60
	return p
}

// waitForFile polls for path until it exists, the deadline passes or done
// is closed; it reports whether the file appeared.
func waitForFile(path string, deadline time.Duration, done <-chan struct{}) bool {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	end := time.Now().Add(deadline)
	for time.Now().Before(end) {
		if _, err := os.Stat(path); err == nil {
			return true
		}
		select {
		case <-done:
			_, err := os.Stat(path)
			return err == nil
		case <-tick.C:
		}
	}
	return false
}

// TestExecuteWritesCheckpointsThenRemovesThem: checkpoint.json appears
// while the run goes on and is gone once result.json is written, with no
// temporary file left behind.
func TestExecuteWritesCheckpointsThenRemovesThem(t *testing.T) {
	out := t.TempDir()
	done := make(chan struct{})
	var seen atomic.Bool
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		seen.Store(waitForFile(filepath.Join(out, CheckpointName), time.Minute, done))
	}()
	p := smallFleet(20, 1500*time.Millisecond)
	p.Ramp = profiles.Duration(200 * time.Millisecond)
	_, err := Execute(context.Background(), Options{Profile: p, OutDir: out, CheckpointEvery: 100 * time.Millisecond})
	close(done)
	<-polled
	if err != nil {
		t.Fatal(err)
	}
	if !seen.Load() {
		t.Error("no checkpoint.json appeared while the run went on")
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	list := strings.Join(names, " ")
	if strings.Contains(list, CheckpointName) || strings.Contains(list, ".tmp") || !strings.Contains(list, ResultName) ||
		!strings.Contains(list, ReportName) {
		t.Errorf("results directory holds %s", list)
	}
}

// TestExecuteInterruptedWritesAPartialResult: a run whose context ends
// mid-ramp still writes result.json, marked partial, with its failed
// threshold recorded, and says it did not reach its end.
func TestExecuteInterruptedWritesAPartialResult(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := t.TempDir()
	p := profiles.Default()
	p.Thresholds = []profiles.Threshold{{Expr: "refresh.count > 1e9"}}
	var complete []bool
	res, err := Execute(ctx, Options{Profile: p, OutDir: out, RunID: "interrupted", ToolVersion: "v9.9.9",
		OnBackend: func(*backend.Backend) { cancel() }, // interrupt as soon as the embedded backend is up
		Stopped:   func(c bool) { complete = append(complete, c) }})
	if err != nil {
		t.Fatal(err)
	}
	written, err := reports.ReadFile(filepath.Join(out, ResultName))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []*reports.Result{res, written} {
		if !r.Partial || r.Verdict != reports.VerdictFail || len(r.Thresholds) != 1 || r.Thresholds[0].OK {
			t.Errorf("partial %v, verdict %q, thresholds %+v; want the failed threshold recorded", r.Partial, r.Verdict, r.Thresholds)
		}
		if r.RunID != "interrupted" || r.ToolVersion != "v9.9.9" || r.Target.Kind != "embedded" || r.Shard != (reports.Shard{Index: 0, Count: 1}) {
			t.Errorf("run %q, version %q, target %+v, shard %+v", r.RunID, r.ToolVersion, r.Target, r.Shard)
		}
	}
	if len(complete) != 1 || complete[0] {
		t.Errorf("Stopped called with %v, want once with false", complete)
	}
}

// TestExecuteRecordsConnections: a per_client run against the embedded
// backend dials at least once per client and records it, with the
// descriptor limit, in result.json and the summary.
func TestExecuteRecordsConnections(t *testing.T) {
	p := smallFleet(50, 2*time.Second)
	p.Ramp = profiles.Duration(500 * time.Millisecond)
	p.Connections = profiles.ConnectionsPerClient
	p.Backend.Signing = "ES256"
	out := t.TempDir()
	if _, err := Execute(context.Background(), Options{Profile: p, OutDir: out}); err != nil {
		t.Fatal(err)
	}
	res, err := reports.ReadFile(filepath.Join(out, ResultName))
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
	var summary bytes.Buffer
	if err := reports.WriteText(&summary, res); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(summary.String(), "conns      per_client · ") {
		t.Errorf("summary has no connections line:\n%s", summary.String())
	}
}

// TestExecutePerClientBeyondTheDescriptorLimit: a per_client run the
// descriptor limit cannot hold stops before it starts, saying the numbers,
// and is no problem of the profile's target.
func TestExecutePerClientBeyondTheDescriptorLimit(t *testing.T) {
	p := profiles.Default()
	p.Clients, p.Connections = 500, profiles.ConnectionsPerClient
	out := t.TempDir()
	var started bool
	_, err := Execute(context.Background(), Options{Profile: p, OutDir: out,
		FDLimit: func() (uint64, error) { return 600, nil }, Started: func(_ *load.Engine, _ reports.Target) { started = true }})
	if err == nil || !strings.Contains(err.Error(), "2 × 500 clients") || !strings.Contains(err.Error(), "the limit is 600") {
		t.Fatalf("err %v; want the clients and the limit", err)
	}
	if ce := (*target.ConfigError)(nil); errors.As(err, &ce) {
		t.Errorf("err %v is a target configuration error", err)
	}
	if _, statErr := os.Stat(filepath.Join(out, ResultName)); statErr == nil || started {
		t.Error("the run started")
	}
}

// TestExecuteDoesNotFollowRedirects runs against a target whose every endpoint
// redirects to itself: each sign-in is one request, answered 302 and
// classified other, and the run completes.
func TestExecuteDoesNotFollowRedirects(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/.well-known/jwks.json" {
			_, _ = io.WriteString(w, `{"keys":[]}`) // the preflight passes
			return
		}
		hits.Add(1)
		http.Redirect(w, r, r.URL.Path, http.StatusFound) // a loop
	}))
	defer srv.Close()
	out := t.TempDir()
	p := smallFleet(5, time.Second)
	p.Target = profiles.Target{Kind: profiles.TargetFAPI, URL: srv.URL}
	// The pre-flight's canary sign-in is answered 302: the run does not start.
	_, err := Execute(context.Background(), Options{Profile: p, OutDir: t.TempDir()})
	var pe *target.PreflightError
	if !errors.As(err, &pe) || pe.Outcome.Status != http.StatusFound || !strings.Contains(err.Error(), srv.URL+"/v1/client/sign_ins answered 302") {
		t.Fatalf("err %v; want the pre-flight's sign-in answered 302", err)
	}
	if hits.Swap(0) != 1 {
		t.Errorf("the canary sign-in made %d requests: redirects were followed", hits.Load())
	}
	if _, err := Execute(context.Background(), Options{Profile: p, OutDir: out, SkipPreflight: true}); err != nil {
		t.Fatal(err)
	}
	res, err := reports.ReadFile(filepath.Join(out, ResultName))
	if err != nil {
		t.Fatal(err)
	}
	si := res.Ops[reports.OpSignIn]
	if si == nil || si.Count == 0 || si.Errors["other"] != si.Count {
		t.Fatalf("sign-ins %+v: want every one of class other", si)
	}
	if hits.Load() != si.Count {
		t.Errorf("the target saw %d requests for %d sign-ins: redirects were followed", hits.Load(), si.Count)
	}
}
