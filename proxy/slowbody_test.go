package proxy

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stampede-load/stampede/profiles"
)

// chunkRecorder records when each chunk of an answer's body was written.
type chunkRecorder struct {
	*httptest.ResponseRecorder
	at    []time.Time
	sizes []int
}

func (r *chunkRecorder) Write(b []byte) (int, error) {
	r.at = append(r.at, time.Now())
	r.sizes = append(r.sizes, len(b))
	return r.ResponseRecorder.Write(b)
}

// roundTripFunc is an upstream in memory.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestSlowBodyTricklesTheAnswerAtItsRate(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789abcdef"), 640) // 10,240 bytes
	for _, tc := range []struct {
		name      string
		event     profiles.Event
		path      string
		wantChunk int
		wantGap   time.Duration
	}{
		{"a rate on the API", profiles.Event{BytesPerSecond: 4096, ChunkSize: 1024, Route: profiles.RouteAPI}, "/api/me", 1024, 250 * time.Millisecond},
		{"a chunk delay on every route", profiles.Event{ChunkDelay: profiles.Duration(100 * time.Millisecond), ChunkSize: 2048}, "/api/me", 2048, 100 * time.Millisecond},
		{"the default chunk", profiles.Event{BytesPerSecond: 1024, Route: profiles.RouteAll}, "/api/me", profiles.DefaultChunkSize, time.Second},
		{"the token route spares the API", profiles.Event{BytesPerSecond: 1024, Route: profiles.RouteToken}, "/api/me", len(body), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				up, _ := url.Parse("http://upstream.test")
				px, err := New(Config{Upstream: up, Profile: profiles.Default(),
					Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
						return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body))}, nil
					})})
				if err != nil {
					t.Fatal(err)
				}
				e := tc.event
				e.Type, e.Duration = profiles.EventSlowBody, profiles.Duration(time.Minute)
				if _, err := px.AddFault(e); err != nil {
					t.Fatal(err)
				}
				rec := &chunkRecorder{ResponseRecorder: httptest.NewRecorder()}
				req := httptest.NewRequest("GET", tc.path, nil)
				req.Header.Set("Authorization", "Bearer opaque-token")
				start := time.Now()
				px.ServeHTTP(rec, req)
				if !bytes.Equal(rec.Body.Bytes(), body) {
					t.Fatalf("body of %d bytes arrived as %d bytes, not intact", len(body), rec.Body.Len())
				}
				wantChunks := (len(body) + tc.wantChunk - 1) / tc.wantChunk
				if tc.wantGap == 0 {
					if got := time.Since(start); got != 0 {
						t.Errorf("an answer off the fault's route took %s, want no delay", got)
					}
					return
				}
				if len(rec.sizes) != wantChunks {
					t.Fatalf("%d chunks %v, want %d of %d bytes", len(rec.sizes), rec.sizes, wantChunks, tc.wantChunk)
				}
				for i, at := range rec.at {
					if want := start.Add(time.Duration(i) * tc.wantGap); !at.Equal(want) {
						t.Errorf("chunk %d at +%s, want +%s", i, at.Sub(start), want.Sub(start))
					}
				}
				if got := px.Faults(); len(got) != 1 {
					t.Fatalf("faults %v", got)
				}
				if n := px.fleet.fig.Faults["slow_body"]; n != 1 {
					t.Errorf("slow_body answers %d, want 1", n)
				}
			})
		})
	}
}

// Over a real connection, the body arrives intact and no sooner than its
// rate allows.
func TestSlowBodyArrivesIntactOverTheNetwork(t *testing.T) {
	body := strings.Repeat("x", 4096)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, body)
	}))
	defer up.Close()
	u, _ := url.Parse(up.URL)
	px, err := New(Config{Upstream: u, Profile: profiles.Default()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(px)
	defer srv.Close()
	if _, err := px.AddFault(profiles.Event{Type: profiles.EventSlowBody, BytesPerSecond: 16384, ChunkSize: 1024}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	resp, err := srv.Client().Get(srv.URL + "/api/me")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(b) != body {
		t.Fatalf("body %d bytes (%v), want %d intact", len(b), err, len(body))
	}
	// 4 chunks of 1 KiB at 16 KiB/s: three gaps of 62.5 ms.
	if got, least := time.Since(start), 3*62500*time.Microsecond; got < least {
		t.Errorf("the body took %s, want at least %s", got, least)
	}
}

func TestSlowBodyFaultsAreCheckedByField(t *testing.T) {
	px, err := New(Config{Upstream: &url.URL{Scheme: "http", Host: "x"}, Profile: profiles.Default()})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		e     profiles.Event
		field string
	}{
		{profiles.Event{}, "bytes_per_second"},
		{profiles.Event{BytesPerSecond: 10, ChunkDelay: profiles.Duration(time.Second)}, "chunk_delay"},
		{profiles.Event{BytesPerSecond: -1}, "bytes_per_second"},
		{profiles.Event{BytesPerSecond: 10, ChunkSize: -5}, "chunk_size"},
		{profiles.Event{BytesPerSecond: 10, Route: "images"}, "route"},
	} {
		tc.e.Type = profiles.EventSlowBody
		_, err := px.AddFault(tc.e)
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%+v: error %v, want one naming %s", tc.e, err, tc.field)
		}
	}
}

// A proxy that stops sends the rest of a slowed body at once: its
// shutdown does not wait for the trickle.
func TestSlowBodyEndsAtOnceWhenTheProxyStops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		body := bytes.Repeat([]byte("z"), 8192)
		up, _ := url.Parse("http://upstream.test")
		px, err := New(Config{Upstream: up, Profile: profiles.Default(),
			Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
				return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body))}, nil
			})})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := px.AddFault(profiles.Event{Type: profiles.EventSlowBody, ChunkDelay: profiles.Duration(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		rec := &chunkRecorder{ResponseRecorder: httptest.NewRecorder()}
		done := make(chan struct{})
		start := time.Now()
		go func() {
			defer close(done)
			px.ServeHTTP(rec, httptest.NewRequest("GET", "/api/me", nil))
		}()
		synctest.Wait() // the first chunk out, the second waiting its hour
		if len(rec.sizes) != 1 {
			t.Fatalf("chunks %v before the stop, want the first", rec.sizes)
		}
		px.Stop()
		<-done
		if !bytes.Equal(rec.Body.Bytes(), body) || time.Since(start) != 0 {
			t.Errorf("after the stop: %d bytes of %d in %s, want all at once", rec.Body.Len(), len(body), time.Since(start))
		}
	})
}
