package backend

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"
)

// TestServiceTimeHoldsTheSlot: with ServiceTime, each admitted request
// holds its slot that long before it is handled, so two sign-ins through
// one slot take two service times, and the backend's capacity is
// MaxInflight / ServiceTime whatever the machine.
func TestServiceTimeHoldsTheSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, _ := newTestBackend(t, Config{Signing: SigningEdDSA, MaxInflight: 1, MaxQueue: 4, ServiceTime: 100 * time.Millisecond})
		start := time.Now()
		done := make(chan *httptest.ResponseRecorder, 2)
		for range 2 {
			go func() { done <- do(t, b, http.MethodPost, "/v1/client/sign_ins", "", "") }()
		}
		for range 2 {
			if rec := <-done; rec.Code != http.StatusOK {
				t.Errorf("sign-in: status %d", rec.Code)
			}
		}
		if took := time.Since(start); took != 200*time.Millisecond {
			t.Errorf("two sign-ins through one slot took %s, want 200ms", took)
		}
	})
}
