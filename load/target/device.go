package target

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/stampede-load/stampede/load/model"
)

// DeviceGrantType is the grant_type of the device access token request
// (RFC 8628 §3.4).
const DeviceGrantType = "urn:ietf:params:oauth:grant-type:device_code"

// Outcome codes of the device authorization grant besides the provider's
// (access_denied, expired_token).
const (
	// CodeDeviceExpired: the device code expired before the user approved.
	CodeDeviceExpired = "expired_token"
	// CodeNoDeviceCode: the device authorization answer held no
	// device_code, user_code or verification_uri.
	CodeNoDeviceCode = "no_device_code"
)

// DevicePrompt is what the user must do to approve one device code: open
// VerificationURI and enter UserCode (or open VerificationURIComplete,
// which carries the code).
type DevicePrompt struct {
	VerificationURI, VerificationURIComplete, UserCode string
	ExpiresIn                                          time.Duration
}

// DeviceFlow configures DeviceGrant.
type DeviceFlow struct {
	// DeviceAuthorizationURL is the device authorization endpoint, absolute.
	DeviceAuthorizationURL string
	// Prompt is told, once per device code, what the user must do.
	Prompt func(DevicePrompt)
	// Sleep waits d or until ctx ends (an error then); nil sleeps on a
	// timer. Tests pass one that does not wait.
	Sleep func(ctx context.Context, d time.Duration) error
}

// deviceAuthorization is the device authorization answer (RFC 8628 §3.2).
type deviceAuthorization struct {
	DeviceCode              string          `json:"device_code"`
	UserCode                string          `json:"user_code"`
	VerificationURI         string          `json:"verification_uri"`
	VerificationURL         string          `json:"verification_url"` // Google's spelling
	VerificationURIComplete string          `json:"verification_uri_complete"`
	ExpiresIn               json.RawMessage `json:"expires_in"`
	Interval                json.RawMessage `json:"interval"`
}

// DeviceGrant signs a user in with the device authorization grant (RFC
// 8628): it asks for a device code, tells flow.Prompt once where the user
// approves it, then polls the token endpoint every interval (5 s unless
// the provider says otherwise), 5 s slower after each slow_down, until the
// user approves, denies or the code expires. The answer must carry a
// refresh token.
func (o *OAuth2) DeviceGrant(ctx context.Context, flow DeviceFlow) (Credentials, model.Outcome) {
	sleep := flow.Sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	form := url.Values{"client_id": {o.cfg.ClientID}}
	if o.cfg.Scope != "" {
		form.Set("scope", o.cfg.Scope)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, flow.DeviceAuthorizationURL, strings.NewReader(o.authenticate(form).Encode()))
	if err != nil {
		return Credentials{}, model.Outcome{Class: model.ClassOther, Code: "bad_request"}
	}
	o.authenticateHeader(req)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	_, body, out, done := exchange(ctx, o.cfg.Client, req)
	if done {
		return Credentials{}, out
	}
	var da deviceAuthorization
	var tr tokenResponse
	if out.Class != model.ClassOK {
		if json.Unmarshal(body, &tr) == nil && tr.Error != "" {
			out.Code = o.errorCode(tr.Error, tr.ErrorDescription)
		}
		return Credentials{}, out
	}
	if err := json.Unmarshal(body, &da); err != nil || da.DeviceCode == "" || da.UserCode == "" || (da.VerificationURI == "" && da.VerificationURL == "") {
		return Credentials{}, model.Outcome{Class: model.ClassOther, Status: out.Status, Code: CodeNoDeviceCode}
	}
	if da.VerificationURI == "" {
		da.VerificationURI = da.VerificationURL
	}
	interval := 5 * time.Second // RFC 8628 §3.2: the default
	if s, ok := expiresIn(da.Interval); ok {
		interval = time.Duration(s * float64(time.Second))
	}
	life := 10 * time.Minute
	if s, ok := expiresIn(da.ExpiresIn); ok {
		life = time.Duration(s * float64(time.Second))
	}
	if flow.Prompt != nil {
		flow.Prompt(DevicePrompt{VerificationURI: da.VerificationURI, VerificationURIComplete: da.VerificationURIComplete,
			UserCode: da.UserCode, ExpiresIn: life})
	}
	for waited := time.Duration(0); waited < life; waited += interval {
		if err := sleep(ctx, interval); err != nil {
			return Credentials{}, model.Outcome{Class: model.ClassCancelled}
		}
		cr, out := o.token(ctx, url.Values{"grant_type": {DeviceGrantType}, "device_code": {da.DeviceCode}})
		switch {
		case out.Class == model.ClassOK && cr.ClientToken == "":
			return Credentials{}, model.Outcome{Class: model.ClassOther, Status: out.Status, Code: CodeNoRefreshToken}
		case out.Class == model.ClassOK:
			return cr, out
		case out.Code == "authorization_pending":
		case out.Code == "slow_down":
			interval += 5 * time.Second // RFC 8628 §3.5
		case out.Class.Retryable():
			// A passing failure: poll again at the interval.
		default:
			return Credentials{}, out // access_denied, expired_token, ...
		}
	}
	return Credentials{}, model.Outcome{Class: model.ClassOther, Code: CodeDeviceExpired}
}

// sleepCtx waits d, or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
