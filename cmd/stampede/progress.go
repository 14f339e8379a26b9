package main

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/stampede-load/stampede/load/record"
	"github.com/stampede-load/stampede/profiles"
)

// liveSource is what progress output reads from a running engine.
type liveSource interface{ Live() record.Live }

// progress shows a running test on the error stream: bars on a terminal,
// a plain line every plainEvery otherwise, nothing when quiet.
type progress struct {
	stopOnce sync.Once
	done     chan struct{}
	finished chan struct{}
	complete atomic.Bool
}

const (
	plainEvery = 5 * time.Second
	barsEvery  = 250 * time.Millisecond
)

func startProgress(s streams, quiet, noBars bool, src liveSource, p profiles.Profile) *progress {
	pr := &progress{done: make(chan struct{}), finished: make(chan struct{})}
	start := time.Now()
	switch {
	case quiet:
		close(pr.finished)
	case s.errTTY && !noBars:
		go pr.bars(s.err, src, p, start)
	default:
		go pr.plain(s.err, src, p, start)
	}
	return pr
}

// stop ends the display; complete says whether the run reached its end.
func (pr *progress) stop(complete bool) {
	pr.stopOnce.Do(func() {
		pr.complete.Store(complete)
		close(pr.done)
		<-pr.finished
	})
}

type rate struct {
	last  int64
	lastT time.Time
}

func (r *rate) per(now time.Time, n int64) float64 {
	dt := now.Sub(r.lastT).Seconds()
	v := 0.0
	if dt > 0 && !r.lastT.IsZero() {
		v = float64(n-r.last) / dt
	}
	r.last, r.lastT = n, now
	return v
}

func liveLine(l record.Live, refreshRate float64, p profiles.Profile) string {
	p99 := "-"
	if l.RecentRefreshP99 > 0 {
		p99 = l.RecentRefreshP99.Round(10 * time.Microsecond).String()
	}
	return fmt.Sprintf("clients %d/%d (signed in %d, signed out %d, background %d, offline %d) · refresh %d (%.0f/s, p99 %s, %d errors, %d in flight) · api %d",
		l.Started, p.Clients, l.SignedIn, l.SignedOut, l.Background, l.Offline, l.Refreshes, refreshRate,
		p99, l.RefreshErrors, l.RefreshInflight, l.APICalls)
}

func (pr *progress) plain(w io.Writer, src liveSource, p profiles.Profile, start time.Time) {
	defer close(pr.finished)
	t := time.NewTicker(plainEvery)
	defer t.Stop()
	var r rate
	r.per(start, 0)
	for {
		select {
		case now := <-t.C:
			l := src.Live()
			fmt.Fprintf(w, "[%5s/%s] %s\n", now.Sub(start).Round(time.Second), p.Duration, liveLine(l, r.per(now, l.Refreshes), p))
		case <-pr.done:
			// The last line, the fleet as it was before the stop, unless a
			// line just said as much.
			if now := time.Now(); now.Sub(r.lastT) >= time.Second {
				l := src.Live()
				fmt.Fprintf(w, "[%5s/%s] %s\n", now.Sub(start).Round(time.Second), p.Duration, liveLine(l, r.per(now, l.Refreshes), p))
			}
			return
		}
	}
}

func (pr *progress) bars(w io.Writer, src liveSource, p profiles.Profile, start time.Time) {
	defer close(pr.finished)
	pool := mpb.New(mpb.WithOutput(w), mpb.WithWidth(40), mpb.WithRefreshRate(barsEvery))
	var line atomic.Value
	line.Store("")
	total := p.Duration.D().Milliseconds()
	ramp := pool.AddBar(int64(p.Clients),
		mpb.PrependDecorators(decor.Name("ramp    ", decor.WC{W: 8}), decor.CountersNoUnit("%d/%d clients")),
		mpb.AppendDecorators(decor.Percentage()))
	run := pool.AddBar(total,
		mpb.PrependDecorators(decor.Name("elapsed ", decor.WC{W: 8}),
			decor.Any(func(decor.Statistics) string {
				return fmt.Sprintf("%s/%s", time.Since(start).Round(time.Second), p.Duration)
			})),
		mpb.AppendDecorators(decor.Any(func(decor.Statistics) string { return line.Load().(string) })))
	t := time.NewTicker(barsEvery)
	defer t.Stop()
	var r rate
	r.per(start, 0)
	for {
		select {
		case now := <-t.C:
			l := src.Live()
			line.Store(liveLine(l, r.per(now, l.Refreshes), p))
			ramp.SetCurrent(l.Started)
			run.SetCurrent(min(now.Sub(start).Milliseconds(), total))
		case <-pr.done:
			l := src.Live() // the fleet as it was before the stop
			line.Store(liveLine(l, r.per(time.Now(), l.Refreshes), p))
			ramp.SetCurrent(l.Started)
			if pr.complete.Load() {
				ramp.SetTotal(-1, true)
				run.SetTotal(-1, true)
			} else {
				ramp.Abort(false)
				run.Abort(false)
			}
			pool.Wait()
			return
		}
	}
}
