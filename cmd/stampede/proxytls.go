package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
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
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, "", fmt.Errorf("proxy: generate a certificate: %w", err)
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(time.Now().UnixNano()),
			Subject:      pkix.Name{CommonName: "stampede proxy"},
			NotBefore:    time.Now().Add(-time.Hour), NotAfter: time.Now().Add(7 * 24 * time.Hour),
			KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
			DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		}
		if ip := net.ParseIP(host); ip != nil && !ip.IsUnspecified() {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if host != "" && ip == nil {
			tmpl.DNSNames = append(tmpl.DNSNames, host)
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			return nil, "", fmt.Errorf("proxy: generate a certificate: %w", err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, "", fmt.Errorf("proxy: results directory: %w", err)
		}
		certFile = filepath.Join(dir, proxyCertName)
		if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
			return nil, "", fmt.Errorf("proxy: %w", err)
		}
		return &tls.Config{MinVersion: tls.VersionTLS12,
			Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, certFile, nil
	}
	return nil, "", nil
}
