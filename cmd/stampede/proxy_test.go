package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stampede-load/stampede/load/target"
	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/proxy"
)

func TestProxyBadFlagsExitTwoNamingEach(t *testing.T) {
	code, _, stderr := runCLI(context.Background(), "proxy", "--upstream", "ftp://x", "--max-body", "0",
		"--threshold", "proxy.nonsense == 0", "--admin-addr", "0.0.0.0:0")
	if code != exitUsage {
		t.Fatalf("exit %d, want 2; stderr %q", code, stderr)
	}
	for _, want := range []string{"--upstream", "--max-body", "--threshold", "--admin-addr"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not name %s: %q", want, stderr)
		}
	}
	if code, _, stderr := runCLI(context.Background(), "proxy"); code != exitUsage || !strings.Contains(stderr, "--upstream: required") {
		t.Errorf("no --upstream: exit %d, %q", code, stderr)
	}
}

// runProxy runs stampede proxy in front of the embedded backend; during
// calls drive with the proxy's and the admin API's URLs, then it is
// stopped by cancel, and the result's directory and the error returned.
func runProxy(t *testing.T, o *proxyOptions, drive func(proxyURL, adminURL string)) (string, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	o.streams = streams{out: &bytes.Buffer{}, err: &bytes.Buffer{}}
	o.upstream, o.listen, o.adminAddr, o.outDir = "embedded", "127.0.0.1:0", "127.0.0.1:0", dir
	if o.maxBody == 0 {
		o.maxBody, o.retryLimit, o.retryWindow = proxy.DefaultMaxBody, proxy.DefaultRetryLimit, proxy.DefaultRetryWindow
	}
	o.onListen = func(p, a string) {
		drive(p, a)
		cancel()
	}
	err := o.run(ctx)
	return dir, err
}

func TestProxyInFrontOfTheEmbeddedBackendWritesAProxyResultAndGatesThresholds(t *testing.T) {
	o := &proxyOptions{thresholds: []string{"proxy.duplicate_refreshes == 0", "proxy.sessions == 1"}}
	dir, err := runProxy(t, o, func(p, admin string) {
		resp, err := http.Post(p+"/v1/client/sign_ins", "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		var a struct {
			CT      string `json:"client_token"`
			Session struct {
				ID string `json:"id"`
			} `json:"session"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&a)
		resp.Body.Close()
		// Two refreshes in a row with no API call between: the second
		// refreshes a generation already refreshed.
		for range 2 {
			req, _ := http.NewRequest("POST", p+"/v1/client/sessions/"+a.Session.ID+"/tokens", nil)
			req.Header.Set("Authorization", "Bearer "+a.CT)
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}
		// A live fault through stampede proxy fault.
		var out bytes.Buffer
		f := &proxyFaultOptions{streams: streams{out: &out, err: &out}, admin: admin, event: eventRate(0.5)}
		if err := f.run(context.Background(), []string{"spurious_401"}); err != nil {
			t.Errorf("proxy fault: %v", err)
		}
	})
	if exitCode(err) != exitInterrupted && exitCode(err) != exitThresholds {
		t.Fatalf("err %v", err)
	}
	if exitCode(err) != exitThresholds || !strings.Contains(err.Error(), "proxy.duplicate_refreshes == 0") {
		t.Errorf("want exit 99 naming the failed threshold, got %d: %v", exitCode(err), err)
	}
	b, rerr := os.ReadFile(filepath.Join(dir, "result.json"))
	if rerr != nil {
		t.Fatal(rerr)
	}
	var doc map[string]any
	_ = json.Unmarshal(b, &doc)
	if doc["mode"] != "proxy" || doc["partial"] != true {
		t.Errorf("mode %v partial %v", doc["mode"], doc["partial"])
	}
	if _, ok := doc["requests"]; ok {
		t.Error("a proxy result has requests, which only a run knows")
	}
	events, _ := doc["events"].([]any)
	if len(events) != 1 {
		t.Errorf("events %v, want the live spurious_401", events)
	}
	for _, name := range []string{"report.html", "junit.xml", "report.md"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Error(err)
		}
	}
}

func eventRate(r float64) profiles.Event { return profiles.Event{Rate: r} }

func TestProxyServesHTTPSWithASelfSignedCertificateClientsCanTrust(t *testing.T) {
	o := &proxyOptions{tlsSelfSigned: true}
	var status int
	dir, err := runProxy(t, o, func(p, _ string) {
		if !strings.HasPrefix(p, "https://") {
			t.Errorf("proxy URL %s, want https", p)
			return
		}
		pemBytes, err := os.ReadFile(filepath.Join(o.outDir, proxyCertName))
		if err != nil {
			t.Error(err)
			return
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(pemBytes)
		hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
		resp, err := hc.Post(p+"/v1/client/sign_ins", "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Error(err)
			return
		}
		resp.Body.Close()
		status = resp.StatusCode
	})
	if exitCode(err) != exitInterrupted {
		t.Fatalf("err %v", err)
	}
	if status != http.StatusOK {
		t.Errorf("sign-in over TLS: %d", status)
	}
	if _, err := os.Stat(filepath.Join(dir, "result.json")); err != nil {
		t.Error(err)
	}
	if code, _, stderr := runCLI(context.Background(), "proxy", "--upstream", "embedded", "--tls-cert", "x.pem"); code != exitUsage || !strings.Contains(stderr, "--tls-key") {
		t.Errorf("--tls-cert alone: exit %d, %q", code, stderr)
	}
}

// TestProxyKnowsTheRunsPreflightProbe: the proxy leaves stampede run's
// pre-flight probe out of its figures by its made-up refresh token, so
// a run through the proxy counts what the proxy counts.
func TestProxyKnowsTheRunsPreflightProbe(t *testing.T) {
	if proxy.PreflightRefreshToken != target.PreflightInvalidToken {
		t.Errorf("proxy.PreflightRefreshToken %q, the run's probe sends %q", proxy.PreflightRefreshToken, target.PreflightInvalidToken)
	}
}
