package profiles

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDefaultIsValid(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatalf("default profile invalid: %v", err)
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	p := Default()
	p.Clients = 0
	p.Duration = Duration(-time.Second)
	p.TimeScale = 0.5
	p.SDK.TokenMode = "eager"
	p.Backend.Signing = "HS256"
	err := p.Validate()
	if err == nil {
		t.Fatal("want errors")
	}
	for _, want := range []string{"clients:", "duration:", "time_scale:", "sdk.token_mode:", "backend.signing:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	if n := len(strings.Split(err.Error(), "\n")); n != 5 {
		t.Errorf("want 5 problems, one per line, got %d: %q", n, err)
	}
}

func TestRefreshAheadMustBeShorterThanLifetime(t *testing.T) {
	p := Default()
	p.SDK.RefreshAhead = p.Backend.TokenLifetime
	if err := p.Validate(); err == nil || !strings.Contains(err.Error(), "sdk.refresh_ahead") {
		t.Fatalf("want sdk.refresh_ahead error, got %v", err)
	}
}

func TestScale(t *testing.T) {
	p := Default()
	if got := p.Scale(p.Backend.TokenLifetime); got != 6*time.Second {
		t.Fatalf("60s at scale 10 = %s, want 6s", got)
	}
}

func TestDurationJSONRoundTrip(t *testing.T) {
	b, err := json.Marshal(Default())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"duration":"1m0s"`) {
		t.Fatalf("duration not written as a string: %s", b)
	}
	var back Profile
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, Default()) {
		t.Fatalf("round trip changed the profile:\n%+v\n%+v", back, Default())
	}
	if err := json.Unmarshal([]byte(`{"duration":"soon"}`), &back); err == nil {
		t.Fatal("want an error for a bad duration")
	}
}

func TestBuiltin(t *testing.T) {
	if _, err := Builtin("default"); err != nil {
		t.Fatal(err)
	}
	if _, err := Builtin("nope"); err == nil || !strings.Contains(err.Error(), "default") {
		t.Fatalf("want error listing built-ins, got %v", err)
	}
}
