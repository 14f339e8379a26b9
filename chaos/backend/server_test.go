package backend

import (
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestListenServesUntilClose(t *testing.T) {
	b, _ := newTestBackend(t, Config{})
	srv, err := b.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") || srv.URL != "http://"+srv.Addr {
		t.Errorf("URL = %q, Addr = %q", srv.URL, srv.Addr)
	}
	resp, err := http.Get(srv.URL + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("jwks over TCP: status %d", resp.StatusCode)
	}
	if err := srv.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := srv.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := http.Get(srv.URL + "/.well-known/jwks.json"); err == nil {
		t.Error("request after Close succeeded")
	}
}

func TestListenOnBusyPortNamesTheAddress(t *testing.T) {
	b, _ := newTestBackend(t, Config{})
	srv, err := b.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	_, err = b.Listen(srv.Addr)
	if err == nil {
		t.Fatal("Listen on a busy port succeeded")
	}
	if !strings.Contains(err.Error(), srv.Addr) {
		t.Errorf("error %q does not name %s", err, srv.Addr)
	}
	if _, ok := errors.AsType[*net.OpError](err); !ok {
		t.Errorf("error %v does not wrap the *net.OpError", err)
	}
}

func TestCloseDoesNotWaitForUnusedConnections(t *testing.T) {
	b, _ := newTestBackend(t, Config{})
	srv, err := b.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// A used keep-alive connection and one dialed but never used, as a
	// client transport leaves behind.
	client := &http.Client{}
	resp, err := client.Get(srv.URL + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	idle, err := net.Dial("tcp", srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	start := time.Now()
	if err := srv.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if d := time.Since(start); d >= 4*time.Second { // net/http alone waits 5s
		t.Errorf("Close took %v with an unused connection open", d)
	}
}
