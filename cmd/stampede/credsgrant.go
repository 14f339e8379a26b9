package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/stampede-load/stampede/load/model"
	"github.com/stampede-load/stampede/load/target"
	"github.com/stampede-load/stampede/profiles"
)

// The grants stampede creds mints refresh tokens by (--grant).
const (
	grantPassword = "password"
	grantCode     = "code"
	grantDevice   = "device"
)

// grantNeeds lists what the profile's target lacks for grant, each
// naming its field.
func grantNeeds(profile, grant string, t profiles.Target) []error {
	var errs []error
	switch grant {
	case grantCode:
		if t.AuthorizationEndpoint == "" {
			errs = append(errs, fmt.Errorf("--profile %s: target.authorization_endpoint: --grant code needs the provider's authorization endpoint, such as \"/authorize\"", profile))
		}
		if t.RedirectURI == "" {
			errs = append(errs, fmt.Errorf("--profile %s: target.redirect_uri: --grant code needs a redirect URI registered for the client, such as \"http://127.0.0.1/callback\" (nothing needs to listen there)", profile))
		}
	case grantDevice:
		if t.DeviceAuthorizationEndpoint == "" {
			errs = append(errs, fmt.Errorf("--profile %s: target.device_authorization_endpoint: --grant device needs the provider's device authorization endpoint, such as \"/device/code\"", profile))
		}
	}
	return errs
}

// grantFunc is how Mint signs client i in under --grant, and how long one
// sign-in may take: a request timeout for the password grant, a login's
// few pages for the code flow, and a person's approval for the device
// grant.
func (o *credsOptions) grantFunc(oa *target.OAuth2, p profiles.Profile) (func(context.Context, int, target.OAuth2User) (target.Credentials, model.Outcome), time.Duration) {
	rt := p.SDK.RequestTimeout.D()
	switch o.grant {
	case grantCode:
		flow := target.CodeFlow{AuthorizeURL: joinTargetURL(p.Target.URL, p.Target.AuthorizationEndpoint), RedirectURI: p.Target.RedirectURI}
		return func(ctx context.Context, _ int, u target.OAuth2User) (target.Credentials, model.Outcome) {
			return oa.CodeGrant(ctx, flow, u)
		}, max(3*rt, 30*time.Second)
	case grantDevice:
		var mu sync.Mutex // one prompt at a time on the terminal
		return func(ctx context.Context, i int, _ target.OAuth2User) (target.Credentials, model.Outcome) {
			flow := target.DeviceFlow{DeviceAuthorizationURL: joinTargetURL(p.Target.URL, p.Target.DeviceAuthorizationEndpoint), Sleep: o.deviceSleep,
				Prompt: func(dp target.DevicePrompt) {
					mu.Lock()
					defer mu.Unlock()
					if dp.VerificationURIComplete != "" {
						fmt.Fprintf(o.err, "stampede creds: client %d: open %s to approve (code %s; expires in %s)\n", i, dp.VerificationURIComplete, dp.UserCode, dp.ExpiresIn)
					} else {
						fmt.Fprintf(o.err, "stampede creds: client %d: open %s and enter the code %s (expires in %s)\n", i, dp.VerificationURI, dp.UserCode, dp.ExpiresIn)
					}
				}}
			cr, out := oa.DeviceGrant(ctx, flow)
			if out.Class == model.ClassOK && cr.SessionID == "" {
				cr.SessionID = fmt.Sprintf("device-%d", i)
			}
			return cr, out
		}, time.Hour
	}
	return func(ctx context.Context, _ int, u target.OAuth2User) (target.Credentials, model.Outcome) {
		return oa.PasswordGrant(ctx, u)
	}, rt
}

// joinTargetURL is ref when absolute, else ref joined to base.
func joinTargetURL(base, ref string) string {
	if strings.Contains(ref, "://") || base == "" {
		return ref
	}
	return strings.TrimRight(base, "/") + "/" + strings.TrimLeft(ref, "/")
}
