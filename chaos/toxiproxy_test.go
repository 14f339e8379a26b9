package chaos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stampede-load/stampede/profiles"
)

// fakeToxics records what the runner asked of Toxiproxy, with the offset
// from start at which it asked.
type fakeToxics struct {
	mu    sync.Mutex
	start time.Time
	calls []string
	fail  map[string]error // by proxy
}

func (f *fakeToxics) log(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf("%s ", time.Since(f.start))+fmt.Sprintf(format, args...))
}

func (f *fakeToxics) AddToxic(_ context.Context, proxy string, s ToxicSpec) error {
	f.log("add %s %s %s %s %g %v", proxy, s.Name, s.Type, s.Stream, s.Toxicity, s.Attributes)
	return f.fail[proxy]
}

func (f *fakeToxics) RemoveToxic(_ context.Context, proxy, name string) error {
	f.log("remove %s %s", proxy, name)
	return nil
}

func (f *fakeToxics) CheckProxy(_ context.Context, proxy string) error { return f.fail[proxy] }

func toxicProfile() profiles.Profile {
	p := profiles.Default()
	p.Duration = profiles.Duration(time.Minute)
	p.TimeScale = 2
	p.Events = []profiles.Event{
		{Type: profiles.EventToxic, At: profiles.At{Share: 0.5}, Duration: profiles.Duration(20 * time.Second), Proxy: "dex",
			Toxic: profiles.Toxic{Type: profiles.ToxicLatency, Attributes: profiles.ToxicAttributes{Latency: profiles.Duration(300 * time.Millisecond), Jitter: profiles.Duration(20 * time.Millisecond)}}},
		{Type: profiles.EventKeyRotation, At: profiles.At{Share: 0.1}},
		{Type: profiles.EventToxic, At: profiles.At{Offset: profiles.Duration(80 * time.Second)}, Proxy: "dex",
			Toxic: profiles.Toxic{Type: profiles.ToxicResetPeer, Stream: profiles.StreamUpstream, Toxicity: 0.5}},
	}
	return p
}

func TestToxicWindows(t *testing.T) {
	p := toxicProfile()
	ws := ToxicWindows(Plan(p))
	if len(ws) != 2 {
		t.Fatalf("windows %+v", ws)
	}
	// at 50% of 60 s, 20 s simulated at ×2; at 80 s simulated (40 s) until the end.
	if ws[0].Index != 0 || ws[0].Start != 30*time.Second || ws[0].End != 40*time.Second ||
		ws[1].Index != 2 || ws[1].Start != 40*time.Second || ws[1].End != time.Minute {
		t.Errorf("windows %+v", ws)
	}
}

func TestSpec(t *testing.T) {
	p := toxicProfile()
	got := Spec("n", p.Events[0].Toxic)
	want := ToxicSpec{Name: "n", Type: "latency", Stream: "downstream", Toxicity: 1, Attributes: map[string]any{"latency": int64(300), "jitter": int64(20)}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("latency: %+v, want %+v", got, want)
	}
	for _, tc := range []struct {
		toxic profiles.Toxic
		attrs map[string]any
	}{
		{profiles.Toxic{Type: profiles.ToxicBandwidth, Attributes: profiles.ToxicAttributes{Rate: 64}}, map[string]any{"rate": 64}},
		{profiles.Toxic{Type: profiles.ToxicTimeout, Attributes: profiles.ToxicAttributes{Timeout: profiles.Duration(2 * time.Second)}}, map[string]any{"timeout": int64(2000)}},
		{profiles.Toxic{Type: profiles.ToxicResetPeer}, map[string]any{"timeout": int64(0)}},
		{profiles.Toxic{Type: profiles.ToxicSlowClose, Attributes: profiles.ToxicAttributes{Delay: profiles.Duration(time.Second)}}, map[string]any{"delay": int64(1000)}},
	} {
		if s := Spec("n", tc.toxic); !reflect.DeepEqual(s.Attributes, tc.attrs) {
			t.Errorf("%s: %v, want %v", tc.toxic.Type, s.Attributes, tc.attrs)
		}
	}
}

func TestToxicsRunOnTheTimeline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := toxicProfile()
		f := &fakeToxics{start: time.Now()}
		tx := NewToxics(f, Plan(p), p)
		if err := tx.Check(t.Context()); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { defer close(done); tx.Run(ctx, f.start) }()
		time.Sleep(p.Duration.D()) // fake time: the run's length
		synctest.Wait()
		cancel()
		<-done
		want := []string{
			"30s add dex stampede_0_latency latency downstream 1 map[jitter:20 latency:300]",
			"40s remove dex stampede_0_latency",
			"40s add dex stampede_2_reset_peer reset_peer upstream 0.5 map[timeout:0]",
			"1m0s remove dex stampede_2_reset_peer",
		}
		if !reflect.DeepEqual(f.calls, want) {
			t.Errorf("calls\n%s\nwant\n%s", strings.Join(f.calls, "\n"), strings.Join(want, "\n"))
		}
		ap := tx.Applied()
		if len(ap) != 4 || ap[0].Window != 0 || ap[0].Removed || !ap[1].Removed || ap[2].Window != 2 ||
			ap[0].At.Sub(f.start) != 30*time.Second {
			t.Errorf("applied %+v", ap)
		}
	})
}

func TestToxicsRemovedWhenTheRunEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := toxicProfile()
		f := &fakeToxics{start: time.Now()}
		tx := NewToxics(f, Plan(p), p)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { defer close(done); tx.Run(ctx, f.start) }()
		time.Sleep(35 * time.Second)
		cancel() // interrupted inside the latency window
		<-done
		want := []string{"30s add dex stampede_0_latency latency downstream 1 map[jitter:20 latency:300]", "35s remove dex stampede_0_latency"}
		if !reflect.DeepEqual(f.calls, want) {
			t.Errorf("calls %q, want %q", f.calls, want)
		}
	})
}

func TestToxicsFailureIsRecorded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := toxicProfile()
		boom := errors.New("no such proxy")
		f := &fakeToxics{start: time.Now(), fail: map[string]error{"dex": boom}}
		tx := NewToxics(f, Plan(p), p)
		if err := tx.Check(t.Context()); !errors.Is(err, boom) {
			t.Errorf("check: %v", err)
		}
		tx.Run(t.Context(), f.start)
		ap := tx.Applied()
		if len(ap) != 2 || !errors.Is(ap[0].Err, boom) || !errors.Is(ap[1].Err, boom) {
			t.Errorf("applied %+v", ap)
		}
		for _, c := range f.calls {
			if strings.Contains(c, "remove") {
				t.Errorf("removed a toxic never added: %s", c)
			}
		}
	})
}

// fakeToxiproxyServer speaks enough of toxiproxy-server's API for the client.
type fakeToxiproxyServer struct {
	mu       sync.Mutex
	toxics   map[string]map[string]any // by name
	requests []string
}

func (s *fakeToxiproxyServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r.Method+" "+r.URL.Path)
	fail := func(status int, msg string) {
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": msg, "status": status})
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) < 2 || parts[0] != "proxies" || parts[1] != "dex" {
		fail(404, "proxy not found")
		return
	}
	switch {
	case r.Method == "GET" && len(parts) == 2:
		_ = json.NewEncoder(w).Encode(map[string]any{"name": "dex", "listen": "127.0.0.1:1", "upstream": "127.0.0.1:2", "enabled": true, "toxics": []any{}})
	case r.Method == "POST" && len(parts) == 3:
		b, _ := io.ReadAll(r.Body)
		var tx map[string]any
		_ = json.Unmarshal(b, &tx)
		name := tx["name"].(string)
		if _, ok := s.toxics[name]; ok {
			fail(409, "toxic already exists")
			return
		}
		s.toxics[name] = tx
		_, _ = w.Write(b)
	case r.Method == "DELETE" && len(parts) == 4:
		if _, ok := s.toxics[parts[3]]; !ok {
			fail(404, "toxic not found")
			return
		}
		delete(s.toxics, parts[3])
		w.WriteHeader(204)
	default:
		fail(405, "no")
	}
}

func TestToxiproxyClient(t *testing.T) {
	fs := &fakeToxiproxyServer{toxics: map[string]map[string]any{"stampede_0_latency": {}}} // a leftover
	srv := httptest.NewServer(fs)
	defer srv.Close()
	api := NewToxiproxy(srv.URL)
	ctx := context.Background()
	if err := api.CheckProxy(ctx, "dex"); err != nil {
		t.Fatal(err)
	}
	if err := api.CheckProxy(ctx, "nope"); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("missing proxy: %v", err)
	}
	spec := Spec("stampede_0_latency", profiles.Toxic{Type: "latency", Attributes: profiles.ToxicAttributes{Latency: profiles.Duration(250 * time.Millisecond)}})
	if err := api.AddToxic(ctx, "dex", spec); err != nil {
		t.Fatal(err)
	}
	got := fs.toxics["stampede_0_latency"]
	if got["type"] != "latency" || got["stream"] != "downstream" || got["toxicity"] != 1.0 ||
		!reflect.DeepEqual(got["attributes"], map[string]any{"latency": 250.0, "jitter": 0.0}) {
		t.Errorf("toxic sent: %v", got)
	}
	if err := api.RemoveToxic(ctx, "dex", "stampede_0_latency"); err != nil {
		t.Fatal(err)
	}
	if len(fs.toxics) != 0 {
		t.Errorf("toxics left: %v", fs.toxics)
	}
	if err := api.RemoveToxic(ctx, "dex", "stampede_0_latency"); err == nil {
		t.Error("removing a missing toxic: want an error")
	}
	want := "GET /proxies/dex GET /proxies/nope GET /proxies/dex POST /proxies/dex/toxics DELETE /proxies/dex/toxics/stampede_0_latency " +
		"POST /proxies/dex/toxics DELETE /proxies/dex/toxics/stampede_0_latency DELETE /proxies/dex/toxics/stampede_0_latency"
	if g := strings.Join(fs.requests, " "); g != want {
		t.Errorf("requests\n%s\nwant\n%s", g, want)
	}
}
