package main

import (
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/stampede-load/stampede/chaos/backend"
)

// proxyCertName is the file a generated listener certificate is written
// to, in the results directory, for clients to trust.
const proxyCertName = "proxy-cert.pem"

// listenerTLS is the TLS configuration of the proxy's listener: of
// --tls-cert and --tls-key, or a self-signed certificate for host
// (--tls-self-signed) whose PEM is written to dir; nil for plain HTTP.
func (o *proxyOptions) listenerTLS(host, dir string) (cfg *tls.Config, certFile string, err error) {
	switch {
	case o.tlsCert != "":
		cert, err := tls.LoadX509KeyPair(o.tlsCert, o.tlsKey)
		if err != nil {
			return nil, "", usageErrorf("--tls-cert/--tls-key: %v", err)
		}
		return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}, o.tlsCert, nil
	case o.tlsSelfSigned:
		cert, err := backend.SelfSigned(time.Now(), host)
		if err != nil {
			return nil, "", fmt.Errorf("proxy: generate a certificate: %w", err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, "", fmt.Errorf("proxy: results directory: %w", err)
		}
		certFile = filepath.Join(dir, proxyCertName)
		if err := os.WriteFile(certFile, backend.CertificatePEM(cert), 0o644); err != nil {
			return nil, "", fmt.Errorf("proxy: %w", err)
		}
		return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}, certFile, nil
	}
	return nil, "", nil
}
