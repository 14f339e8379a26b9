package backend

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"time"
)

// Server timeouts.
const (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 90 * time.Second
	shutdownTimeout   = 5 * time.Second
)

// Server is a Backend listening on a TCP address.
type Server struct {
	// URL is the base URL, "http://127.0.0.1:PORT".
	URL string
	// Addr is the address listened on, "127.0.0.1:PORT".
	Addr string

	srv       *http.Server
	done      chan struct{}
	serveErr  error
	closeOnce sync.Once
	closeErr  error
}

// Listen serves b on addr ("127.0.0.1:0" picks a free port) until Close.
func (b *Backend) Listen(addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("backend: listen on %s: %w", addr, err)
	}
	s := &Server{
		URL:  "http://" + ln.Addr().String(),
		Addr: ln.Addr().String(),
		srv: &http.Server{
			Handler:           b,
			ReadHeaderTimeout: readHeaderTimeout,
			IdleTimeout:       idleTimeout,
			ErrorLog:          log.New(io.Discard, "", 0),
		},
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			s.serveErr = err
		}
	}()
	return s, nil
}

// Close shuts the server down gracefully, waiting up to 5s for in-flight
// requests before closing their connections, and returns once the server
// has stopped. Later calls return the first call's result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		err := s.srv.Shutdown(ctx)
		if err != nil {
			err = errors.Join(fmt.Errorf("backend: shutdown %s: %w", s.Addr, err), s.srv.Close())
		}
		<-s.done
		if s.serveErr != nil {
			err = errors.Join(err, fmt.Errorf("backend: serve %s: %w", s.Addr, s.serveErr))
		}
		s.closeErr = err
	})
	return s.closeErr
}
