package sim

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

// builtin returns built-in profile name in simulated time with clients
// and a simulated duration.
func builtin(t *testing.T, name string, clients int, d time.Duration) profiles.Profile {
	t.Helper()
	p, err := profiles.Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	p = Simulated(p)
	p.Clients = clients
	p.Ramp = profiles.Duration(min(p.Ramp.D(), d/4))
	p.Duration = profiles.Duration(d)
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	return p
}

func simulate(t *testing.T, p profiles.Profile) *reports.Result {
	t.Helper()
	var res reports.Result
	if err := Run(context.Background(), Config{Profile: p}, &res); err != nil {
		t.Fatal(err)
	}
	return &res
}

func TestSimulateDefaultProfile(t *testing.T) {
	p := builtin(t, "default", 1000, 10*time.Minute)
	res := simulate(t, p)
	if res.Mode != reports.ModeSimulate || res.Engine.Sim == nil || res.Engine.Sim.EventsProcessed == 0 {
		t.Fatalf("mode %q, engine.sim %+v: want a simulate result with its events counted", res.Mode, res.Engine.Sim)
	}
	if got := res.Ops[reports.OpSignIn].OK; got != int64(p.Clients) {
		t.Errorf("sign-ins ok: %d, want one per client (%d)", got, p.Clients)
	}
	// 60 s tokens refreshed 17 s ahead over 10 minutes: about 14 per client.
	if r := res.Ops[reports.OpRefresh]; r.OK < int64(12*p.Clients) || r.OK != r.Count {
		t.Errorf("refreshes: %d of %d ok, want about 14 per client, all ok", r.OK, r.Count)
	}
	if res.Requests.Lost != 0 || res.Requests.UserVisibleErrors != 0 {
		t.Errorf("requests %+v: want a clean run", res.Requests)
	}
}

// TestSameSeedSameResult: the same profile and seed give a byte-identical
// result.json.
func TestSameSeedSameResult(t *testing.T) {
	p := builtin(t, "elevator", 500, 5*time.Minute)
	var out [2][]byte
	for i := range out {
		path := filepath.Join(t.TempDir(), "result.json")
		if err := reports.WriteFile(path, simulate(t, p)); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = b
	}
	if !bytes.Equal(out[0], out[1]) {
		t.Fatal("two simulations of the same seed wrote different result.json")
	}
}
