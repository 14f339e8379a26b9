package target

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"

	"github.com/stampede-load/stampede/profiles"
)

// OAuth2FromProfile turns the profile's oauth2 target into the client's
// configuration: secrets from the environment (getenv), users and
// credentials from their files, endpoints joined to the base URL. Problems
// are one *ConfigError naming each field; warnings go to warn (nil
// discards them).
func OAuth2FromProfile(p profiles.Profile, hc *http.Client, getenv func(string) (string, bool), warn io.Writer) (OAuth2Config, error) {
	t := p.Target
	cfg := OAuth2Config{
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
		users, err := ReadUsersFile(t.Users.File, cfg.Password)
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
		creds, err := ReadCredentialsFile(t.CredentialsFile)
		if err != nil {
			errs = append(errs, fmt.Errorf("target.credentials_file: %w", err))
		}
		cfg.Credentials = creds
	}
	if len(errs) > 0 {
		return cfg, configError(errors.Join(errs...))
	}
	return cfg, nil
}

// HTTPFromProfile turns the profile's http target into the client's
// configuration: request paths joined to the base URL, users with their
// password from the environment (getenv). Problems are *ConfigError naming
// the field.
func HTTPFromProfile(p profiles.Profile, hc *http.Client, getenv func(string) (string, bool)) (HTTPTargetConfig, error) {
	t := p.Target
	spec := func(r profiles.HTTPRequest) HTTPRequestSpec {
		s := HTTPRequestSpec{Method: r.Method, Headers: r.Headers, Body: r.Body}
		if r.Path != "" {
			s.URL = joinURL(t.URL, r.Path)
		}
		return s
	}
	cfg := HTTPTargetConfig{
		SignIn: spec(t.SignIn), Refresh: spec(t.Refresh), API: spec(t.API),
		Response: HTTPResponseSpec{Token: t.Response.Token, RefreshToken: t.Response.RefreshToken,
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
				return cfg, configErrorf("target.users.password_env: the environment variable %s is not set", u.PasswordEnv)
			}
			password = v
		}
		var list []OAuth2User
		if u.File != "" {
			var err error
			if list, err = ReadUsersFile(u.File, password); err != nil {
				return cfg, configErrorf("target.users.file: %w", err)
			}
		}
		cfg.User = func(i int) (OAuth2User, bool) {
			if len(list) > 0 {
				return list[i%len(list)], true
			}
			return OAuth2User{Name: FormatUser(u.Pattern, i+u.Offset), Password: password}, true
		}
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
