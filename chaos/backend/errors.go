package backend

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/stampede-load/stampede/chaos/adminapi"
)

// Error codes carried in the "code" field of every error response.
const (
	CodeNotFound           = "not_found"
	CodeMethodNotAllowed   = "method_not_allowed"
	CodeRequestTooLarge    = "request_too_large"
	CodeInvalidRequest     = "invalid_request"
	CodeInternal           = "internal_error"
	CodeClientTokenInvalid = "client_token_invalid"
	CodeSessionNotFound    = "session_not_found"
	CodeSessionExpired     = "session_expired"
	CodeSessionAbandoned   = "session_abandoned"
	CodeSessionRevoked     = "session_revoked"
	CodeSessionEnded       = "session_ended"
	CodeSessionRemoved     = "session_removed"
	CodeTokenMissing       = "token_missing"
	CodeTokenExpired       = "token_expired"
	CodeTokenNotYetValid   = "token_not_yet_valid"
	CodeTokenInvalid       = "token_invalid"
)

// Error codes of injected faults and client-token rotation.
const (
	// CodeRateLimited: injected 429 on the token endpoint (Faults.Rate429).
	CodeRateLimited = "rate_limited"
	// CodeUnavailable: injected 503 on the token endpoint (Faults.Rate503).
	CodeUnavailable = "unavailable"
	// CodeClientClosedRequest: the token request's context ended while it
	// waited out Faults.TokenLatency; status 499.
	CodeClientClosedRequest = "client_closed_request"
	// CodeClientTokenReused: a retired client token was presented after
	// the rotation grace period (status 401); the session is now revoked.
	CodeClientTokenReused = "client_token_reused"
)

// ErrSessionNotFound reports that no session has the given id.
var ErrSessionNotFound = errors.New("session not found")

// ErrorResponse is the JSON body of every error response.
type ErrorResponse = adminapi.ErrorResponse

// ErrorDetail is one error of an ErrorResponse.
type ErrorDetail = adminapi.ErrorDetail

// writeError writes an ErrorResponse with a single error.
func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, ErrorResponse{Errors: []ErrorDetail{{Code: code, Message: message}}})
}

// writeJSON writes v as a JSON response with the given status code.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"errors":[{"code":"` + CodeInternal + `","message":"encode response"}]}`)
	}
	body = append(body, '\n')
	h := w.Header()
	// Canonical keys, set directly: this is every answer's hot path.
	h["Content-Type"] = []string{"application/json"}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	h["Cache-Control"] = []string{"no-store"}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
