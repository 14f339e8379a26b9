package backend

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"strings"
	"sync/atomic"
	"time"
)

// SelfSigned returns a new self-signed ECDSA P-256 certificate for
// 127.0.0.1, ::1, localhost and the extra hosts (IP addresses or names;
// an unspecified address adds nothing), valid from an hour before now for
// 30 days. Its private key stays in memory.
func SelfSigned(now time.Time, hosts ...string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("backend: certificate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("backend: certificate serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"stampede"}, CommonName: "stampede self-signed"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(30 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil && !ip.IsUnspecified() {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" && ip == nil {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("backend: create certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("backend: parse certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// CertificatePEM is the PEM encoding of cert's chain (never its key).
func CertificatePEM(cert tls.Certificate) []byte {
	var b []byte
	for _, der := range cert.Certificate {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	return b
}

// CertPool is a pool holding cert's leaf: what a client trusts to reach a
// server presenting the self-signed cert.
func CertPool(cert tls.Certificate) (*x509.CertPool, error) {
	if len(cert.Certificate) == 0 {
		return nil, fmt.Errorf("backend: the certificate is empty")
	}
	leaf := cert.Leaf
	if leaf == nil {
		var err error
		if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, fmt.Errorf("backend: parse certificate: %w", err)
		}
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return pool, nil
}

// Fingerprint is the SHA-256 of cert's leaf, as upper-case hex bytes
// joined by colons (what browsers and openssl x509 -fingerprint show).
func Fingerprint(cert tls.Certificate) string {
	if len(cert.Certificate) == 0 {
		return ""
	}
	sum := sha256.Sum256(cert.Certificate[0])
	parts := make([]string, len(sum))
	for i, c := range sum {
		parts[i] = fmt.Sprintf("%02X", c)
	}
	return strings.Join(parts, ":")
}

// TLSStats counts the TLS handshakes a backend served (ListenTLS) and the
// CPU its side of them took.
type TLSStats struct {
	// HandshakesFull counts handshakes with a certificate and key
	// exchange; HandshakesResumed those that resumed a session from a
	// ticket the backend issued earlier.
	HandshakesFull    int64 `json:"handshakes_full"`
	HandshakesResumed int64 `json:"handshakes_resumed"`
	// CPUFullNs and CPUResumedNs add up the CPU time (ns) the backend's
	// side of the handshakes measured (MeasuredFull, MeasuredResumed of
	// them) took, from the ClientHello to the server's flight written:
	// the key exchange, the signature (full), the ticket's decryption
	// (resumed) and the new ticket. Measured with the thread's CPU clock
	// where the system has one (Linux); 0 elsewhere.
	CPUFullNs       int64 `json:"cpu_full_ns"`
	CPUResumedNs    int64 `json:"cpu_resumed_ns"`
	MeasuredFull    int64 `json:"measured_full"`
	MeasuredResumed int64 `json:"measured_resumed"`
}

// tlsCounters are a backend's TLSStats, counted without locks.
type tlsCounters struct {
	on                            atomic.Bool // a TLS listener serves the backend
	full, resumed                 atomic.Int64
	cpuFull, cpuResumed           atomic.Int64
	measuredFull, measuredResumed atomic.Int64
}

func (c *tlsCounters) stats() *TLSStats {
	if !c.on.Load() {
		return nil
	}
	return &TLSStats{
		HandshakesFull: c.full.Load(), HandshakesResumed: c.resumed.Load(),
		CPUFullNs: c.cpuFull.Load(), CPUResumedNs: c.cpuResumed.Load(),
		MeasuredFull: c.measuredFull.Load(), MeasuredResumed: c.measuredResumed.Load(),
	}
}

// handshaken counts one handshake that completed, with the CPU its
// server side took (cpu < 0: not measured).
func (c *tlsCounters) handshaken(resumed bool, cpu time.Duration) {
	n, sum, measured := &c.full, &c.cpuFull, &c.measuredFull
	if resumed {
		n, sum, measured = &c.resumed, &c.cpuResumed, &c.measuredResumed
	}
	n.Add(1)
	if cpu >= 0 {
		sum.Add(int64(cpu))
		measured.Add(1)
	}
}

// serverTLS is the TLS configuration of a backend served with cert: TLS
// 1.3 only, HTTP/2 and HTTP/1.1 offered by ALPN, session tickets on (Go
// issues them and rotates their keys itself). Every connection gets a
// copy that counts its handshake in c.
func serverTLS(cert tls.Certificate, c *tlsCounters) *tls.Config {
	base := &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		NextProtos:   []string{"h2", "http/1.1"},
	}
	outer := base.Clone()
	outer.GetConfigForClient = func(chi *tls.ClientHelloInfo) (*tls.Config, error) {
		mc, _ := chi.Conn.(*meteredConn)
		cfg := base.Clone() // the ticket keys stay outer's: see tls.Config.GetConfigForClient
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			cpu := time.Duration(-1)
			if mc != nil {
				cpu = mc.handshakeCPU()
			}
			c.handshaken(cs.DidResume, cpu)
			return nil
		}
		if mc != nil {
			mc.startHandshake()
		}
		return cfg, nil
	}
	return outer
}

// meteredListener hands out meteredConns.
type meteredListener struct{ net.Listener }

func (l meteredListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &meteredConn{Conn: c}, nil
}

// meteredConn measures the CPU the server's side of its TLS handshake
// takes: from the ClientHello read (startHandshake) to the server's
// flight written (its first Write), all on one goroutine without a wait
// on the network. A measure taken across two threads is dropped.
type meteredConn struct {
	net.Conn
	state   atomic.Int32 // 0 idle, 1 measuring, 2 measured or dropped
	start   time.Duration
	tid     int
	elapsed time.Duration // -1: not measured
}

func (c *meteredConn) startHandshake() {
	c.start, c.tid = threadCPU()
	if c.start >= 0 {
		c.state.Store(1)
	}
}

func (c *meteredConn) Write(b []byte) (int, error) {
	if c.state.Load() == 1 {
		end, tid := threadCPU()
		c.elapsed = -1
		if end >= 0 && tid == c.tid {
			c.elapsed = end - c.start
		}
		c.state.Store(2)
	}
	return c.Conn.Write(b)
}

// handshakeCPU is the CPU measured, or -1.
func (c *meteredConn) handshakeCPU() time.Duration {
	if c.state.Load() != 2 {
		return -1
	}
	return c.elapsed
}
