package profiles

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/stampede-load/stampede/profiles/threshold"
)

// Signing algorithms of the embedded backend.
var signings = []string{"RS256", "ES256", "EdDSA"}

// Jitter strategies, in the order messages list them.
var jitters = []string{JitterNone, JitterFull, JitterEqual, JitterDecorrelated, JitterAdditive}

// validator collects every problem of a profile.
type validator struct {
	errs []error
}

// bad records a problem with the field at path.
func (v *validator) bad(path, format string, args ...any) {
	v.errs = append(v.errs, &FieldError{Path: path, Message: fmt.Sprintf(format, args...)})
}

// wrap records err as the problem with the field at path; the
// *FieldError unwraps to err.
func (v *validator) wrap(path string, err error) {
	v.errs = append(v.errs, &FieldError{Path: path, Message: err.Error(), Err: err})
}

// badRel is bad for a rule that involves other fields too.
func (v *validator) badRel(path string, related []string, format string, args ...any) {
	v.errs = append(v.errs, &FieldError{Path: path, Message: fmt.Sprintf(format, args...), related: related})
}

// positive checks a duration greater than 0.
func (v *validator) positive(path string, d Duration) {
	if d <= 0 {
		v.bad(path, "must be greater than 0, got %s", d)
	}
}

// nonNegative checks a duration of at least 0.
func (v *validator) nonNegative(path string, d Duration) {
	if d < 0 {
		v.bad(path, "must not be negative, got %s", d)
	}
}

// share checks a share in [0, 1] (or (0, 1] when zeroOK is false).
func (v *validator) share(path string, f float64, zeroOK bool, of string) {
	switch {
	case !zeroOK && f == 0:
		v.bad(path, "is required: a share of %s, more than 0 and at most 1", of)
	case zeroOK && !(f >= 0 && f <= 1):
		v.bad(path, "must be from 0 to 1 (a share of %s), got %g", of, f)
	case !zeroOK && !(f > 0 && f <= 1):
		v.bad(path, "must be more than 0 and at most 1 (a share of %s), got %g", of, f)
	}
}

// oneOf checks an enumerated string; "" is reported as missing.
func (v *validator) oneOf(path, got string, allowed []string) {
	if !slices.Contains(allowed, got) {
		if got == "" {
			v.bad(path, "is required: one of %s", strings.Join(allowed, ", "))
			return
		}
		v.bad(path, "must be one of %s, got %q", strings.Join(allowed, ", "), got)
	}
}

// Validate reports every invalid field at once, joined, each a *FieldError
// naming the field's path and saying what is allowed; nil when the profile
// is valid. A profile read with Parse has its problems located in the file.
func (p Profile) Validate() error {
	v := &validator{}
	if p.Clients <= 0 {
		v.bad("clients", "must be at least 1, got %d", p.Clients)
	}
	v.positive("duration", p.Duration)
	v.nonNegative("ramp", p.Ramp)
	if p.Ramp > p.Duration && p.Duration > 0 {
		v.badRel("ramp", []string{"duration"}, "must not exceed duration (%s), got %s", p.Duration, p.Ramp)
	}
	if !(p.TimeScale >= 1) {
		v.bad("time_scale", "must be at least 1, got %g", p.TimeScale)
	}
	p.validateLimits(v)
	p.validateStages(v)
	if p.Backend.MaxInflight < 0 {
		v.bad("backend.max_inflight", "must not be negative, got %d", p.Backend.MaxInflight)
	}
	v.nonNegative("backend.service_time", p.Backend.ServiceTime)
	if p.Backend.MaxQueue < 0 {
		v.bad("backend.max_queue", "must not be negative, got %d", p.Backend.MaxQueue)
	}
	v.oneOf("connections", p.Connections, []string{ConnectionsShared, ConnectionsPerClient})
	if p.HTTPVersion != "" {
		v.oneOf("http_version", p.HTTPVersion, HTTPVersions())
	}
	p.validateSDK(v)
	p.validateApp(v)
	p.validateNetwork(v)
	for i, e := range p.Events {
		if i >= MaxEvents {
			break // validateLimits says so
		}
		p.validateEvent(v, i, e)
	}
	v.positive("backend.token_lifetime", p.Backend.TokenLifetime)
	v.positive("backend.max_lifetime", p.Backend.MaxLifetime)
	if ml := p.Backend.MaxLifetime; ml > 0 && (ml < MinSessionLifetime || ml > MaxSessionLifetime) {
		v.bad("backend.max_lifetime", "must be from 5m to 10 years (87600h), the range the SDK's dashboard allows, got %s", ml)
	}
	v.nonNegative("backend.inactivity_timeout", p.Backend.InactivityTimeout)
	v.oneOf("backend.signing", p.Backend.Signing, signings)
	p.validateTarget(v)
	p.validateBackendModel(v)
	for _, name := range InvariantNames() {
		if set := p.Invariants.Setting(name); set != "" {
			v.oneOf("invariants."+name, set, []string{InvariantOn, InvariantOff})
		}
	}
	for i, t := range p.Thresholds {
		path := fmt.Sprintf("thresholds[%d].expr", i)
		if strings.TrimSpace(t.Expr) == "" {
			v.bad(path, "is required: METRIC OP VALUE such as \"refresh.p99 < 250ms\"")
			continue
		}
		if _, err := threshold.Parse(t.Expr); err != nil {
			v.wrap(path, err)
		}
	}
	return errors.Join(v.errs...)
}

// validateSDK checks the sdk section, its retry policy included.
func (p Profile) validateSDK(v *validator) {
	s := p.SDK
	if s.Preset != "" {
		v.oneOf("sdk.preset", s.Preset, SDKPresetNames())
	}
	v.oneOf("sdk.token_mode", s.TokenMode, []string{TokenModeSWR, TokenModeBlocking})
	v.nonNegative("sdk.refresh_ahead", s.RefreshAhead)
	v.nonNegative("sdk.stale_window", s.StaleWindow)
	v.positive("sdk.request_timeout", s.RequestTimeout)
	v.oneOf("sdk.interceptor", s.Interceptor, Interceptors())
	if lt := p.Backend.TokenLifetime; s.RefreshAhead >= lt && lt > 0 {
		hint := ""
		if ps, ok := SDKPreset(s.Preset); ok && s.Preset != SDKCustom && ps.RefreshAhead == s.RefreshAhead {
			hint = fmt.Sprintf(" (the %s preset's figure): give a longer backend.token_lifetime or your own sdk.refresh_ahead", s.Preset)
		}
		v.badRel("sdk.refresh_ahead", []string{"sdk.preset", "backend.token_lifetime"},
			"must be shorter than backend.token_lifetime (%s), got %s%s", lt, s.RefreshAhead, hint)
	}
	r := s.Retry
	v.positive("sdk.retry.base", r.Base)
	v.positive("sdk.retry.cap", r.Cap)
	if r.Base > r.Cap && r.Cap > 0 {
		v.badRel("sdk.retry.base", []string{"sdk.retry.cap", "sdk.preset"}, "must not exceed sdk.retry.cap (%s), got %s", r.Cap, r.Base)
	}
	if !(r.Multiplier >= 1) {
		v.bad("sdk.retry.multiplier", "must be at least 1 (1 retries at a constant delay), got %g", r.Multiplier)
	}
	v.oneOf("sdk.retry.jitter", r.Jitter, jitters)
	v.nonNegative("sdk.retry.spread", r.Spread)
	if r.MaxRetries < 0 {
		v.bad("sdk.retry.max_retries", "must not be negative (attempts, the first included: 0 and 1 are no retry), got %d", r.MaxRetries)
	}
	if r.MaxRetriesOffline < 0 {
		v.bad("sdk.retry.max_retries_offline", "must not be negative (attempts while offline; 0 is sdk.retry.max_retries), got %d", r.MaxRetriesOffline)
	}
	if s.TokenCache != "" {
		v.oneOf("sdk.token_cache", s.TokenCache, TokenCaches())
	}
}

// Session lifetimes the backend accepts: the article's range for the
// maximum session lifetime, 5 minutes to 10 years.
const (
	MinSessionLifetime = Duration(5 * time.Minute)
	MaxSessionLifetime = Duration(10 * 365 * 24 * time.Hour)
)

// validateSignIn checks app.sign_in.
func (p Profile) validateSignIn(v *validator) {
	s := p.App.SignIn
	if s.Method != "" {
		v.oneOf("app.sign_in.method", s.Method, SignInMethods())
	}
	if !s.Latency.IsZero() {
		validDist(v, "app.sign_in.latency", s.Latency)
	}
	v.share("app.sign_in.cancel_rate", s.CancelRate, true, "sign-ins the user dismisses")
	v.share("app.sign_in.failure_rate", s.FailureRate, true, "sign-in flows that fail")
	if s.CancelRate+s.FailureRate > 1 {
		v.badRel("app.sign_in.failure_rate", []string{"app.sign_in.cancel_rate"}, "with cancel_rate (%g) must not exceed 1, got %g", s.CancelRate, s.FailureRate)
	}
}

// validDist checks a distribution of the lifecycle.
func validDist(v *validator, path string, d Dist) {
	v.oneOf(path+".dist", d.Dist, []string{DistFixed, DistExponential, DistLognormal, DistChoice})
	if d.Dist == DistChoice {
		if len(d.Values) == 0 {
			v.bad(path+".values", "is required with dist choice: the durations to choose from, such as [1m, 6m, 3h]")
		}
		for i, x := range d.Values {
			v.positive(fmt.Sprintf("%s.values[%d]", path, i), x)
		}
		if d.Value != 0 || d.Sigma != 0 {
			v.bad(path+".value", "does not apply to dist choice (its values do)")
		}
		return
	}
	if len(d.Values) > 0 {
		v.bad(path+".values", "applies only to dist choice, got %d values with dist %q", len(d.Values), d.Dist)
	}
	v.positive(path+".value", d.Value)
	switch {
	case d.Dist == DistLognormal && !(d.Sigma > 0):
		v.bad(path+".sigma", "must be greater than 0 for a lognormal distribution (its shape; 1 is a common choice), got %g", d.Sigma)
	case d.Dist != DistLognormal && d.Sigma != 0:
		v.bad(path+".sigma", "applies only to dist lognormal, got %g with dist %q", d.Sigma, d.Dist)
	}
}

// validateApp checks the app section and its lifecycle model.
func (p Profile) validateApp(v *validator) {
	a := p.App
	if !(a.APICallsPerMinute >= 0) {
		v.bad("app.api_calls_per_minute", "must not be negative (0 makes no API calls), got %g", a.APICallsPerMinute)
	}
	if a.Burst < 1 || a.Burst > MaxBurst {
		v.bad("app.burst", "must be from 1 to %d (API calls fired at once per screen load; 1 is one call at a time), got %d", MaxBurst, a.Burst)
	}
	v.nonNegative("app.think_time", a.ThinkTime)
	p.validateSignIn(v)
	l := a.Lifecycle
	switch l.Model {
	case LifecycleForeground:
		for _, f := range []struct {
			name string
			set  bool
		}{{"foreground", !l.Foreground.IsZero()}, {"background", !l.Background.IsZero()}, {"cold_start", l.ColdStart != 0}} {
			if f.set {
				v.badRel("app.lifecycle."+f.name, []string{"app.lifecycle.model"},
					"applies only to model %s (the app is always in the foreground with model %s)", LifecycleBackgroundForeground, LifecycleForeground)
			}
		}
	case LifecycleBackgroundForeground:
		validDist(v, "app.lifecycle.foreground", l.Foreground)
		validDist(v, "app.lifecycle.background", l.Background)
		if !(l.ColdStart >= 0 && l.ColdStart <= 1) {
			v.bad("app.lifecycle.cold_start", "must be from 0 to 1 (the chance the app was killed in the background), got %g", l.ColdStart)
		}
	default:
		v.oneOf("app.lifecycle.model", l.Model, []string{LifecycleForeground, LifecycleBackgroundForeground})
	}
}

// validateNetwork checks the network section.
func (p Profile) validateNetwork(v *validator) {
	n := p.Network
	if _, ok := NetworkPreset(n.Preset); !ok {
		v.bad("network.preset", "must be one of %s, got %q", strings.Join(NetworkPresetNames(), ", "), n.Preset)
	}
	v.nonNegative("network.latency", n.Latency)
	v.nonNegative("network.jitter", n.Jitter)
	if n.Jitter > n.Latency && n.Latency >= 0 && n.Jitter >= 0 {
		v.badRel("network.jitter", []string{"network.latency", "network.preset"}, "must not exceed network.latency (%s): latency varies by ± jitter and never goes below 0, got %s", n.Latency, n.Jitter)
	}
	v.share("network.loss", n.Loss, true, "requests lost")
	if !(n.DownKbps >= 0) {
		v.bad("network.down_kbps", "must not be negative (0 is unlimited), got %g", n.DownKbps)
	}
	if !(n.UpKbps >= 0) {
		v.bad("network.up_kbps", "must not be negative (0 is unlimited), got %g", n.UpKbps)
	}
}

// validateEvent checks events[i]: its time, its type and the fields of that type.
func (p Profile) validateEvent(v *validator, i int, e Event) {
	at := fmt.Sprintf("events[%d]", i)
	f := func(name string) string { return at + "." + name }
	switch {
	case e.At.Share < 0 || e.At.Share > 1:
		v.bad(f("at"), "a share of the run must be more than 0%% and at most 100%%, got %s", e.At)
	case e.At.Share == 0 && e.At.Offset < 0:
		v.bad(f("at"), "must not be negative, got %s", e.At.Offset)
	case p.Duration > 0:
		if start := p.WallOffset(e.At); start > p.Duration.D() {
			v.badRel(f("at"), []string{"duration"}, "starts at %s, after the end of the run (%s): at %s is simulated time, divided by time_scale %g; give an earlier at, a share such as \"50%%\", or a longer duration",
				start, p.Duration, e.At.Offset, p.TimeScale)
		}
	}
	t, ok := eventType(e.Type)
	switch {
	case !ok && len(eventTypes) == 0:
		v.bad(f("type"), "is %q, but this program knows no event types: it must link package chaos, which registers them", e.Type)
		return
	case !ok:
		v.oneOf(f("type"), e.Type, EventTypes())
		return
	}
	for _, name := range e.givenFields() {
		if !slices.Contains(t.Fields, name) {
			v.bad(f(name), "%s", notForType(e.Type))
		}
	}
	t.Check(e, EventChecker{v: v, at: at, typ: e.Type})
}

// validateTarget checks the target section: its kind and the fields of that kind.
func (p Profile) validateTarget(v *validator) {
	t := p.Target
	if t.Kind != "" {
		v.oneOf("target.kind", t.Kind, TargetKinds())
	}
	kind := p.TargetKind()
	if t.URL != "" {
		if err := checkURL(t.URL); err != "" {
			v.bad("target.url", "%s", err)
		}
	}
	switch kind {
	case TargetBuiltin:
		if t.URL != "" {
			v.badRel("target.url", []string{"target.kind"}, "does not apply to kind builtin (the embedded backend runs in process); give kind fapi for a server at this URL")
		}
	case TargetFAPI, TargetHTTP:
		if t.URL == "" {
			v.badRel("target.url", []string{"target.kind"}, "is required for kind %s: the target's base URL such as \"https://auth.example.com\" (or give --target)", kind)
		}
	}
	// Which kinds each kind-specific field applies to.
	fields := []struct {
		name  string
		set   bool
		kinds []string
	}{
		{"token_endpoint", t.TokenEndpoint != "", oauth2Only}, {"client_id", t.ClientID != "", oauth2Only},
		{"client_secret", t.ClientSecret != "", oauth2Only}, {"client_secret_env", t.ClientSecretEnv != "", oauth2Only},
		{"auth_method", t.AuthMethod != "", oauth2Only}, {"scope", t.Scope != "", oauth2Only},
		{"users", t.Users != Users{}, oauth2OrHTTP}, {"credentials_file", t.CredentialsFile != "", oauth2Only},
		{"update_credentials", t.UpdateCredentials, oauth2Only},
		{"authorization_endpoint", t.AuthorizationEndpoint != "", oauth2Only},
		{"device_authorization_endpoint", t.DeviceAuthorizationEndpoint != "", oauth2Only},
		{"redirect_uri", t.RedirectURI != "", oauth2Only},
		{"api_url", t.APIURL != "", oauth2OrHTTP}, {"refresh_interval", t.RefreshInterval != 0, oauth2Only},
		{"expiry", t.Expiry != "", oauth2Only}, {"reuse_pattern", t.ReusePattern != "", oauth2Only},
		{"sign_in", !t.SignIn.isZero(), httpOnly}, {"refresh", !t.Refresh.isZero(), httpOnly},
		{"api", !t.API.isZero(), httpOnly}, {"response", t.Response != HTTPResponse{}, httpOnly},
		{"tls", t.TLS, builtinOnly},
	}
	for _, f := range fields {
		if f.set && !slices.Contains(f.kinds, kind) {
			v.badRel("target."+f.name, []string{"target.kind"}, "applies only to kind %s, got kind %s", strings.Join(f.kinds, " and "), kind)
		}
	}
	switch kind {
	case TargetOAuth2:
		p.validateOAuth2(v)
	case TargetHTTP:
		p.validateHTTP(v)
	}
}

var (
	builtinOnly  = []string{TargetBuiltin}
	oauth2Only   = []string{TargetOAuth2}
	httpOnly     = []string{TargetHTTP}
	oauth2OrHTTP = []string{TargetOAuth2, TargetHTTP}
)

func (r HTTPRequest) isZero() bool {
	return r.Method == "" && r.Path == "" && len(r.Headers) == 0 && r.Body == ""
}

// TemplateFuncs are the functions an http target's templates may call;
// profiles only checks that templates parse, load runs them.
var TemplateFuncs = template.FuncMap{
	"json": func(v any) (string, error) { b, err := json.Marshal(v); return string(b), err },
	"env":  func(string) string { return "" },
}

// validateHTTP checks the fields of an http target.
func (p Profile) validateHTTP(v *validator) {
	t := p.Target
	for _, r := range []struct {
		name     string
		req      HTTPRequest
		required bool
	}{{"sign_in", t.SignIn, true}, {"refresh", t.Refresh, true}, {"api", t.API, false}} {
		path := "target." + r.name
		if r.required && r.req.Path == "" {
			v.bad(path+".path", "is required for kind http: the %s request's path, joined to target.url (a template, such as \"/sessions/{{.SessionID}}/refresh\"), or an absolute URL", strings.ReplaceAll(r.name, "_", "-"))
		}
		if r.req.Method != "" {
			v.oneOf(path+".method", r.req.Method, []string{"GET", "POST", "PUT", "PATCH", "DELETE"})
		}
		checkTemplate(v, path+".path", r.req.Path)
		checkTemplate(v, path+".body", r.req.Body)
		for i, h := range r.req.Headers {
			hp := fmt.Sprintf("%s.headers[%d]", path, i)
			name, value, ok := strings.Cut(h, ":")
			if !ok || strings.TrimSpace(name) == "" || strings.ContainsAny(strings.TrimSpace(name), " \t") {
				v.bad(hp, "want \"Name: value\" such as \"Authorization: Bearer {{.RefreshToken}}\", got %s", Quote(h))
				continue
			}
			checkTemplate(v, hp, value)
		}
	}
	if t.Response.Token == "" {
		v.bad("target.response.token", "is required for kind http: where the sign-in and refresh answers carry the session token, a JSON path such as \"access_token\" or \"data.token\", or \"header:Name\"")
	}
	if t.Response.ExpiresIn != "" && t.Response.ExpiresAt != "" {
		v.badRel("target.response.expires_in", []string{"target.response.expires_at"}, "give expires_in or expires_at, not both")
	}
	for _, f := range []struct{ name, path string }{{"token", t.Response.Token}, {"refresh_token", t.Response.RefreshToken},
		{"session_id", t.Response.SessionID}, {"expires_in", t.Response.ExpiresIn}, {"expires_at", t.Response.ExpiresAt}} {
		if f.path == "" || strings.HasPrefix(f.path, "header:") {
			continue
		}
		if slices.Contains(strings.Split(f.path, "."), "") {
			v.bad("target.response."+f.name, "is not a JSON path (keys joined by dots, such as \"data.token\"): %q", f.path)
		}
	}
	if t.API.Path == "" && t.APIURL == "" && p.App.APICallsPerMinute > 0 {
		v.badRel("target.api.path", []string{"app.api_calls_per_minute"},
			"is required while app.api_calls_per_minute is %g: the protected API the apps call (or target.api_url, called with GET and the token as bearer); or set app.api_calls_per_minute: 0", p.App.APICallsPerMinute)
	}
	if t.Users != (Users{}) {
		validateUsers(v, t.Users, false)
	}
}

// checkTemplate reports a template that does not parse.
func checkTemplate(v *validator, path, text string) {
	if text == "" {
		return
	}
	if _, err := template.New(path).Funcs(TemplateFuncs).Option("missingkey=error").Parse(text); err != nil {
		v.bad(path, "is not a valid template: %s", strings.TrimPrefix(err.Error(), "template: "))
	}
}

// validateOAuth2 checks the fields of an oauth2 target.
func (p Profile) validateOAuth2(v *validator) {
	t := p.Target
	switch {
	case t.TokenEndpoint == "":
		v.bad("target.token_endpoint", "is required for kind oauth2: the token endpoint, a path such as \"/oauth2/token\" joined to target.url, or an absolute URL")
	case isAbsolute(t.TokenEndpoint):
		if err := checkURL(t.TokenEndpoint); err != "" {
			v.bad("target.token_endpoint", "%s", err)
		}
	case t.URL == "":
		v.badRel("target.token_endpoint", []string{"target.url"}, "is a path (%q): give target.url (or --target) to join it to, or an absolute URL", t.TokenEndpoint)
	}
	if t.ClientID == "" {
		v.bad("target.client_id", "is required for kind oauth2: the OAuth 2.0 client id")
	}
	if t.ClientSecret != "" && t.ClientSecretEnv != "" {
		v.badRel("target.client_secret", []string{"target.client_secret_env"}, "give client_secret or client_secret_env, not both")
	}
	if t.AuthMethod != "" {
		v.oneOf("target.auth_method", t.AuthMethod, []string{AuthMethodBasic, AuthMethodPost})
	}
	hasUsers := t.Users != Users{}
	if !hasUsers && t.CredentialsFile == "" {
		v.bad("target", "kind oauth2 needs first credentials: users (a pattern such as \"user%%d@example.com\" or a file, with a password) for the password grant, or a credentials_file of refresh tokens (stampede creds makes one)")
	}
	if hasUsers {
		validateUsers(v, t.Users, true)
	}
	for _, ep := range []struct{ path, value string }{
		{"target.authorization_endpoint", t.AuthorizationEndpoint}, {"target.device_authorization_endpoint", t.DeviceAuthorizationEndpoint},
	} {
		switch {
		case ep.value == "":
		case isAbsolute(ep.value):
			if err := checkURL(ep.value); err != "" {
				v.bad(ep.path, "%s", err)
			}
		case t.URL == "":
			v.badRel(ep.path, []string{"target.url"}, "is a path (%q): give target.url (or --target) to join it to, or an absolute URL", ep.value)
		}
	}
	if t.RedirectURI != "" {
		if u, err := url.Parse(t.RedirectURI); err != nil || u.Scheme == "" {
			v.bad("target.redirect_uri", "want the client's registered redirect URI, absolute, such as \"http://127.0.0.1/callback\" (nothing needs to listen there), got %q", t.RedirectURI)
		}
	}
	if t.UpdateCredentials && t.CredentialsFile == "" {
		v.badRel("target.update_credentials", []string{"target.credentials_file"}, "writes the newest refresh tokens back to target.credentials_file: give one (stampede creds makes it)")
	}
	v.nonNegative("target.refresh_interval", t.RefreshInterval)
	if t.Expiry != "" {
		v.oneOf("target.expiry", t.Expiry, []string{ExpiryAuto, ExpiryJWT, ExpiryExpiresIn})
	}
	if t.ReusePattern != "" {
		if _, err := regexp.Compile(t.ReusePattern); err != nil {
			v.bad("target.reuse_pattern", "is not a regular expression: %v", err)
		}
	}
	switch {
	case t.APIURL == "" && p.App.APICallsPerMinute > 0:
		v.badRel("target.api_url", []string{"app.api_calls_per_minute"},
			"is required while app.api_calls_per_minute is %g: the protected endpoint the apps call with the access token (a path joined to target.url, or an absolute URL); or set app.api_calls_per_minute: 0", p.App.APICallsPerMinute)
	case t.APIURL != "" && isAbsolute(t.APIURL):
		if err := checkURL(t.APIURL); err != "" {
			v.bad("target.api_url", "%s", err)
		}
	case t.APIURL != "" && t.URL == "":
		v.badRel("target.api_url", []string{"target.url"}, "is a path (%q): give target.url (or --target) to join it to, or an absolute URL", t.APIURL)
	}
}

// isAbsolute reports whether s looks like a URL with a scheme rather than a path.
func isAbsolute(s string) bool { return strings.Contains(s, "://") }

// checkURL says what is wrong with an absolute http(s) URL; "" when nothing.
func checkURL(s string) string {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return fmt.Sprintf("invalid URL %q: %v", s, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Sprintf("URL %q must start with http:// or https://", s)
	case u.Host == "":
		return fmt.Sprintf("URL %q has no host", s)
	}
	return ""
}

// validateUsers checks target.users; needPassword requires one for a pattern.
func validateUsers(v *validator, u Users, needPassword bool) {
	switch {
	case u.Pattern == "" && u.File == "":
		v.bad("target.users", "give pattern (such as \"user%%d@example.com\") or file")
	case u.Pattern != "" && u.File != "":
		v.badRel("target.users.pattern", []string{"target.users.file"}, "give pattern or file, not both")
	case u.Pattern != "":
		// No verb is one user for every client (warned about when the run
		// starts); one verb must take the client's number.
		verbs := strings.Count(strings.ReplaceAll(u.Pattern, "%%", ""), "%")
		if verbs > 1 || verbs == 1 && strings.Contains(fmt.Sprintf(u.Pattern, 1), "%!") {
			v.bad("target.users.pattern", "must hold at most one verb, a %%d for the client's number (such as \"user%%d@example.com\"), got %q", u.Pattern)
		}
	}
	if u.File != "" && u.Offset != 0 {
		v.badRel("target.users.offset", []string{"target.users.file"}, "applies only to pattern")
	}
	if u.Offset < 0 {
		v.bad("target.users.offset", "must not be negative, got %d", u.Offset)
	}
	if u.Password != "" && u.PasswordEnv != "" {
		v.badRel("target.users.password", []string{"target.users.password_env"}, "give password or password_env, not both")
	}
	if needPassword && u.Password == "" && u.PasswordEnv == "" && u.Pattern != "" {
		v.bad("target.users", "a pattern needs password_env (the name of an environment variable holding the users' password) or password")
	}
}
