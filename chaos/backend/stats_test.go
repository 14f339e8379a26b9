package backend

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// equalEndpoints reports whether two Stats.Endpoints maps are equal.
func equalEndpoints(a, b map[string]map[string]int64) bool {
	return maps.EqualFunc(a, b, func(x, y map[string]int64) bool { return maps.Equal(x, y) })
}

func TestStatsCountExactly(t *testing.T) {
	b, _ := newTestBackend(t, Config{Signing: SigningEdDSA})
	a, c := signIn(t, b), signIn(t, b)
	mintToken(t, b, a)
	jwt := decode[tokenResponse](t, mintToken(t, b, a)).JWT
	do(t, b, http.MethodPost, "/v1/client/sessions/"+a.Session.ID+"/tokens", c.ClientToken, "")
	do(t, b, http.MethodPost, "/v1/client/sessions/sess_nope/tokens", a.ClientToken, "")
	do(t, b, http.MethodGet, "/v1/client/sessions/"+a.Session.ID+"/tokens", a.ClientToken, "")
	do(t, b, http.MethodPost, "/v1/client/sessions/"+a.Session.ID+"/touch", a.ClientToken, "")
	do(t, b, http.MethodPost, "/v1/client/sessions/"+c.Session.ID+"/end", c.ClientToken, "")
	for range 3 {
		callAPI(t, b, jwt)
	}
	callAPI(t, b, "")
	do(t, b, http.MethodGet, "/.well-known/jwks.json", "", "")
	do(t, b, http.MethodGet, "/nope", "", "")
	do(t, b, http.MethodPost, "/admin/nope", "", "")
	do(t, b, http.MethodPost, "/admin/keys/rotate", "", `{"keep_previous":true}`)
	do(t, b, http.MethodPost, "/admin/sessions/sess_nope/revoke", "", "")
	do(t, b, http.MethodGet, "/metrics", "", "")

	want := Stats{
		Endpoints: map[string]map[string]int64{
			EndpointSignIn:  {"200": 2},
			EndpointToken:   {"200": 2, "401": 1, "404": 1, "405": 1},
			EndpointTouch:   {"200": 1},
			EndpointEnd:     {"200": 1},
			EndpointAPI:     {"200": 3, "401": 1},
			EndpointJWKS:    {"200": 1},
			EndpointOther:   {"404": 2},
			EndpointAdmin:   {"200": 1, "404": 1},
			EndpointMetrics: {"200": 1},
		},
		Sessions:     map[string]int64{SessionActive: 1, SessionEnded: 1},
		TokensMinted: 4,
	}
	got := b.Stats()
	if !equalEndpoints(got.Endpoints, want.Endpoints) || !maps.Equal(got.Sessions, want.Sessions) || got.TokensMinted != want.TokensMinted {
		t.Fatalf("Stats() = %+v\nwant      %+v", got, want)
	}

	// /admin/stats does not include the stats request being served.
	rec := do(t, b, http.MethodGet, "/admin/stats", "", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("admin stats: status %d, body %s", rec.Code, rec.Body)
	}
	served := decode[Stats](t, rec)
	if !equalEndpoints(served.Endpoints, want.Endpoints) || !maps.Equal(served.Sessions, want.Sessions) || served.TokensMinted != want.TokensMinted {
		t.Errorf("/admin/stats = %+v\nwant          %+v", served, want)
	}
	if got := b.Stats().Endpoints[EndpointAdmin]["200"]; got != 2 {
		t.Errorf(`after the stats read, Endpoints["admin"]["200"] = %d, want 2`, got)
	}
}

func TestStatsJSONShape(t *testing.T) {
	b, _ := newTestBackend(t, Config{MaxInflight: 3, MaxQueue: 5})
	raw, err := json.Marshal(b.Stats())
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"endpoints":{},"sessions":{},"tokens_minted":0,"admission":{"max_inflight":3,"max_queue":5,` +
		`"inflight":0,"queued":0,"inflight_peak":0,"queued_peak":0,"shed_queue_full":0,"shed_queue_wait":0}}`; string(raw) != want {
		t.Errorf("empty Stats JSON = %s, want %s", raw, want)
	}
}

// TestStatsMatchClientCountsOverHTTP drives the server concurrently over
// real connections and holds the client's own counts of responses against
// the server's, as stampede's end-to-end test does.
func TestStatsMatchClientCountsOverHTTP(t *testing.T) {
	b, _ := newTestBackend(t, Config{Signing: SigningEdDSA})
	srv, err := b.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	client := &http.Client{}
	defer client.CloseIdleConnections()

	var (
		mu     sync.Mutex
		counts = map[string]map[string]int64{}
		wg     sync.WaitGroup
	)
	record := func(ep string, resp *http.Response) {
		mu.Lock()
		defer mu.Unlock()
		if counts[ep] == nil {
			counts[ep] = map[string]int64{}
		}
		counts[ep][strconv.Itoa(resp.StatusCode)]++
	}
	call := func(ep, method, path, auth string, into any) {
		req, err := http.NewRequest(method, srv.URL+path, nil)
		if err != nil {
			t.Error(err)
			return
		}
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		defer resp.Body.Close()
		record(ep, resp)
		if into != nil && resp.StatusCode == http.StatusOK {
			if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
				t.Error(err)
			}
		}
	}
	for range 8 {
		wg.Go(func() {
			for range 10 {
				var si signInResponse
				call(EndpointSignIn, http.MethodPost, "/v1/client/sign_ins", "", &si)
				for range 3 {
					var tr tokenResponse
					call(EndpointToken, http.MethodPost, "/v1/client/sessions/"+si.Session.ID+"/tokens", si.ClientToken, &tr)
					call(EndpointAPI, http.MethodGet, "/api/feed", tr.JWT, nil)
				}
			}
		})
	}
	wg.Go(func() {
		for range 5 {
			if _, err := b.RevokeFraction(0.2); err != nil {
				t.Error(err)
			}
			if err := b.RotateKeys(true); err != nil {
				t.Error(err)
			}
		}
	})
	wg.Wait()

	got := b.Stats()
	if !equalEndpoints(got.Endpoints, counts) {
		t.Errorf("server counts %v\nclient counts %v", got.Endpoints, counts)
	}
	if want := counts[EndpointSignIn]["200"] + counts[EndpointToken]["200"]; got.TokensMinted != want {
		t.Errorf("TokensMinted = %d, want %d", got.TokensMinted, want)
	}
}

// TestStatsMatchClientCountsUnderFaults drives the server concurrently over
// real connections with faults and client-token rotation on, changing both
// at run time, and holds the client's counts against the server's.
func TestStatsMatchClientCountsUnderFaults(t *testing.T) {
	b, _ := newTestBackend(t, Config{Signing: SigningEdDSA, Seed: 3, Rotation: Rotation{Enabled: true, Grace: time.Minute}})
	setFaults(t, b, Faults{TokenLatency: time.Millisecond, Rate429: 0.2, RetryAfter: time.Second, Rate503: 0.1, Spurious401: 0.2})
	srv, err := b.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	// Closed before the server: a connection the transport dialed but never
	// used would hold a graceful shutdown for 5s.
	client := &http.Client{}
	defer client.CloseIdleConnections()

	var (
		mu     sync.Mutex
		counts = map[string]map[string]int64{}
		wg     sync.WaitGroup
	)
	call := func(ep, method, path, auth, body string, into any) int {
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Error(err)
			return 0
		}
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Error(err)
			return 0
		}
		defer resp.Body.Close()
		mu.Lock()
		if counts[ep] == nil {
			counts[ep] = map[string]int64{}
		}
		counts[ep][strconv.Itoa(resp.StatusCode)]++
		mu.Unlock()
		if resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") != "1" {
			t.Errorf("429 with Retry-After %q", resp.Header.Get("Retry-After"))
		}
		if into != nil && resp.StatusCode == http.StatusOK {
			if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
				t.Error(err)
			}
		}
		return resp.StatusCode
	}
	for range 8 {
		wg.Go(func() {
			for range 4 {
				var si signInResponse
				call(EndpointSignIn, http.MethodPost, "/v1/client/sign_ins", "", "", &si)
				current := si.ClientToken
				for range 5 {
					var tr tokenResponse
					if call(EndpointToken, http.MethodPost, "/v1/client/sessions/"+si.Session.ID+"/tokens", current, "", &tr) != http.StatusOK {
						continue
					}
					if tr.ClientToken != "" {
						current = tr.ClientToken
					}
					call(EndpointAPI, http.MethodGet, "/api/feed", tr.JWT, "", nil)
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 6 {
			call(EndpointAdmin, http.MethodPut, "/admin/faults", "", fmt.Sprintf(`{"rate_429":0.%d,"rate_503":0.1,"spurious_401":0.3,"retry_after":"1s"}`, i), nil)
			call(EndpointAdmin, http.MethodPut, "/admin/rotation", "", fmt.Sprintf(`{"enabled":%t,"grace":"1m"}`, i%2 == 0), nil)
			call(EndpointAdmin, http.MethodGet, "/admin/faults", "", "", nil)
		}
	})
	wg.Wait()

	got := b.Stats()
	if !equalEndpoints(got.Endpoints, counts) {
		t.Errorf("server counts %v\nclient counts %v", got.Endpoints, counts)
	}
	if want := counts[EndpointSignIn]["200"] + counts[EndpointToken]["200"]; got.TokensMinted != want {
		t.Errorf("TokensMinted = %d, want %d", got.TokensMinted, want)
	}
	for _, code := range []string{"200", "429", "503"} {
		if counts[EndpointToken][code] == 0 {
			t.Errorf("no token answers with status %s: %v", code, counts[EndpointToken])
		}
	}
	if counts[EndpointAPI]["401"] == 0 {
		t.Errorf("no spurious 401s: %v", counts[EndpointAPI])
	}
}
