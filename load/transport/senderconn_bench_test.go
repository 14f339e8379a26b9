package transport

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// benchSend makes b.N POSTs over loopback from 16 parallel senders with
// the client hc, each under the context its sender gives.
func benchSend(b *testing.B, hc *http.Client, ctxOf func() (context.Context, func())) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"object":"token","jwt":"eyJhbGciOiJFZERTQSJ9.eyJleHAiOjE3OTY2NDQwMDB9.c2ln"}`))
	}))
	defer srv.Close()
	url := srv.URL + "/v1/client/sessions/sess_1/tokens"
	b.ReportAllocs()
	b.SetParallelism(8) // 16 senders on 2 cores, 8 per core elsewhere
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx, done := ctxOf()
		defer done()
		for pb.Next() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
			req.Header.Set("Authorization", "Bearer ct_0123456789abcdef")
			resp, err := hc.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}

// BenchmarkSenderTransport: each sender makes its requests on its own
// keep-alive connection, in its own goroutine (the engine's path).
func BenchmarkSenderTransport(b *testing.B) {
	fb := &http.Transport{MaxIdleConnsPerHost: 64}
	defer fb.CloseIdleConnections()
	hc := &http.Client{Transport: &SenderTransport{Fallback: fb}}
	benchSend(b, hc, func() (context.Context, func()) {
		sc := &SenderConn{}
		return WithSenderConn(context.Background(), sc), sc.Close
	})
}

// BenchmarkNetHTTPTransport: the same requests through net/http's
// Transport with a keep-alive pool as large as the senders.
func BenchmarkNetHTTPTransport(b *testing.B) {
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	benchSend(b, hc, func() (context.Context, func()) { return context.Background(), func() {} })
}
