package load

import (
	"context"
	"net/http"
	"testing"
	"time"
)

// BenchmarkClientRefreshCycle measures the client model alone: one op is a
// poll timer, its refresh answer and an API call with its answer.
func BenchmarkClientRefreshCycle(b *testing.B) {
	cfg := cmConfig()
	c := NewClient(&cfg, 1, 1)
	now := cmT0
	c.Step(now, evStart(now))
	c.Step(now, Event{Kind: EvSignInDone, Req: 1, Token: tokA, SessionID: cmSession, ClientToken: cmClientToken, Outcome: ok200})
	tokens := []string{cmJWT(cmT0, cmAt(60*time.Second)), cmJWT(cmT0, cmAt(120*time.Second))}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		now = now.Add(time.Second)
		var refresh, api uint64
		for _, a := range c.Step(now, evTimer(TimerRefresh, now)) {
			if a.Kind == ActRefresh {
				refresh = a.Req
			}
		}
		c.Step(now, Event{Kind: EvRefreshDone, Req: refresh, Token: tokens[i%2], Outcome: ok200})
		for _, a := range c.Step(now, evTimer(TimerAPI, now)) {
			if a.Kind == ActAPI {
				api = a.Req
			}
		}
		c.Step(now, evAPI(api, ok200))
	}
}

// BenchmarkRecorderAnswered measures recording one answered request.
func BenchmarkRecorderAnswered(b *testing.B) {
	start := time.Now()
	rec := NewRecorder(1, start, time.Minute)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		at := start.Add(time.Duration(i%600) * 100 * time.Millisecond)
		rec.answered(0, opRefresh, ClassOK, at, at, 3*time.Millisecond, 2*time.Millisecond)
	}
}

// BenchmarkRefreshRoundTrip measures one refresh over loopback HTTP against
// the embedded backend (EdDSA): client, transport and server together.
func BenchmarkRefreshRoundTrip(b *testing.B) {
	p := testProfile(1, time.Second)
	p.Backend.Signing = "EdDSA"
	be := newBackend(b, p)
	srv, err := be.Listen("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	defer hc.CloseIdleConnections()
	f := &FAPI{Base: srv.URL, Client: hc}
	cr, o := f.SignIn(context.Background(), "bench")
	if o.Class != ClassOK {
		b.Fatalf("sign-in: %+v", o)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, o := f.Refresh(context.Background(), cr.SessionID, cr.ClientToken); o.Class != ClassOK {
			b.Fatalf("refresh: %+v", o)
		}
	}
}
