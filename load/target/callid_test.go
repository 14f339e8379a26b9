package target

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestAPICallsSendTheirCallIDAsXRequestID(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Get(CallIDHeader))
	}))
	defer srv.Close()
	f := &FAPI{Base: srv.URL, Client: srv.Client()}
	ctx := context.Background()
	f.Call(WithCallID(ctx, 7, 3), "tok")
	f.Call(WithCallID(ctx, 7, 0), "tok") // no call id: no header
	CallBearer(WithCallID(ctx, 12, 40), srv.Client(), srv.URL+"/api", "tok")
	want := []string{"stampede-7-3", "", "stampede-12-40"}
	if len(got) != len(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("request %d: X-Request-Id %q, want %q", i, got[i], want[i])
		}
	}
}
