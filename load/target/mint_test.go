package target

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stampede-load/stampede/load/model"
)

// TestMintRetriesPassingFailures: every user's first password grant is
// answered 503; the retry signs each in, and the results are in user
// order.
func TestMintRetriesPassingFailures(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	srv := oaServe(t, func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		u := r.PostForm.Get("username")
		mu.Lock()
		seen[u]++
		first := seen[u] == 1
		mu.Unlock()
		if first {
			w.WriteHeader(http.StatusServiceUnavailable) // each user's first try
			return
		}
		oaJSON(w, 200, map[string]any{"access_token": oaJWT(oaNow, oaNow.Add(time.Hour)), "token_type": "bearer",
			"expires_in": 3600, "refresh_token": "rt-" + u})
	})
	oa := oaTarget(t, srv, nil)
	got := Mint(context.Background(), oa, MintOptions{Count: 4, Concurrency: 2, Timeout: 5 * time.Second, RetryBase: time.Millisecond})
	if len(got) != 4 {
		t.Fatalf("%d results, want 4", len(got))
	}
	for i, m := range got {
		want := FormatUser("user%d@example.com", i)
		if m.Outcome.Class != model.ClassOK || m.Credential.RefreshToken != "rt-"+want {
			t.Errorf("user %d: %+v, want signed in with rt-%s", i, m, want)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for u, n := range seen {
		if n != 2 {
			t.Errorf("%s: %d password grants, want 2 (one retry)", u, n)
		}
	}
}

// TestMintStopsRetryingAtItsLimit: a failure that persists is tried 4
// times (3 retries) and reported; one that is not passing (invalid_grant)
// is not retried.
func TestMintStopsRetryingAtItsLimit(t *testing.T) {
	var mu sync.Mutex
	tries := map[string]int{}
	srv := oaServe(t, func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		u := r.PostForm.Get("username")
		mu.Lock()
		tries[u]++
		mu.Unlock()
		if u == "user0@example.com" {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		oaJSON(w, 400, map[string]string{"error": "invalid_grant"})
	})
	got := Mint(context.Background(), oaTarget(t, srv, nil), MintOptions{Count: 2, Concurrency: 1, Timeout: 5 * time.Second, RetryBase: time.Millisecond})
	if got[0].Outcome.Class != model.Class5xx || got[0].Outcome.Status != http.StatusBadGateway || got[1].Outcome.Code != "invalid_grant" {
		t.Errorf("outcomes %+v, %+v", got[0].Outcome, got[1].Outcome)
	}
	mu.Lock()
	defer mu.Unlock()
	if tries["user0@example.com"] != 4 || tries["user1@example.com"] != 1 {
		t.Errorf("tries %v, want 4 and 1", tries)
	}
}
