package target

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stampede-load/stampede/chaos"
	"github.com/stampede-load/stampede/chaos/backend"
	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

// InsecureWarning is the warning given when the target's TLS certificate
// is not verified (--insecure-skip-verify).
const InsecureWarning = "stampede: warning: --insecure-skip-verify: the target's TLS certificate is not verified; anyone on the path can read and change the traffic (recorded in result.json as target.insecure_skip_verify)"

// ConfigError is a problem with the profile's target or what it names (the
// environment, users and credentials files): bad input, which the command
// line reports with exit code 2.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

func configError(err error) error { return &ConfigError{Err: err} }

func configErrorf(format string, args ...any) error {
	return configError(fmt.Errorf(format, args...))
}

// Options are what Open needs besides the profile.
type Options struct {
	// Client sends every request to the target, pre-flight and admin calls
	// included.
	Client *http.Client
	// Source names where the target's URL came from, for messages:
	// "--target", or "target.url" when empty.
	Source string
	// AdminToken is sent to an external fapi target's admin API (fleet
	// events); "" sends none. Never printed.
	AdminToken string
	// PreflightTimeout bounds the pre-flight, all its checks together;
	// default 5 s.
	PreflightTimeout time.Duration
	// SkipPreflight skips the pre-flight's checks of an external target's
	// endpoints (--skip-preflight): the run starts without them.
	SkipPreflight bool
	// FirstClient is the fleet index of the first client this process
	// runs (its shard's index): the pre-flight signs it in as its canary.
	FirstClient int
	// Getenv reads the environment (secrets); default os.LookupEnv.
	Getenv func(string) (string, bool)
	// Warn receives warnings, one line each; nil discards them.
	Warn io.Writer
	// OnBackend, if set, receives the embedded backend once it listens.
	OnBackend func(*backend.Backend)
	// TLSCert, if set, serves the embedded backend over TLS with this
	// certificate (target.tls), which Client must trust.
	TLSCert *tls.Certificate
}

// Opened is a target ready for a run: how clients sign in and refresh, the
// API they call, the admin API fleet events act through (nil when the
// target has none) and what result.json records about it.
type Opened struct {
	Auth     Authenticator
	Resource Resource
	Admin    chaos.Admin
	Report   reports.Target
	// Metrics are the target's own metrics, when it runs in process; nil
	// otherwise.
	Metrics prometheus.Collector
	// SaveCredentials, when the profile asks for it (target
	// update_credentials), writes each client's newest refresh token back
	// to the credentials file; nil otherwise.
	SaveCredentials func() error
	close           func()
}

// Close stops the embedded backend, if Open started one.
func (t *Opened) Close() {
	if t.close != nil {
		t.close()
	}
}

// Open prepares the profile's target: it starts the embedded backend, or
// checks that the external target answers and builds its client. Problems
// with the profile's target are *ConfigError; an unreachable target is a
// plain error naming its URL.
func Open(ctx context.Context, p profiles.Profile, o Options) (*Opened, error) {
	if o.PreflightTimeout <= 0 {
		o.PreflightTimeout = 5 * time.Second
	}
	if o.Getenv == nil {
		o.Getenv = os.LookupEnv
	}
	source := o.Source
	if source == "" {
		source = "target.url"
	}
	hc := o.Client
	t := p.Target
	switch kind := p.TargetKind(); kind {
	case profiles.TargetBuiltin:
		be, err := backend.New(backend.Config{
			TokenLifetime:     p.Scale(p.Backend.TokenLifetime),
			MaxLifetime:       p.Scale(p.Backend.MaxLifetime),
			InactivityTimeout: p.Scale(p.Backend.InactivityTimeout),
			Signing:           p.Backend.Signing,
			MaxInflight:       p.Backend.MaxInflight,
			MaxQueue:          p.Backend.MaxQueue,
			ServiceTime:       p.Scale(p.Backend.ServiceTime),
		})
		if err != nil {
			return nil, fmt.Errorf("embedded backend: %w", err)
		}
		var srv *backend.Server
		if o.TLSCert != nil {
			srv, err = be.ListenTLS("127.0.0.1:0", *o.TLSCert)
		} else {
			srv, err = be.Listen("127.0.0.1:0")
		}
		if err != nil {
			return nil, fmt.Errorf("embedded backend: %w", err)
		}
		if o.OnBackend != nil {
			o.OnBackend(be)
		}
		fapi := &FAPI{Base: srv.URL, Client: hc}
		life := p.Scale(p.Backend.TokenLifetime)
		warnLifetime(o.Warn, p, life, "backend.token_lifetime, scaled")
		return &Opened{Auth: fapi, Resource: fapi, Admin: &chaos.AdminClient{Base: srv.URL, Client: hc},
			Report: reports.Target{Kind: "embedded", URL: srv.URL, TokenLifetimeS: life.Seconds()}, close: func() { srv.Close() }, Metrics: be.Collector()}, nil
	case profiles.TargetFAPI:
		pctx, cancel := context.WithTimeout(ctx, o.PreflightTimeout)
		defer cancel()
		fapi := &FAPI{Base: t.URL, Client: hc}
		var auth Authenticator = fapi
		report := reports.Target{Kind: profiles.TargetFAPI, URL: RedactURL(t.URL)}
		if !o.SkipPreflight {
			if err := preflight(pctx, hc, t.URL, o.PreflightTimeout); err != nil {
				return nil, fmt.Errorf("%s %s is unreachable: %w", source, RedactURL(t.URL), err)
			}
			var err error
			if auth, err = o.canary(pctx, p, fapi, strings.TrimRight(t.URL, "/")+"/v1/client/sign_ins", &report); err != nil {
				return nil, err
			}
		}
		return &Opened{Auth: auth, Resource: fapi, Admin: &chaos.AdminClient{Base: t.URL, Client: hc, Token: o.AdminToken},
			Report: report}, nil
	case profiles.TargetOAuth2:
		cfg, err := OAuth2FromProfile(p, hc, o.Getenv, o.Warn)
		if err != nil {
			return nil, err
		}
		if n := len(cfg.Credentials); n > 0 && n < p.Clients && len(cfg.Users) == 0 && cfg.UserPattern == "" && o.Warn != nil {
			fmt.Fprintf(o.Warn, "stampede: warning: target.credentials_file %s holds %d refresh tokens for %d clients: clients %d and up have none (session status credentials_exhausted); mint more with stampede creds --count %d\n",
				t.CredentialsFile, n, p.Clients, n, p.Clients)
		}
		cfg.KeepNewest = t.UpdateCredentials
		oa, err := NewOAuth2(cfg)
		if err != nil {
			return nil, configError(err)
		}
		pctx, cancel := context.WithTimeout(ctx, o.PreflightTimeout)
		defer cancel()
		var auth Authenticator = oa
		report := reports.Target{Kind: profiles.TargetOAuth2, URL: RedactURL(cfg.TokenURL)}
		warnProfile(o.Warn, p)
		if !o.SkipPreflight {
			if err := preflightURL(pctx, hc, cfg.TokenURL, o.PreflightTimeout); err != nil {
				return nil, fmt.Errorf("token endpoint %s is unreachable: %w", RedactURL(cfg.TokenURL), err)
			}
			if err := oa.ProbeTokenEndpoint(pctx); err != nil {
				return nil, err
			}
			if auth, err = o.canary(pctx, p, oa, cfg.TokenURL, &report); err != nil {
				return nil, err
			}
		}
		opened := &Opened{Auth: auth, Resource: oa, Report: report}
		if t.UpdateCredentials {
			opened.SaveCredentials = func() error { return WriteCredentialsFile(t.CredentialsFile, oa.NewestCredentials()) }
		}
		return opened, nil
	case profiles.TargetHTTP:
		cfg, err := HTTPFromProfile(p, hc, o.Getenv)
		if err != nil {
			return nil, err
		}
		h, err := NewHTTPTarget(cfg)
		if err != nil {
			return nil, configError(err)
		}
		pctx, cancel := context.WithTimeout(ctx, o.PreflightTimeout)
		defer cancel()
		var auth Authenticator = h
		report := reports.Target{Kind: profiles.TargetHTTP, URL: RedactURL(t.URL)}
		warnProfile(o.Warn, p)
		if !o.SkipPreflight {
			if err := preflightURL(pctx, hc, t.URL, o.PreflightTimeout); err != nil {
				return nil, fmt.Errorf("%s %s is unreachable: %w", source, RedactURL(t.URL), err)
			}
			if auth, err = o.canary(pctx, p, h, cfg.SignIn.URL, &report); err != nil {
				return nil, err
			}
		}
		return &Opened{Auth: auth, Resource: h, Report: report}, nil
	default:
		return nil, configErrorf("target.kind: %s targets are not supported", kind)
	}
}

// canary signs this process's first client in before the ramp
// (signInCanary), when it runs any client; u names the sign-in endpoint.
// It warns when the token the canary got outlives the run (warnLifetime)
// and records its lifetime in report.
func (o Options) canary(ctx context.Context, p profiles.Profile, auth Authenticator, u string, report *reports.Target) (Authenticator, error) {
	if o.FirstClient >= p.Clients {
		return auth, nil
	}
	c, err := signInCanary(ctx, auth, o.FirstClient, u)
	if err != nil {
		return nil, err
	}
	if life := tokenLifetime(c.cr, time.Now()); life > 0 {
		report.TokenLifetimeS = life.Seconds()
		warnLifetime(o.Warn, p, life, "the first sign-in's")
	}
	return c, nil
}

// preflight proves a fapi target answers HTTP before any client starts.
func preflight(ctx context.Context, hc *http.Client, base string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	u, _ := url.JoinPath(base, "/.well-known/jwks.json")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
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

// RedactURL hides a password in a URL's user information.
func RedactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	return u.Redacted()
}
