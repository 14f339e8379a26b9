package backend

import (
	"fmt"
	"maps"
	"net/http"
	"testing"
	"time"
)

func TestEverySessionStatusIsReportedByTheTokenEndpoint(t *testing.T) {
	tests := []struct {
		status string
		code   string
		cause  func(t *testing.T, b *Backend, clock *fakeClock, si signInResponse)
	}{
		{SessionExpired, CodeSessionExpired, func(t *testing.T, b *Backend, clock *fakeClock, si signInResponse) {
			for range 6 { // active all along: a token every 9 minutes
				clock.Advance(9 * time.Minute)
				if rec := mintToken(t, b, si); rec.Code != http.StatusOK {
					t.Fatalf("mint: status %d", rec.Code)
				}
			}
			clock.Advance(6 * time.Minute) // exactly MaxLifetime
		}},
		{SessionAbandoned, CodeSessionAbandoned, func(t *testing.T, b *Backend, clock *fakeClock, si signInResponse) {
			clock.Advance(10 * time.Minute) // exactly InactivityTimeout
		}},
		{SessionRevoked, CodeSessionRevoked, func(t *testing.T, b *Backend, clock *fakeClock, si signInResponse) {
			if err := b.Revoke(si.Session.ID); err != nil {
				t.Fatal(err)
			}
		}},
		{SessionEnded, CodeSessionEnded, func(t *testing.T, b *Backend, clock *fakeClock, si signInResponse) {
			if rec := do(t, b, http.MethodPost, "/v1/client/sessions/"+si.Session.ID+"/end", si.ClientToken, ""); rec.Code != http.StatusOK {
				t.Fatalf("end: status %d, body %s", rec.Code, rec.Body)
			}
		}},
		{SessionRemoved, CodeSessionRemoved, func(t *testing.T, b *Backend, clock *fakeClock, si signInResponse) {
			rec := do(t, b, http.MethodPost, "/admin/sessions/"+si.Session.ID+"/remove", "", "")
			if rec.Code != http.StatusOK || decode[sessionJSON](t, rec).Status != SessionRemoved {
				t.Fatalf("remove: status %d, body %s", rec.Code, rec.Body)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.status, func(t *testing.T) {
			b, clock := newTestBackend(t, Config{Signing: SigningEdDSA, MaxLifetime: time.Hour, InactivityTimeout: 10 * time.Minute})
			si := signIn(t, b)
			if rec := mintToken(t, b, si); rec.Code != http.StatusOK {
				t.Fatalf("mint while active: status %d, body %s", rec.Code, rec.Body)
			}
			tt.cause(t, b, clock, si)
			e := expectError(t, mintToken(t, b, si), http.StatusUnauthorized, tt.code)
			if want := fmt.Sprintf("session %s is %s", si.Session.ID, tt.status); e.Message != want {
				t.Errorf("message = %q, want %q", e.Message, want)
			}
			expectError(t, do(t, b, http.MethodPost, "/v1/client/sessions/"+si.Session.ID+"/touch", si.ClientToken, ""),
				http.StatusUnauthorized, tt.code)
			if got := b.Stats().Sessions; !maps.Equal(got, map[string]int64{tt.status: 1}) {
				t.Errorf("Stats().Sessions = %v, want %s: 1", got, tt.status)
			}
		})
	}
}

// Read hours later, a session whose inactivity timeout and maximum
// lifetime have both passed has the status that lapsed first: a phone
// back from a long background gap finds its session abandoned if it was
// inactive too long before it would have expired.
func TestTheStatusThatLapsedFirstWins(t *testing.T) {
	b, clock := newTestBackend(t, Config{MaxLifetime: time.Hour, InactivityTimeout: time.Minute})
	si := signIn(t, b)
	clock.Advance(2 * time.Hour)
	expectError(t, mintToken(t, b, si), http.StatusUnauthorized, CodeSessionAbandoned)

	si = signIn(t, b)
	for range 119 { // active until 59.5 minutes: abandon at 60.5 minutes, after expiry
		clock.Advance(30 * time.Second)
		if rec := mintToken(t, b, si); rec.Code != http.StatusOK {
			t.Fatalf("mint: status %d", rec.Code)
		}
	}
	clock.Advance(2 * time.Hour)
	expectError(t, mintToken(t, b, si), http.StatusUnauthorized, CodeSessionExpired)
}

func TestSessionActiveUntilJustBeforeMaxLifetime(t *testing.T) {
	b, clock := newTestBackend(t, Config{MaxLifetime: time.Hour})
	si := signIn(t, b)
	clock.Advance(time.Hour - time.Millisecond)
	if rec := mintToken(t, b, si); rec.Code != http.StatusOK {
		t.Fatalf("mint 1ms before expiry: status %d, body %s", rec.Code, rec.Body)
	}
}

func TestTerminalStatusesAreFinal(t *testing.T) {
	b, clock := newTestBackend(t, Config{MaxLifetime: time.Hour})
	si := signIn(t, b)
	clock.Advance(time.Hour)
	if err := b.Revoke(si.Session.ID); err != nil {
		t.Fatal(err)
	}
	clock.Set(epoch) // a clock going back does not revive the session
	expectError(t, mintToken(t, b, si), http.StatusUnauthorized, CodeSessionExpired)

	// Removal overrides any status.
	rec := do(t, b, http.MethodPost, "/admin/sessions/"+si.Session.ID+"/revoke", "", "")
	if rec.Code != http.StatusOK || decode[sessionJSON](t, rec).Status != SessionExpired {
		t.Errorf("revoke of an expired session: status %d, body %s; want 200 and status expired", rec.Code, rec.Body)
	}
	if err := b.Remove(si.Session.ID); err != nil {
		t.Fatal(err)
	}
	expectError(t, mintToken(t, b, si), http.StatusUnauthorized, CodeSessionRemoved)
}
