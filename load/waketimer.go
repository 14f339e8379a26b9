package load

import (
	"sync"
	"time"
)

// wakeTimer wakes a worker at an instant: C receives once the instant set
// last has come, never before it.
//
// On Linux it is a timerfd in Go's network poller, precise to a few
// microseconds; elsewhere (or if the timerfd cannot be made) a time.Timer.
// Go's timers sleep in epoll_wait, whose timeout counts whole milliseconds:
// a timer due in 0.3 ms, with nothing else to wake the process, fires after
// 1 ms. docs/performance.md measures what that did to the scheduling lag.
type wakeTimer struct {
	c     chan struct{}
	timer *time.Timer // the fallback; nil when the timerfd is used
	fd    wakeFD

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
	if t.at.IsZero() {
		return
	}
	if time.Now().Before(t.at) { // not the instant's expiry: keep it armed
		t.arm(t.at)
		return
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
	if fakeClock() || !t.fd.open(t.fire) {
		t.timer = time.AfterFunc(time.Hour, t.fire)
		t.timer.Stop()
	}
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

// arm sets the timerfd or the fallback timer for at, or stops it.
func (t *wakeTimer) arm(at time.Time) {
	if t.timer != nil {
		t.timer.Stop()
		if !at.IsZero() {
			t.timer.Reset(time.Until(at))
		}
		return
	}
	t.fd.set(at)
}

// Close stops the timer for good and releases what it holds.
func (t *wakeTimer) Close() {
	if t.timer != nil {
		t.timer.Stop()
		return
	}
	t.fd.close()
}

// fakeClock reports whether time is a testing/synctest bubble's: its
// clock starts at midnight UTC on 2000-01-01 and only moves when every
// goroutine of the bubble is blocked, which a goroutine waiting on a
// timerfd never is. There, the wake timer is a time.Timer.
func fakeClock() bool {
	return time.Now().Before(time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC))
}
