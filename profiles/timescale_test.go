package profiles

import (
	"strings"
	"testing"
	"time"
)

func TestCheckTimeScale(t *testing.T) {
	p := Default() // ×10, 10 s timeout, 60 s tokens
	c := p.CheckTimeScale()
	if !c.Distorted || c.TimeoutPerLifetime < 1.66 || c.TimeoutPerLifetime > 1.67 || c.FaithfulTimeScale != 3 {
		t.Errorf("default: %+v, want distorted, 1.67 lifetimes, faithful at 3", c)
	}
	p.TimeScale = 3 // exactly half a lifetime: faithful
	if c := p.CheckTimeScale(); c.Distorted || c.Warning() != "" {
		t.Errorf("×3: %+v, want not distorted", c)
	}
	p.TimeScale, p.SDK.RequestTimeout = 1, Duration(40*time.Second)
	c = p.CheckTimeScale()
	if !c.Distorted || c.FaithfulTimeScale != 0 || !strings.Contains(c.Warning(), "shorten sdk.request_timeout to at most 30s") {
		t.Errorf("a 40 s timeout at ×1: %+v, %q", c, c.Warning())
	}
	p.Target.RefreshInterval = Duration(10 * time.Minute) // the lifetime an oauth2 target refreshes at
	if c := p.CheckTimeScale(); c.Distorted || c.TokenLifetime != p.Target.RefreshInterval {
		t.Errorf("refresh interval: %+v", c)
	}
	p.Target = Target{Kind: TargetOAuth2} // a provider's own lifetimes: nothing to compare with
	p.TimeScale = 10
	if c := p.CheckTimeScale(); c.Distorted || c.TokenLifetime != 0 || c.Warning() != "" {
		t.Errorf("oauth2 target without refresh_interval: %+v", c)
	}
}
