package backend

import (
	"net/http"
	"testing"
)

// adminRoutes are a request to every admin endpoint and /metrics.
var adminRoutes = []struct{ method, path, body string }{
	{http.MethodPost, "/admin/keys/rotate", `{"keep_previous":true}`},
	{http.MethodPost, "/admin/revoke", `{"fraction":0}`},
	{http.MethodGet, "/admin/stats", ""},
	{http.MethodGet, "/admin/faults", ""},
	{http.MethodPut, "/admin/faults", "{}"},
	{http.MethodDelete, "/admin/faults", ""},
	{http.MethodGet, "/admin/rotation", ""},
	{http.MethodPost, "/admin/sessions/sess_x/revoke", ""},
	{http.MethodPost, "/admin/sessions/sess_x/remove", ""},
	{http.MethodGet, "/metrics", ""},
}

func TestAdminTokenGuardsAdminEndpointsAndMetrics(t *testing.T) {
	const token = "s3cret-admin-token"
	b, _ := newTestBackend(t, Config{AdminToken: token})
	kid := b.KeyID()
	expectError(t, do(t, b, http.MethodPost, "/admin/keys/rotate", "wrong", ""), http.StatusUnauthorized, CodeAdminTokenInvalid)
	if b.KeyID() != kid {
		t.Fatal("a refused rotation rotated the key")
	}
	for _, rt := range adminRoutes {
		for _, bad := range []string{"", "wrong", token + "x", "s3cret"} {
			rec := do(t, b, rt.method, rt.path, bad, rt.body)
			expectError(t, rec, http.StatusUnauthorized, CodeAdminTokenInvalid)
			if rec.Header().Get("WWW-Authenticate") == "" {
				t.Errorf("%s %s: 401 without WWW-Authenticate", rt.method, rt.path)
			}
		}
		if rec := do(t, b, rt.method, rt.path, token, rt.body); rec.Code == http.StatusUnauthorized {
			t.Errorf("%s %s with the admin token: %d %s", rt.method, rt.path, rec.Code, rec.Body)
		}
	}
	// A token of any case is a different token; the scheme is case-insensitive.
	req := do(t, b, http.MethodGet, "/admin/stats", "S3CRET-ADMIN-TOKEN", "")
	expectError(t, req, http.StatusUnauthorized, CodeAdminTokenInvalid)

	// The session API and the JWKS do not need it.
	si := signIn(t, b)
	if rec := do(t, b, http.MethodGet, "/.well-known/jwks.json", "", ""); rec.Code != http.StatusOK {
		t.Errorf("jwks: %d", rec.Code)
	}
	if rec := callAPI(t, b, si.JWT); rec.Code != http.StatusOK {
		t.Errorf("api: %d %s", rec.Code, rec.Body)
	}
	expectError(t, do(t, b, http.MethodPost, "/admin/revoke", "", `{"fraction":1}`), http.StatusUnauthorized, CodeAdminTokenInvalid)
	if got := b.Stats().Sessions[SessionActive]; got != 1 {
		t.Errorf("active sessions %d after a refused revocation, want 1", got)
	}
}

func TestNoAdminTokenLeavesAdminOpen(t *testing.T) {
	b, _ := newTestBackend(t, Config{})
	for _, rt := range adminRoutes {
		if rec := do(t, b, rt.method, rt.path, "", rt.body); rec.Code == http.StatusUnauthorized {
			t.Errorf("%s %s without an admin token configured: %d %s", rt.method, rt.path, rec.Code, rec.Body)
		}
	}
}
