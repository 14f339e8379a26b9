package backend

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestNumericTimeMarshalsMilliseconds(t *testing.T) {
	tests := []struct {
		t    time.Time
		want string
	}{
		{epoch, "1700000000"},
		{epoch.Add(250 * time.Millisecond), "1700000000.25"},
		{epoch.Add(time.Millisecond), "1700000000.001"},
		{epoch.Add(100 * time.Millisecond), "1700000000.1"},
		{epoch.Add(999 * time.Millisecond), "1700000000.999"},
		{time.Unix(-2, 500e6), "-1.5"},
	}
	for _, tt := range tests {
		got, err := json.Marshal(newNumericTime(tt.t))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tt.want {
			t.Errorf("marshal %v = %s, want %s", tt.t, got, tt.want)
		}
	}
}

func TestNewNumericTimeTruncatesBelowMilliseconds(t *testing.T) {
	got := newNumericTime(epoch.Add(1999 * time.Microsecond))
	if want := epoch.Add(time.Millisecond); !got.Equal(want) {
		t.Errorf("newNumericTime = %v, want %v", got.Time, want)
	}
}

func TestNumericTimeUnmarshalsAnyNumber(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
	}{
		{"1700000000", epoch},
		{"1700000000.0", epoch},
		{"1700000000.25", epoch.Add(250 * time.Millisecond)},
		{"1700000000.123456789", epoch.Add(123456789)},
		{"1700000000.1234567891", epoch.Add(123456789)},
		{"1.7e9", epoch},
		{"1.70000000025E9", epoch.Add(250 * time.Millisecond)},
		{"-1.5", time.Unix(-2, 500e6)},
	}
	for _, tt := range tests {
		var n numericTime
		if err := json.Unmarshal([]byte(tt.in), &n); err != nil {
			t.Errorf("unmarshal %s: %v", tt.in, err)
			continue
		}
		if !n.Equal(tt.want) {
			t.Errorf("unmarshal %s = %v, want %v", tt.in, n.Time, tt.want)
		}
	}
}

func TestNumericTimeRejectsNonNumbers(t *testing.T) {
	for _, in := range []string{`"1700000000"`, `true`, `{}`, `1e400`} {
		var n numericTime
		err := json.Unmarshal([]byte(in), &n)
		if err == nil {
			t.Errorf("unmarshal %s: no error", in)
		} else if !errors.Is(err, errNumericTime) {
			t.Errorf("unmarshal %s: %v, want errNumericTime", in, err)
		}
	}
}

func TestClaimsKeepMillisecondsThroughJSON(t *testing.T) {
	exp := epoch.Add(1250 * time.Millisecond)
	in := &sessionClaims{Issuer: "iss", Subject: "user_1", SessionID: "sess_1",
		IssuedAt: newNumericTime(epoch), NotBefore: newNumericTime(epoch), ExpiresAt: newNumericTime(exp), FVA: []int{0, -1}}
	raw, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"iss":"iss","sub":"user_1","sid":"sess_1","iat":1700000000,"nbf":1700000000,"exp":1700000001.25,"fva":[0,-1]}`
	if string(raw) != want {
		t.Errorf("claims JSON = %s, want %s", raw, want)
	}
	var out sessionClaims
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	got, err := out.GetExpirationTime()
	if err != nil || !got.Equal(exp) {
		t.Errorf("GetExpirationTime = %v, %v; want %v", got, err, exp)
	}
	if jwt.TimePrecision != time.Second {
		t.Errorf("jwt.TimePrecision = %v; the backend must not change it", jwt.TimePrecision)
	}
}

func TestClaimsGettersWithoutDates(t *testing.T) {
	var c sessionClaims
	for name, get := range map[string]func() (*jwt.NumericDate, error){
		"exp": c.GetExpirationTime, "iat": c.GetIssuedAt, "nbf": c.GetNotBefore,
	} {
		if d, err := get(); d != nil || err != nil {
			t.Errorf("%s getter = %v, %v; want nil, nil", name, d, err)
		}
	}
}
