package transport

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stampede-load/stampede/load/model"
)

// countingServer is an httptest server that counts the connections it
// accepted.
func countingServer(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

// fallbackCounter counts the requests SenderTransport passed on.
type fallbackCounter struct {
	n  atomic.Int64
	rt http.RoundTripper
}

func (f *fallbackCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	f.n.Add(1)
	return f.rt.RoundTrip(r)
}

func newSenderClient(t *testing.T) (*http.Client, *fallbackCounter) {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	fb := &fallbackCounter{rt: tr}
	return &http.Client{Transport: &SenderTransport{Fallback: fb}}, fb
}

// getOn makes one GET on sc's connection and reads the answer to its end.
func getOn(t *testing.T, hc *http.Client, ctx context.Context, url string) (int, string, error) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, string(b), err
}

func TestSenderTransportKeepsOneConnectionPerSender(t *testing.T) {
	needSocketPeek(t)
	srv, conns := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/chunked" {
			w.Write([]byte("part one, "))
			w.(http.Flusher).Flush() // no Content-Length: a chunked answer
			w.Write([]byte("part two"))
			return
		}
		if r.URL.Path == "/hints" {
			w.WriteHeader(http.StatusEarlyHints)
		}
		io.WriteString(w, "ok")
	})
	hc, fb := newSenderClient(t)
	a, b := &SenderConn{}, &SenderConn{}
	defer a.Close()
	defer b.Close()
	for i, tc := range []struct {
		sc   *SenderConn
		path string
		want string
	}{{a, "/", "ok"}, {a, "/chunked", "part one, part two"}, {a, "/hints", "ok"}, {a, "/", "ok"}, {b, "/", "ok"}, {b, "/", "ok"}} {
		code, body, err := getOn(t, hc, WithSenderConn(context.Background(), tc.sc), srv.URL+tc.path)
		if err != nil || code != http.StatusOK || body != tc.want {
			t.Fatalf("request %d (%s): %d %q %v", i, tc.path, code, body, err)
		}
	}
	if got := conns.Load(); got != 2 {
		t.Errorf("two senders opened %d connections, want 2 (one each, kept alive)", got)
	}
	if fb.n.Load() != 0 {
		t.Errorf("%d senders' requests went to the fallback", fb.n.Load())
	}
	// Requests without a sender go to the fallback transport.
	if code, _, err := getOn(t, hc, context.Background(), srv.URL); err != nil || code != http.StatusOK || fb.n.Load() != 1 {
		t.Errorf("a request without a sender: %d %v, fallback made %d", code, err, fb.n.Load())
	}
}

func TestSenderTransportRedialsWhenTheServerClosedTheConnection(t *testing.T) {
	srv, conns := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/close" {
			w.Header().Set("Connection", "close")
		}
		io.WriteString(w, "ok")
	})
	hc, _ := newSenderClient(t)
	sc := &SenderConn{}
	defer sc.Close()
	ctx := WithSenderConn(context.Background(), sc)
	// An answer with Connection: close: the next request dials.
	for _, path := range []string{"/close", "/"} {
		if code, _, err := getOn(t, hc, ctx, srv.URL+path); err != nil || code != http.StatusOK {
			t.Fatalf("%s: %d %v", path, code, err)
		}
	}
	if got := conns.Load(); got != 2 {
		t.Fatalf("after Connection: close, %d connections, want 2", got)
	}
	// The server closes the idle connection: once its FIN is in, the next
	// request sees the connection is gone and dials instead of failing.
	srv.CloseClientConnections()
	waitReadable(t, sc.c)
	if sc.open() {
		t.Fatal("open() says a connection the server closed is open")
	}
	if code, _, err := getOn(t, hc, ctx, srv.URL); err != nil || code != http.StatusOK {
		t.Fatalf("after the server closed the idle connection: %d %v", code, err)
	}
	if got := conns.Load(); got != 3 {
		t.Errorf("%d connections, want 3", got)
	}
}

func TestSenderTransportBoundsTimeAndBodies(t *testing.T) {
	release := make(chan struct{})
	srv, conns := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/endless":
			chunk := []byte(strings.Repeat("x", 32<<10))
			for r.Context().Err() == nil {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		case "/hang":
			select {
			case <-r.Context().Done():
			case <-release:
			}
		default:
			io.WriteString(w, "ok")
		}
	})
	defer close(release)
	hc, _ := newSenderClient(t)
	sc := &SenderConn{}
	defer sc.Close()

	// An endless body: the client reads what it wants and closes; Close
	// does not drain the rest, and the connection is not reused.
	ctx, cancel := context.WithTimeout(WithSenderConn(context.Background(), sc), time.Minute)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/endless", nil)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, 100<<10)); err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	go func() { resp.Body.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(30 * time.Second):
		t.Fatal("closing an endless body drained it")
	}
	if code, _, err := getOn(t, hc, ctx, srv.URL); err != nil || code != http.StatusOK || conns.Load() != 2 {
		t.Fatalf("after an endless body: %d %v, %d connections (want a new one)", code, err, conns.Load())
	}

	// An answer that never comes: the request's deadline ends it as a
	// timeout.
	tctx, tcancel := context.WithTimeout(WithSenderConn(context.Background(), sc), 50*time.Millisecond)
	defer tcancel()
	_, _, err = getOn(t, hc, tctx, srv.URL+"/hang")
	if o := Classify(tctx, nil, nil, err); o.Class != model.ClassTimeout {
		t.Errorf("a request past its deadline: %v, classified %+v, want timeout", err, o)
	}

	// The run ends: a request in flight is cancelled and counted so.
	cctx, ccancel := context.WithCancelCause(WithSenderConn(context.Background(), sc))
	errc := make(chan error, 1)
	go func() {
		_, _, err := getOn(t, hc, cctx, srv.URL+"/hang")
		errc <- err
	}()
	ccancel(ErrRunEnded)
	err = <-errc
	if o := Classify(cctx, nil, nil, err); o.Class != model.ClassCancelled || !errors.Is(err, ErrRunEnded) && !errors.Is(err, context.Canceled) {
		t.Errorf("a request cancelled at the end of the run: %v, classified %+v", err, o)
	}
	// The sender's next request gets a fresh connection.
	if code, _, err := getOn(t, hc, WithSenderConn(context.Background(), sc), srv.URL); err != nil || code != http.StatusOK {
		t.Errorf("after a cancelled request: %d %v", code, err)
	}
}

// TestWriteRequestAsNetHTTPDoes: what writeRequest writes reads back, with
// http.ReadRequest, as the same request as req.Write's output.
func TestWriteRequestAsNetHTTPDoes(t *testing.T) {
	mk := func(method, url, body string, h map[string][]string) *http.Request {
		var r *http.Request
		if body == "" {
			r, _ = http.NewRequest(method, url, nil)
		} else {
			r, _ = http.NewRequest(method, url, strings.NewReader(body))
		}
		for k, vs := range h {
			for _, v := range vs {
				r.Header.Add(k, v)
			}
		}
		return r
	}
	for _, tc := range []*http.Request{
		mk(http.MethodGet, "http://127.0.0.1:8787/api/me", "", map[string][]string{"Authorization": {"Bearer a.b.c"}}),
		mk(http.MethodPost, "http://127.0.0.1:8787/v1/client/sessions/sess_1/tokens", "", map[string][]string{"Authorization": {"Bearer ct"}}),
		mk(http.MethodPost, "http://h.test/v1/client/sign_ins?x=1&y=%20", `{"identifier":"user-1"}`, map[string][]string{"Content-Type": {"application/json"}}),
		mk(http.MethodPut, "http://h.test/a%2Fb/c", "", map[string][]string{"X-Many": {"1", "2"}, "User-Agent": {"app/1.0"}}),
		mk(http.MethodPost, "http://h.test/token", "grant_type=refresh_token&refresh_token=r", map[string][]string{"Content-Type": {"application/x-www-form-urlencoded"}, "X-Bad": {"a\r\nInjected: yes"}}),
	} {
		var want, got bytes.Buffer
		wreq := tc.Clone(context.Background())
		if tc.GetBody != nil {
			wreq.Body, _ = tc.GetBody()
		}
		if err := wreq.Write(&want); err != nil {
			t.Fatal(err)
		}
		bw := bufio.NewWriter(&got)
		if err := writeRequest(bw, tc); err != nil {
			t.Fatal(err)
		}
		bw.Flush()
		a, err := http.ReadRequest(bufio.NewReader(&want))
		if err != nil {
			t.Fatal(err)
		}
		b, err := http.ReadRequest(bufio.NewReader(&got))
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", tc.Method, tc.URL, err, got.String())
		}
		ab, _ := io.ReadAll(a.Body)
		bb, _ := io.ReadAll(b.Body)
		if a.Method != b.Method || a.RequestURI != b.RequestURI || a.Host != b.Host || a.ContentLength != b.ContentLength ||
			string(ab) != string(bb) || !reflect.DeepEqual(a.Header, b.Header) {
			t.Errorf("%s %s:\nreq.Write    %q\nwriteRequest %q", tc.Method, tc.URL, want.String(), got.String())
		}
	}
}
