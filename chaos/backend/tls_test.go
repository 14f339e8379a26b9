package backend

import (
	"crypto/tls"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestListenTLSCountsFullAndResumedHandshakes: a client with a session
// cache pays one full handshake, then resumes on its next connection; the
// backend counts both kinds, serves TLS 1.3 and offers HTTP/2.
func TestListenTLSCountsFullAndResumedHandshakes(t *testing.T) {
	b, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := SelfSigned(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := b.ListenTLS("127.0.0.1:0", cert)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if !strings.HasPrefix(srv.URL, "https://127.0.0.1:") {
		t.Fatalf("URL %s, want https://127.0.0.1:PORT", srv.URL)
	}
	pool, err := CertPool(cert)
	if err != nil {
		t.Fatal(err)
	}
	cache := tls.NewLRUClientSessionCache(1)
	var resumed []bool
	for range 2 {
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ClientSessionCache: cache}, ForceAttemptHTTP2: true}
		resp, err := (&http.Client{Transport: tr}).Get(srv.URL + "/.well-known/jwks.json")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body) // reads the session ticket too
		resp.Body.Close()
		if resp.TLS.Version != tls.VersionTLS13 || resp.ProtoMajor != 2 {
			t.Errorf("version %x, HTTP/%d: want TLS 1.3 and HTTP/2", resp.TLS.Version, resp.ProtoMajor)
		}
		resumed = append(resumed, resp.TLS.DidResume)
		tr.CloseIdleConnections()
	}
	if resumed[0] || !resumed[1] {
		t.Errorf("resumed %v, want [false true]", resumed)
	}
	st := b.Stats().TLS
	if st == nil || st.HandshakesFull != 1 || st.HandshakesResumed != 1 {
		t.Fatalf("TLS stats %+v, want 1 full and 1 resumed", st)
	}
	if runtime.GOOS == "linux" && (st.MeasuredFull+st.MeasuredResumed == 0 || st.CPUFullNs <= 0 && st.CPUResumedNs <= 0) {
		t.Errorf("TLS stats %+v: no handshake CPU measured", st)
	}
	if plain, _ := New(Config{}); plain.Stats().TLS != nil {
		t.Error("a backend without TLS reports TLS stats")
	}
}

// TestSelfSignedCertificate: the certificate covers loopback by address
// and name, and its PEM holds no private key.
func TestSelfSignedCertificate(t *testing.T) {
	cert, err := SelfSigned(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"127.0.0.1", "::1", "localhost"} {
		if err := cert.Leaf.VerifyHostname(host); err != nil {
			t.Errorf("%s: %v", host, err)
		}
	}
	pem := string(CertificatePEM(cert))
	if !strings.Contains(pem, "BEGIN CERTIFICATE") || strings.Contains(pem, "PRIVATE KEY") {
		t.Errorf("PEM:\n%s", pem)
	}
	if fp := Fingerprint(cert); len(fp) != 95 {
		t.Errorf("fingerprint %q, want 32 hex bytes joined by colons", fp)
	}
}
