package load

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// wakeFD is a non-blocking timerfd read through Go's network poller: the
// kernel wakes epoll_wait at the timerfd's expiry, to the microsecond,
// where the timeout Go's own timers give epoll_wait counts milliseconds.
type wakeFD struct {
	fd   int
	f    *os.File
	done chan struct{} // closed when the reader has returned
}

// open makes the timerfd and starts its reader, which calls fire on every
// expiry; false if the system would not make one.
func (w *wakeFD) open(fire func()) bool {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return false
	}
	w.fd, w.f, w.done = fd, os.NewFile(uintptr(fd), "timerfd"), make(chan struct{})
	go func() {
		defer close(w.done)
		var n [8]byte // the count of expiries
		for {
			if _, err := w.f.Read(n[:]); err != nil {
				return
			}
			fire()
		}
	}()
	return true
}

// set arms the timerfd for at (relative to now on CLOCK_MONOTONIC, the
// clock of time.Now's monotonic reading), or disarms it for a zero at.
func (w *wakeFD) set(at time.Time) {
	var spec unix.ItimerSpec
	if !at.IsZero() {
		d := time.Until(at)
		if d <= 0 {
			d = 1 // zero would disarm it
		}
		spec.Value = unix.NsecToTimespec(int64(d))
	}
	// The only errors are a bad descriptor or value, which this code
	// never passes.
	_ = unix.TimerfdSettime(w.fd, 0, &spec, nil)
}

// close disarms the timerfd, ends its reader and closes it.
func (w *wakeFD) close() {
	w.set(time.Time{})
	w.f.Close()
	<-w.done
}
