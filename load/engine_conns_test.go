package load

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stampede-load/stampede/load/target"
	"github.com/stampede-load/stampede/load/transport"
	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

// dropCounter is a Conns that counts the drops of each client.
type dropCounter struct {
	mu    sync.Mutex
	drops map[int]int
}

func (d *dropCounter) Drop(client int) {
	d.mu.Lock()
	d.drops[client]++
	d.mu.Unlock()
}

func (d *dropCounter) Stats() reports.Connections { return reports.Connections{Dials: 42} }

// runDrops runs p in fake time against the embedded backend in process and
// returns how often the engine dropped each client's connections.
func runDrops(t *testing.T, p profiles.Profile) (map[int]int, reports.Result) {
	d := &dropCounter{drops: map[int]int{}}
	return d.drops, runConns(t, p, d)
}

// runConns runs p in fake time against the embedded backend in process,
// its connections from conns.
func runConns(t *testing.T, p profiles.Profile, d transport.Conns) reports.Result {
	var res reports.Result
	synctest.Test(t, func(t *testing.T) {
		fapi := &target.FAPI{Base: "http://backend.test", Client: &http.Client{Transport: handlerTransport{newBackend(t, p)}}}
		eng, err := New(Config{Profile: p, Auth: fapi, Resource: fapi, Conns: d})
		if err != nil {
			t.Fatal(err)
		}
		if err := eng.Run(context.Background(), &res); err != nil {
			t.Fatal(err)
		}
	})
	return res
}

// TestEngineDropsConnectionsWhenTheNetworkGoes: an outage drops every
// client's connections once, as it starts; result.json gets the pool's counts.
func TestEngineDropsConnectionsWhenTheNetworkGoes(t *testing.T) {
	p := testProfile(20, 6*time.Second)
	p.Connections = profiles.ConnectionsPerClient
	p.Events = []profiles.Event{{Type: profiles.EventOutage, At: profiles.At{Share: 0.5}, Fraction: 1,
		Duration: profiles.Duration(time.Minute), Mode: profiles.OutageFailFast}}
	drops, res := runDrops(t, p)
	for i := range p.Clients {
		if drops[i] != 1 {
			t.Errorf("client %d: %d drops, want 1 (the outage)", i, drops[i])
		}
	}
	if res.Engine.Connections.Dials != 42 {
		t.Errorf("engine.connections = %+v, want the pool's stats", res.Engine.Connections)
	}
}

// TestEngineDropsConnectionsOfSuspendedApps: an app back from a background
// gap of SuspendAfter or more (suspended by the OS) has lost its
// connections; one back from a shorter gap has not.
func TestEngineDropsConnectionsOfSuspendedApps(t *testing.T) {
	for _, tc := range []struct {
		background time.Duration
		suspended  bool
	}{{transport.SuspendAfter, true}, {2 * transport.SuspendAfter, true}, {transport.SuspendAfter - time.Second, false}} {
		t.Run(tc.background.String(), func(t *testing.T) {
			p := testProfile(10, 6*time.Second) // ×60: 6 wall seconds are 6 simulated minutes
			p.App.Lifecycle = profiles.Lifecycle{Model: profiles.LifecycleBackgroundForeground,
				Foreground: profiles.Dist{Dist: profiles.DistFixed, Value: profiles.Duration(time.Minute)},
				Background: profiles.Dist{Dist: profiles.DistFixed, Value: profiles.Duration(tc.background)}}
			drops, _ := runDrops(t, p)
			for i := range p.Clients {
				if got := drops[i] > 0; got != tc.suspended {
					t.Errorf("client %d: %d drops after background gaps of %s, want dropped=%v", i, drops[i], tc.background, tc.suspended)
				}
			}
		})
	}
}

// TestPerClientConnectionsOverLoopback runs a fleet against the embedded
// backend over loopback: per client, every client dials (at least one
// connection each, all open at once), and an outage that takes every
// client offline makes a second wave of dials when the network comes
// back; the shared pool dials no more than its bound, outage or not.
func TestPerClientConnectionsOverLoopback(t *testing.T) {
	const clients = 60
	for _, tc := range []struct {
		mode   string
		outage bool
	}{{profiles.ConnectionsPerClient, false}, {profiles.ConnectionsPerClient, true}, {profiles.ConnectionsShared, true}} {
		name := tc.mode
		if tc.outage {
			name += "+outage"
		}
		t.Run(name, func(t *testing.T) {
			p := testProfile(clients, 3*time.Second)
			p.Connections = tc.mode
			if tc.outage { // at 1.5 s, after the 0.6 s ramp, for 0.5 s
				p.Events = []profiles.Event{{Type: profiles.EventOutage, At: profiles.At{Share: 0.5}, Fraction: 1,
					Duration: profiles.Duration(30 * time.Second), Mode: profiles.OutageFailFast}}
			}
			be := newBackend(t, p)
			srv, err := be.Listen("127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			tr := transport.NewTransport(transport.TransportConfig{PerClient: tc.mode == profiles.ConnectionsPerClient, Clients: clients, SharedConns: 8})
			defer tr.CloseIdleConnections()
			fapi := &target.FAPI{Base: srv.URL, Client: &http.Client{Transport: tr}}
			eng, err := New(Config{Profile: p, Auth: fapi, Resource: fapi, Conns: tr, Interrupted: 10 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			var res reports.Result
			if err := eng.Run(context.Background(), &res); err != nil {
				t.Fatal(err)
			}
			c := res.Engine.Connections
			t.Logf("%s: %+v", name, c)
			switch {
			case tc.mode == profiles.ConnectionsShared:
				if c.Dials < 1 || c.Dials > 8 || c.PeakOpen > 8 {
					t.Errorf("shared pool of 8: %+v, want 1 to 8 dials and open", c)
				}
			case !tc.outage:
				// Each client dials once and keeps its connection.
				if c.Dials != clients || c.PeakOpen != clients {
					t.Errorf("per client: %+v, want %d dials and as many open at once", c, clients)
				}
			default:
				if c.Dials < 2*clients {
					t.Errorf("per client with an outage: %d dials, want ≥ %d: every client redials after it", c.Dials, 2*clients)
				}
			}
			if c.SourceAddrs != 1 || c.TLSHandshakes != 0 || c.PortsExhausted != 0 || c.FDsExhausted != 0 {
				t.Errorf("connections %+v: want one source address, no TLS, no failed dial", c)
			}
			if res.Ops[reports.OpRefresh].OK == 0 {
				t.Error("no refresh succeeded")
			}
			checkSums(t, &res)
		})
	}
}
