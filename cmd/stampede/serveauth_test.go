package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/stampede-load/stampede/chaos/backend"
)

func TestIsLoopbackAddr(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8787": true, "127.1.2.3:0": true, "[::1]:8787": true, "localhost:8787": true, "LOCALHOST:1": true,
		":8787": false, "0.0.0.0:8787": false, "[::]:8787": false, "192.168.1.10:8787": false,
		"example.com:80": false, "[fe80::1%eth0]:1": false, "8787": true,
	} {
		if got := isLoopbackAddr(addr); got != want {
			t.Errorf("isLoopbackAddr(%q) = %v, want %v", addr, got, want)
		}
	}
}

func TestServeBeyondLoopbackWithoutAdminTokenExitsTwo(t *testing.T) {
	t.Setenv(adminTokenEnv, "")
	for _, addr := range []string{"0.0.0.0:0", ":0"} {
		code, stdout, stderr := runCLI(context.Background(), "serve", "--addr", addr, "--signing", "EdDSA")
		if code != exitUsage || stdout != "" || !strings.Contains(stderr, "--admin-token") || !strings.Contains(stderr, adminTokenEnv) {
			t.Errorf("--addr %s: exit %d, stdout %q, stderr %q", addr, code, stdout, stderr)
		}
	}
}

// serveBeyondLoopback runs stampede serve on all interfaces and calls
// check with the base URL to reach it on loopback and the warning stream.
func serveBeyondLoopback(t *testing.T, flagToken string, check func(base string)) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb bytes.Buffer
	o := &serveOptions{streams: streams{out: &out, err: &errb}, addr: "0.0.0.0:0", adminToken: flagToken,
		tokenLifetime: backend.DefaultTokenLifetime, maxLifetime: backend.DefaultMaxLifetime, signing: "EdDSA"}
	o.onListen = func(s *backend.Server) {
		defer cancel()
		_, port, err := net.SplitHostPort(s.Addr)
		if err != nil {
			t.Error(err)
			return
		}
		check("http://127.0.0.1:" + port)
	}
	cmd := &cobra.Command{}
	cmd.SetContext(ctx)
	if err := o.run(cmd); err != nil && err != errStopped { // serve stops with exit 130
		t.Fatal(err)
	}
	return errb.String()
}

// status sends method path with bearer (if set) and returns the status.
func status(t *testing.T, hc *http.Client, method, url, bearer string) int {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestServeBeyondLoopbackWarnsAndGuardsAdmin(t *testing.T) {
	for _, tc := range []struct{ name, flag, env, token string }{
		{"flag", "flag-token", "", "flag-token"},
		{"env", "", "env-token", "env-token"},
		{"flag over env", "flag-token", "env-token", "flag-token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(adminTokenEnv, tc.env)
			hc := &http.Client{Transport: &http.Transport{}}
			defer hc.CloseIdleConnections()
			stderr := serveBeyondLoopback(t, tc.flag, func(base string) {
				for _, path := range []string{"/admin/stats", "/metrics"} {
					if got := status(t, hc, http.MethodGet, base+path, ""); got != http.StatusUnauthorized {
						t.Errorf("%s without the token: %d", path, got)
					}
					if got := status(t, hc, http.MethodGet, base+path, "not-"+tc.token); got != http.StatusUnauthorized {
						t.Errorf("%s with another token: %d", path, got)
					}
					if got := status(t, hc, http.MethodGet, base+path, tc.token); got != http.StatusOK {
						t.Errorf("%s with the token: %d", path, got)
					}
				}
				if got := status(t, hc, http.MethodGet, base+"/.well-known/jwks.json", ""); got != http.StatusOK {
					t.Errorf("jwks: %d", got)
				}
			})
			if !strings.Contains(stderr, "warning: listening on") || !strings.Contains(stderr, "beyond loopback") {
				t.Errorf("no warning on stderr: %q", stderr)
			}
			if strings.Contains(stderr, tc.token) {
				t.Errorf("stderr shows the admin token: %q", stderr)
			}
		})
	}
}

func TestServeOnLoopbackNeedsNoTokenAndDoesNotWarn(t *testing.T) {
	t.Setenv(adminTokenEnv, "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var errb bytes.Buffer
	o := &serveOptions{streams: streams{out: &bytes.Buffer{}, err: &errb}, addr: "127.0.0.1:0",
		tokenLifetime: backend.DefaultTokenLifetime, maxLifetime: backend.DefaultMaxLifetime, signing: "EdDSA"}
	hc := &http.Client{Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	o.onListen = func(s *backend.Server) {
		defer cancel()
		if got := status(t, hc, http.MethodGet, s.URL+"/admin/stats", ""); got != http.StatusOK {
			t.Errorf("/admin/stats on loopback without a token configured: %d", got)
		}
	}
	cmd := &cobra.Command{}
	cmd.SetContext(ctx)
	if err := o.run(cmd); err != nil && err != errStopped { // serve stops with exit 130
		t.Fatal(err)
	}
	if errb.Len() != 0 {
		t.Errorf("stderr %q", errb.String())
	}
}

func TestServeListensOnLoopbackByDefault(t *testing.T) {
	def := newServeCmd(streams{}).Flags().Lookup("addr").DefValue
	if !isLoopbackAddr(def) || !strings.HasPrefix(def, "127.0.0.1:") {
		t.Errorf("serve --addr defaults to %q", def)
	}
}
