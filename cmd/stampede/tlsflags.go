package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/spf13/pflag"

	"github.com/stampede-load/stampede/load/target"
	"github.com/stampede-load/stampede/load/transport"
)

// tlsFlags are the TLS flags of the commands that talk to a target.
type tlsFlags struct {
	caCert, clientCert, clientKey string
	insecure                      bool
}

func (t *tlsFlags) register(f *pflag.FlagSet) {
	f.StringVar(&t.caCert, "ca-cert", "", "PEM file of CA certificates to trust for the target, besides the system roots")
	f.StringVar(&t.clientCert, "client-cert", "", "PEM client certificate for mutual TLS (with --client-key)")
	f.StringVar(&t.clientKey, "client-key", "", "PEM private key of --client-cert")
	f.BoolVar(&t.insecure, "insecure-skip-verify", false, "do not verify the target's TLS certificate (insecure: warned about, and recorded in result.json)")
}

// config builds the TLS configuration the flags ask for; nil when they ask
// for nothing. Problems are usage errors naming the flag.
func (t tlsFlags) config() (*tls.Config, error) {
	if t.caCert == "" && t.clientCert == "" && t.clientKey == "" && !t.insecure {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: t.insecure} // #nosec G402 -- asked for explicitly, warned about
	var errs []error
	if t.caCert != "" {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		pem, err := os.ReadFile(t.caCert)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("--ca-cert: %w", err))
		case !pool.AppendCertsFromPEM(pem):
			errs = append(errs, fmt.Errorf("--ca-cert %s: no PEM certificate in the file", t.caCert))
		}
		cfg.RootCAs = pool
	}
	switch {
	case (t.clientCert == "") != (t.clientKey == ""):
		errs = append(errs, errors.New("--client-cert and --client-key go together: give both"))
	case t.clientCert != "":
		cert, err := tls.LoadX509KeyPair(t.clientCert, t.clientKey)
		if err != nil {
			errs = append(errs, fmt.Errorf("--client-cert/--client-key: %w", err))
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if len(errs) > 0 {
		return nil, usageError(errors.Join(errs...))
	}
	return cfg, nil
}

// apply sets the TLS configuration on hc's transport and warns on w when
// certificates are not verified.
func (t tlsFlags) apply(hc *http.Client, w io.Writer) error {
	cfg, err := t.config()
	if err != nil || cfg == nil {
		return err
	}
	rt := hc.Transport
	if st, ok := rt.(*transport.SenderTransport); ok {
		rt = st.Fallback // https goes there: the senders' own connections are plain HTTP
	}
	tr, ok := rt.(*http.Transport)
	if !ok {
		return errors.New("TLS flags: the HTTP client has no transport to configure")
	}
	tr.TLSClientConfig = cfg
	t.warn(w)
	return nil
}

// warn warns on w when certificates are not verified.
func (t tlsFlags) warn(w io.Writer) {
	if t.insecure {
		fmt.Fprintln(w, target.InsecureWarning)
	}
}
