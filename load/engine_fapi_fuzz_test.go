package load

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stampede-load/stampede/load/model"
	"github.com/stampede-load/stampede/load/target"
	"github.com/stampede-load/stampede/load/transport"
)

// Response modes of the hostile target FuzzFAPIResponse serves.
const (
	modeNormal  = iota // the status, headers and body as given
	modeShort          // a Content-Length longer than the body, then the connection closes
	modeEndless        // the body repeated without end
	modeRaw            // the body bytes as the whole raw HTTP answer, then the connection closes
	modeStall          // nothing (or only the headers) until the client gives up
	numModes
)

// hostileAnswer is what the fuzz server answers with.
type hostileAnswer struct {
	mode    int
	status  int
	headers [][2]string
	body    []byte
}

// hostileTarget is an httptest server answering every request with the
// current hostileAnswer.
type hostileTarget struct {
	srv  *httptest.Server
	quit chan struct{} // closed at the end: stalled handlers return
	mu   sync.Mutex
	ans  hostileAnswer
}

func newHostileTarget(tb testing.TB) *hostileTarget {
	h := &hostileTarget{quit: make(chan struct{})}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	tb.Cleanup(h.srv.Close)
	tb.Cleanup(func() { close(h.quit) }) // runs first
	return h
}

func (h *hostileTarget) set(a hostileAnswer) {
	h.mu.Lock()
	h.ans = a
	h.mu.Unlock()
}

func (h *hostileTarget) serve(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	a := h.ans
	h.mu.Unlock()
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<16))
	if a.mode == modeRaw {
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		_, _ = buf.Write(a.body)
		_ = buf.Flush()
		return
	}
	for _, kv := range a.headers {
		w.Header().Add(kv[0], kv[1])
	}
	switch a.mode {
	case modeStall:
		if len(a.body)%2 == 1 {
			w.WriteHeader(a.status)
			_ = http.NewResponseController(w).Flush()
			if a.status == http.StatusNoContent || a.status == http.StatusNotModified {
				return // no body to hold back: the answer is whole
			}
		}
		// Until the client gives up; a client that sent another request
		// on the connection meanwhile is not seen leaving, hence the bound.
		select {
		case <-r.Context().Done():
		case <-h.quit:
		case <-time.After(10 * time.Second):
		}
	case modeShort:
		w.Header().Set("Content-Length", "1048576")
		w.WriteHeader(a.status)
		_, _ = w.Write(a.body)
		_ = http.NewResponseController(w).Flush()
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
		}
	case modeEndless:
		w.Header().Del("Content-Length")
		w.WriteHeader(a.status)
		chunk := bytes.Repeat(append([]byte("x"), a.body...), 1+(32<<10)/(len(a.body)+1))
		for sent := 0; sent < 64<<20 && r.Context().Err() == nil; sent += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	default:
		w.WriteHeader(a.status)
		_, _ = w.Write(a.body)
	}
}

// fuzzHeaders turns "Name: value" lines into headers, keeping only what
// net/http lets a handler send.
func fuzzHeaders(s string) [][2]string {
	var hs [][2]string
	for line := range strings.SplitSeq(s, "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok || name == "" || strings.ContainsFunc(name, func(r rune) bool {
			return !(r == '-' || r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z')
		}) || strings.ContainsFunc(value, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }) {
			continue
		}
		hs = append(hs, [2]string{name, strings.TrimSpace(value)})
	}
	return hs
}

// FuzzFAPIResponse serves arbitrary answers (status, headers, body; a body
// cut short, an endless body, raw bytes instead of HTTP, a target that
// stalls) to the FAPI client's sign-in, refresh and API call, and holds it
// to its contract: no panic; an answer within the request's deadline; at
// most 1 MiB (and a 4 KiB drain) of any body read; a known error class
// that agrees with the status; credentials only on success, and complete.
func FuzzFAPIResponse(f *testing.F) {
	ht := newHostileTarget(f)
	// The run's own HTTP path: a sender's connection (SenderTransport).
	ct := &perBodyTransport{base: &transport.SenderTransport{Fallback: &http.Transport{MaxIdleConnsPerHost: 4, DisableCompression: true}}}
	sc := &transport.SenderConn{}
	f.Cleanup(sc.Close)
	hc := &http.Client{Transport: ct,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	f.Cleanup(hc.CloseIdleConnections)
	fapi := &target.FAPI{Base: ht.srv.URL, Client: hc}

	signIn := `{"client_token":"ct_abc","session":{"id":"sess_1","status":"active"},"jwt":"eyJhbGciOiJFUzI1NiJ9.eyJleHAiOjE3MDAwMDAwNjB9.c2ln"}`
	for _, s := range []struct {
		mode    int
		status  uint16
		headers string
		body    string
	}{
		{modeNormal, 200, "Content-Type: application/json", signIn},
		{modeNormal, 200, "", `{"jwt":"eyJ.eyJ.x","client_token":"ct_rotated"}`},
		{modeNormal, 200, "", `{"jwt":""}`},
		{modeNormal, 200, "", `{"jwt":`},
		{modeNormal, 401, "", `{"errors":[{"code":"session_revoked","message":"x"}]}`},
		{modeNormal, 429, "Retry-After: 2", `{"errors":[{"code":"rate_limited"}]}`},
		{modeNormal, 429, "Retry-After: Wed, 21 Oct 2099 07:28:00 GMT", ``},
		{modeNormal, 503, "Retry-After: -1", `<html>busy</html>`},
		{modeNormal, 302, "Location: /v1/client/sign_ins", ``},
		{modeNormal, 204, "", `body on a 204`},
		{modeNormal, 200, "Content-Encoding: gzip", "\x1f\x8b\x08\x00garbage"},
		{modeShort, 200, "", `{"jwt":"eyJ`},
		{modeEndless, 200, "", `{"jwt":"`},
		{modeRaw, 0, "", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"},
		{modeRaw, 0, "", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffff\r\nabc"},
		{modeRaw, 0, "", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 401 Unauthorized\r\n\r\n"},
		{modeRaw, 0, "", "not http at all"},
		{modeStall, 200, "", ``},
		{modeStall, 200, "", `x`},
	} {
		f.Add(uint8(s.mode), s.status, s.headers, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, mode uint8, status uint16, headers string, body []byte) {
		a := hostileAnswer{mode: int(mode) % numModes, status: 200 + int(status)%800, headers: fuzzHeaders(headers), body: body}
		ht.set(a)
		// A stall after the headers of a status without a body (204, 304)
		// is a whole answer.
		complete := a.mode == modeNormal ||
			a.mode == modeStall && len(a.body)%2 == 1 && (a.status == http.StatusNoContent || a.status == http.StatusNotModified)
		stalled := a.mode == modeStall && !complete
		timeout := 5 * time.Second
		if stalled {
			timeout = 20 * time.Millisecond
		}
		check := func(what string, o model.Outcome, token string, credsWhole bool, took time.Duration) {
			t.Helper()
			read := ct.max.Swap(0) // the call's one body
			switch {
			case o.Class >= model.NumClasses:
				t.Fatalf("%s: class %d", what, o.Class)
			case took > timeout+3*time.Second:
				t.Fatalf("%s: answered after %s, deadline %s", what, took, timeout)
			case read > transport.MaxBody+4096:
				t.Fatalf("%s: read %d body bytes", what, read)
			case o.Class == model.ClassOK && !credsWhole, o.Class != model.ClassOK && token != "":
				t.Fatalf("%s: %+v with token %q", what, o, token)
			case stalled && o.Class != model.ClassTimeout && o.Class != model.ClassNetwork:
				t.Fatalf("%s: a stalled answer classed %s", what, o.Class)
			}
			if !complete || o.Class == model.ClassNetwork || o.Class == model.ClassTimeout {
				return
			}
			if o.Status != a.status {
				t.Fatalf("%s: status %d, served %d", what, o.Status, a.status)
			}
			want := model.ClassOther
			switch s := a.status; {
			case s/100 == 2:
				want = o.Class // ok, or other for a body it cannot use
				if o.Class != model.ClassOK && o.Class != model.ClassOther {
					want = model.ClassOK
				}
			case s == http.StatusUnauthorized:
				want = model.Class401
			case s == http.StatusTooManyRequests:
				want = model.Class429
			case s >= 500:
				want = model.Class5xx
			}
			if o.Class != want {
				t.Fatalf("%s: status %d classed %s, want %s", what, a.status, o.Class, want)
			}
		}
		call := func() context.Context {
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			t.Cleanup(cancel)
			return transport.WithSenderConn(ctx, sc)
		}

		start := time.Now()
		cr, o := fapi.SignIn(call(), "user_1")
		check("sign-in", o, cr.Token, cr.Token != "" && cr.ClientToken != "" && cr.SessionID != "", time.Since(start))

		start = time.Now()
		cr, o = fapi.Refresh(call(), "sess_1", "ct_abc")
		check("refresh", o, cr.Token, cr.Token != "" && cr.SessionID == "sess_1", time.Since(start))

		start = time.Now()
		o = fapi.Call(call(), "eyJ.eyJ.sig")
		check("api", o, "", true, time.Since(start))
	})
}
