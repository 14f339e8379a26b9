package driver_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stampede-load/stampede/chaos"
	"github.com/stampede-load/stampede/chaos/backend"
	"github.com/stampede-load/stampede/load"
	"github.com/stampede-load/stampede/load/driver"
	"github.com/stampede-load/stampede/load/model"
	"github.com/stampede-load/stampede/load/record"
	"github.com/stampede-load/stampede/load/target"
	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

// fakeBackend answers the driver's requests in process, at once, the way
// the embedded backend does in fake time: sessions that never end, tokens
// of Lifetime issued at the millisecond, an API that takes a token until
// its exp.
type fakeBackend struct {
	lifetime                     time.Duration
	sessions                     int
	exp                          map[string]time.Time // token → expiry
	signIns, refreshes, apiCalls int
}

func (b *fakeBackend) mint(now time.Time) (string, model.TokenTimes) {
	iat := now.Truncate(time.Millisecond)
	tok := "tok-" + strconv.Itoa(len(b.exp))
	times := model.TokenTimes{IssuedAt: iat, ExpiresAt: iat.Add(b.lifetime)}
	b.exp[tok] = times.ExpiresAt
	return tok, times
}

// answer is the event that answers req at now.
func (b *fakeBackend) answer(now time.Time, req driver.Request) model.Event {
	a := req.Action
	ok := model.Outcome{Class: model.ClassOK, Status: http.StatusOK}
	switch a.Kind {
	case model.ActSignIn:
		b.signIns++
		b.sessions++
		tok, times := b.mint(now)
		return model.Event{Kind: model.EvSignInDone, Req: a.Req, Outcome: ok, Token: tok,
			SessionID: "sess-" + strconv.Itoa(b.sessions), ClientToken: "ct-" + strconv.Itoa(b.sessions),
			ExpiresAt: times.ExpiresAt, Times: times}
	case model.ActRefresh:
		b.refreshes++
		tok, times := b.mint(now)
		return model.Event{Kind: model.EvRefreshDone, Req: a.Req, Outcome: ok, Token: tok, ExpiresAt: times.ExpiresAt, Times: times}
	}
	b.apiCalls++
	if exp, found := b.exp[a.Token]; found && now.Before(exp) {
		return model.Event{Kind: model.EvAPIDone, Req: a.Req, Outcome: ok}
	}
	return model.Event{Kind: model.EvAPIDone, Req: a.Req, Outcome: model.Outcome{Class: model.Class401, Status: http.StatusUnauthorized, Code: "token_expired"}}
}

// driveInVirtualTime runs p's fleet through one driver from start to
// start + p.Duration in virtual time, every request answered by be at the
// instant it is sent, from this goroutine alone. It returns how many
// goroutines ran at most while it did.
func driveInVirtualTime(p profiles.Profile, start time.Time, be *fakeBackend, rec *record.Recorder) int {
	indices := make([]int, p.Clients)
	for i := range indices {
		indices[i] = i
	}
	ccfg := model.NewClientConfig(p)
	d := driver.New(driver.Config{Profile: p, Model: &ccfg, Windows: chaos.Plan(p), Start: start, Sink: rec}, indices)
	end := start.Add(p.Duration.D())
	goroutines := runtime.NumGoroutine()
	var todo []driver.Output
	carryOut := func(now time.Time) {
		for len(todo) > 0 {
			o := todo[0]
			todo = todo[1:]
			if o.Kind != driver.OutSend {
				continue
			}
			ev := be.answer(now, o.Request)
			todo = append(todo, d.Answer(now, driver.Answer{Client: o.Client, Slot: o.Slot, Event: ev, Op: o.Op,
				Intended: o.Action.At, Sent: o.Sent, Wire: now, Done: now, TokenSeq: o.Action.TokenSeq})...)
		}
		goroutines = max(goroutines, runtime.NumGoroutine())
	}
	for {
		at, ok := d.Next()
		if !ok || !at.Before(end) {
			break
		}
		todo = append(todo[:0], d.Advance(at)...)
		carryOut(at)
	}
	todo = append(todo[:0], d.Stop(end)...)
	carryOut(end)
	d.Finish()
	return goroutines
}

// handlerTransport serves requests with a handler in process: no sockets,
// so the live engine can run inside a synctest bubble.
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

// TestDriverInVirtualTimeCountsAsTheLiveEngine: 1,000 clients driven
// through the clock-free driver from one goroutine against an in-process
// fake backend make exactly the requests, and come to exactly the
// outcomes, that the live engine's fleet does in fake time against the
// embedded backend on the same seed.
func TestDriverInVirtualTimeCountsAsTheLiveEngine(t *testing.T) {
	p := profiles.Default()
	p.Clients = 1000
	p.Seed = 11
	p.Duration = profiles.Duration(20 * time.Second)
	p.Ramp = profiles.Duration(5 * time.Second)
	p.TimeScale = 30
	p.Backend.Signing = "EdDSA"
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}

	var live reports.Result
	var served backend.Stats
	var start time.Time
	synctest.Test(t, func(t *testing.T) {
		be, err := backend.New(backend.Config{TokenLifetime: p.Scale(p.Backend.TokenLifetime), MaxLifetime: p.Scale(p.Backend.MaxLifetime), Signing: p.Backend.Signing, Seed: p.Seed})
		if err != nil {
			t.Fatal(err)
		}
		fapi := &target.FAPI{Base: "http://backend.test", Client: &http.Client{Transport: handlerTransport{be}}}
		eng, err := load.New(load.Config{Profile: p, Auth: fapi, Resource: fapi})
		if err != nil {
			t.Fatal(err)
		}
		start = time.Now()
		if err := eng.Run(context.Background(), &live); err != nil {
			t.Fatal(err)
		}
		served = be.Stats()
	})

	fake := &fakeBackend{lifetime: p.Scale(p.Backend.TokenLifetime), exp: map[string]time.Time{}}
	rec := record.NewRecorder(1, start, p.Duration.D()+p.SDK.RequestTimeout.D(), 0)
	before := runtime.NumGoroutine()
	peak := driveInVirtualTime(p, start, fake, rec)
	if peak > before {
		t.Errorf("driving the fleet started goroutines: %d running at most, %d before", peak, before)
	}
	var virt reports.Result
	if err := rec.Fill(&virt, start.Add(p.Duration.D())); err != nil {
		t.Fatal(err)
	}
	reports.Analyze(&virt)

	if live.Ops[reports.OpRefresh].Count < int64(p.Clients) {
		t.Fatalf("the live fleet made %d refreshes: too few to compare", live.Ops[reports.OpRefresh].Count)
	}
	for _, op := range []string{reports.OpSignIn, reports.OpRefresh, reports.OpAPI, reports.OpGetToken} {
		l, v := live.Ops[op], virt.Ops[op]
		if l.Count != v.Count || l.OK != v.OK {
			t.Errorf("%s: live engine %d (%d ok), driver in virtual time %d (%d ok)", op, l.Count, l.OK, v.Count, v.OK)
		}
		for class, n := range l.Errors {
			if v.Errors[class] != n {
				t.Errorf("%s %s: live engine %d, driver %d", op, class, n, v.Errors[class])
			}
		}
	}
	if live.Requests != virt.Requests {
		t.Errorf("requests: live engine %+v, driver %+v", live.Requests, virt.Requests)
	}
	if live.Herd.DuplicateRefreshes != virt.Herd.DuplicateRefreshes || live.Herd.Retries != virt.Herd.Retries {
		t.Errorf("herd: live engine %d duplicates %d retries, driver %d and %d",
			live.Herd.DuplicateRefreshes, live.Herd.Retries, virt.Herd.DuplicateRefreshes, virt.Herd.Retries)
	}
	for i, n := range live.Timeline.RefreshAttempts {
		if i < len(virt.Timeline.RefreshAttempts) && virt.Timeline.RefreshAttempts[i] != n {
			t.Errorf("refresh attempts in bucket %d: live engine %d, driver %d", i, n, virt.Timeline.RefreshAttempts[i])
			break
		}
	}
	if got := int64(fake.refreshes); got != virt.Ops[reports.OpRefresh].Count {
		t.Errorf("the fake backend answered %d refreshes, the driver counted %d", got, virt.Ops[reports.OpRefresh].Count)
	}
	t.Logf("live: sign-in %d, refresh %d, api %d; backend served %v; driver: %+v",
		live.Ops[reports.OpSignIn].Count, live.Ops[reports.OpRefresh].Count, live.Ops[reports.OpAPI].Count,
		served.Endpoints, virt.Requests)
}
