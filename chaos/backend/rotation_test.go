package backend

import (
	"encoding/base64"
	"errors"
	"maps"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// mustRefresh refreshes and fails the test unless it succeeds.
func mustRefresh(t testing.TB, b *Backend, si signInResponse, clientToken string) tokenResponse {
	t.Helper()
	rec := do(t, b, http.MethodPost, "/v1/client/sessions/"+si.Session.ID+"/tokens", clientToken, "")
	if rec.Code != http.StatusOK {
		t.Fatalf("refresh: status %d, body %s", rec.Code, rec.Body)
	}
	return decode[tokenResponse](t, rec)
}

func TestRotationOffHasNoClientTokenField(t *testing.T) {
	b, _ := newTestBackend(t, Config{Signing: SigningEdDSA})
	if got := b.Rotation(); got != (Rotation{}) {
		t.Errorf("Rotation() = %+v, want off", got)
	}
	si := signIn(t, b)
	for range 3 {
		rec := mintToken(t, b, si)
		if rec.Code != http.StatusOK {
			t.Fatalf("mint: status %d", rec.Code)
		}
		raw := decode[map[string]any](t, rec)
		if _, ok := raw["client_token"]; ok || len(raw) != 2 {
			t.Errorf("answer %s: want only object and jwt", rec.Body)
		}
	}
}

func TestRotationIssuesANewClientTokenOnEveryMint(t *testing.T) {
	b, _ := newTestBackend(t, Config{Signing: SigningEdDSA, Rotation: Rotation{Enabled: true, Grace: 5 * time.Second}})
	if got := b.Rotation(); got != (Rotation{Enabled: true, Grace: 5 * time.Second}) {
		t.Errorf("Rotation() = %+v, want the Config value", got)
	}
	si := signIn(t, b)
	seen := map[string]bool{si.ClientToken: true}
	current := si.ClientToken
	for range 5 {
		tr := mustRefresh(t, b, si, current)
		if len(tr.ClientToken) != 43 || strings.ContainsAny(tr.ClientToken, "+/=") || seen[tr.ClientToken] {
			t.Fatalf("client_token %q: want a new 43-character base64url token", tr.ClientToken)
		}
		if rec := callAPI(t, b, tr.JWT); rec.Code != http.StatusOK {
			t.Errorf("minted JWT: status %d", rec.Code)
		}
		seen[tr.ClientToken] = true
		current = tr.ClientToken
	}
	if got := b.Stats(); got.Endpoints[EndpointToken]["200"] != 5 || got.TokensMinted != 6 {
		t.Errorf("Stats = %+v, want 5 mints", got)
	}
}

func TestRetiredClientTokenWithinGraceGetsTheCurrentOne(t *testing.T) {
	b, clock := newTestBackend(t, Config{Signing: SigningEdDSA, Rotation: Rotation{Enabled: true, Grace: 5 * time.Second}})
	si := signIn(t, b)
	t1 := mustRefresh(t, b, si, si.ClientToken).ClientToken // retires t0 at epoch

	clock.Advance(5*time.Second - time.Millisecond)
	for range 2 { // as often as it likes within grace
		tr := mustRefresh(t, b, si, si.ClientToken)
		if tr.ClientToken != t1 {
			t.Errorf("retired token within grace got client_token %q, want the current %q", tr.ClientToken, t1)
		}
		if rec := callAPI(t, b, tr.JWT); rec.Code != http.StatusOK {
			t.Errorf("JWT minted for a retired token: status %d", rec.Code)
		}
	}
	// The grace answers did not rotate: t1 is still current.
	t2 := mustRefresh(t, b, si, t1).ClientToken
	if t2 == t1 || t2 == "" {
		t.Fatalf("refresh with the current token gave %q", t2)
	}
	// touch and end accept a retired token within grace too, without rotating.
	clock.Advance(time.Second)
	rec := do(t, b, http.MethodPost, "/v1/client/sessions/"+si.Session.ID+"/touch", t1, "")
	if rec.Code != http.StatusOK {
		t.Errorf("touch with the previous token within grace: status %d, body %s", rec.Code, rec.Body)
	}
	mustRefresh(t, b, si, t2)
}

func TestRetiredClientTokenAfterGraceRevokesTheSession(t *testing.T) {
	b, clock := newTestBackend(t, Config{Signing: SigningEdDSA, Rotation: Rotation{Enabled: true, Grace: 5 * time.Second}})
	si := signIn(t, b)
	other := signIn(t, b)
	t1 := mustRefresh(t, b, si, si.ClientToken).ClientToken

	clock.Advance(5 * time.Second) // exactly Grace: no longer covered
	e := expectError(t, mintToken(t, b, si), http.StatusUnauthorized, CodeClientTokenReused)
	if !strings.Contains(e.Message, si.Session.ID) || !strings.Contains(e.Message, "revoked") {
		t.Errorf("message %q: want the session id and that it is revoked", e.Message)
	}
	// The whole family is dead: the current token too.
	for _, tok := range []string{t1, si.ClientToken} {
		expectError(t, do(t, b, http.MethodPost, "/v1/client/sessions/"+si.Session.ID+"/tokens", tok, ""), http.StatusUnauthorized, CodeSessionRevoked)
		expectError(t, do(t, b, http.MethodPost, "/v1/client/sessions/"+si.Session.ID+"/touch", tok, ""), http.StatusUnauthorized, CodeSessionRevoked)
	}
	// Other sessions are not affected.
	mustRefresh(t, b, other, other.ClientToken)

	st := b.Stats()
	if want := map[string]int64{SessionRevoked: 1, SessionActive: 1}; !maps.Equal(st.Sessions, want) {
		t.Errorf("Sessions = %v, want %v", st.Sessions, want)
	}
	if want := map[string]int64{"200": 2, "401": 3}; !maps.Equal(st.Endpoints[EndpointToken], want) {
		t.Errorf(`Endpoints["token"] = %v, want %v`, st.Endpoints[EndpointToken], want)
	}
}

func TestOlderClientTokenIsReuseEvenWithinGrace(t *testing.T) {
	b, _ := newTestBackend(t, Config{Signing: SigningEdDSA, Rotation: Rotation{Enabled: true, Grace: time.Hour}})
	si := signIn(t, b)
	t1 := mustRefresh(t, b, si, si.ClientToken).ClientToken
	mustRefresh(t, b, si, t1) // t0 is now two generations back
	expectError(t, mintToken(t, b, si), http.StatusUnauthorized, CodeClientTokenReused)
	if got := b.Stats().Sessions; !maps.Equal(got, map[string]int64{SessionRevoked: 1}) {
		t.Errorf("Sessions = %v, want one revoked", got)
	}
}

func TestReuseDetectionOnTouchAndEnd(t *testing.T) {
	for _, action := range []string{"touch", "end"} {
		t.Run(action, func(t *testing.T) {
			b, _ := newTestBackend(t, Config{Signing: SigningEdDSA, Rotation: Rotation{Enabled: true}})
			si := signIn(t, b)
			mustRefresh(t, b, si, si.ClientToken)
			expectError(t, do(t, b, http.MethodPost, "/v1/client/sessions/"+si.Session.ID+"/"+action, si.ClientToken, ""),
				http.StatusUnauthorized, CodeClientTokenReused)
			if got := b.Stats().Sessions; !maps.Equal(got, map[string]int64{SessionRevoked: 1}) {
				t.Errorf("Sessions = %v, want one revoked", got)
			}
		})
	}
}

func TestForeignClientTokensAreInvalidNotReuse(t *testing.T) {
	b, _ := newTestBackend(t, Config{Signing: SigningEdDSA, Rotation: Rotation{Enabled: true}})
	si := signIn(t, b)
	other := signIn(t, b)
	t1 := mustRefresh(t, b, si, si.ClientToken).ClientToken
	otherOld := other.ClientToken
	mustRefresh(t, b, other, otherOld)

	forged := []byte(t1)
	forged[20] = 'A' // a data character, not the padding bits of the last one
	if t1[20] == 'A' {
		forged[20] = 'B'
	}
	for name, tok := range map[string]string{
		"other session's current": other.ClientToken,
		"other session's retired": otherOld,
		"tampered":                string(forged),
		"short":                   t1[:42],
		"garbage":                 strings.Repeat("A", 43),
	} {
		t.Run(name, func(t *testing.T) {
			expectError(t, do(t, b, http.MethodPost, "/v1/client/sessions/"+si.Session.ID+"/tokens", tok, ""),
				http.StatusUnauthorized, CodeClientTokenInvalid)
		})
	}
	if got := b.Stats().Sessions; !maps.Equal(got, map[string]int64{SessionActive: 2}) {
		t.Errorf("Sessions = %v, want both active", got)
	}
	mustRefresh(t, b, si, t1)
}

func TestRacingRefreshesWithoutGraceRevoke(t *testing.T) {
	b, _ := newTestBackend(t, Config{Signing: SigningEdDSA, Rotation: Rotation{Enabled: true}})
	si := signIn(t, b)
	codes := raceRefreshes(t, b, si, 16)
	if codes["200"] != 1 || codes["401 "+CodeClientTokenReused] < 1 || codes["200"]+codes["401 "+CodeClientTokenReused]+codes["401 "+CodeSessionRevoked] != 16 {
		t.Errorf("answers %v: want one 200, then reuse and session_revoked", codes)
	}
	if got := b.Stats().Sessions; !maps.Equal(got, map[string]int64{SessionRevoked: 1}) {
		t.Errorf("Sessions = %v, want one revoked", got)
	}
}

func TestRacingRefreshesWithinGraceAllSucceed(t *testing.T) {
	b, _ := newTestBackend(t, Config{Signing: SigningEdDSA, Rotation: Rotation{Enabled: true, Grace: time.Minute}})
	si := signIn(t, b)
	codes := raceRefreshes(t, b, si, 16)
	if codes["200"] != 16 || codes["client tokens"] != 1 {
		t.Errorf("answers %v: want 16 × 200, all handing out the same new client token", codes)
	}
	if got := b.Stats().Endpoints[EndpointToken]; !maps.Equal(got, map[string]int64{"200": 16}) {
		t.Errorf(`Endpoints["token"] = %v`, got)
	}
}

// raceRefreshes sends n concurrent refreshes with si's first client token
// and counts the answers under "200" or "401 <code>", and the distinct
// client tokens handed out under "client tokens".
func raceRefreshes(t *testing.T, b *Backend, si signInResponse, n int) map[string]int {
	var (
		mu     sync.Mutex
		wg     sync.WaitGroup
		counts = map[string]int{}
		tokens = map[string]bool{}
	)
	for range n {
		wg.Go(func() {
			rec := mintToken(t, b, si)
			key := "200"
			var tr tokenResponse
			if rec.Code == http.StatusOK {
				tr = decode[tokenResponse](t, rec)
			} else {
				key = "401 " + decode[ErrorResponse](t, rec).Errors[0].Code
			}
			mu.Lock()
			defer mu.Unlock()
			counts[key]++
			if tr.ClientToken != "" {
				tokens[tr.ClientToken] = true
			}
		})
	}
	wg.Wait()
	counts["client tokens"] = len(tokens)
	return counts
}

func TestTurningRotationOffKeepsTheGraceRules(t *testing.T) {
	b, clock := newTestBackend(t, Config{Signing: SigningEdDSA, Rotation: Rotation{Enabled: true, Grace: 10 * time.Second}})
	si := signIn(t, b)
	t1 := mustRefresh(t, b, si, si.ClientToken).ClientToken
	if err := b.SetRotation(Rotation{Grace: 10 * time.Second}); err != nil {
		t.Fatal(err)
	}
	// Current token: no rotation, no field.
	if tr := mustRefresh(t, b, si, t1); tr.ClientToken != "" {
		t.Errorf("rotation off: client_token %q, want none", tr.ClientToken)
	}
	// The previous token within grace still learns the current one.
	if tr := mustRefresh(t, b, si, si.ClientToken); tr.ClientToken != t1 {
		t.Errorf("previous token after turning rotation off: client_token %q, want %q", tr.ClientToken, t1)
	}
	clock.Advance(10 * time.Second)
	expectError(t, mintToken(t, b, si), http.StatusUnauthorized, CodeClientTokenReused)
}

func TestGraceIsReadWhenTheTokenIsPresented(t *testing.T) {
	b, clock := newTestBackend(t, Config{Signing: SigningEdDSA, Rotation: Rotation{Enabled: true}})
	si := signIn(t, b)
	mustRefresh(t, b, si, si.ClientToken)
	clock.Advance(time.Second)
	if err := b.SetRotation(Rotation{Enabled: true, Grace: 2 * time.Second}); err != nil {
		t.Fatal(err)
	}
	mustRefresh(t, b, si, si.ClientToken) // 1s after retirement, grace now 2s
}

func TestRotationClockIgnoresClockOffset(t *testing.T) {
	b, _ := newTestBackend(t, Config{Signing: SigningEdDSA, Rotation: Rotation{Enabled: true, Grace: time.Second}})
	si := signIn(t, b)
	mustRefresh(t, b, si, si.ClientToken)
	setFaults(t, b, Faults{ClockOffset: time.Hour})
	mustRefresh(t, b, si, si.ClientToken) // still within grace by the real clock
}

func TestSetRotationValidates(t *testing.T) {
	b, _ := newTestBackend(t, Config{})
	err := b.SetRotation(Rotation{Enabled: true, Grace: -time.Second})
	if fe, ok := errors.AsType[*FieldError](err); !ok || fe.Field != "Grace" || !strings.Contains(err.Error(), "Rotation.Grace") {
		t.Errorf("SetRotation with negative grace = %v, want a FieldError naming Rotation.Grace", err)
	}
	if got := b.Rotation(); got != (Rotation{}) {
		t.Errorf("after invalid SetRotation: %+v", got)
	}
	if _, err := New(Config{Signing: SigningEdDSA, Rotation: Rotation{Grace: -1}}); err == nil || !strings.Contains(err.Error(), "Rotation.Grace") {
		t.Errorf("New with negative grace = %v, want an error naming Rotation.Grace", err)
	}
}

func TestAdminRotationRoundTrip(t *testing.T) {
	b, _ := newTestBackend(t, Config{Signing: SigningEdDSA})
	rec := do(t, b, http.MethodGet, "/admin/rotation", "", "")
	if want := `{"enabled":false,"grace":"0s"}` + "\n"; rec.Code != http.StatusOK || rec.Body.String() != want {
		t.Errorf("GET: status %d, body %s; want %s", rec.Code, rec.Body, want)
	}
	rec = do(t, b, http.MethodPut, "/admin/rotation", "", `{"enabled":true,"grace":"2.5s"}`)
	if want := `{"enabled":true,"grace":"2.5s"}` + "\n"; rec.Code != http.StatusOK || rec.Body.String() != want {
		t.Errorf("PUT: status %d, body %s; want %s", rec.Code, rec.Body, want)
	}
	if got := b.Rotation(); got != (Rotation{Enabled: true, Grace: 2500 * time.Millisecond}) {
		t.Errorf("Rotation() = %+v", got)
	}
	if got := decode[Rotation](t, do(t, b, http.MethodGet, "/admin/rotation", "", "")); got != b.Rotation() {
		t.Errorf("GET = %+v", got)
	}
	si := signIn(t, b)
	if tr := mustRefresh(t, b, si, si.ClientToken); tr.ClientToken == "" {
		t.Error("rotation turned on over HTTP did not rotate")
	}

	for body, mention := range map[string]string{
		`{"enabled":true,"grace_period":"1s"}`: `unknown field "grace_period"`,
		`{"grace":"-1s"}`:                      "grace must not be negative",
		`{"grace":5}`:                          "grace",
		`{"enabled":"yes"}`:                    "enabled must be true or false",
		``:                                     "required",
	} {
		e := expectError(t, do(t, b, http.MethodPut, "/admin/rotation", "", body), http.StatusBadRequest, CodeInvalidRequest)
		if !strings.Contains(e.Message, mention) {
			t.Errorf("PUT %s: message %q does not mention %q", body, e.Message, mention)
		}
	}
	if got := b.Rotation(); got != (Rotation{Enabled: true, Grace: 2500 * time.Millisecond}) {
		t.Errorf("after bad PUTs: Rotation() = %+v", got)
	}
	rec = do(t, b, http.MethodDelete, "/admin/rotation", "", "")
	expectError(t, rec, http.StatusMethodNotAllowed, CodeMethodNotAllowed)
	if got := rec.Header().Get("Allow"); got != "GET, HEAD, PUT" {
		t.Errorf("Allow = %q", got)
	}
}

func TestClientTokenSigner(t *testing.T) {
	s := newClientTokenSigner()
	for _, gen := range []uint64{0, 1, 2, 1 << 40} {
		tok := s.token("sess_a", gen)
		if len(tok) != 43 {
			t.Errorf("token length %d, want 43", len(tok))
		}
		if got, ok := s.generation("sess_a", tok); !ok || got != gen {
			t.Errorf("generation(token(%d)) = %d, %v", gen, got, ok)
		}
		if _, ok := s.generation("sess_b", tok); ok {
			t.Errorf("token of sess_a gen %d accepted for sess_b", gen)
		}
	}
	if s.token("sess_a", 0) == s.token("sess_b", 0) || s.token("sess_a", 0) == newClientTokenSigner().token("sess_a", 0) {
		t.Error("tokens do not depend on the session and the key")
	}
	// Tokens do not show their generation in the clear.
	if a, b := s.token("sess_a", 0), s.token("sess_b", 0); a[:10] == b[:10] {
		t.Errorf("tokens share a prefix: %s %s", a, b)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(s.token("sess_a", 3))
	for i := range raw {
		bad := append([]byte(nil), raw...)
		bad[i] ^= 0x80
		if _, ok := s.generation("sess_a", base64.RawURLEncoding.EncodeToString(bad)); ok {
			t.Errorf("token with byte %d flipped accepted", i)
		}
	}
	for _, tok := range []string{"", "short", strings.Repeat("!", 43), s.token("sess_a", 1) + "A"} {
		if _, ok := s.generation("sess_a", tok); ok {
			t.Errorf("generation(%q) ok", tok)
		}
	}
}
