package target

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stampede-load/stampede/chaos/backend"
	"github.com/stampede-load/stampede/load/model"
)

// TestOverloadedAnswerIsARetryableServerError: the embedded backend sheds
// load with 503 "overloaded" and Retry-After. Each FAPI call classifies it
// as a 5xx that is retried no earlier than Retry-After and never signs the
// user out.
func TestOverloadedAnswerIsARetryableServerError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", "2")
		w.WriteHeader(http.StatusServiceUnavailable)
		_ = json.NewEncoder(w).Encode(backend.ErrorResponse{Errors: []backend.ErrorDetail{
			{Code: backend.CodeOverloaded, Message: "the backend is at capacity"}}})
	}))
	defer srv.Close()
	hc := srv.Client()
	defer hc.CloseIdleConnections()
	f := &FAPI{Base: srv.URL, Client: hc}
	ctx := context.Background()

	_, signIn := f.SignIn(ctx, "user-1")
	_, refresh := f.Refresh(ctx, "sess_1", "client-token")
	api := f.Call(ctx, "jwt")
	want := model.Outcome{Class: model.Class5xx, Status: http.StatusServiceUnavailable, Code: backend.CodeOverloaded, RetryAfter: 2 * time.Second,
		Body: `{"errors":[{"code":"overloaded","message":"the backend is at capacity"}]}` + "\n"}
	for name, o := range map[string]model.Outcome{"sign-in": signIn, "refresh": refresh, "api": api} {
		if o != want {
			t.Errorf("%s: outcome %+v, want %+v", name, o, want)
		}
		if !o.Class.Retryable() || model.SessionLost(o) {
			t.Errorf("%s: retryable %v, session lost %v; want a retry and the session kept", name, o.Class.Retryable(), model.SessionLost(o))
		}
	}
}
