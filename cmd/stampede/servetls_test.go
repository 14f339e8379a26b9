package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/stampede-load/stampede/chaos/backend"
)

// TestServeTLSWritesItsCertificateAndServesTLS13: serve --tls generates a
// certificate, writes it (without its key) to --tls-cert-out, prints its
// fingerprint, and a client trusting that file gets TLS 1.3 and HTTP/2.
func TestServeTLSWritesItsCertificateAndServesTLS13(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	certOut := filepath.Join(t.TempDir(), "cert.pem")
	var out, errOut bytes.Buffer
	o := &serveOptions{streams: streams{out: &out, err: &errOut}, addr: "127.0.0.1:0",
		tokenLifetime: backend.DefaultTokenLifetime, maxLifetime: backend.DefaultMaxLifetime, signing: "EdDSA",
		tls: serveTLSFlags{on: true, certOut: certOut}}
	var resp *http.Response
	var getErr error
	o.onListen = func(s *backend.Server) {
		defer cancel()
		pem, err := os.ReadFile(certOut)
		if err != nil {
			getErr = err
			return
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(pem)
		hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
		resp, getErr = hc.Get(s.URL + "/.well-known/jwks.json")
		if getErr == nil {
			resp.Body.Close()
		}
	}
	cmd := &cobra.Command{}
	cmd.SetContext(ctx)
	if err := o.run(cmd); err != nil && err != errStopped {
		t.Fatal(err)
	}
	if getErr != nil {
		t.Fatal(getErr)
	}
	if resp.StatusCode != http.StatusOK || resp.TLS.Version != tls.VersionTLS13 || resp.ProtoMajor != 2 {
		t.Errorf("status %d, TLS %x, HTTP/%d; want 200 over TLS 1.3 and HTTP/2", resp.StatusCode, resp.TLS.Version, resp.ProtoMajor)
	}
	pem, _ := os.ReadFile(certOut)
	all := out.String() + errOut.String() + string(pem)
	if !strings.Contains(out.String(), "listening on https://127.0.0.1:") || !strings.Contains(out.String(), "SHA-256 fingerprint ") {
		t.Errorf("output %q", out.String())
	}
	if strings.Contains(all, "PRIVATE KEY") {
		t.Error("the private key reached the output or the certificate file")
	}
}

// TestServeTLSBadFlagsExitTwo: a certificate without its key, or a key
// file that is not one, is a usage error naming the flag.
func TestServeTLSBadFlagsExitTwo(t *testing.T) {
	code, _, stderr := runCLI(context.Background(), "serve", "--signing", "EdDSA", "--addr", "127.0.0.1:0", "--tls-cert", "cert.pem")
	if code != exitUsage || !strings.Contains(stderr, "--tls-cert and --tls-key go together") {
		t.Errorf("exit %d, stderr %q; want 2 naming --tls-cert and --tls-key", code, stderr)
	}
	bad := filepath.Join(t.TempDir(), "bad.pem")
	if err := os.WriteFile(bad, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runCLI(context.Background(), "serve", "--signing", "EdDSA", "--addr", "127.0.0.1:0", "--tls-cert", bad, "--tls-key", bad)
	if code != exitUsage || !strings.Contains(stderr, "--tls-cert/--tls-key") {
		t.Errorf("exit %d, stderr %q; want 2 naming --tls-cert/--tls-key", code, stderr)
	}
}
