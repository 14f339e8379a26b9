package sim_test

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stampede-load/stampede/chaos"
	"github.com/stampede-load/stampede/chaos/backend"
	"github.com/stampede-load/stampede/load"
	"github.com/stampede-load/stampede/load/sim"
	"github.com/stampede-load/stampede/load/target"
	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

// handlerTransport serves requests with a handler in process: no sockets,
// so the live engine runs inside a synctest bubble.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := r.Context().Err(); err != nil {
		return nil, err
	}
	if r.Body == nil {
		r.Body = http.NoBody
	}
	w := httptest.NewRecorder()
	t.h.ServeHTTP(w, r)
	return w.Result(), nil
}

// liveInFakeTime runs p with the live engine against the embedded backend
// in a synctest bubble: real HTTP handlers, fake time.
func liveInFakeTime(t *testing.T, p profiles.Profile) *reports.Result {
	t.Helper()
	var res reports.Result
	synctest.Test(t, func(t *testing.T) {
		be, err := backend.New(backend.Config{TokenLifetime: p.Scale(p.Backend.TokenLifetime), MaxLifetime: p.Scale(p.Backend.MaxLifetime),
			Signing: p.Backend.Signing, Seed: p.Seed})
		if err != nil {
			t.Fatal(err)
		}
		hc := &http.Client{Transport: handlerTransport{be}}
		fapi := &target.FAPI{Base: "http://backend.test", Client: hc}
		admin := &chaos.AdminClient{Base: "http://backend.test", Client: hc}
		eng, err := load.New(load.Config{Profile: p, Auth: fapi, Resource: fapi, Admin: admin})
		if err != nil {
			t.Fatal(err)
		}
		if err := eng.Run(context.Background(), &res); err != nil {
			t.Fatal(err)
		}
	})
	return &res
}

// within reports whether got is within share of want.
func within(got, want, share float64) bool {
	return math.Abs(got-want) <= share*math.Abs(want)
}

// TestSimulationMatchesTheLiveEngine runs one profile live (the embedded
// backend in fake time) and simulated, the backend model calibrated from
// the live run's service times: each operation's count within 5 %, the
// herd's peak/mean within 15 %, and the revocation wave's forced sign-outs
// exactly.
func TestSimulationMatchesTheLiveEngine(t *testing.T) {
	p := profiles.Default()
	p.Clients = 300
	p.Seed = 7
	p.TimeScale = 1
	p.Duration = profiles.Duration(8 * time.Minute)
	p.Ramp = profiles.Duration(30 * time.Second)
	p.Backend.Signing = "EdDSA"
	p.SDK.RequestTimeout = profiles.Duration(5 * time.Second)
	p.Events = []profiles.Event{
		{Type: profiles.EventOutage, At: profiles.At{Offset: profiles.Duration(2 * time.Minute)}, Duration: profiles.Duration(90 * time.Second),
			Fraction: 0.5, Mode: profiles.OutageBlackhole},
		{Type: profiles.EventRevocationWave, At: profiles.At{Offset: profiles.Duration(5 * time.Minute)}, Fraction: 0.25},
	}
	p.SDK.RefreshOnReconnect = true
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	live := liveInFakeTime(t, p)

	service, err := sim.Calibrate(live)
	if err != nil {
		t.Fatal(err)
	}
	if len(service) != 3 {
		t.Fatalf("calibrated %d operations from the live run, want sign_in, refresh and api", len(service))
	}
	var simulated reports.Result
	if err := sim.Run(context.Background(), sim.Config{Profile: sim.Simulated(p), Service: service}, &simulated); err != nil {
		t.Fatal(err)
	}

	for _, op := range []string{reports.OpSignIn, reports.OpRefresh, reports.OpAPI, reports.OpGetToken} {
		l, s := live.Ops[op].Count, simulated.Ops[op].Count
		if !within(float64(s), float64(l), 0.05) {
			t.Errorf("%s: live %d, simulated %d: more than 5%% apart", op, l, s)
		}
	}
	if l, s := live.Herd.PeakToMean, simulated.Herd.PeakToMean; !within(s, l, 0.15) {
		t.Errorf("herd peak/mean: live %.2f, simulated %.2f: more than 15%% apart", l, s)
	}
	if live.Events[1].ForcedSignouts == 0 || live.Sessions.ForcedSignouts == 0 {
		t.Fatalf("the live revocation wave forced no sign-out: events %+v", live.Events)
	}
	if l, s := live.Events[1].Sessions, simulated.Events[1].Sessions; l != s {
		t.Errorf("sessions the revocation wave revoked: live %d, simulated %d", l, s)
	}
	if l, s := live.Sessions.ForcedSignouts, simulated.Sessions.ForcedSignouts; l != s {
		t.Errorf("forced sign-outs: live %d, simulated %d", l, s)
	}
	t.Logf("live: sign-in %d refresh %d api %d, peak/mean %.2f, forced %d; simulated: %d %d %d, %.2f, %d",
		live.Ops[reports.OpSignIn].Count, live.Ops[reports.OpRefresh].Count, live.Ops[reports.OpAPI].Count, live.Herd.PeakToMean, live.Sessions.ForcedSignouts,
		simulated.Ops[reports.OpSignIn].Count, simulated.Ops[reports.OpRefresh].Count, simulated.Ops[reports.OpAPI].Count, simulated.Herd.PeakToMean, simulated.Sessions.ForcedSignouts)
}
