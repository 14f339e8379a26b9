package target

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/stampede-load/stampede/load/model"
	"github.com/stampede-load/stampede/reports"
)

// PreflightError is a pre-flight check the target failed: the run does
// not start (docs/targets.md#pre-flight).
type PreflightError struct {
	// URL is the endpoint that failed, redacted.
	URL string
	// Check says what was asked of it.
	Check string
	// Outcome is what it answered.
	Outcome model.Outcome
	// Want says what a working endpoint answers.
	Want string
}

func (e *PreflightError) Error() string {
	verb := "answered"
	if e.Outcome.Status == 0 {
		verb = "failed:"
	}
	return fmt.Sprintf("pre-flight: %s: %s %s %s; %s (pass --skip-preflight for a server that cannot take the check)",
		e.Check, e.URL, verb, OutcomeText(e.Outcome), e.Want)
}

// OutcomeText says what a request came to, for messages: "404", "401
// invalid_grant", "network connection_refused", with a sample of the body.
func OutcomeText(o model.Outcome) string {
	s := o.Class.String()
	if o.Status > 0 {
		s = strconv.Itoa(o.Status)
	}
	if o.Said != "" {
		s += " " + o.Said // what the server said, not stampede's reading of it
	} else if o.Code != "" {
		s += " " + o.Code
	}
	if o.Body != "" {
		s += " (body: " + reports.SampleBody([]byte(o.Body)) + ")"
	}
	return s
}

// PreflightInvalidToken is the refresh token of the pre-flight's
// deliberately invalid grant.
const PreflightInvalidToken = "stampede-preflight-invalid-refresh-token"

// ProbeTokenEndpoint proves that the token endpoint is one: a refresh
// grant with a made-up refresh token must be refused with an OAuth 2.0
// error (RFC 6749 §5.2: 400 or 401 and a JSON body with "error"), and not
// for the client's own credentials (invalid_client). A 404, a 405, an HTML
// page or an acceptance of the made-up token fail.
func (o *OAuth2) ProbeTokenEndpoint(ctx context.Context) error {
	_, out := o.Refresh(ctx, "", PreflightInvalidToken)
	fail := &PreflightError{URL: RedactURL(o.cfg.TokenURL), Check: "an invalid refresh grant to the token endpoint", Outcome: out,
		Want: "an OAuth 2.0 token endpoint refuses it with 400 or 401 and a JSON error such as {\"error\": \"invalid_grant\"}: check target.url and target.token_endpoint"}
	switch {
	case out.Class == model.ClassOK:
		fail.Want = "it accepted a made-up refresh token, so it is no OAuth 2.0 token endpoint that checks them"
		return fail
	case out.Status != 400 && out.Status != 401:
		return fail
	case !oauthErrorCode(out.Code):
		return fail
	case out.Code == "invalid_client" || out.Code == "unauthorized_client":
		fail.Want = "the token endpoint refused the client itself: check target.client_id, the client secret and target.auth_method"
		return fail
	}
	return nil
}

// oauthErrorCode reports whether code came from an OAuth 2.0 error body
// rather than from stampede's reading of a body that was none.
func oauthErrorCode(code string) bool {
	switch code {
	case "", CodeHTMLBody, CodeInvalidJSON, CodeEmptyBody, CodeBodyTooLarge, CodeNoToken:
		return false
	}
	return true
}

// canary holds the answer to the first sign-in of one client, made by the
// pre-flight, for that client's own first sign-in: the check costs the
// target no request the run does not count. A canary token that expired
// before its client started (a shard waits for --start-at) is handed over
// all the same: the client refreshes it at once, a refresh counted as the
// target counts it.
type canary struct {
	Authenticator
	client     int
	identifier string

	mu      sync.Mutex
	pending bool
	cr      Credentials
	out     model.Outcome
}

// SignIn answers the canary's client's first sign-in with the canary's
// session, every other sign-in from the target.
func (c *canary) SignIn(ctx context.Context, identifier string) (Credentials, model.Outcome) {
	if identifier == c.identifier {
		c.mu.Lock()
		if c.pending {
			c.pending = false
			cr, out := c.cr, c.out
			c.cr = Credentials{}
			c.mu.Unlock()
			return cr, out
		}
		c.mu.Unlock()
	}
	return c.Authenticator.SignIn(ctx, identifier)
}

// signInCanary signs client in as the run would, before the ramp; a failure
// is a *PreflightError naming u, the sign-in endpoint. On success the
// returned Authenticator gives that client the canary's credentials at its
// first sign-in.
func signInCanary(ctx context.Context, auth Authenticator, client int, u string) (*canary, error) {
	id := "user-" + strconv.Itoa(client)
	cr, out := auth.SignIn(ctx, id)
	if out.Class != model.ClassOK {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) && out.Class == model.ClassNetwork {
			out.Class = model.ClassTimeout
		}
		want := "the run's clients could not sign in: check the target's URL, endpoints, client and users"
		if oa, ok := auth.(*OAuth2); ok && client < len(oa.cfg.Credentials) {
			want = "the run's clients could not sign in: its stored refresh token was refused; if an earlier run spent target.credentials_file (a provider that rotates refresh tokens), mint new ones with stampede creds and keep them with --update-credentials"
		}
		return nil, &PreflightError{URL: RedactURL(u), Check: "the first sign-in (client " + strconv.Itoa(client) + ")", Outcome: out, Want: want}
	}
	return &canary{Authenticator: auth, client: client, identifier: id, pending: true, cr: cr, out: out}, nil
}

// Unwrap returns the target's own Authenticator, for its optional
// capabilities (see As).
func (c *canary) Unwrap() Authenticator { return c.Authenticator }

// CanSignIn reports whether client i has credentials left to sign in with:
// the canary's client has until its first sign-in takes the canary's
// session, which already spent its stored credentials.
func (c *canary) CanSignIn(i int) bool {
	c.mu.Lock()
	pending := c.pending && i == c.client
	c.mu.Unlock()
	if pending {
		return true
	}
	if cs, ok := c.Authenticator.(interface{ CanSignIn(int) bool }); ok {
		return cs.CanSignIn(i)
	}
	return true
}
