package proxy

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stampede-load/stampede/profiles"
)

func adminDo(h http.Handler, method, remote, token, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "/admin/faults", strings.NewReader(body))
	req.RemoteAddr = remote
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func TestAdminAPIStartsListsAndClearsFaults(t *testing.T) {
	h := newHarness(t, &fakeFAPI{}, profiles.Default(), nil)
	admin := h.px.AdminHandler("")
	if w := adminDo(admin, "POST", "127.0.0.1:5000", "", `{"type":"spurious_401","rate":1}`); w.Code != 201 {
		t.Fatalf("POST: %d %s", w.Code, w.Body)
	}
	_, tok := h.signIn()
	if code, _ := h.do("GET", "/api/me", tok, ""); code != 401 {
		t.Errorf("api during a live spurious_401 storm: %d, want 401", code)
	}
	if w := adminDo(admin, "GET", "[::1]:5000", "", ""); w.Code != 200 || !strings.Contains(w.Body.String(), "spurious_401") {
		t.Errorf("GET: %d %s", w.Code, w.Body)
	}
	if w := adminDo(admin, "DELETE", "127.0.0.1:5000", "", ""); w.Code != 200 || !strings.Contains(w.Body.String(), `"cleared":1`) {
		t.Errorf("DELETE: %d %s", w.Code, w.Body)
	}
	if code, _ := h.do("GET", "/api/me", tok, ""); code != 200 {
		t.Errorf("api after the storm was cleared: %d, want 200", code)
	}
	for _, body := range []string{`{"type":"revocation_wave"}`, `{"type":"spurious_401","rate":2}`, `{"typo":1}`, `not json`} {
		if w := adminDo(admin, "POST", "127.0.0.1:5000", "", body); w.Code != 400 {
			t.Errorf("POST %s: %d, want 400", body, w.Code)
		}
	}
}

func TestAdminAPIServesLoopbackOnlyWithoutAToken(t *testing.T) {
	h := newHarness(t, &fakeFAPI{}, profiles.Default(), nil)
	if w := adminDo(h.px.AdminHandler(""), "GET", "10.0.0.8:5000", "", ""); w.Code != 403 {
		t.Errorf("a remote client without --admin-token: %d, want 403", w.Code)
	}
	guarded := h.px.AdminHandler("s3cret")
	if w := adminDo(guarded, "GET", "127.0.0.1:5000", "", ""); w.Code != 401 {
		t.Errorf("no token: %d, want 401", w.Code)
	}
	if w := adminDo(guarded, "GET", "10.0.0.8:5000", "s3cret", ""); w.Code != 200 {
		t.Errorf("the token from afar: %d, want 200", w.Code)
	}
}
