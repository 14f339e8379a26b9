package adminapi

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestFaultsAndRotationRoundTripOnTheWire(t *testing.T) {
	f := Faults{TokenLatency: 300 * time.Millisecond, Rate429: 0.5, RetryAfter: 2 * time.Second, Spurious401: 0.1, ClockOffset: -time.Hour}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"token_latency":"300ms","rate_429":0.5,"retry_after":"2s","rate_503":0,"spurious_401":0.1,"clock_offset":"-1h0m0s"}`
	if string(b) != want {
		t.Errorf("faults on the wire = %s, want %s", b, want)
	}
	var back Faults
	if err := json.Unmarshal(b, &back); err != nil || back != f {
		t.Errorf("read back %+v, %v; want %+v", back, err, f)
	}
	r := Rotation{Enabled: true, Grace: 2 * time.Second}
	if b, _ = json.Marshal(r); string(b) != `{"enabled":true,"grace":"2s"}` {
		t.Errorf("rotation on the wire = %s", b)
	}
	var rb Rotation
	if err := json.Unmarshal(b, &rb); err != nil || rb != r {
		t.Errorf("read back %+v, %v; want %+v", rb, err, r)
	}
}

func TestWireErrorsNameTheField(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		jsonField string
		msg       string
	}{
		{"unknown field", json.Unmarshal([]byte(`{"rate_42":1}`), new(Faults)), "rate_42",
			`backend: Faults: unknown field "rate_42"; allowed: token_latency, rate_429, retry_after, rate_503, spurious_401, clock_offset`},
		{"not a duration", json.Unmarshal([]byte(`{"grace":5}`), new(Rotation)), "grace",
			`backend: Rotation.Grace (grace) must be a duration string such as "300ms" or "2s", got 5`},
		{"rate out of range", Faults{Rate503: 1.5}.Validate(), "rate_503",
			"backend: Faults.Rate503 (rate_503) must be within [0,1], got 1.5"},
		{"negative grace", Rotation{Grace: -time.Second}.Validate(), "grace",
			"backend: Rotation.Grace (grace) must not be negative, got -1s"},
	}
	for _, tt := range tests {
		var fe *FieldError
		if !errors.As(tt.err, &fe) || fe.JSONField != tt.jsonField || tt.err.Error() != tt.msg {
			t.Errorf("%s: %v, want a FieldError for %s: %s", tt.name, tt.err, tt.jsonField, tt.msg)
		}
	}
	if err := (Faults{ClockOffset: -time.Hour}).Validate(); err != nil {
		t.Errorf("a negative clock offset is allowed: %v", err)
	}
}
