package driver_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"github.com/stampede-load/stampede/chaos"
	"github.com/stampede-load/stampede/load/driver"
	"github.com/stampede-load/stampede/load/model"
	"github.com/stampede-load/stampede/load/record"
	"github.com/stampede-load/stampede/profiles"
)

// advanceSpins bounds how many times advanceOrFail yields to a running
// Advance: millions of yields, seconds, where a sound Advance of a small
// fleet takes microseconds.
const advanceSpins = 10_000_000

// advanceOrFail runs d.Advance(now) and fails the test if it is still
// running after advanceSpins yields of this goroutine: an Advance that
// pops and pushes the same deadline forever never returns, and the test
// must fail rather than hang.
func advanceOrFail(t *testing.T, d *driver.Driver, now time.Time) []driver.Output {
	t.Helper()
	done := make(chan []driver.Output, 1)
	go func() { done <- d.Advance(now) }()
	for range advanceSpins {
		select {
		case out := <-done:
			return out
		default:
			runtime.Gosched()
		}
	}
	t.Fatalf("Advance(%v) had not returned after %d yields: it spins on a deadline it never runs", now, advanceSpins)
	return nil
}

// monoAhead is t (which carries a monotonic clock reading) with its
// monotonic reading moved d later and its wall clock unchanged: what
// time.Now returns when its thread is preempted between reading the wall
// clock and reading the monotonic clock, d being the pause. The time
// package offers no way to build one, so this writes the wall clock field
// of time.Time (its first) back into t.Add(d), and checks the result.
func monoAhead(tb testing.TB, t time.Time, d time.Duration) time.Time {
	tb.Helper()
	u := t.Add(d)
	*(*uint64)(unsafe.Pointer(&u)) = *(*uint64)(unsafe.Pointer(&t))
	if !u.Round(0).Equal(t.Round(0)) || u.Sub(t) != d {
		tb.Fatalf("monoAhead: got wall %v and monotonic offset %v, want wall %v and offset %v: time.Time's layout changed",
			u.Round(0), u.Sub(t), t.Round(0), d)
	}
	return u
}

// closedLoopProfile is a foreground fleet of n clients for span, at time
// scale 1, making API calls.
func closedLoopProfile(t *testing.T, n int, span time.Duration) profiles.Profile {
	t.Helper()
	p := profiles.Default()
	p.Clients = n
	p.Seed = 5
	p.Ramp = profiles.Duration(100 * time.Millisecond)
	p.TimeScale = 1
	p.Duration = profiles.Duration(span)
	p.App.Lifecycle = profiles.Lifecycle{Model: profiles.LifecycleForeground}
	p.App.APICallsPerMinute = 120
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestAdvanceReturnsWhenNowsMonotonicClockRanAhead is the closed loop of
// scripts/bench.sh's saturation run (stampede serve --token-lifetime 15ms
// at time scale 1200, every answer back 20 ms after its request, so each
// token expires before its refresh is answered): the live engine passes
// time.Now(), with a monotonic reading, while a token's exp (time.Unix)
// has none. A now whose monotonic reading ran ahead of its wall clock (a
// thread preempted between time.Now's two reads) must still see Advance
// return, and every client refresh to the end of the run.
func TestAdvanceReturnsWhenNowsMonotonicClockRanAhead(t *testing.T) {
	const rtt = 20 * time.Millisecond
	for _, pause := range []time.Duration{time.Microsecond, 50 * time.Microsecond, 2 * time.Millisecond} {
		t.Run(pause.String(), func(t *testing.T) {
			p := closedLoopProfile(t, 16, 2*time.Second)
			p.TimeScale = 1200
			p.App.APICallsPerMinute = 0
			if err := p.Validate(); err != nil {
				t.Fatal(err)
			}
			start := time.Now() // a monotonic reading, as the live engine's start
			// clock is the engine's time.Now() at instant at, paused.
			clock := func(at time.Time) time.Time { return monoAhead(t, start.Add(at.Sub(start)), pause) }
			indices := make([]int, p.Clients)
			for i := range indices {
				indices[i] = i
			}
			ccfg := model.NewClientConfig(p)
			rec := record.NewRecorder(1, start, p.Duration.D()+p.SDK.RequestTimeout.D(), 0)
			d := driver.New(driver.Config{Profile: p, Model: &ccfg, Windows: chaos.Plan(p), Start: start, Sink: rec}, indices)
			be := &fakeBackend{lifetime: 15 * time.Millisecond, exp: map[string]time.Time{}}
			end := start.Add(p.Duration.D())
			lastRefresh := make([]time.Time, p.Clients)
			type answer struct {
				at time.Time
				o  driver.Output
			}
			var pending []answer // by time: every request takes rtt
			queue := func(now time.Time, outs []driver.Output) {
				for _, o := range outs {
					if o.Kind == driver.OutSend {
						pending = append(pending, answer{now.Add(rtt), o})
					}
				}
			}
			steps := 0
			for ; ; steps++ {
				if steps > 5_000_000 {
					t.Fatal("the fleet never reached the end of the run")
				}
				at, ok := d.Next()
				if len(pending) > 0 && (!ok || pending[0].at.Before(at)) {
					a := pending[0]
					pending = pending[1:]
					now := clock(a.at)
					if a.o.Op == record.OpRefresh {
						lastRefresh[a.o.Client] = a.at
					}
					ev := be.answer(now, a.o.Request)
					queue(now, d.Answer(now, driver.Answer{Client: a.o.Client, Slot: a.o.Slot, Event: ev, Op: a.o.Op,
						Intended: a.o.Action.At, Sent: a.o.Sent, Wire: now, Done: now, TokenSeq: a.o.Action.TokenSeq}))
					continue
				}
				if !ok || !at.Before(end) {
					break
				}
				now := clock(at)
				queue(now, advanceOrFail(t, d, now))
			}
			d.Stop(end)
			for i, at := range lastRefresh {
				if at.IsZero() || end.Sub(at) > 100*time.Millisecond {
					t.Errorf("client %d: last refresh answered %v before the end, want under 100ms", i, end.Sub(at))
				}
			}
			if want := p.Clients * 50; be.refreshes < want {
				t.Errorf("%d refreshes in 2 s of 16 clients refreshing every 20 ms or so, want at least %d", be.refreshes, want)
			}
			t.Logf("%d steps, %d refreshes", steps, be.refreshes)
		})
	}
}

// TestClosedLoopAcrossWheelTurns drives a fleet for more than two turns of
// the deadlines' wheel (about 69 s each) in a closed loop: Advance comes
// up to 5 ms after the earliest deadline (others are then in the past),
// every answer comes back at the same instant or a few nanoseconds later,
// so clients push deadlines behind the wheel's cursor and at instants
// other clients share. Every Advance returns, every client's deadlines
// are run in order and no later than the Advance after them, and no
// client drops out.
func TestClosedLoopAcrossWheelTurns(t *testing.T) {
	const late = 5 * time.Millisecond
	span := 150 * time.Second
	p := closedLoopProfile(t, 40, span)
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	indices := make([]int, p.Clients)
	for i := range indices {
		indices[i] = i
	}
	type seen struct{ at, now time.Time }
	last := make([]seen, p.Clients) // each client's last timer
	timers := make([]int, p.Clients)
	var bad []string
	observe := func(client int, now time.Time, ev model.Event) {
		if ev.Kind != model.EvTimer {
			return
		}
		l := &last[client]
		switch {
		case ev.At.After(now):
			bad = append(bad, fmt.Sprintf("client %d: a timer ran before its deadline", client))
		case now.Sub(ev.At) > late+time.Microsecond:
			bad = append(bad, fmt.Sprintf("client %d: a timer ran %v late", client, now.Sub(ev.At)))
		case ev.At.Before(l.at) || now.Before(l.now):
			bad = append(bad, fmt.Sprintf("client %d: timers out of order", client))
		}
		*l = seen{ev.At, now}
		timers[client]++
	}
	ccfg := model.NewClientConfig(p)
	rec := record.NewRecorder(1, start, p.Duration.D()+p.SDK.RequestTimeout.D(), 0)
	d := driver.New(driver.Config{Profile: p, Model: &ccfg, Windows: chaos.Plan(p), Start: start, Sink: rec, ObserveEvent: observe}, indices)
	be := &fakeBackend{lifetime: time.Second, exp: map[string]time.Time{}}
	rng := rand.New(rand.NewPCG(3, 4))
	end := start.Add(span)
	var todo []driver.Output
	now := start
	for advances := 0; ; advances++ {
		at, ok := d.Next()
		if !ok || !at.Before(end) {
			break
		}
		if advances > 5_000_000 {
			t.Fatal("the fleet never reached the end of the run")
		}
		now = at.Add(time.Duration(rng.Int64N(int64(late))))
		todo = append(todo[:0], advanceOrFail(t, d, now)...)
		for ns := 0; len(todo) > 0; ns++ {
			o := todo[0]
			todo = todo[1:]
			if o.Kind != driver.OutSend {
				continue
			}
			done := now.Add(time.Duration(ns % 3)) // the same instant, or nanoseconds on
			ev := be.answer(done, o.Request)
			todo = append(todo, d.Answer(done, driver.Answer{Client: o.Client, Slot: o.Slot, Event: ev, Op: o.Op,
				Intended: o.Action.At, Sent: o.Sent, Wire: done, Done: done, TokenSeq: o.Action.TokenSeq})...)
		}
		if len(bad) > 0 {
			t.Fatalf("at %v: %v", now.Sub(start), bad)
		}
	}
	if now.Sub(start) < span-time.Second {
		t.Fatalf("the run ended at %v, want about %v", now.Sub(start), span)
	}
	for i, l := range last {
		if end.Sub(l.now) > 2*time.Second {
			t.Errorf("client %d: its last timer ran %v before the end (1 s tokens): it dropped out", i, end.Sub(l.now))
		}
		if timers[i] < 1000 {
			t.Errorf("client %d: %d timers in %v", i, timers[i], span)
		}
	}
	d.Stop(end)
	if _, ok := d.Next(); ok {
		t.Error("a deadline is due after Stop")
	}
	t.Logf("%d refreshes, %d API calls", be.refreshes, be.apiCalls)
}
