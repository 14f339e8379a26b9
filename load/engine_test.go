package load

import (
	"context"
	"maps"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stampede-load/stampede/chaos/backend"
	"github.com/stampede-load/stampede/load/model"
	"github.com/stampede-load/stampede/load/target"
	"github.com/stampede-load/stampede/reports"
)

// TestRunCountsMatchBackend runs 200 clients over real loopback HTTP and
// holds result counts against what the backend itself served.
func TestRunCountsMatchBackend(t *testing.T) {
	for _, interrupt := range []bool{false, true} {
		t.Run("interrupted="+strconv.FormatBool(interrupt), func(t *testing.T) {
			p := testProfile(200, 3*time.Second)
			be := newBackend(t, p)
			srv, err := be.Listen("127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 400}}
			defer hc.CloseIdleConnections()
			fapi := &target.FAPI{Base: srv.URL, Client: hc}

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var once sync.Once
			observe := func(int, time.Time, model.Action) {}
			if interrupt {
				// Interrupt once the fleet is busy: at the 150th refresh.
				var mu sync.Mutex
				calls := 0
				observe = func(_ int, _ time.Time, a model.Action) {
					if a.Kind != model.ActRefresh {
						return
					}
					mu.Lock()
					calls++
					if calls == 150 {
						once.Do(cancel)
					}
					mu.Unlock()
				}
			}
			// A generous grace: on a loaded machine in-flight requests still finish.
			eng, err := New(Config{Profile: p, Auth: fapi, Resource: fapi, Observe: observe, Interrupted: 10 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			var res reports.Result
			if err := eng.Run(ctx, &res); err != nil {
				t.Fatal(err)
			}
			if res.Partial != interrupt {
				t.Fatalf("partial = %v, want %v", res.Partial, interrupt)
			}
			st := be.Stats()
			for op, ep := range map[string]string{
				reports.OpSignIn:  backend.EndpointSignIn,
				reports.OpRefresh: backend.EndpointToken,
				reports.OpAPI:     backend.EndpointAPI,
			} {
				got, want := res.Ops[op].Count, served(st, ep)
				if got != want || got == 0 {
					t.Errorf("ops.%s.count = %d, backend served %d on %s", op, got, want, ep)
				}
				if c := res.Ops[op].Errors["cancelled"]; c != 0 {
					t.Errorf("ops.%s: %d cancelled requests on a graceful stop", op, c)
				}
			}
			if got := res.Ops[reports.OpSignIn].OK; got != int64(p.Clients) && !interrupt {
				t.Errorf("sign-ins ok = %d, want %d", got, p.Clients)
			}
			if res.Ops[reports.OpRefresh].OK == 0 {
				t.Error("no successful refresh")
			}
			checkBooks(t, &res)
		})
	}
}

// refreshSchedule runs a fleet in fake time and returns each client's
// intended refresh times.
func refreshSchedule(t *testing.T, seed uint64) (sched map[int][]time.Duration, res reports.Result) {
	sched = map[int][]time.Duration{}
	synctest.Test(t, func(t *testing.T) {
		p := testProfile(50, 12*time.Second)
		p.Seed = seed
		fapi := &target.FAPI{Base: "http://backend.test", Client: &http.Client{Transport: handlerTransport{newBackend(t, p)}}}
		start := time.Now()
		var mu sync.Mutex
		eng, err := New(Config{Profile: p, Auth: fapi, Resource: fapi, Observe: func(c int, _ time.Time, a model.Action) {
			if a.Kind == model.ActRefresh {
				mu.Lock()
				sched[c] = append(sched[c], a.At.Sub(start))
				mu.Unlock()
			}
		}})
		if err != nil {
			t.Fatal(err)
		}
		if err := eng.Run(context.Background(), &res); err != nil {
			t.Fatal(err)
		}
	})
	return sched, res
}

func TestSameSeedSameRefreshSchedule(t *testing.T) {
	a, resA := refreshSchedule(t, 7)
	b, _ := refreshSchedule(t, 7)
	c, _ := refreshSchedule(t, 8)
	if len(a) != 50 {
		t.Fatalf("%d clients refreshed, want 50", len(a))
	}
	for client, times := range a {
		if len(times) < 10 {
			t.Fatalf("client %d refreshed %d times in 20 s of 1 s tokens, want ≥ 10", client, len(times))
		}
	}
	if !maps.EqualFunc(a, b, func(x, y []time.Duration) bool { return slicesEqual(x, y) }) {
		t.Fatal("same seed gave different refresh schedules")
	}
	if maps.EqualFunc(a, c, func(x, y []time.Duration) bool { return slicesEqual(x, y) }) {
		t.Fatal("different seeds gave the same refresh schedule")
	}
	// In fake time nothing is late and every request settles.
	if resA.Engine.LagMs.Max != 0 {
		t.Errorf("lag max = %v ms in fake time, want 0", resA.Engine.LagMs.Max)
	}
	checkBooks(t, &resA)
}

func slicesEqual(x, y []time.Duration) bool {
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if x[i] != y[i] {
			return false
		}
	}
	return true
}
