package profiles

import (
	"strings"
	"testing"
	"time"
)

func TestSessionFieldsAreChecked(t *testing.T) {
	tests := []struct {
		name string
		edit func(p *Profile)
		want string // "" valid
	}{
		{"max lifetime at the article's lower bound", func(p *Profile) { p.Backend.MaxLifetime = Duration(5 * time.Minute) }, ""},
		{"max lifetime at 10 years", func(p *Profile) { p.Backend.MaxLifetime = MaxSessionLifetime }, ""},
		{"max lifetime under 5 minutes", func(p *Profile) { p.Backend.MaxLifetime = Duration(4 * time.Minute) },
			"backend.max_lifetime: must be from 5m to 10 years (87600h), the range the SDK's dashboard allows, got 4m0s"},
		{"max lifetime over 10 years", func(p *Profile) { p.Backend.MaxLifetime = MaxSessionLifetime + Duration(time.Hour) },
			"backend.max_lifetime: must be from 5m to 10 years"},
		{"token cache", func(p *Profile) { p.SDK.TokenCache = "disk" },
			`sdk.token_cache: must be one of secure, memory, none, got "disk"`},
		{"offline retries", func(p *Profile) { p.SDK.Retry.MaxRetriesOffline = -1 },
			"sdk.retry.max_retries_offline: must not be negative"},
		{"sign-in method", func(p *Profile) { p.App.SignIn.Method = "magic_link" },
			`app.sign_in.method: must be one of password, browser_sso, native_oauth, got "magic_link"`},
		{"sign-in rates add up past 1", func(p *Profile) { p.App.SignIn.CancelRate, p.App.SignIn.FailureRate = 0.7, 0.4 },
			"app.sign_in.failure_rate: with cancel_rate (0.7) must not exceed 1, got 0.4"},
		{"sign-in latency", func(p *Profile) { p.App.SignIn.Latency = Dist{Dist: DistLognormal, Value: Duration(time.Second)} },
			"app.sign_in.latency.sigma: must be greater than 0"},
		{"a whole sign-in", func(p *Profile) {
			p.App.SignIn = SignIn{Method: SignInBrowserSSO, Latency: Dist{Dist: DistExponential, Value: Duration(20 * time.Second)}, CancelRate: 0.3, FailureRate: 0.05}
		}, ""},
	}
	for _, tt := range tests {
		p := Default()
		tt.edit(&p)
		err := p.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: got %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestClerkPresetFailsFastOffline(t *testing.T) {
	s, _ := SDKPreset(SDKClerk)
	if s.Retry.MaxRetries != 8 || s.Retry.MaxRetriesOffline != 3 {
		t.Errorf("clerk retries %d online, %d offline; want 8 and 3", s.Retry.MaxRetries, s.Retry.MaxRetriesOffline)
	}
	if d := Default().SDK; d.TokenCache != TokenCacheSecure || !d.TreatPendingAsSignedOut {
		t.Errorf("defaults: token_cache %q, treat_pending_as_signed_out %v; want secure and true (the SDK's)", d.TokenCache, d.TreatPendingAsSignedOut)
	}
}

func TestChoiceDistribution(t *testing.T) {
	p, err := Parse("gaps.yaml", []byte(`name: gaps
app:
  lifecycle:
    model: background_foreground
    foreground: {dist: fixed, value: 2m}
    background: {dist: choice, values: [1m, 6m, 3h]}
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []Duration{Duration(time.Minute), Duration(6 * time.Minute), Duration(3 * time.Hour)}
	if got := p.App.Lifecycle.Background; got.Dist != DistChoice || len(got.Values) != 3 || got.Values[2] != want[2] {
		t.Errorf("background = %+v, want a choice of %v", got, want)
	}
	_, err = Parse("gaps.yaml", []byte(`name: gaps
app:
  lifecycle:
    model: background_foreground
    foreground: {dist: fixed, value: 2m, values: [1m]}
    background: {dist: choice}
`))
	for _, w := range []string{"gaps.yaml:5: app.lifecycle.foreground.values: applies only to dist choice", "gaps.yaml:6: app.lifecycle.background.values: is required with dist choice"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("got %v, want %q", err, w)
		}
	}
}
