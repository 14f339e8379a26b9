package transport

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// SenderTransport is the HTTP transport of the engine's senders: each sender
// goroutine owns one keep-alive connection and makes its requests on it
// itself, writing the request and reading the answer in its own goroutine,
// where net/http's Transport hands every request to two more goroutines per
// connection. Requests it cannot make that way (no sender in the context,
// https, a proxy) go to Fallback.
type SenderTransport struct {
	// Fallback makes every request that is not a sender's plain-HTTP one.
	Fallback http.RoundTripper
	// Dial opens a sender's connection; nil means a net.Dialer with a 5 s
	// timeout.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Proxy, if set, says whether a request goes through a proxy, as
	// http.Transport.Proxy does; such requests go to Fallback.
	Proxy func(*http.Request) (*url.URL, error)
}

// SenderConn is one sender's connection, kept between its requests.
type SenderConn struct {
	c    net.Conn
	addr string // host:port it is connected to
	br   *bufio.Reader
	bw   *bufio.Writer
}

type senderConnKey struct{}

// WithSenderConn gives requests made under ctx the sender's connection sc.
func WithSenderConn(ctx context.Context, sc *SenderConn) context.Context {
	return context.WithValue(ctx, senderConnKey{}, sc)
}

// RoundTrip makes req on its sender's connection, dialling it if it has
// none or the server closed it, or through Fallback.
func (t *SenderTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	sc, _ := req.Context().Value(senderConnKey{}).(*SenderConn)
	if sc == nil || req.URL.Scheme != "http" || t.proxied(req) {
		return t.Fallback.RoundTrip(req)
	}
	return sc.roundTrip(req, t.dial)
}

func (t *SenderTransport) proxied(req *http.Request) bool {
	if t.Proxy == nil {
		return false
	}
	u, err := t.Proxy(req)
	return err != nil || u != nil
}

func (t *SenderTransport) dial(ctx context.Context, addr string) (net.Conn, error) {
	if t.Dial != nil {
		return t.Dial(ctx, "tcp", addr)
	}
	return (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext(ctx, "tcp", addr)
}

// errPast is a deadline already gone: it aborts a connection's I/O.
var errPast = time.Unix(1, 0)

func (sc *SenderConn) roundTrip(req *http.Request, dial func(context.Context, string) (net.Conn, error)) (*http.Response, error) {
	ctx := req.Context()
	addr := canonicalAddr(req)
	if sc.c != nil && (sc.addr != addr || !sc.open()) {
		sc.Close()
	}
	if sc.c == nil {
		c, err := dial(ctx, addr)
		if err != nil {
			return nil, err
		}
		sc.c, sc.addr = c, addr
		if sc.br == nil {
			sc.br, sc.bw = bufio.NewReaderSize(c, 4096), bufio.NewWriterSize(c, 4096)
		} else {
			sc.br.Reset(c)
			sc.bw.Reset(c)
		}
	}
	c := sc.c
	dl, _ := ctx.Deadline() // zero: none
	if err := c.SetDeadline(dl); err != nil {
		sc.Close()
		return nil, err
	}
	// A cancelled request (the run ended) aborts the connection's I/O.
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(errPast) })
	fail := func(err error) (*http.Response, error) {
		stop()
		sc.Close()
		switch {
		case ctx.Err() != nil:
			return nil, context.Cause(ctx)
		case !dl.IsZero() && !time.Now().Before(dl):
			// The connection's deadline is the request's: whatever the
			// read made of it (a header cut short, say), it timed out.
			return nil, context.DeadlineExceeded
		}
		return nil, err
	}
	err := writeRequest(sc.bw, req)
	if err == nil {
		err = sc.bw.Flush()
	}
	if err != nil {
		return fail(err)
	}
	var resp *http.Response
	for {
		resp, err = http.ReadResponse(sc.br, req)
		if err != nil {
			return fail(err)
		}
		// Informational answers (103 Early Hints) precede the answer.
		if resp.StatusCode < 200 && resp.StatusCode != http.StatusSwitchingProtocols {
			_ = resp.Body.Close()
			continue
		}
		break
	}
	resp.Body = &senderBody{ReadCloser: resp.Body, sc: sc, c: c, stop: stop, keep: !resp.Close && !req.Close}
	return resp, nil
}

// open reports whether the idle connection is still usable: nothing
// arrived on it and the server has not closed it. It peeks without
// blocking.
func (sc *SenderConn) open() bool {
	if sc.br.Buffered() > 0 {
		return false // bytes nobody asked for: the stream is out of step
	}
	sys, ok := sc.c.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sys.SyscallConn()
	if err != nil {
		return false
	}
	alive := false
	err = rc.Read(func(fd uintptr) bool {
		alive = socketIdle(fd)
		return true // never wait
	})
	return err == nil && alive
}

// Close closes the sender's connection, if open; its next request dials again.
func (sc *SenderConn) Close() {
	if sc.c != nil {
		_ = sc.c.Close()
		sc.c = nil
	}
}

// senderBody is an answer's body on a sender's connection: closing it
// keeps the connection for the sender's next request when the body was read
// to its end, the server keeps the connection alive and the request was not
// cancelled; else it closes the connection.
type senderBody struct {
	io.ReadCloser
	sc   *SenderConn
	c    net.Conn
	stop func() bool
	keep bool
	eof  bool
	done bool
}

func (b *senderBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.eof = true
	}
	return n, err
}

func (b *senderBody) Close() error {
	if b.done {
		return nil
	}
	b.done = true
	stopped := b.stop()
	if b.eof && b.keep && stopped && b.sc.c == b.c {
		return b.ReadCloser.Close() // read to its end: nothing to drain
	}
	// Closing the connection first keeps the body's Close from draining
	// what is left of it (an endless body, say).
	_ = b.c.Close()
	if b.sc.c == b.c {
		b.sc.c = nil
	}
	return b.ReadCloser.Close()
}

// canonicalAddr is req's host:port, with the scheme's port if it has none.
func canonicalAddr(req *http.Request) string {
	host, port := req.URL.Hostname(), req.URL.Port()
	if port == "" {
		port = "80"
	}
	return net.JoinHostPort(host, port)
}

// writeRequest writes req as HTTP/1.1 to w, as req.Write does for the
// requests stampede makes (a method, a URL, headers, a body of known length)
// without its formatting and header sorting; anything else it hands to
// req.Write.
func writeRequest(w *bufio.Writer, req *http.Request) error {
	body := req.Body
	if body == http.NoBody {
		body = nil
	}
	if body != nil && req.ContentLength <= 0 || len(req.TransferEncoding) > 0 || len(req.Trailer) > 0 || req.Close {
		return req.Write(w)
	}
	for k, vs := range req.Header {
		if strings.ContainsAny(k, "\r\n: ") {
			return req.Write(w)
		}
		for _, v := range vs {
			if strings.ContainsAny(v, "\r\n") {
				return req.Write(w) // it knows how to clean them
			}
		}
	}
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	if strings.ContainsAny(host, "\r\n /") {
		return req.Write(w)
	}
	w.WriteString(req.Method)
	w.WriteByte(' ')
	w.WriteString(req.URL.RequestURI())
	w.WriteString(" HTTP/1.1\r\nHost: ")
	w.WriteString(host)
	if _, ok := req.Header["User-Agent"]; !ok {
		w.WriteString("\r\nUser-Agent: Go-http-client/1.1")
	}
	switch {
	case body != nil:
		w.WriteString("\r\nContent-Length: ")
		w.WriteString(strconv.FormatInt(req.ContentLength, 10))
	case req.Method == http.MethodPost || req.Method == http.MethodPut || req.Method == http.MethodPatch:
		w.WriteString("\r\nContent-Length: 0")
	}
	for k, vs := range req.Header {
		switch k {
		case "Host", "Content-Length", "Transfer-Encoding", "Trailer":
			continue
		}
		for _, v := range vs {
			w.WriteString("\r\n")
			w.WriteString(k)
			w.WriteString(": ")
			w.WriteString(v)
		}
	}
	_, err := w.WriteString("\r\n\r\n")
	if body != nil {
		n, cerr := io.Copy(w, io.LimitReader(body, req.ContentLength))
		body.Close()
		switch {
		case cerr != nil:
			return cerr
		case n != req.ContentLength:
			return fmt.Errorf("http: ContentLength=%d with Body length %d", req.ContentLength, n)
		}
	}
	return err
}
