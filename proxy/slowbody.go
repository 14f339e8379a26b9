package proxy

import (
	"context"
	"net/http"
	"time"

	"github.com/stampede-load/stampede/profiles"
)

// slowBody is how a slow_body fault trickles an answer's body: chunks of
// chunk bytes, each one delay after the one before (the first at once).
type slowBody struct {
	chunk int
	delay time.Duration
}

// slowBodyOf reads a slow_body event: its chunk size (default
// profiles.DefaultChunkSize) and the delay between chunks, given or from
// its rate in bytes a second.
func slowBodyOf(e profiles.Event) slowBody {
	s := slowBody{chunk: e.ChunkSize, delay: e.ChunkDelay.D()}
	if s.chunk <= 0 {
		s.chunk = profiles.DefaultChunkSize
	}
	if e.BytesPerSecond > 0 {
		s.delay = time.Duration(float64(s.chunk) / e.BytesPerSecond * float64(time.Second))
	}
	return s
}

// on reports whether the fault slows anything.
func (s slowBody) on() bool { return s.chunk > 0 && s.delay > 0 }

// routeMatches reports whether a slow_body event's route class covers a
// request of kind k: "token" sign-ins and refreshes, "api" API calls,
// "all" (or none given) every request the proxy forwards.
func routeMatches(route string, k Kind) bool {
	switch route {
	case profiles.RouteToken:
		return k == KindSignIn || k == KindRefresh
	case profiles.RouteAPI:
		return k == KindAPI
	}
	return true
}

// slowWriter writes an answer's body through s: each chunk flushed to the
// client, the next after s.delay, until the client goes away (done); once
// the proxy stops (stop), the rest goes at once.
type slowWriter struct {
	http.ResponseWriter
	s       slowBody
	done    <-chan struct{}
	stop    <-chan struct{}
	started bool
}

func (w *slowWriter) Write(b []byte) (int, error) {
	n := 0
	rc := http.NewResponseController(w.ResponseWriter)
	for len(b) > 0 {
		c := min(len(b), w.s.chunk)
		if w.started {
			t := time.NewTimer(w.s.delay)
			select {
			case <-t.C:
			case <-w.done:
				t.Stop()
				return n, context.Canceled
			case <-w.stop:
				t.Stop()
				c = len(b) // stopping: no more trickle
			}
		}
		w.started = true
		m, err := w.ResponseWriter.Write(b[:c])
		n += m
		if err != nil {
			return n, err
		}
		_ = rc.Flush()
		b = b[c:]
	}
	return n, nil
}

// Unwrap lets http.ResponseController reach the connection.
func (w *slowWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
