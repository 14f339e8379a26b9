package run

import (
	"crypto/tls"
	"fmt"
	"strings"
	"time"

	"github.com/stampede-load/stampede/chaos/backend"
	"github.com/stampede-load/stampede/load/transport"
	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

// embeddedTLS prepares an embedded backend served over TLS (target.tls):
// it generates the backend's certificate and returns it with o.TLS
// trusting it; (nil, o.TLS) when the profile asks for no such backend.
func embeddedTLS(p profiles.Profile, clientTLS *tls.Config) (*tls.Certificate, *tls.Config, error) {
	if p.TargetKind() != profiles.TargetBuiltin || !p.Target.TLS {
		return nil, clientTLS, nil
	}
	cert, err := backend.SelfSigned(time.Now())
	if err != nil {
		return nil, nil, fmt.Errorf("embedded backend: %w", err)
	}
	pool, err := backend.CertPool(cert)
	if err != nil {
		return nil, nil, fmt.Errorf("embedded backend: %w", err)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if clientTLS != nil {
		cfg = clientTLS.Clone()
	}
	cfg.RootCAs = pool
	return &cert, cfg, nil
}

// recordTLS fills res.Engine.TLS from the transport's handshakes and, with
// the embedded backend, the backend's count of them and their CPU.
func recordTLS(res *reports.Result, tr *transport.Transport, be *backend.Backend) error {
	t, err := tr.TLS(res.StartedAt, res.EndedAt)
	if err != nil || t == nil {
		return err
	}
	if be != nil {
		if s := be.Stats().TLS; s != nil {
			t.Backend = &reports.TLSBackend{
				HandshakesFull: s.HandshakesFull, HandshakesResumed: s.HandshakesResumed,
				CPUFullNs: s.CPUFullNs, CPUResumedNs: s.CPUResumedNs,
				MeasuredFull: s.MeasuredFull, MeasuredResumed: s.MeasuredResumed,
			}
		}
	}
	t.Derive()
	res.Engine.TLS = t
	reports.AnalyzeTLS(res)
	return nil
}

// speaksTLS says whether the profile's target may be reached over TLS:
// the embedded backend with target.tls, or any https:// URL of the
// target. Per-client session caches are kept only then: each costs a
// copy of the TLS configuration per client.
func speaksTLS(p profiles.Profile) bool {
	if p.TargetKind() == profiles.TargetBuiltin {
		return p.Target.TLS
	}
	t := p.Target
	for _, u := range []string{t.URL, t.TokenEndpoint, t.APIURL, t.SignIn.Path, t.Refresh.Path, t.API.Path} {
		if len(u) >= 8 && strings.EqualFold(u[:8], "https://") {
			return true
		}
	}
	return false
}
