//go:build !linux

package load

import "time"

// wakeFD is Linux's timerfd; elsewhere the wake timer uses a time.Timer.
type wakeFD struct{}

func (w *wakeFD) open(func()) bool { return false }
func (w *wakeFD) set(time.Time)    {}
func (w *wakeFD) close()           {}
