package target

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/stampede-load/stampede/load/model"
	"github.com/stampede-load/stampede/load/transport"
)

// OAuth 2.0 client authentication methods at the token endpoint (RFC 6749 §2.3.1).
const (
	// AuthBasic sends the client id and secret in an HTTP Basic Authorization header.
	AuthBasic = "basic"
	// AuthPost sends them as client_id and client_secret form parameters.
	AuthPost = "post"
)

// Where OAuth2 reads an access token's expiry from.
const (
	// ExpiryAuto reads the JWT's exp when the access token is a JWT with one,
	// else expires_in.
	ExpiryAuto = "auto"
	// ExpiryJWT requires a JWT access token with an exp claim.
	ExpiryJWT = "jwt"
	// ExpiryExpiresIn uses the token response's expires_in, whatever the token is.
	ExpiryExpiresIn = "expires_in"
)

// Outcome codes of the OAuth 2.0 target, besides the provider's own error
// codes (invalid_grant, invalid_client, ...).
const (
	// CodeRefreshTokenReused: the provider refused a refresh token that had
	// already been used (rotation with reuse detection). The session is over.
	CodeRefreshTokenReused = "refresh_token_reused"
	// CodeInvalidGrant: the refresh token (or the password) is invalid,
	// expired or revoked (RFC 6749 §5.2). The session is over.
	CodeInvalidGrant = "invalid_grant"
	// CodeNoToken: a 2xx answer without an access_token.
	CodeNoToken = "no_token"
	// CodeNoRefreshToken: a sign-in answered without a refresh_token.
	CodeNoRefreshToken = "no_refresh_token"
	// CodeNoExpiry: neither a JWT exp nor expires_in said when the token expires.
	CodeNoExpiry = "no_expiry"
	// CodeInvalidJSON: a 2xx answer whose body is not JSON (or is cut short).
	CodeInvalidJSON = "invalid_json"
	// CodeHTMLBody: an HTML page where JSON was expected (a proxy's or
	// load balancer's error page, a login page).
	CodeHTMLBody = "html_body"
	// CodeEmptyBody: a 2xx answer without a body.
	CodeEmptyBody = "empty_body"
	// CodeBodyTooLarge: a body larger than stampede reads (1 MiB).
	CodeBodyTooLarge = "body_too_large"
	// CodeCredentialsSpent: a client whose refresh token from the
	// credentials file was used up (its session ended) and that has no
	// password to sign in again with.
	//
	// Deprecated: such a sign-in answers model.CodeCredentialsExhausted.
	CodeCredentialsSpent = "credentials_spent"
	// CodeNoUser: no user or stored credential for this client.
	CodeNoUser = "no_user"
)

// DefaultReusePattern matches the error_description of providers that
// refuse a reused refresh token: Dex ("Refresh token is invalid or has
// already been claimed by another client."), and wordings such as "already
// used", "reuse detected", "token replay". Dex gives the same answer for a
// refresh token it no longer knows at all.
var DefaultReusePattern = regexp.MustCompile(`(?i)already (been )?(used|claimed|redeemed|exchanged)|\breuse|\breplay`)

// StoredCredential is one line of a credentials file: a refresh token
// minted beforehand (see ReadCredentialsFile, stampede creds).
type StoredCredential struct {
	RefreshToken string `json:"refresh_token"`
	Subject      string `json:"subject,omitempty"`
}

// OAuth2User is one user of the password grant.
type OAuth2User struct {
	Name     string
	Password string
}

// OAuth2Config configures an OAuth 2.0 refresh-token target.
type OAuth2Config struct {
	// TokenURL is the token endpoint, absolute.
	TokenURL string
	// ClientID and ClientSecret authenticate the client at the token
	// endpoint with AuthMethod (AuthBasic, the default, or AuthPost). A
	// client without a secret is public: it sends client_id alone.
	ClientID, ClientSecret string
	AuthMethod             string
	// Scope is asked for with the password grant (e.g. "openid
	// offline_access"); refreshes ask for the scope granted.
	Scope string

	// First credentials. Client i signs in with Credentials[i] if there
	// are any (a refresh_token grant), else with the password grant as
	// Users[i mod len(Users)], else as UserPattern formatted with
	// i+UserOffset and Password. A client whose stored credential is spent
	// signs in again with the password grant when it has a user.
	Credentials []StoredCredential
	Users       []OAuth2User
	UserPattern string // e.g. "user%d@example.com"
	UserOffset  int
	Password    string

	// APIURL is the protected endpoint the apps call with the access token
	// as bearer (GET); "" makes Call fail with code "no_api".
	APIURL string

	// Expiry says where the access token's lifetime comes from: ExpiryAuto
	// (default), ExpiryJWT or ExpiryExpiresIn.
	Expiry string
	// RefreshInterval, when set, makes clients refresh this often although
	// the provider's access tokens live longer: each token is reported to
	// expire RefreshInterval+RefreshAhead after it came (never later than it
	// really does), so the poller, RefreshAhead before that, fires after
	// RefreshInterval. RefreshAhead is the clients' (wall-clock).
	RefreshInterval time.Duration
	RefreshAhead    time.Duration
	// ReusePattern matches the error_description (or error) of a refused
	// reused refresh token; nil is DefaultReusePattern.
	ReusePattern *regexp.Regexp

	Client *http.Client
	// Now is the clock for expires_in; nil is time.Now.
	Now func() time.Time
	// KeepNewest keeps each client's newest refresh token for
	// NewestCredentials (target update_credentials).
	KeepNewest bool
}

// OAuth2 is an OAuth 2.0 authorization server's token endpoint as a
// stampede target: the password grant (or a stored refresh token) signs a
// client in, the refresh_token grant (RFC 6749 §6) refreshes, and a
// rotated refresh token replaces the old one. It implements Authenticator
// and Resource. Credentials.SessionID is the user (or the stored
// credential's subject), Credentials.ClientToken the refresh token.
type OAuth2 struct {
	cfg    OAuth2Config
	spent  []atomic.Bool // stored credentials already used, by client
	newest *newest       // nil unless cfg.KeepNewest
}

// NewOAuth2 checks cfg and returns the target.
func NewOAuth2(cfg OAuth2Config) (*OAuth2, error) {
	u, err := url.Parse(cfg.TokenURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("oauth2 token endpoint %q: want an absolute http(s) URL", cfg.TokenURL)
	}
	switch cfg.AuthMethod {
	case "":
		cfg.AuthMethod = AuthBasic
	case AuthBasic, AuthPost:
	default:
		return nil, fmt.Errorf("oauth2 auth method %q: want %s or %s", cfg.AuthMethod, AuthBasic, AuthPost)
	}
	switch cfg.Expiry {
	case "":
		cfg.Expiry = ExpiryAuto
	case ExpiryAuto, ExpiryJWT, ExpiryExpiresIn:
	default:
		return nil, fmt.Errorf("oauth2 expiry %q: want %s, %s or %s", cfg.Expiry, ExpiryAuto, ExpiryJWT, ExpiryExpiresIn)
	}
	if cfg.ClientID == "" {
		return nil, errors.New("oauth2: a client id is required")
	}
	if len(cfg.Credentials) == 0 && len(cfg.Users) == 0 && cfg.UserPattern == "" {
		return nil, errors.New("oauth2: no first credentials: give users (a pattern or a list) or stored credentials")
	}
	if cfg.ReusePattern == nil {
		cfg.ReusePattern = DefaultReusePattern
	}
	if cfg.Client == nil {
		cfg.Client = http.DefaultClient
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	o := &OAuth2{cfg: cfg, spent: make([]atomic.Bool, len(cfg.Credentials))}
	if cfg.KeepNewest {
		o.newest = newNewest()
	}
	return o, nil
}

// ClientIndex reads the client number from the engine's sign-in identifier
// ("user-42" is 42).
func ClientIndex(identifier string) (int, bool) {
	i := len(identifier)
	for i > 0 && identifier[i-1] >= '0' && identifier[i-1] <= '9' {
		i--
	}
	n, err := strconv.Atoi(identifier[i:])
	return n, err == nil && n >= 0
}

// User returns the password-grant user of client i; ok is false when the
// target has none (stored credentials only).
func (o *OAuth2) User(i int) (OAuth2User, bool) {
	switch {
	case len(o.cfg.Users) > 0:
		return o.cfg.Users[i%len(o.cfg.Users)], true
	case o.cfg.UserPattern != "":
		return OAuth2User{Name: FormatUser(o.cfg.UserPattern, i+o.cfg.UserOffset), Password: o.cfg.Password}, true
	}
	return OAuth2User{}, false
}

// FormatUser puts n into pattern at its %d; a pattern without a verb is
// one user for every n (SharedUser).
func FormatUser(pattern string, n int) string {
	if SharedUser(pattern) {
		return strings.ReplaceAll(pattern, "%%", "%")
	}
	return fmt.Sprintf(pattern, n)
}

// SharedUser reports whether a users pattern has no verb: every client
// signs in as that one user.
func SharedUser(pattern string) bool {
	return !strings.Contains(strings.ReplaceAll(pattern, "%%", ""), "%")
}

// SignIn gives the client its first credentials: the stored refresh token
// of its line of the credentials file, exchanged with the refresh_token
// grant, or the password grant as its user.
func (o *OAuth2) SignIn(ctx context.Context, identifier string) (Credentials, model.Outcome) {
	i, ok := ClientIndex(identifier)
	if !ok {
		return Credentials{}, model.Outcome{Class: model.ClassOther, Code: CodeNoUser}
	}
	if i < len(o.cfg.Credentials) && !o.spent[i].Load() {
		sc := o.cfg.Credentials[i]
		cr, out := o.Refresh(ctx, sc.Subject, sc.RefreshToken)
		// A failure that may be passing (network, 429, 5xx) leaves the
		// stored token to the sign-in retry; an answer about it spends it.
		if !out.Class.Retryable() && out.Class != model.ClassCancelled {
			o.spent[i].Store(true)
		}
		if out.Class == model.ClassOK && cr.ClientToken == "" {
			cr.ClientToken = sc.RefreshToken // not rotated: keep using it
		}
		if cr.SessionID == "" {
			cr.SessionID = "credential-" + strconv.Itoa(i)
		}
		if out.Class == model.ClassOK && o.newest != nil {
			o.newest.signedIn(i, cr.ClientToken, sc.Subject)
		}
		return cr, out
	}
	u, ok := o.User(i)
	if !ok {
		// Spent, or beyond the file: no request leaves.
		return Credentials{}, model.Outcome{Class: model.ClassOther, Code: model.CodeCredentialsExhausted}
	}
	cr, out := o.PasswordGrant(ctx, u)
	if out.Class == model.ClassOK && o.newest != nil {
		o.newest.signedIn(i, cr.ClientToken, cr.SessionID)
	}
	return cr, out
}

// CanSignIn reports whether client i has credentials left to sign in
// with: an unspent line of the credentials file, or a password-grant user.
// The engine asks before a sign-in, so that a client without is a client
// state (model.CodeCredentialsExhausted), never a request counted that did
// not leave the process.
func (o *OAuth2) CanSignIn(i int) bool {
	if i < len(o.cfg.Credentials) && !o.spent[i].Load() {
		return true
	}
	_, ok := o.User(i)
	return ok
}

// PasswordGrant signs u in with the resource owner password credentials
// grant (RFC 6749 §4.3). The answer must carry a refresh token.
func (o *OAuth2) PasswordGrant(ctx context.Context, u OAuth2User) (Credentials, model.Outcome) {
	form := url.Values{"grant_type": {"password"}, "username": {u.Name}, "password": {u.Password}}
	if o.cfg.Scope != "" {
		form.Set("scope", o.cfg.Scope)
	}
	return o.grant(ctx, form, u.Name)
}

// grant asks the token endpoint for a session by form (a password or an
// authorization-code grant), which must come with a refresh token, and
// names it for user.
func (o *OAuth2) grant(ctx context.Context, form url.Values, user string) (Credentials, model.Outcome) {
	cr, out := o.token(ctx, form)
	if out.Class != model.ClassOK {
		return Credentials{}, out
	}
	if cr.ClientToken == "" {
		return Credentials{}, model.Outcome{Class: model.ClassOther, Status: out.Status, Code: CodeNoRefreshToken}
	}
	cr.SessionID = user
	return cr, out
}

// Refresh exchanges the refresh token for a new access token (RFC 6749
// §6). A provider that rotates refresh tokens answers with a new one, in
// Credentials.ClientToken; "" means keep the old one.
func (o *OAuth2) Refresh(ctx context.Context, sessionID, refreshToken string) (Credentials, model.Outcome) {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
	cr, out := o.token(ctx, form)
	if out.Class != model.ClassOK {
		return Credentials{}, out
	}
	cr.SessionID = sessionID
	if o.newest != nil {
		o.newest.rotated(refreshToken, cr.ClientToken)
	}
	return cr, out
}

// tokenResponse is a token endpoint's answer (RFC 6749 §5.1, §5.2).
type tokenResponse struct {
	AccessToken      string          `json:"access_token"`
	TokenType        string          `json:"token_type"`
	ExpiresIn        json.RawMessage `json:"expires_in"`
	RefreshToken     string          `json:"refresh_token"`
	Error            string          `json:"error"`
	ErrorDescription string          `json:"error_description"`
}

// token posts a grant to the token endpoint and reads the answer, whatever
// it is: every failure is an Outcome, never a panic or a hang past ctx.
func (o *OAuth2) token(ctx context.Context, form url.Values) (Credentials, model.Outcome) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.cfg.TokenURL, strings.NewReader(o.authenticate(form).Encode()))
	if err != nil {
		return Credentials{}, model.Outcome{Class: model.ClassOther, Code: "bad_request"}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	o.authenticateHeader(req)
	resp, body, out, done := exchange(ctx, o.cfg.Client, req)
	if done {
		return Credentials{}, out
	}
	var tr tokenResponse
	jsonErr := json.Unmarshal(body, &tr)
	if out.Class != model.ClassOK {
		if jsonErr == nil && tr.Error != "" {
			out.Code = o.errorCode(tr.Error, tr.ErrorDescription)
			if said := tr.Error[:min(len(tr.Error), transport.MaxCode)]; said != out.Code {
				out.Said = said
			}
		} else if out.Code == "" && isHTML(resp, body) {
			out.Code = CodeHTMLBody
		}
		return Credentials{}, out
	}
	if bad := garbage(resp, body, jsonErr); bad != "" {
		return Credentials{}, model.Outcome{Class: model.ClassOther, Status: out.Status, Code: bad, Body: transport.BodyHead(body)}
	}
	if tr.AccessToken == "" {
		code := CodeNoToken
		if tr.Error != "" { // an error answered with 200
			code = o.errorCode(tr.Error, tr.ErrorDescription)
		}
		return Credentials{}, model.Outcome{Class: model.ClassOther, Status: out.Status, Code: code}
	}
	cr := Credentials{Token: tr.AccessToken, ClientToken: tr.RefreshToken}
	exp, code := o.expiry(tr)
	if code != "" {
		return Credentials{}, model.Outcome{Class: model.ClassOther, Status: out.Status, Code: code}
	}
	cr.ExpiresAt = exp
	return cr, out
}

// authenticate adds the client's credentials to a form for the
// provider's endpoints: client_id (and client_secret with AuthPost) for a
// public client or AuthPost.
func (o *OAuth2) authenticate(form url.Values) url.Values {
	if o.cfg.AuthMethod == AuthPost || o.cfg.ClientSecret == "" {
		form.Set("client_id", o.cfg.ClientID)
		if o.cfg.ClientSecret != "" {
			form.Set("client_secret", o.cfg.ClientSecret)
		}
	}
	return form
}

// authenticateHeader adds HTTP Basic client authentication (AuthBasic with
// a secret) to req.
func (o *OAuth2) authenticateHeader(req *http.Request) {
	if o.cfg.AuthMethod == AuthBasic && o.cfg.ClientSecret != "" {
		// RFC 6749 §2.3.1: both form-urlencoded, then Basic.
		req.SetBasicAuth(url.QueryEscape(o.cfg.ClientID), url.QueryEscape(o.cfg.ClientSecret))
	}
}

// exchange sends req and reads its answer (bounded). done reports that out
// is final: the request failed, or the body could not be read.
func exchange(ctx context.Context, hc *http.Client, req *http.Request) (*http.Response, []byte, model.Outcome, bool) {
	resp, err := hc.Do(req)
	if err != nil {
		return nil, nil, transport.Classify(ctx, nil, nil, err), true
	}
	body, tooLarge, err := readBounded(resp)
	if err != nil {
		// The status came but the body broke off (reset, timeout).
		out := transport.Classify(ctx, nil, nil, fmt.Errorf("read body: %w", err))
		if out.Class == model.ClassNetwork && ctx.Err() != nil {
			out.Class = model.ClassTimeout
		}
		out.Status = resp.StatusCode
		return resp, nil, out, true
	}
	out := transport.Classify(ctx, resp, body, nil) // a failure's code and sample body
	if tooLarge {
		if out.Class == model.ClassOK {
			out.Class = model.ClassOther
		}
		out.Code = CodeBodyTooLarge
		return resp, nil, out, true
	}
	return resp, body, out, false
}

// errorCode maps an OAuth 2.0 error answer to an Outcome code: a reused
// refresh token is refresh_token_reused, anything else keeps the
// provider's code (invalid_grant, invalid_request, invalid_client, ...).
func (o *OAuth2) errorCode(code, description string) string {
	if o.cfg.ReusePattern.MatchString(description) || o.cfg.ReusePattern.MatchString(code) {
		return CodeRefreshTokenReused
	}
	if len(code) > 64 {
		code = code[:64]
	}
	return code
}

// expiry is the ExpiresAt to report for a token answer; zero lets the
// client read the JWT's exp. code is set when the expiry cannot be known.
func (o *OAuth2) expiry(tr tokenResponse) (time.Time, string) {
	now := o.cfg.Now()
	var exp time.Time // the token's real expiry, when known here
	fromJWT := false
	if o.cfg.Expiry != ExpiryExpiresIn {
		if tt, err := model.ParseTokenTimes(tr.AccessToken); err == nil {
			exp, fromJWT = tt.ExpiresAt, true
		} else if o.cfg.Expiry == ExpiryJWT {
			return time.Time{}, "bad_token"
		}
	}
	if !fromJWT {
		secs, ok := expiresIn(tr.ExpiresIn)
		switch {
		case ok:
			var inRange bool
			if exp, inRange = model.ExpiresAfter(now, secs); !inRange {
				return time.Time{}, model.CodeTokenTimeRange
			}
		case o.cfg.RefreshInterval <= 0:
			return time.Time{}, CodeNoExpiry
		}
	}
	if iv := o.cfg.RefreshInterval; iv > 0 {
		emulated := now.Add(iv + o.cfg.RefreshAhead)
		if exp.IsZero() || emulated.Before(exp) {
			return emulated, ""
		}
	}
	if fromJWT {
		return time.Time{}, "" // the client reads exp itself
	}
	return exp, ""
}

// expiresIn reads expires_in: a number of seconds, or a string of one (some
// servers quote it). ok is false when absent or not positive.
func expiresIn(raw json.RawMessage) (float64, bool) {
	s := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	if s == "" || s == "null" {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil && f > 0
}

// garbage names what is wrong with a 2xx body that should be JSON; "" when
// it parsed.
func garbage(resp *http.Response, body []byte, jsonErr error) string {
	switch {
	case jsonErr == nil:
		return ""
	case len(bytes.TrimSpace(body)) == 0:
		return CodeEmptyBody
	case isHTML(resp, body):
		return CodeHTMLBody
	}
	return CodeInvalidJSON
}

// isHTML reports whether a body is an HTML page.
func isHTML(resp *http.Response, body []byte) bool {
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err == nil && strings.Contains(mt, "html") {
		return true
	}
	b := bytes.TrimSpace(body)
	return len(b) > 0 && b[0] == '<'
}

// readBounded reads at most MaxBody bytes of a response body and closes it;
// tooLarge reports a body longer than that (the rest is not read).
func readBounded(resp *http.Response) (body []byte, tooLarge bool, err error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, transport.MaxBody+1))
	if err != nil {
		return nil, false, err
	}
	if len(b) > transport.MaxBody {
		return nil, true, nil
	}
	return b, false, nil
}

// Call calls the protected API with the access token as bearer.
func (o *OAuth2) Call(ctx context.Context, token string) model.Outcome {
	if o.cfg.APIURL == "" {
		return model.Outcome{Class: model.ClassOther, Code: "no_api"}
	}
	return CallBearer(ctx, o.cfg.Client, o.cfg.APIURL, token)
}

// CallBearer GETs u with token as bearer and classifies the answer; the
// body is read (bounded) and dropped.
func CallBearer(ctx context.Context, hc *http.Client, u, token string) model.Outcome {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return model.Outcome{Class: model.ClassOther, Code: "bad_request"}
	}
	req.Header.Set("Authorization", "Bearer "+token)
	setCallID(req)
	resp, err := hc.Do(req)
	if err != nil {
		return transport.Classify(ctx, nil, nil, err)
	}
	body, tooLarge, err := readBounded(resp)
	if err != nil {
		out := transport.Classify(ctx, nil, nil, fmt.Errorf("read body: %w", err))
		out.Status = resp.StatusCode
		return out
	}
	out := transport.Classify(ctx, resp, body, nil)
	if tooLarge && out.Class == model.ClassOK {
		out = model.Outcome{Class: model.ClassOther, Status: resp.StatusCode, Code: CodeBodyTooLarge}
	}
	return out
}

// ReadCredentialsFile reads a credentials file: JSON lines of
// {"refresh_token": "...", "subject": "..."}; blank lines and lines
// starting with # are skipped. Every problem names its line.
func ReadCredentialsFile(path string) ([]StoredCredential, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("credentials file: %w", err)
	}
	defer f.Close()
	var out []StoredCredential
	var errs []error
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		var c StoredCredential
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: want {\"refresh_token\": \"...\", \"subject\": \"...\"}: %w", path, n, err))
			continue
		}
		if c.RefreshToken == "" {
			errs = append(errs, fmt.Errorf("%s:%d: refresh_token is empty", path, n))
			continue
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, fmt.Errorf("credentials file %s: %w", path, err))
	}
	if len(errs) == 0 && len(out) == 0 {
		errs = append(errs, fmt.Errorf("credentials file %s: no credentials", path))
	}
	return out, errors.Join(errs...)
}

// WriteCredential writes one credentials-file line.
func WriteCredential(w io.Writer, c StoredCredential) error {
	b, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("credential: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// ReadUsersFile reads a users file: one user a line, "name" (who takes
// defaultPassword) or "name:password"; blank lines and # comments skipped.
func ReadUsersFile(path, defaultPassword string) ([]OAuth2User, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("users file: %w", err)
	}
	var out []OAuth2User
	for line := range strings.SplitSeq(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, pw, ok := strings.Cut(line, ":")
		if !ok {
			pw = defaultPassword
		}
		out = append(out, OAuth2User{Name: name, Password: pw})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("users file %s: no users", path)
	}
	return out, nil
}
