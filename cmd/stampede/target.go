package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"

	"github.com/stampede-load/stampede/chaos"
	"github.com/stampede-load/stampede/chaos/backend"
	"github.com/stampede-load/stampede/load/target"
	"github.com/stampede-load/stampede/load/transport"
	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
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
		fmt.Fprintln(w, "stampede: warning: --insecure-skip-verify: the target's TLS certificate is not verified; anyone on the path can read and change the traffic (recorded in result.json as target.insecure_skip_verify)")
	}
}

// runTarget is what a run drives: how clients sign in and refresh, the API
// they call, the admin API fleet events act through (nil when the target
// has none) and what result.json records about it.
type runTarget struct {
	auth     target.Authenticator
	resource target.Resource
	admin    chaos.Admin
	report   reports.Target
	close    func()
	// metrics are the target's own metrics, when it runs in process.
	metrics prometheus.Collector
}

// openTarget prepares the profile's target: starts the embedded backend,
// or checks that the external target answers and builds its client.
func (o *runOptions) openTarget(ctx context.Context, p profiles.Profile, hc *http.Client) (*runTarget, error) {
	t := p.Target
	switch kind := p.TargetKind(); kind {
	case profiles.TargetBuiltin:
		be, err := backend.New(backend.Config{
			TokenLifetime:     p.Scale(p.Backend.TokenLifetime),
			MaxLifetime:       p.Scale(p.Backend.MaxLifetime),
			InactivityTimeout: p.Scale(p.Backend.InactivityTimeout),
			Signing:           p.Backend.Signing,
		})
		if err != nil {
			return nil, fmt.Errorf("embedded backend: %w", err)
		}
		srv, err := be.Listen("127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("embedded backend: %w", err)
		}
		if o.onBackend != nil {
			o.onBackend(be)
		}
		fapi := &target.FAPI{Base: srv.URL, Client: hc}
		return &runTarget{auth: fapi, resource: fapi, admin: &chaos.AdminClient{Base: srv.URL, Client: hc},
			report: reports.Target{Kind: "embedded", URL: srv.URL}, close: func() { srv.Close() }, metrics: be.Collector()}, nil
	case profiles.TargetFAPI:
		if err := preflight(ctx, hc, t.URL, o.preflightTimeout); err != nil {
			return nil, fmt.Errorf("%s %s is unreachable: %w", o.targetSource(), redactURL(t.URL), err)
		}
		fapi := &target.FAPI{Base: t.URL, Client: hc}
		return &runTarget{auth: fapi, resource: fapi, admin: &chaos.AdminClient{Base: t.URL, Client: hc, Token: o.targetAdminToken()},
			report: reports.Target{Kind: profiles.TargetFAPI, URL: redactURL(t.URL)}, close: func() {}}, nil
	case profiles.TargetOAuth2:
		cfg, err := oauth2Config(p, hc, os.LookupEnv, o.err)
		if err != nil {
			return nil, err
		}
		if n := len(cfg.Credentials); n > 0 && n < p.Clients && len(cfg.Users) == 0 && cfg.UserPattern == "" {
			return nil, usageErrorf("target.credentials_file: %s holds %d refresh tokens, fewer than the %d clients: mint more with stampede creds --count %d, or run fewer clients",
				t.CredentialsFile, n, p.Clients, p.Clients)
		}
		if err := preflightURL(ctx, hc, cfg.TokenURL, o.preflightTimeout); err != nil {
			return nil, fmt.Errorf("token endpoint %s is unreachable: %w", redactURL(cfg.TokenURL), err)
		}
		oa, err := target.NewOAuth2(cfg)
		if err != nil {
			return nil, usageError(err)
		}
		return &runTarget{auth: oa, resource: oa, report: reports.Target{Kind: profiles.TargetOAuth2, URL: redactURL(cfg.TokenURL)}, close: func() {}}, nil
	case profiles.TargetHTTP:
		cfg, err := httpTargetConfig(p, hc, os.LookupEnv)
		if err != nil {
			return nil, err
		}
		h, err := target.NewHTTPTarget(cfg)
		if err != nil {
			return nil, usageError(err)
		}
		if err := preflightURL(ctx, hc, t.URL, o.preflightTimeout); err != nil {
			return nil, fmt.Errorf("%s %s is unreachable: %w", o.targetSource(), redactURL(t.URL), err)
		}
		return &runTarget{auth: h, resource: h, report: reports.Target{Kind: profiles.TargetHTTP, URL: redactURL(t.URL)}, close: func() {}}, nil
	default:
		return nil, usageErrorf("target.kind: %s targets are not supported", kind)
	}
}

// httpTargetConfig turns an http target into the client's configuration:
// request paths joined to the base URL, users with their password from the
// environment. Problems are usage errors naming the field.
func httpTargetConfig(p profiles.Profile, hc *http.Client, getenv func(string) (string, bool)) (target.HTTPTargetConfig, error) {
	t := p.Target
	spec := func(r profiles.HTTPRequest) target.HTTPRequestSpec {
		s := target.HTTPRequestSpec{Method: r.Method, Headers: r.Headers, Body: r.Body}
		if r.Path != "" {
			s.URL = joinURL(t.URL, r.Path)
		}
		return s
	}
	cfg := target.HTTPTargetConfig{
		SignIn: spec(t.SignIn), Refresh: spec(t.Refresh), API: spec(t.API),
		Response: target.HTTPResponseSpec{Token: t.Response.Token, RefreshToken: t.Response.RefreshToken,
			SessionID: t.Response.SessionID, ExpiresIn: t.Response.ExpiresIn, ExpiresAt: t.Response.ExpiresAt},
		Getenv: getenv, Client: hc,
	}
	if t.APIURL != "" {
		cfg.APIURL = joinURL(t.URL, t.APIURL)
	}
	if u := t.Users; u != (profiles.Users{}) {
		password := u.Password
		if u.PasswordEnv != "" {
			v, ok := getenv(u.PasswordEnv)
			if !ok || v == "" {
				return cfg, usageErrorf("target.users.password_env: the environment variable %s is not set", u.PasswordEnv)
			}
			password = v
		}
		var list []target.OAuth2User
		if u.File != "" {
			var err error
			if list, err = target.ReadUsersFile(u.File, password); err != nil {
				return cfg, usageErrorf("target.users.file: %w", err)
			}
		}
		cfg.User = func(i int) (target.OAuth2User, bool) {
			if len(list) > 0 {
				return list[i%len(list)], true
			}
			return target.OAuth2User{Name: target.FormatUser(u.Pattern, i+u.Offset), Password: password}, true
		}
	}
	return cfg, nil
}

// targetAdminToken is the admin token for the target's admin API: of
// --admin-token, else of $STAMPEDE_ADMIN_TOKEN; "" sends none.
func (o *runOptions) targetAdminToken() string {
	if o.adminToken != "" {
		return o.adminToken
	}
	return os.Getenv(adminTokenEnv)
}

// targetSource names where the target's URL came from, for messages.
func (o *runOptions) targetSource() string {
	if o.target != "" {
		return "--target"
	}
	return "target.url"
}

// oauth2Config turns an oauth2 target into the client's configuration:
// secrets from the environment, users and credentials from their files,
// endpoints joined to the base URL. Problems are usage errors naming the
// field; warnings go to warn.
func oauth2Config(p profiles.Profile, hc *http.Client, getenv func(string) (string, bool), warn io.Writer) (target.OAuth2Config, error) {
	t := p.Target
	cfg := target.OAuth2Config{
		TokenURL: joinURL(t.URL, t.TokenEndpoint), ClientID: t.ClientID, ClientSecret: t.ClientSecret,
		AuthMethod: t.AuthMethod, Scope: t.Scope, UserPattern: t.Users.Pattern, UserOffset: t.Users.Offset,
		Password: t.Users.Password, Expiry: t.Expiry, RefreshInterval: p.Scale(t.RefreshInterval),
		RefreshAhead: p.Scale(p.SDK.RefreshAhead), Client: hc,
	}
	if t.APIURL != "" {
		cfg.APIURL = joinURL(t.URL, t.APIURL)
	}
	var errs []error
	env := func(field, name string) string {
		v, ok := getenv(name)
		if !ok || v == "" {
			errs = append(errs, fmt.Errorf("target.%s: the environment variable %s is not set", field, name))
		}
		return v
	}
	if t.ClientSecretEnv != "" {
		cfg.ClientSecret = env("client_secret_env", t.ClientSecretEnv)
	}
	if t.Users.PasswordEnv != "" {
		cfg.Password = env("users.password_env", t.Users.PasswordEnv)
	}
	if t.ReusePattern != "" {
		re, err := regexp.Compile(t.ReusePattern)
		if err != nil {
			errs = append(errs, fmt.Errorf("target.reuse_pattern: %w", err))
		}
		cfg.ReusePattern = re
	}
	if t.Users.File != "" {
		users, err := target.ReadUsersFile(t.Users.File, cfg.Password)
		if err != nil {
			errs = append(errs, fmt.Errorf("target.users.file: %w", err))
		}
		if len(users) > 0 && len(users) < p.Clients && warn != nil {
			fmt.Fprintf(warn, "stampede: warning: target.users.file %s lists %d users for %d clients: clients share users (a provider that keeps one session per user signs the others out)\n",
				t.Users.File, len(users), p.Clients)
		}
		cfg.Users = users
	}
	if t.CredentialsFile != "" {
		creds, err := target.ReadCredentialsFile(t.CredentialsFile)
		if err != nil {
			errs = append(errs, fmt.Errorf("target.credentials_file: %w", err))
		}
		cfg.Credentials = creds
	}
	if len(errs) > 0 {
		return cfg, usageError(errors.Join(errs...))
	}
	return cfg, nil
}

// joinURL is ref when it is absolute, else ref appended to base.
func joinURL(base, ref string) string {
	if strings.Contains(ref, "://") || base == "" {
		return ref
	}
	return strings.TrimRight(base, "/") + "/" + strings.TrimLeft(ref, "/")
}

// redactURL hides a password in a URL's user information.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	return u.Redacted()
}

// preflightURL proves that u answers HTTP, whatever the status.
func preflightURL(ctx context.Context, hc *http.Client, u string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return nil
}

// toxicRun drives a run's toxic events against a toxiproxy-server.
type toxicRun struct {
	tx     *chaos.Toxics
	cancel context.CancelFunc
	done   chan struct{}
}

// startToxics starts applying p's toxic events from start (shard 0 only,
// like the fleet's other events); it warns on w when Toxiproxy or a proxy
// cannot be reached, and the events then carry the error in result.json.
func startToxics(ctx context.Context, p profiles.Profile, start time.Time, shard int, w io.Writer) *toxicRun {
	tr := &toxicRun{done: make(chan struct{})}
	tx := chaos.NewToxics(chaos.NewToxiproxy(p.Target.Toxiproxy), chaos.Plan(p), p)
	if len(tx.Windows()) == 0 || shard != 0 {
		close(tr.done)
		return tr
	}
	tr.tx = tx
	check, cancelCheck := context.WithTimeout(ctx, 5*time.Second)
	if err := tx.Check(check); err != nil {
		fmt.Fprintf(w, "stampede: warning: toxic events: %v\n", err)
	}
	cancelCheck()
	var runCtx context.Context
	runCtx, tr.cancel = context.WithCancel(context.WithoutCancel(ctx))
	go func() {
		defer close(tr.done)
		tx.Run(runCtx, start)
	}()
	return tr
}

// finish removes the toxics still in place and records the toxic events'
// real ends and errors in res.Events.
func (tr *toxicRun) finish(res *reports.Result) {
	if tr.tx == nil {
		return
	}
	tr.cancel()
	<-tr.done
	ends := map[int]time.Duration{}
	for _, w := range tr.tx.Windows() {
		ends[w.Index] = w.End
	}
	errs := map[int]string{}
	for _, a := range tr.tx.Applied() {
		if a.Err != nil && errs[a.Window] == "" {
			errs[a.Window] = a.Err.Error()
		}
	}
	for i := range res.Events {
		ev := &res.Events[i]
		if end, ok := ends[ev.Index]; ok {
			ev.EndS = end.Seconds()
			if ev.Error == "" {
				ev.Error = errs[ev.Index]
			}
		}
	}
}
