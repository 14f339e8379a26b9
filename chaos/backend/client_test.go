package backend

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestSignInResponse(t *testing.T) {
	b, clock := newTestBackend(t, Config{})
	clock.Advance(1500 * time.Millisecond)
	rec := do(t, b, http.MethodPost, "/v1/client/sign_ins", "", `{"identifier":"ada@example.com"}`)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d, body %s", rec.Code, rec.Body)
	}
	raw := decode[map[string]any](t, rec)
	sess, _ := raw["session"].(map[string]any)
	if _, ok := sess["abandon_at"]; !ok || sess["abandon_at"] != nil {
		t.Errorf("abandon_at = %v, want null when inactivity is off", sess["abandon_at"])
	}
	si := decode[signInResponse](t, rec)
	if len(si.ClientToken) != 43 || strings.ContainsAny(si.ClientToken, "+/=") {
		t.Errorf("client_token %q: want 32 bytes base64url", si.ClientToken)
	}
	now := epoch.Add(1500 * time.Millisecond)
	want := sessionJSON{
		ID: si.Session.ID, Status: SessionActive, UserID: si.Session.UserID,
		ExpireAt:     now.Add(7 * 24 * time.Hour).UnixMilli(),
		LastActiveAt: now.UnixMilli(),
	}
	if !strings.HasPrefix(si.Session.ID, "sess_") || !strings.HasPrefix(si.Session.UserID, "user_") || si.Session != want {
		t.Errorf("session = %+v, want %+v", si.Session, want)
	}
	if si.JWT == "" {
		t.Error("no jwt")
	}

	// The same identifier is the same user; each sign-in is a new session.
	again := decode[signInResponse](t, do(t, b, http.MethodPost, "/v1/client/sign_ins", "", `{"identifier":"ada@example.com"}`))
	if again.Session.UserID != si.Session.UserID || again.Session.ID == si.Session.ID || again.ClientToken == si.ClientToken {
		t.Errorf("second sign-in = %+v, want same user, new session and client token", again)
	}
	anon1, anon2 := signIn(t, b), signIn(t, b)
	if anon1.Session.UserID == anon2.Session.UserID || anon1.Session.UserID == si.Session.UserID {
		t.Errorf("anonymous sign-ins share user ids: %s %s", anon1.Session.UserID, anon2.Session.UserID)
	}
}

func TestSessionEndpointsAuthenticateTheClient(t *testing.T) {
	b, _ := newTestBackend(t, Config{})
	si := signIn(t, b)
	other := signIn(t, b)
	for _, action := range []string{"tokens", "touch", "end"} {
		path := "/v1/client/sessions/" + si.Session.ID + "/" + action
		expectError(t, do(t, b, http.MethodPost, path, "", ""), http.StatusUnauthorized, CodeClientTokenInvalid)
		expectError(t, do(t, b, http.MethodPost, path, other.ClientToken, ""), http.StatusUnauthorized, CodeClientTokenInvalid)
		expectError(t, do(t, b, http.MethodPost, path, si.ClientToken+"x", ""), http.StatusUnauthorized, CodeClientTokenInvalid)
		expectError(t, do(t, b, http.MethodPost, "/v1/client/sessions/sess_nope/"+action, si.ClientToken, ""),
			http.StatusNotFound, CodeSessionNotFound)
	}
	// The scheme is case-insensitive.
	req := httptest.NewRequest(http.MethodPost, "/v1/client/sessions/"+si.Session.ID+"/tokens", nil)
	req.Header.Set("Authorization", "bearer "+si.ClientToken)
	rec := httptest.NewRecorder()
	b.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Errorf("lower-case bearer: status %d, body %s", rec.Code, rec.Body)
	}
	if got := b.Stats().TokensMinted; got != 3 {
		t.Errorf("TokensMinted = %d, want 3 (two sign-ins, one mint)", got)
	}
}

func TestTouchAndMintMarkActivity(t *testing.T) {
	b, clock := newTestBackend(t, Config{InactivityTimeout: 10 * time.Second})
	si := signIn(t, b)
	if si.Session.AbandonAt == nil || *si.Session.AbandonAt != epoch.Add(10*time.Second).UnixMilli() {
		t.Errorf("abandon_at = %v, want %d", si.Session.AbandonAt, epoch.Add(10*time.Second).UnixMilli())
	}
	touchPath := "/v1/client/sessions/" + si.Session.ID + "/touch"

	clock.Advance(9 * time.Second)
	rec := do(t, b, http.MethodPost, touchPath, si.ClientToken, "")
	if rec.Code != http.StatusOK {
		t.Fatalf("touch: status %d, body %s", rec.Code, rec.Body)
	}
	touched := decode[sessionJSON](t, rec)
	if want := epoch.Add(9 * time.Second).UnixMilli(); touched.LastActiveAt != want || touched.Status != SessionActive {
		t.Errorf("after touch: %+v, want active, last_active_at %d", touched, want)
	}

	clock.Advance(9 * time.Second) // 18s: alive only thanks to the touch
	if rec := mintToken(t, b, si); rec.Code != http.StatusOK {
		t.Fatalf("mint: status %d, body %s", rec.Code, rec.Body)
	}
	clock.Advance(9 * time.Second) // 27s: alive only thanks to the mint
	if rec := do(t, b, http.MethodPost, touchPath, si.ClientToken, ""); rec.Code != http.StatusOK {
		t.Fatalf("touch after mint: status %d, body %s", rec.Code, rec.Body)
	}
}

func TestEndSignsOut(t *testing.T) {
	b, _ := newTestBackend(t, Config{})
	si := signIn(t, b)
	rec := do(t, b, http.MethodPost, "/v1/client/sessions/"+si.Session.ID+"/end", si.ClientToken, "")
	if rec.Code != http.StatusOK {
		t.Fatalf("end: status %d, body %s", rec.Code, rec.Body)
	}
	if got := decode[sessionJSON](t, rec).Status; got != SessionEnded {
		t.Errorf("status = %q, want ended", got)
	}
	expectError(t, mintToken(t, b, si), http.StatusUnauthorized, CodeSessionEnded)
	// Ending again reports the terminal status.
	expectError(t, do(t, b, http.MethodPost, "/v1/client/sessions/"+si.Session.ID+"/end", si.ClientToken, ""),
		http.StatusUnauthorized, CodeSessionEnded)
}

// BenchmarkMint measures the token endpoint's handler: one request, built
// once, served again and again to a writer that keeps the status and
// discards the body, so the figure is the backend's work (routing, client
// token check, signing, the JSON answer), not the test harness's.
func BenchmarkMint(b *testing.B) {
	for _, alg := range []string{SigningRS256, SigningES256, SigningEdDSA} {
		b.Run(alg, func(b *testing.B) {
			be, _ := newTestBackend(b, Config{Signing: alg})
			si := signIn(b, be)
			req := httptest.NewRequest(http.MethodPost, "/v1/client/sessions/"+si.Session.ID+"/tokens", nil)
			req.Header.Set("Authorization", "Bearer "+si.ClientToken)
			serveLoop(b, be, req)
		})
	}
}

// serveLoop serves req again and again for the benchmark, failing it on an
// answer other than 200.
func serveLoop(b *testing.B, be *Backend, req *http.Request) {
	w := &discardWriter{header: http.Header{}}
	b.ReportAllocs()
	reportCPU(b)
	for b.Loop() {
		clear(w.header)
		w.status = 0
		be.ServeHTTP(w, req)
		if w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
}

// discardWriter is a ResponseWriter that keeps the status and drops the body.
type discardWriter struct {
	header http.Header
	status int
}

func (w *discardWriter) Header() http.Header { return w.header }

func (w *discardWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *discardWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return len(p), nil
}
