// Shared helpers of the live engine's tests: profiles, an in-process
// embedded backend, fleets in fake time, and the books every run must keep.

package load

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stampede-load/stampede/chaos"
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

// runFake runs profile p in fake time against an in-process embedded
// backend (no sockets), and returns the result and the backend.
func runFake(t *testing.T, p profiles.Profile, observe func(int, time.Time, model.Action)) (res reports.Result, st backend.Stats) {
	t.Helper()
	return runFakeObserved(t, p, observe, nil)
}

// runFakeObserved is runFake with an event observer too.
func runFakeObserved(t *testing.T, p profiles.Profile, observe func(int, time.Time, model.Action), observeEvent func(int, time.Time, model.Event)) (res reports.Result, st backend.Stats) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		be, err := backend.New(backend.Config{
			TokenLifetime:     p.Scale(p.Backend.TokenLifetime),
			MaxLifetime:       p.Scale(p.Backend.MaxLifetime),
			InactivityTimeout: p.Scale(p.Backend.InactivityTimeout),
			Signing:           "EdDSA",
			Seed:              p.Seed,
		})
		if err != nil {
			t.Fatal(err)
		}
		hc := &http.Client{Transport: handlerTransport{be}}
		fapi := &target.FAPI{Base: "http://backend.test", Client: hc}
		eng, err := New(Config{Profile: p, Auth: fapi, Resource: fapi,
			Admin: &chaos.AdminClient{Base: "http://backend.test", Client: hc}, Observe: observe, ObserveEvent: observeEvent})
		if err != nil {
			t.Fatal(err)
		}
		if err := eng.Run(context.Background(), &res); err != nil {
			t.Fatal(err)
		}
		st = be.Stats()
	})
	return res, st
}

// bucketRange is the half-open range of timeline buckets covering [from, from+span).
func bucketRange(from, span time.Duration, bucketMs int) (lo, hi int) {
	b := time.Duration(bucketMs) * time.Millisecond
	lo = int(from / b)
	hi = int((from + span + b - 1) / b)
	return lo, max(hi, lo+1)
}

func sumRange(s []int64, lo, hi int) int64 {
	var n int64
	for i := max(lo, 0); i < hi && i < len(s); i++ {
		n += s[i]
	}
	return n
}
