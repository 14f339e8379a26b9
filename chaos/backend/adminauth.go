package backend

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
)

// CodeAdminTokenInvalid: an admin endpoint (/admin/*, /metrics) was called
// without the admin token the backend was configured with (Config.AdminToken),
// or with another one; status 401.
const CodeAdminTokenInvalid = "admin_token_invalid"

// needsAdmin reports whether requests to ep must carry the admin token.
func (b *Backend) needsAdmin(ep endpoint) bool {
	return b.cfg.AdminToken != "" && (ep == epAdmin || ep == epMetrics)
}

// adminAuthorized reports whether r carries the admin token as
// "Authorization: Bearer <token>". The comparison takes the same time
// whatever the token sent, its length included.
func (b *Backend) adminAuthorized(r *http.Request) bool {
	got := sha256.Sum256([]byte(bearerToken(r)))
	want := sha256.Sum256([]byte(b.cfg.AdminToken))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

// writeAdminUnauthorized answers a request to an admin endpoint without the
// right admin token.
func writeAdminUnauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="stampede-admin"`)
	writeError(w, http.StatusUnauthorized, CodeAdminTokenInvalid,
		"this endpoint requires the admin token as Authorization: Bearer <token> (stampede serve --admin-token)")
}
