package main

import (
	"context"
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stampede-load/stampede/chaos/backend"
	"github.com/stampede-load/stampede/reports"
)

// protoCounter serves the embedded backend over TLS, counting the
// connections it accepts and the requests by HTTP major version; API calls
// take 30 ms, so that a screen load's calls overlap.
type protoCounter struct {
	be     *backend.Backend
	mu     sync.Mutex
	conns  int
	protos map[int]int
}

func (p *protoCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.protos[r.ProtoMajor]++
	p.mu.Unlock()
	if strings.HasPrefix(r.URL.Path, "/api/") {
		time.Sleep(30 * time.Millisecond) // the API's service time
	}
	p.be.ServeHTTP(w, r)
}

// TestRunSpeaksHTTP2 runs per-client connections against a server like
// the embedded backend that offers h2 by ALPN: every request of the run
// goes over HTTP/2, each client on one connection whose streams carry its
// screen loads' overlapping API calls; with http_version http1 the same run
// speaks HTTP/1.1.
func TestRunSpeaksHTTP2(t *testing.T) {
	be, err := backend.New(backend.Config{TokenLifetime: time.Second, Signing: backend.SigningEdDSA})
	if err != nil {
		t.Fatal(err)
	}
	pc := &protoCounter{be: be, protos: map[int]int{}}
	srv := httptest.NewUnstartedServer(pc)
	srv.EnableHTTP2 = true
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			pc.mu.Lock()
			pc.conns++
			pc.mu.Unlock()
		}
	}
	srv.StartTLS()
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	_ = os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600)

	const clients = 8
	run := func(version string) (*reports.Result, string) {
		t.Helper()
		pc.mu.Lock()
		pc.conns, pc.protos = 0, map[int]int{}
		pc.mu.Unlock()
		out := t.TempDir()
		code, stdout, stderr := runCLI(context.Background(), "run", "--target", srv.URL, "--ca-cert", ca,
			"--clients", "8", "--duration", "2s", "--ramp", "200ms", "--time-scale", "60",
			"--set", "connections=per_client", "--set", "http_version="+version,
			"--set", "app.burst=4", "--set", "app.api_calls_per_minute=2", "--out", out, "--no-progress")
		if code != exitOK {
			t.Fatalf("http_version %s: exit %d; stderr %s", version, code, stderr)
		}
		res, err := reports.ReadFile(filepath.Join(out, "result.json"))
		if err != nil {
			t.Fatal(err)
		}
		return res, stdout
	}

	res, stdout := run("auto")
	pc.mu.Lock()
	conns, protos := pc.conns, pc.protos
	pc.mu.Unlock()
	c := res.Engine.Connections
	if protos[1] != 0 || protos[2] == 0 {
		t.Errorf("server saw requests by HTTP version %v, want HTTP/2 only", protos)
	}
	// One connection per client and the preflight's: no client dialled
	// again for its concurrent calls.
	if conns != clients+1 || c.Dials != clients+1 {
		t.Errorf("server saw %d connections, stampede dialled %d; want %d", conns, c.Dials, clients+1)
	}
	if c.Protocol != reports.ProtoHTTP2 || c.HTTP2Conns != clients+1 || c.HTTP2Requests == 0 || c.HTTP2Requests > int64(protos[2]) || c.MaxStreams < 2 {
		t.Errorf("engine.connections %+v; want HTTP/2 on every connection, up to the %d requests the server saw over it, API calls multiplexed", c, protos[2])
	}
	t.Logf("engine.connections %+v; server: %d connections, requests by version %v", c, conns, protos)
	if !strings.Contains(stdout, "HTTP/2 (9 of 9 connections") {
		t.Errorf("the summary does not say the protocol:\n%s", stdout)
	}

	res, _ = run("http1")
	pc.mu.Lock()
	protos = pc.protos
	pc.mu.Unlock()
	if c := res.Engine.Connections; protos[2] != 0 || c.Protocol != reports.ProtoHTTP1 || c.HTTP2Requests != 0 || c.MaxStreams != 0 {
		t.Errorf("http1: server saw requests by version %v, engine.connections %+v; want HTTP/1.1 only", protos, c)
	}
}

// TestHTTPVersionIsValidated: a bad http_version is a usage error naming
// the field.
func TestHTTPVersionIsValidated(t *testing.T) {
	code, _, stderr := runCLI(context.Background(), "run", "--set", "http_version=h3", "--out", t.TempDir(), "--no-progress")
	if code != exitUsage || stderr != "stampede: --set http_version=h3: must be one of auto, http1, http2, got \"h3\"\n" {
		t.Errorf("exit %d, stderr %s", code, stderr)
	}
}

// TestRunSpeaksH2CToTheEmbeddedBackend: http_version http2 against the
// plain-HTTP embedded backend is HTTP/2 with prior knowledge, and every
// request is answered.
func TestRunSpeaksH2CToTheEmbeddedBackend(t *testing.T) {
	out := t.TempDir()
	code, _, stderr := runCLI(context.Background(), "run", "--clients", "4", "--duration", "2s", "--ramp", "200ms",
		"--time-scale", "60", "--set", "connections=per_client", "--set", "http_version=http2", "--out", out, "--no-progress")
	if code != exitOK {
		t.Fatalf("exit %d; stderr %s", code, stderr)
	}
	res, err := reports.ReadFile(filepath.Join(out, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sent, failed int64
	for _, name := range []string{"sign_in", "refresh", "api"} { // the operations that are requests
		op := res.Ops[name]
		sent += op.Count
		failed += op.Count - op.OK
	}
	c := res.Engine.Connections
	if failed != 0 || sent == 0 || c.Protocol != reports.ProtoHTTP2 || c.HTTP2Requests < sent {
		t.Errorf("%d requests, %d failed; engine.connections %+v; want every request answered over HTTP/2", sent, failed, c)
	}
}
