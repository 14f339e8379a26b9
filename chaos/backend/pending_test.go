package backend

import (
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"
)

func signInAs(t *testing.T, b *Backend, identifier string) signInResponse {
	t.Helper()
	rec := do(t, b, http.MethodPost, "/v1/client/sign_ins", "", `{"identifier":"`+identifier+`"}`)
	if rec.Code != http.StatusOK {
		t.Fatalf("sign in: status %d, body %s", rec.Code, rec.Body)
	}
	return decode[signInResponse](t, rec)
}

// A session task makes a session pending: its token requests are answered
// 401 session_pending naming the task until the task is done; it still
// expires like an active session.
func TestPendingSessionWaitsForItsTask(t *testing.T) {
	b, clock := newTestBackend(t, Config{Signing: SigningEdDSA, MaxLifetime: time.Hour})
	si := signIn(t, b)
	rec := do(t, b, http.MethodPost, "/admin/sessions/"+si.Session.ID+"/pending", "", `{"task":"setup-mfa"}`)
	if got := decode[sessionJSON](t, rec); rec.Code != http.StatusOK || got.Status != SessionPending {
		t.Fatalf("pending: %d %+v", rec.Code, got)
	}
	e := expectError(t, mintToken(t, b, si), http.StatusUnauthorized, "session_pending")
	if !strings.Contains(e.Message, "task setup-mfa") {
		t.Errorf("message %q does not name the task", e.Message)
	}
	expectError(t, do(t, b, http.MethodPost, "/admin/sessions/"+si.Session.ID+"/pending", "", `{}`), http.StatusBadRequest, CodeInvalidRequest)

	clock.Advance(time.Minute)
	if rec := do(t, b, http.MethodPost, "/admin/sessions/"+si.Session.ID+"/complete_task", "", ""); rec.Code != http.StatusOK {
		t.Fatalf("complete_task: %d %s", rec.Code, rec.Body)
	}
	if rec := mintToken(t, b, si); rec.Code != http.StatusOK {
		t.Fatalf("token after the task: %d %s", rec.Code, rec.Body)
	}
	if err := b.SetPending(si.Session.ID, "choose-organization"); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour)
	expectError(t, mintToken(t, b, si), http.StatusUnauthorized, CodeSessionExpired)
	if err := b.CompleteTask(si.Session.ID); err != nil {
		t.Fatal(err)
	}
	if got := b.Stats().Sessions; !maps.Equal(got, map[string]int64{SessionExpired: 1}) {
		t.Errorf("Sessions = %v, want one expired: completing a task does not revive it", got)
	}
}

// A sign-in replaces the user's session that is still active or pending;
// a session already over keeps its status.
func TestSignInReplacesTheUsersLiveSession(t *testing.T) {
	b, _ := newTestBackend(t, Config{Signing: SigningEdDSA})
	first := signInAs(t, b, "user-1")
	second := signInAs(t, b, "user-1")
	expectError(t, mintToken(t, b, first), http.StatusUnauthorized, "session_replaced")
	if err := b.SetPending(second.Session.ID, "reset-password"); err != nil {
		t.Fatal(err)
	}
	third := signInAs(t, b, "user-1")
	if err := b.Revoke(third.Session.ID); err != nil {
		t.Fatal(err)
	}
	signInAs(t, b, "user-1") // the revoked session stays revoked
	signInAs(t, b, "user-2")
	signIn(t, b) // no identifier: a user of its own
	want := map[string]int64{SessionReplaced: 2, SessionRevoked: 1, SessionActive: 3}
	if got := b.Stats().Sessions; !maps.Equal(got, want) {
		t.Errorf("Sessions = %v, want %v", got, want)
	}
}
