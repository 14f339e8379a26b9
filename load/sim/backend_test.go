package sim

import (
	"testing"
	"time"

	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

// small is the default profile in simulated time, 200 clients for 4
// minutes, with events.
func small(t *testing.T, events ...profiles.Event) profiles.Profile {
	t.Helper()
	p := profiles.Default()
	p.Clients = 200
	p.TimeScale = 1
	p.Duration = profiles.Duration(4 * time.Minute)
	p.Ramp = profiles.Duration(20 * time.Second)
	p.Events = events
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	return p
}

func at(d time.Duration) profiles.At { return profiles.At{Offset: profiles.Duration(d)} }

// TestKeyRotationWithoutOverlapRejectsEveryToken: a rotation without
// overlap makes the API reject every token the old key signed (401s, then
// refreshes), one with overlap rejects none.
func TestKeyRotationWithoutOverlapRejectsEveryToken(t *testing.T) {
	hard := simulate(t, small(t, profiles.Event{Type: profiles.EventKeyRotation, At: at(2 * time.Minute)}))
	soft := simulate(t, small(t, profiles.Event{Type: profiles.EventKeyRotation, At: at(2 * time.Minute), Overlap: true}))
	if n := hard.Ops[reports.OpAPI].Errors["http_401"]; n == 0 {
		t.Errorf("a rotation without overlap: %d API 401s, want the old tokens rejected", n)
	}
	if n := soft.Ops[reports.OpAPI].Errors["http_401"]; n != 0 {
		t.Errorf("a rotation with overlap: %d API 401s, want none", n)
	}
	if hard.Events[0].Error != "" || soft.Events[0].Error != "" {
		t.Errorf("event errors %q, %q", hard.Events[0].Error, soft.Events[0].Error)
	}
}

// TestOverloadedEndpointShedsWithRetryAfter: a refresh endpoint of one
// server and a queue of two sheds the herd with 503 and Retry-After, which
// the clients honour and retry; the endpoint counts what it shed.
func TestOverloadedEndpointShedsWithRetryAfter(t *testing.T) {
	p := small(t, profiles.Event{Type: profiles.EventOutage, At: at(90 * time.Second), Duration: profiles.Duration(30 * time.Second),
		Fraction: 1, Mode: profiles.OutageBlackhole})
	p.SDK.RefreshOnReconnect = true
	p.BackendModel.Refresh = profiles.EndpointModel{Servers: 1, MaxQueue: 2, QueueWait: profiles.Duration(500 * time.Millisecond),
		Service: profiles.Dist{Dist: profiles.DistFixed, Value: profiles.Duration(50 * time.Millisecond)}}
	res := simulate(t, p)
	ep := res.Engine.Sim.Backend[reports.OpRefresh]
	if ep.ShedFull == 0 || ep.PeakQueue != 2 || ep.Servers != 1 {
		t.Errorf("refresh endpoint %+v: want the herd shed with a full queue of 2", ep)
	}
	if got := res.Ops[reports.OpRefresh].Errors["http_5xx"]; got != ep.ShedFull+ep.ShedWait {
		t.Errorf("refresh 5xx answers %d, the endpoint shed %d + %d", got, ep.ShedFull, ep.ShedWait)
	}
	if res.Herd.Retries == 0 {
		t.Error("no refresh was retried after a 503")
	}
	if ep.Arrived != ep.Served+ep.ShedFull+ep.ShedWait+ep.Abandoned {
		t.Errorf("refresh endpoint %+v: arrived ≠ served + shed + abandoned", ep)
	}
}

// TestClientTokenReuseRevokesTheSession: with client-token rotation and
// no grace, a refresh the backend serves after its client gave up rotates
// the client token the client still holds; its retry presents the retired
// token, and the backend revokes the session (reuse detection): forced
// sign-outs with code client_token_reused.
func TestClientTokenReuseRevokesTheSession(t *testing.T) {
	p := small(t, profiles.Event{Type: profiles.EventClientTokenRotation, At: at(0)})
	p.SDK.RequestTimeout = profiles.Duration(2 * time.Second)
	p.BackendModel.Refresh.Service = profiles.Dist{Dist: profiles.DistExponential, Value: profiles.Duration(time.Second)}
	res := simulate(t, p)
	if res.Ops[reports.OpRefresh].Errors["timeout"] == 0 {
		t.Fatal("no refresh timed out: nothing was served after its client gave up")
	}
	if n := res.Sessions.ForcedSignoutsByCause["client_token_reused"]; n == 0 {
		t.Errorf("forced sign-outs by cause %v: want client_token_reused", res.Sessions.ForcedSignoutsByCause)
	}
	if res.Sessions.ServerByStatus["revoked"] == 0 {
		t.Errorf("the backend's sessions %v: want the reused ones revoked", res.Sessions.ServerByStatus)
	}

	// Without rotation the same slow backend revokes nothing.
	p.Events = nil
	if res := simulate(t, p); res.Sessions.ServerByStatus["revoked"] != 0 || res.Sessions.ForcedSignouts != 0 {
		t.Errorf("without rotation: sessions %v, %d forced sign-outs; want none revoked", res.Sessions.ServerByStatus, res.Sessions.ForcedSignouts)
	}
}

// TestNetworkPresetDelaysAndLosesRequests: the profile's network delays
// every request by its latency (slow 3G: 400 ms plus transfer time) and
// a lossy link loses requests, which time out.
func TestNetworkPresetDelaysAndLosesRequests(t *testing.T) {
	p := small(t)
	n, ok := profiles.NetworkPreset("chrome-slow-3g")
	if !ok {
		t.Fatal("no chrome-slow-3g preset")
	}
	p.Network = n
	res := simulate(t, p)
	if got := res.Ops[reports.OpRefresh].LatencyMs.Min; got < 400 {
		t.Errorf("refresh latency min %.1f ms on slow 3G, want at least its 400 ms", got)
	}
	p.Network = profiles.Network{Loss: 0.05}
	res = simulate(t, p)
	if got := res.Ops[reports.OpAPI].Errors["timeout"]; got == 0 {
		t.Error("a link losing 5 % of requests: no API call timed out")
	}
}
