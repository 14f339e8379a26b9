package load

import (
	"sync"
	"time"
)

// wakeTimer wakes a worker at an instant: C receives once the instant set
// last has come, never before it.
//
// It is a time.Timer and, on Linux, a timerfd in Go's network poller
// besides, set for the same instant; the first to fire wakes the worker.
// Go's timers sleep in epoll_wait, whose timeout counts whole milliseconds:
// a timer due in 0.3 ms, with nothing else to wake the process, fires after
// 1 ms, where the timerfd wakes the poller to the microsecond. But Go looks
// at the poller only when it runs out of goroutines to run (or every 10 ms),
// and at its timers at every switch: on busy cores the time.Timer is the
// prompt one. docs/performance.md measures both.
type wakeTimer struct {
	c     chan struct{}
	timer *time.Timer
	fd    wakeFD
	useFD bool // the timerfd is open

	mu sync.Mutex
	at time.Time // the instant set last; zero when stopped
}

// C is the channel the wakes come on.
func (t *wakeTimer) C() <-chan struct{} { return t.c }

// fire queues a wake if the instant set last has come (an expiry of an
// instant since replaced is dropped) and no wake is queued already.
func (t *wakeTimer) fire() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.at.IsZero() || time.Now().Before(t.at) {
		return // the other timer woke the worker, or the instant was replaced
	}
	t.at = time.Time{}
	select {
	case t.c <- struct{}{}:
	default:
	}
}

// newWakeTimer returns a stopped wake timer.
func newWakeTimer() *wakeTimer {
	t := &wakeTimer{c: make(chan struct{}, 1)}
	t.timer = time.AfterFunc(time.Hour, t.fire)
	t.timer.Stop()
	t.useFD = !fakeClock() && t.fd.open(t.fire)
	return t
}

// Set makes the timer fire at at, replacing any instant set before; a zero
// at stops it. An instant already past fires at once.
func (t *wakeTimer) Set(at time.Time) {
	t.mu.Lock()
	t.at = at
	select {
	case <-t.c: // a wake for the instant this one replaces
	default:
	}
	t.mu.Unlock()
	t.arm(at)
}

// arm sets the timers for at, or stops them.
func (t *wakeTimer) arm(at time.Time) {
	t.timer.Stop()
	if !at.IsZero() {
		t.timer.Reset(time.Until(at))
	}
	if t.useFD {
		t.fd.set(at)
	}
}

// Close stops the timer for good and releases what it holds.
func (t *wakeTimer) Close() {
	t.timer.Stop()
	if t.useFD {
		t.fd.close()
	}
}

// fakeClock reports whether time is a testing/synctest bubble's: its
// clock starts at midnight UTC on 2000-01-01 and only moves when every
// goroutine of the bubble is blocked, which a goroutine waiting on a
// timerfd never is. There, the wake timer is its time.Timer alone.
func fakeClock() bool {
	return time.Now().Before(time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC))
}
