package backend

import "net/http"

// apiResponse is the body of a successful protected-resource call.
type apiResponse struct {
	OK  bool   `json:"ok"`
	Sub string `json:"sub"`
	Sid string `json:"sid"`
}

// handleAPI serves the protected resource: it verifies the session JWT
// locally, without looking up the session, on the JWT clock (Config.Now
// shifted by Faults.ClockOffset). A valid token may still be answered 401
// token_invalid when Faults.Spurious401 is set.
func (b *Backend) handleAPI(w http.ResponseWriter, r *http.Request, _ string) {
	if _, ok := readBody(w, r); !ok {
		return
	}
	raw := bearerToken(r)
	if raw == "" {
		// RFC 6750 §3.1: no error code when the request has no credentials.
		w.Header().Set("WWW-Authenticate", "Bearer")
		writeError(w, http.StatusUnauthorized, CodeTokenMissing, "missing session token: send Authorization: Bearer <jwt>")
		return
	}
	claims, err := b.tokens.verify(raw)
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeError(w, http.StatusUnauthorized, tokenErrorCode(err), "session token rejected: "+err.Error())
		return
	}
	if b.spurious401() {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeError(w, http.StatusUnauthorized, CodeTokenInvalid, "session token rejected (injected fault)")
		return
	}
	writeJSON(w, http.StatusOK, apiResponse{OK: true, Sub: claims.Subject, Sid: claims.SessionID})
}
