package load

import (
	"testing"
	"testing/synctest"
	"time"
)

// waitWake waits for t's next wake, failing after a minute.
func waitWake(tb testing.TB, t *wakeTimer) time.Time {
	tb.Helper()
	select {
	case <-t.C():
		return time.Now()
	case <-time.After(time.Minute):
		tb.Fatal("the wake timer never fired")
		return time.Time{}
	}
}

func TestWakeTimerFiresNotBeforeItsInstant(t *testing.T) {
	wt := newWakeTimer()
	defer wt.Close()
	for _, ahead := range []time.Duration{0, -time.Second, 50 * time.Microsecond, 700 * time.Microsecond, 3 * time.Millisecond} {
		at := time.Now().Add(ahead)
		wt.Set(at)
		if woke := waitWake(t, wt); woke.Before(at) {
			t.Errorf("set %v ahead: woke %v before its instant", ahead, at.Sub(woke))
		}
	}
}

func TestWakeTimerSetReplacesTheInstant(t *testing.T) {
	wt := newWakeTimer()
	defer wt.Close()
	wt.Set(time.Now().Add(time.Millisecond))
	later := time.Now().Add(30 * time.Millisecond)
	wt.Set(later)
	if woke := waitWake(t, wt); woke.Before(later) {
		t.Errorf("woke %v before the instant that replaced the first", later.Sub(woke))
	}
	// Stopped, then set again: the wake is the new instant's.
	wt.Set(time.Now().Add(time.Millisecond))
	wt.Set(time.Time{})
	again := time.Now().Add(20 * time.Millisecond)
	wt.Set(again)
	if woke := waitWake(t, wt); woke.Before(again) {
		t.Errorf("a stopped timer woke %v before the instant set after it", again.Sub(woke))
	}
}

func TestWakeTimerIsPrecise(t *testing.T) {
	if testing.Short() {
		t.Skip("timing")
	}
	wt := newWakeTimer()
	defer wt.Close()
	if !wt.useFD {
		t.Skip("no timerfd here: the wake timer is a time.Timer")
	}
	// Go's own timers would wake these up to 1 ms late as a rule; the
	// timerfd wakes within microseconds on an idle machine. The median of
	// 101 wakes must be under half a millisecond even on a busy one.
	var lates []time.Duration
	for i := range 101 {
		at := time.Now().Add(time.Duration(100+i*7) * time.Microsecond)
		wt.Set(at)
		for {
			woke := waitWake(t, wt)
			if !woke.Before(at) {
				lates = append(lates, woke.Sub(at))
				break
			}
		}
	}
	n := 0
	for _, l := range lates {
		if l < 500*time.Microsecond {
			n++
		}
	}
	if n <= len(lates)/2 {
		t.Errorf("%d of %d wakes within 0.5 ms of their instant; want most", n, len(lates))
	}
}

func TestWakeTimerRunsOnABubblesClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		wt := newWakeTimer()
		defer wt.Close()
		at := time.Now().Add(90 * time.Second)
		wt.Set(at)
		<-wt.C() // a timerfd would never fire here: the bubble's time would not move
		if now := time.Now(); !now.Equal(at) {
			t.Errorf("woke at %v, want exactly the instant set, %v", now, at)
		}
	})
}
