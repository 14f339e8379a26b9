package chaos

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stampede-load/stampede/chaos/backend"
)

func TestAdminClientSendsTheAdminToken(t *testing.T) {
	be, err := backend.New(backend.Config{Signing: backend.SigningEdDSA, AdminToken: "t0ken"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(be)
	defer srv.Close()
	hc := srv.Client()
	defer hc.CloseIdleConnections()
	ctx := context.Background()

	kid := be.KeyID()
	anon := &AdminClient{Base: srv.URL, Client: hc}
	if err := anon.RotateKeys(ctx, false); err == nil || !strings.Contains(err.Error(), backend.CodeAdminTokenInvalid) {
		t.Fatalf("without the token: %v, want %s", err, backend.CodeAdminTokenInvalid)
	}
	if be.KeyID() != kid {
		t.Fatal("a refused rotation rotated the key")
	}
	admin := &AdminClient{Base: srv.URL, Client: hc, Token: "t0ken"}
	if err := admin.RotateKeys(ctx, false); err != nil {
		t.Fatal(err)
	}
	if err := admin.SetFaults(ctx, backend.Faults{}); err != nil {
		t.Fatal(err)
	}
	if be.KeyID() == kid {
		t.Error("the key did not rotate")
	}
}
