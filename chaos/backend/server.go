package backend

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
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
	// URL is the base URL, "http://127.0.0.1:PORT" ("https://" with TLS).
	URL string
	// Addr is the address listened on, "127.0.0.1:PORT".
	Addr string

	srv       *http.Server
	done      chan struct{}
	serveErr  error
	closeOnce sync.Once
	closeErr  error

	fresh    sync.Map    // net.Conn → struct{}: accepted, no request started yet
	shutdown atomic.Bool // set by closeFresh
}

// Listen serves b on addr ("127.0.0.1:0" picks a free port) until Close.
func (b *Backend) Listen(addr string) (*Server, error) {
	return b.listen(addr, nil)
}

// ListenTLS serves b over TLS 1.3 with cert on addr until Close: HTTP/2
// and HTTP/1.1 by ALPN, session tickets on; Stats counts the handshakes
// (TLSStats). The URL is "https://127.0.0.1:PORT".
func (b *Backend) ListenTLS(addr string, cert tls.Certificate) (*Server, error) {
	return b.listen(addr, &cert)
}

// listen serves b on addr, over TLS with cert when cert is not nil.
func (b *Backend) listen(addr string, cert *tls.Certificate) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("backend: listen on %s: %w", addr, err)
	}
	scheme := "http://"
	if cert != nil {
		b.tls.on.Store(true)
		ln = tls.NewListener(meteredListener{ln}, serverTLS(*cert, &b.tls))
		scheme = "https://"
	}
	s := &Server{
		URL:  scheme + ln.Addr().String(),
		Addr: ln.Addr().String(),
		srv: &http.Server{
			Handler:           b,
			ReadHeaderTimeout: readHeaderTimeout,
			IdleTimeout:       idleTimeout,
			ErrorLog:          log.New(io.Discard, "", 0),
		},
		done: make(chan struct{}),
	}
	if cert == nil {
		// Plain HTTP speaks HTTP/2 with prior knowledge (h2c) besides
		// HTTP/1.1, so that a run's http_version http2 works against it.
		var p http.Protocols
		p.SetHTTP1(true)
		p.SetUnencryptedHTTP2(true)
		s.srv.Protocols = &p
	}
	s.srv.ConnState = s.trackFresh
	s.srv.RegisterOnShutdown(s.closeFresh)
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			s.serveErr = err
		}
	}()
	return s, nil
}

// trackFresh records which connections have not started a request yet.
// Once shutdown has begun, a connection accepted just before the listener
// closed is closed at once.
// It takes no lock for connections that are not fresh: it runs on every
// request.
func (s *Server) trackFresh(c net.Conn, state http.ConnState) {
	if state != http.StateNew {
		s.fresh.LoadAndDelete(c)
		return
	}
	s.fresh.Store(c, struct{}{})
	if s.shutdown.Load() { // closeFresh may have run before the Store
		s.fresh.Delete(c)
		_ = c.Close()
	}
}

// closeFresh closes the connections that have not started a request. Without
// it a graceful shutdown waits 5s for every connection a client transport
// dialed but never used (net/http treats them as busy that long).
func (s *Server) closeFresh() {
	s.shutdown.Store(true)
	for c := range s.fresh.Range {
		s.fresh.Delete(c)
		_ = c.(net.Conn).Close()
	}
}

// Close shuts the server down gracefully, waiting up to 5s for in-flight
// requests before closing their connections, and returns once the server
// has stopped. Connections that have not started a request are closed at
// once. Later calls return the first call's result.
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
