package chaos

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stampede-load/stampede/chaos/adminapi"
)

// TestAdminCallInFlightWhenTheRunEndsFinishes: the run's context ends
// while a fleet event's admin call is on its way; the call still completes
// and reports the target's answer, not "context canceled".
func TestAdminCallInFlightWhenTheRunEndsFinishes(t *testing.T) {
	arrived := make(chan string, 4)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- r.URL.Path
		<-release
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	admin := &AdminClient{Base: srv.URL, Client: srv.Client()}
	for name, call := range map[string]func(context.Context) error{
		"/admin/keys/rotate":       func(ctx context.Context) error { return admin.RotateKeys(ctx, true) },
		"/admin/sessions/s/revoke": func(ctx context.Context) error { return admin.Revoke(ctx, "s") },
		"/admin/faults":            func(ctx context.Context) error { return admin.SetFaults(ctx, adminapi.Faults{}) },
		"/admin/rotation":          func(ctx context.Context) error { return admin.SetRotation(ctx, adminapi.Rotation{}) },
	} {
		ctx, endRun := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- call(ctx) }()
		if got := <-arrived; got != name {
			t.Errorf("call went to %s, want %s", got, name)
		}
		endRun() // the run ends with the call in flight
		release <- struct{}{}
		if err := <-done; err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
