package load

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/golden_result.json")

// goldenProfile is a fixed fleet with every kind of fleet event a client
// feels (outage, revocation wave, device clock skew, key rotation, brownout,
// spurious 401s), app lifecycle with cold starts, and API calls.
func goldenProfile() profiles.Profile {
	p := profiles.Default()
	p.Clients = 60
	p.Seed = 7
	p.App.Lifecycle = profiles.Lifecycle{
		Model:      profiles.LifecycleBackgroundForeground,
		Foreground: profiles.Dist{Dist: profiles.DistExponential, Value: profiles.Duration(90e9)},
		Background: profiles.Dist{Dist: profiles.DistLognormal, Value: profiles.Duration(60e9), Sigma: 1},
		ColdStart:  0.2,
	}
	p.Events = []profiles.Event{
		{Type: profiles.EventOutage, At: profiles.At{Share: 0.2}, Duration: profiles.Duration(30e9), Fraction: 0.5, Mode: profiles.OutageBlackhole, RestoreSpread: profiles.Duration(5e9)},
		{Type: profiles.EventKeyRotation, At: profiles.At{Share: 0.35}},
		{Type: profiles.EventBrownout, At: profiles.At{Share: 0.5}, Duration: profiles.Duration(20e9), Latency: profiles.Duration(2e8), Rate503: 0.2},
		{Type: profiles.EventRevocationWave, At: profiles.At{Share: 0.6}, Fraction: 0.25},
		{Type: profiles.EventSpurious401, At: profiles.At{Share: 0.7}, Duration: profiles.Duration(10e9), Rate: 0.3},
		{Type: profiles.EventClockSkew, At: profiles.At{Share: 0.8}, Fraction: 0.3, DeviceOffset: profiles.Duration(-90e9)},
		{Type: profiles.EventOutage, At: profiles.At{Share: 0.9}, Duration: profiles.Duration(10e9), Fraction: 0.3, Mode: profiles.OutageFailFast},
	}
	return p
}

// normalizedResult is res as result.json, without what differs between two
// runs of the same plan: run id, times, tool version, the process's own
// figures (goroutines, memory) and the timeline's gauges. The live engine
// samples gauges (refreshes in flight, clients offline, ...) from a ticker
// of its own, and a tick that falls on the instant a client acts may see
// the fleet before or after it; every counter is exact.
func normalizedResult(t *testing.T, res reports.Result) []byte {
	t.Helper()
	res.RunID, res.ToolVersion = "", ""
	res.StartedAt, res.EndedAt = time.Time{}, time.Time{}
	res.Engine.Goroutines, res.Engine.MaxRSSBytes = 0, 0
	tl := &res.Timeline
	tl.RefreshInflight, tl.SignedIn, tl.SignedOut, tl.Background, tl.Offline, tl.ValidToken = nil, nil, nil, nil, nil, nil
	b, err := json.MarshalIndent(&res, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// TestGoldenResult: a fixed profile with fleet events, run in fake time,
// gives the result.json recorded in testdata/golden_result.json, figure for
// figure. A change to the engine, the driver or the model that alters what
// a fleet does shows up here; rewrite the file with -update only when the
// change is meant.
func TestGoldenResult(t *testing.T) {
	res, _ := runFake(t, goldenProfile(), nil)
	checkBooks(t, &res)
	got := normalizedResult(t, res)
	path := filepath.Join("testdata", "golden_result.json")
	if *updateGolden {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		out := filepath.Join(os.TempDir(), "stampede-golden-got.json")
		_ = os.WriteFile(out, got, 0o644)
		t.Fatalf("result.json differs from %s (got written to %s; diff them)", path, out)
	}
}
