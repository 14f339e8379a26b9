package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/stampede-load/stampede/chaos/backend"
)

func TestServeBusyPortExitsOneNamingTheAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	code, _, stderr := runCLI(context.Background(), "serve", "--addr", addr, "--signing", "EdDSA")
	if code != exitFailure || !strings.Contains(stderr, addr) {
		t.Fatalf("exit %d, stderr %q; want exit 1 naming %s", code, stderr, addr)
	}
}

func TestServeBadFlagsExitTwo(t *testing.T) {
	code, _, stderr := runCLI(context.Background(), "serve", "--signing", "HS256", "--token-lifetime", "0s")
	if code != exitUsage || !strings.Contains(stderr, "--signing") || !strings.Contains(stderr, "--token-lifetime") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

func TestServeAnswersThenStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out bytes.Buffer
	o := &serveOptions{streams: streams{out: &out, err: &bytes.Buffer{}}, addr: "127.0.0.1:0",
		tokenLifetime: backend.DefaultTokenLifetime, maxLifetime: backend.DefaultMaxLifetime, signing: "EdDSA"}
	var status int
	o.onListen = func(s *backend.Server) {
		resp, err := http.Get(s.URL + "/.well-known/jwks.json")
		if err == nil {
			status = resp.StatusCode
			resp.Body.Close()
		}
		cancel()
	}
	cmd := &cobra.Command{}
	cmd.SetContext(ctx)
	if err := o.run(cmd); err != nil && err != errStopped { // serve stops with exit 130
		t.Fatal(err)
	}
	if status != http.StatusOK {
		t.Errorf("jwks answered %d", status)
	}
	if !strings.Contains(out.String(), "listening on http://127.0.0.1:") || !strings.Contains(out.String(), "stopped") {
		t.Errorf("output %q", out.String())
	}
}

func TestServeBadAdmissionFlagsExitTwoNamingEach(t *testing.T) {
	code, _, stderr := runCLI(context.Background(), "serve", "--signing", "EdDSA",
		"--max-inflight", "-1", "--max-queue", "-2", "--queue-wait", "-1s")
	if code != exitUsage {
		t.Fatalf("exit %d, stderr %q; want 2", code, stderr)
	}
	for _, flag := range []string{"--max-inflight", "--max-queue", "--queue-wait"} {
		if !strings.Contains(stderr, flag) {
			t.Errorf("stderr %q does not name %s", stderr, flag)
		}
	}
}

func TestServeAdmissionFlagsBoundTheBackend(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out bytes.Buffer
	o := &serveOptions{streams: streams{out: &out, err: &bytes.Buffer{}}, addr: "127.0.0.1:0",
		tokenLifetime: backend.DefaultTokenLifetime, maxLifetime: backend.DefaultMaxLifetime, signing: "EdDSA",
		maxInflight: 3, maxQueue: 5, queueWait: 3 * time.Second}
	var st backend.Stats
	o.onListen = func(s *backend.Server) {
		defer cancel()
		resp, err := http.Get(s.URL + "/admin/stats")
		if err != nil {
			t.Error(err)
			return
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
			t.Error(err)
		}
	}
	cmd := &cobra.Command{}
	cmd.SetContext(ctx)
	if err := o.run(cmd); err != nil && err != errStopped { // serve stops with exit 130
		t.Fatal(err)
	}
	if st.Admission.MaxInflight != 3 || st.Admission.MaxQueue != 5 {
		t.Errorf("admission %+v, want 3 in flight and 5 queued", st.Admission)
	}
	if !strings.Contains(out.String(), "3 in flight, 5 queued up to 3s") {
		t.Errorf("output %q does not state the bounds", out.String())
	}
}
