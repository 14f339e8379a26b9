package load

import (
	"context"
	"maps"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stampede-load/stampede/chaos/backend"
	"github.com/stampede-load/stampede/load/model"
	"github.com/stampede-load/stampede/load/target"
	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

// testProfile is a small, fast fleet: 1 s tokens (60 s at ×60).
func testProfile(clients int, d time.Duration) profiles.Profile {
	p := profiles.Default()
	p.Clients = clients
	p.Duration = profiles.Duration(d)
	p.Ramp = profiles.Duration(d / 5)
	p.TimeScale = 60
	p.Backend.Signing = "ES256"
	return p
}

func newBackend(t testing.TB, p profiles.Profile) *backend.Backend {
	t.Helper()
	be, err := backend.New(backend.Config{
		TokenLifetime: p.Scale(p.Backend.TokenLifetime),
		MaxLifetime:   p.Scale(p.Backend.MaxLifetime),
		Signing:       p.Backend.Signing,
	})
	if err != nil {
		t.Fatal(err)
	}
	return be
}

// served is how many responses the backend served on one endpoint.
func served(st backend.Stats, endpoint string) int64 {
	var n int64
	for _, v := range st.Endpoints[endpoint] {
		n += v
	}
	return n
}

// checkSums checks that every count of res adds up.
func checkSums(t *testing.T, res *reports.Result) {
	t.Helper()
	for name, o := range res.Ops {
		if o.Count != o.OK+o.ErrorCount() {
			t.Errorf("ops.%s: count %d != ok %d + errors %d", name, o.Count, o.OK, o.ErrorCount())
		}
	}
	q := res.Requests
	if q.Issued != q.Settled+q.Lost || q.Settled != q.OK+q.UserVisibleErrors+q.Cancelled {
		t.Errorf("requests do not add up: %+v", q)
	}
}

// checkBooks checks that every count of res adds up, that no request was
// lost and that every client's session is accounted for.
func checkBooks(t *testing.T, res *reports.Result) {
	t.Helper()
	checkSums(t, res)
	q := res.Requests
	if q.Lost != 0 {
		t.Errorf("requests.lost = %d, want 0", q.Lost)
	}
	var statuses int64
	for _, n := range res.Sessions.ByStatus {
		statuses += n
	}
	if statuses != int64(res.Profile.Clients) {
		t.Errorf("sessions.by_status counts %d clients, want %d", statuses, res.Profile.Clients)
	}
}

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

// handlerTransport serves requests with a handler in process: no sockets,
// so a fleet can run inside a synctest bubble.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := r.Context().Err(); err != nil {
		return nil, err
	}
	if r.Body == nil {
		r.Body = http.NoBody // as a server sees it
	}
	w := httptest.NewRecorder()
	t.h.ServeHTTP(w, r)
	return w.Result(), nil
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
