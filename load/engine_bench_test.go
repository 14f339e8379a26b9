package load

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stampede-load/stampede/load/model"
	"github.com/stampede-load/stampede/load/target"
)

// BenchmarkRefreshRoundTrip measures one refresh over loopback HTTP against
// the embedded backend (EdDSA): client, transport and server together.
func BenchmarkRefreshRoundTrip(b *testing.B) {
	p := testProfile(1, time.Second)
	p.Backend.Signing = "EdDSA"
	be := newBackend(b, p)
	srv, err := be.Listen("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	defer hc.CloseIdleConnections()
	f := &target.FAPI{Base: srv.URL, Client: hc}
	cr, o := f.SignIn(context.Background(), "bench")
	if o.Class != model.ClassOK {
		b.Fatalf("sign-in: %+v", o)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, o := f.Refresh(context.Background(), cr.SessionID, cr.ClientToken); o.Class != model.ClassOK {
			b.Fatalf("refresh: %+v", o)
		}
	}
}
