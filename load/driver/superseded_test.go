package driver_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stampede-load/stampede/chaos"
	"github.com/stampede-load/stampede/load/driver"
	"github.com/stampede-load/stampede/load/model"
	"github.com/stampede-load/stampede/load/record"
	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

// supersededRun drives one client until it has an API call and a refresh
// in flight at once, then answers the refresh with a new token and the
// call with 401: the refresh gap after the call's answer (0: the same
// instant; negative: the call's answer first). It returns the api errors.
func supersededRun(t *testing.T, gap time.Duration) map[string]int64 {
	t.Helper()
	p := profiles.Default()
	p.Clients = 1
	p.Ramp = 0
	p.TimeScale = 1
	p.Duration = profiles.Duration(10 * time.Minute)
	p.App.Lifecycle = profiles.Lifecycle{Model: profiles.LifecycleForeground}
	p.App.APICallsPerMinute = 600
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rec := record.NewRecorder(1, start, p.Duration.D(), 0)
	ccfg := model.NewClientConfig(p)
	d := driver.New(driver.Config{Profile: p, Model: &ccfg, Windows: chaos.Plan(p), Start: start, Sink: rec}, []int{0})
	be := &fakeBackend{lifetime: time.Minute, exp: map[string]time.Time{}}
	answer := func(now time.Time, o driver.Output, ev model.Event) []driver.Output {
		return d.Answer(now, driver.Answer{Client: o.Client, Slot: o.Slot, Event: ev, Op: o.Op, Intended: o.Action.At,
			Sent: o.Sent, Wire: o.Sent, Done: now, TokenSeq: o.Action.TokenSeq})
	}
	var refresh, call *driver.Output
	var todo []driver.Output
	for refresh == nil || call == nil {
		at, ok := d.Next()
		if !ok {
			t.Fatal("the client stopped before a refresh and an API call were in flight together")
		}
		todo = append(todo, d.Advance(at)...)
		for len(todo) > 0 {
			o := todo[0]
			todo = todo[1:]
			switch {
			case o.Kind != driver.OutSend:
			case o.Op == record.OpRefresh && refresh == nil:
				refresh = &o
			case o.Op == record.OpAPI && refresh != nil && call == nil:
				call = &o
			default:
				todo = append(todo, answer(at, o, be.answer(at, o.Request))...)
			}
		}
	}
	at := call.Sent.Add(50 * time.Millisecond)
	rejected := model.Event{Kind: model.EvAPIDone, Req: call.Action.Req,
		Outcome: model.Outcome{Class: model.Class401, Status: http.StatusUnauthorized, Code: "token_revoked"}}
	if gap < 0 {
		answer(at, *call, rejected)
		answer(at.Add(-gap), *refresh, be.answer(at.Add(-gap), refresh.Request))
	} else {
		answer(at.Add(-gap), *refresh, be.answer(at.Add(-gap), refresh.Request))
		answer(at, *call, rejected)
	}
	d.Stop(at.Add(time.Second))
	var res reports.Result
	if err := rec.Fill(&res, at.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	return res.Ops[reports.OpAPI].Errors
}

// An API call answered 401 after its client got a newer token is
// superseded_token; one answered before, or at the same instant (in either
// order), is the http_401 of a current token.
func TestAnswerToASupersededTokenIsItsOwnClass(t *testing.T) {
	if e := supersededRun(t, 10*time.Millisecond); e["superseded_token"] != 1 || e["http_401"] != 0 {
		t.Errorf("refresh answered first: api errors %v, want 1 superseded_token", e)
	}
	if e := supersededRun(t, -10*time.Millisecond); e["superseded_token"] != 0 || e["http_401"] != 1 {
		t.Errorf("call answered first: api errors %v, want 1 http_401", e)
	}
	if e := supersededRun(t, 0); e["superseded_token"] != 0 || e["http_401"] != 1 {
		t.Errorf("same instant: api errors %v, want 1 http_401", e)
	}
}
