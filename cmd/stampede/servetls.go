package main

import (
	"crypto/tls"
	"fmt"
	"os"
	"time"

	"github.com/spf13/pflag"

	"github.com/stampede-load/stampede/chaos/backend"
)

// serveTLSFlags are stampede serve's TLS flags.
type serveTLSFlags struct {
	on                bool
	certFile, keyFile string
	certOut           string
}

func (t *serveTLSFlags) register(f *pflag.FlagSet) {
	f.BoolVar(&t.on, "tls", false, "serve TLS 1.3 (HTTP/2 and HTTP/1.1 by ALPN, session tickets on) with a self-signed certificate generated at start for 127.0.0.1, ::1 and localhost, or with --tls-cert/--tls-key")
	f.StringVar(&t.certFile, "tls-cert", "", "PEM certificate (chain) to serve TLS with (with --tls-key; implies --tls)")
	f.StringVar(&t.keyFile, "tls-key", "", "PEM private key of --tls-cert")
	f.StringVar(&t.certOut, "tls-cert-out", "", "write the generated certificate (PEM, no key) to this file, for stampede run --ca-cert")
}

// enabled says whether serve listens with TLS.
func (t serveTLSFlags) enabled() bool { return t.on || t.certFile != "" || t.keyFile != "" }

// check returns the flags' usage problems, one line each.
func (t serveTLSFlags) check() []string {
	var errs []string
	if (t.certFile == "") != (t.keyFile == "") {
		errs = append(errs, "--tls-cert and --tls-key go together: give both")
	}
	if t.certOut != "" && t.certFile != "" {
		errs = append(errs, "--tls-cert-out: writes the generated certificate; with --tls-cert there is none (give clients --tls-cert's file)")
	}
	if t.certOut != "" && !t.enabled() {
		errs = append(errs, "--tls-cert-out: needs --tls")
	}
	return errs
}

// certificate loads --tls-cert/--tls-key, or generates a self-signed
// certificate (written to --tls-cert-out when given). A bad file is a
// usage error naming the flag; the key never reaches the output.
func (t serveTLSFlags) certificate() (tls.Certificate, bool, error) {
	if t.certFile != "" {
		cert, err := tls.LoadX509KeyPair(t.certFile, t.keyFile)
		if err != nil {
			return tls.Certificate{}, false, usageError(fmt.Errorf("--tls-cert/--tls-key: %w", err))
		}
		return cert, false, nil
	}
	cert, err := backend.SelfSigned(time.Now())
	if err != nil {
		return tls.Certificate{}, false, err
	}
	if t.certOut != "" {
		if err := os.WriteFile(t.certOut, backend.CertificatePEM(cert), 0o644); err != nil {
			return tls.Certificate{}, false, usageError(fmt.Errorf("--tls-cert-out: %w", err))
		}
	}
	return cert, true, nil
}
