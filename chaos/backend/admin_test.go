package backend

import (
	"errors"
	"maps"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestAdminOnUnknownSession(t *testing.T) {
	b, _ := newTestBackend(t, Config{})
	if err := b.Revoke("sess_nope"); !errors.Is(err, ErrSessionNotFound) {
		t.Errorf("Revoke = %v, want ErrSessionNotFound", err)
	}
	if err := b.Remove("sess_nope"); !errors.Is(err, ErrSessionNotFound) {
		t.Errorf("Remove = %v, want ErrSessionNotFound", err)
	}
	for _, action := range []string{"revoke", "remove"} {
		expectError(t, do(t, b, http.MethodPost, "/admin/sessions/sess_nope/"+action, "", ""), http.StatusNotFound, CodeSessionNotFound)
	}
}

func TestRevokeFractionRevokesRoundedShareOfActive(t *testing.T) {
	b, clock := newTestBackend(t, Config{Signing: SigningEdDSA, MaxLifetime: time.Hour})
	signIn(t, b) // expires before the revocations
	clock.Advance(30 * time.Minute)
	var sessions []signInResponse
	for range 10 {
		sessions = append(sessions, signIn(t, b))
	}
	clock.Advance(30 * time.Minute) // the first session expires; 10 active

	n, err := b.RevokeFraction(0.25) // round(2.5) = 3
	if err != nil || n != 3 {
		t.Fatalf("RevokeFraction(0.25) = %d, %v; want 3", n, err)
	}
	rec := do(t, b, http.MethodPost, "/admin/revoke", "", `{"fraction":0.5}`) // round(3.5) = 4 of 7
	if rec.Code != http.StatusOK {
		t.Fatalf("admin revoke: status %d, body %s", rec.Code, rec.Body)
	}
	if got := decode[map[string]int](t, rec)["revoked"]; got != 4 {
		t.Errorf("revoked = %d, want 4", got)
	}
	if n, _ := b.RevokeFraction(0); n != 0 {
		t.Errorf("RevokeFraction(0) = %d, want 0", n)
	}
	want := map[string]int64{SessionActive: 3, SessionRevoked: 7, SessionExpired: 1}
	if got := b.Stats().Sessions; !maps.Equal(got, want) {
		t.Errorf("Sessions = %v, want %v", got, want)
	}
	if n, _ := b.RevokeFraction(1); n != 3 {
		t.Errorf("RevokeFraction(1) = %d, want 3", n)
	}
	revoked := 0
	for _, si := range sessions {
		if rec := mintToken(t, b, si); rec.Code == http.StatusUnauthorized {
			expectError(t, rec, http.StatusUnauthorized, CodeSessionRevoked)
			revoked++
		}
	}
	if revoked != 10 {
		t.Errorf("%d sessions refuse to mint as revoked, want 10", revoked)
	}
}

func TestRevokeFractionRejectsOutOfRange(t *testing.T) {
	b, _ := newTestBackend(t, Config{})
	for _, f := range []float64{-0.01, 1.01, math.NaN()} {
		if _, err := b.RevokeFraction(f); err == nil {
			t.Errorf("RevokeFraction(%v): no error", f)
		}
	}
	for _, body := range []string{`{"fraction":1.5}`, `{"fraction":-1}`, `{}`, ``} {
		e := expectError(t, do(t, b, http.MethodPost, "/admin/revoke", "", body), http.StatusBadRequest, CodeInvalidRequest)
		if !strings.Contains(e.Message, "fraction") {
			t.Errorf("body %q: message %q does not name the field", body, e.Message)
		}
	}
}

func TestKeyIDMatchesRotation(t *testing.T) {
	b, _ := newTestBackend(t, Config{})
	first := b.KeyID()
	if first == "" || first != b.keys.load().signing.kid {
		t.Fatalf("KeyID() = %q, want the signing kid", first)
	}
	rec := do(t, b, http.MethodPost, "/admin/keys/rotate", "", "")
	if kid := decode[map[string]string](t, rec)["kid"]; kid == first || kid != b.KeyID() {
		t.Errorf("rotate answered kid %q; KeyID() = %q, first %q", kid, b.KeyID(), first)
	}
}

func TestFieldErrorMessages(t *testing.T) {
	tests := []struct {
		err         *FieldError
		goMsg, wire string
	}{
		{&FieldError{Type: "Faults", Field: "Rate429", JSONField: "rate_429", Problem: "must be within [0,1], got 1.5"},
			"backend: Faults.Rate429 (rate_429) must be within [0,1], got 1.5", "rate_429 must be within [0,1], got 1.5"},
		{&FieldError{Type: "Rotation", JSONField: "nope", Problem: "allowed: enabled, grace"},
			`backend: Rotation: unknown field "nope"; allowed: enabled, grace`, `unknown field "nope"; allowed: enabled, grace`},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.goMsg {
			t.Errorf("Error() = %q, want %q", got, tt.goMsg)
		}
		if got := tt.err.WireMessage(); got != tt.wire {
			t.Errorf("WireMessage() = %q, want %q", got, tt.wire)
		}
	}
}
