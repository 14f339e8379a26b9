//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2/client"

	"github.com/stampede-load/stampede/load/model"
	"github.com/stampede-load/stampede/load/target"
	"github.com/stampede-load/stampede/reports"
)

// Set by e2e/run.sh.
var (
	stampedeBin = os.Getenv("STAMPEDE_BIN")
	dexURL      = os.Getenv("DEX_URL")  // http://127.0.0.1:PORT/dex
	dexAddr     = os.Getenv("DEX_ADDR") // 127.0.0.1:PORT
	toxiURL     = os.Getenv("TOXIPROXY_URL")
	outDir      = os.Getenv("STAMPEDE_E2E_OUT")
	secret      = os.Getenv("STAMPEDE_CLIENT_SECRET")
	password    = os.Getenv("STAMPEDE_PASSWORD")
)

// What e2e/run.sh configures Dex with, and the profiles' figures.
const (
	tokenLifetime = 30 * time.Second // expiry.idTokens
	refreshAhead  = 10 * time.Second // sdk.refresh_ahead of testdata/dex.yaml
	runLength     = 60 * time.Second
	clients       = 200
)

func TestMain(m *testing.M) {
	for name, v := range map[string]string{"STAMPEDE_BIN": stampedeBin, "DEX_URL": dexURL, "DEX_ADDR": dexAddr,
		"TOXIPROXY_URL": toxiURL, "STAMPEDE_CLIENT_SECRET": secret, "STAMPEDE_PASSWORD": password} {
		if v == "" {
			fmt.Fprintf(os.Stderr, "e2e: %s is not set: run make e2e (e2e/run.sh), which starts Dex and toxiproxy\n", name)
			os.Exit(2)
		}
	}
	if outDir == "" {
		outDir = os.TempDir()
	}
	for _, u := range []string{dexURL + "/.well-known/openid-configuration", toxiURL + "/version"} {
		if err := waitHTTP(u, 30*time.Second); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}

// waitHTTP polls u until it answers 200, for a server just started.
func waitHTTP(u string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		resp, err := http.Get(u)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not come up within %s: %w", u, within, err)
		}
		time.Sleep(100 * time.Millisecond) // polling a server process, not synchronising goroutines
	}
}

// runStampede runs the stampede binary and returns its result.json.
func runStampede(t *testing.T, name string, args ...string) *reports.Result {
	t.Helper()
	dir := filepath.Join(outDir, name)
	args = append(args, "--out", dir, "--no-progress")
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(stampedeBin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	_ = os.WriteFile(filepath.Join(outDir, name+".stdout"), stdout.Bytes(), 0o644)
	_ = os.WriteFile(filepath.Join(outDir, name+".stderr"), stderr.Bytes(), 0o644)
	if err != nil {
		t.Fatalf("stampede %s: %v (%s)\nstderr:\n%s", strings.Join(args, " "), err, time.Since(start).Round(time.Millisecond), stderr.String())
	}
	for label, text := range map[string]string{"stdout": stdout.String(), "stderr": stderr.String()} {
		if strings.Contains(text, secret) {
			t.Errorf("%s shows the client secret", label)
		}
	}
	raw, err := os.ReadFile(filepath.Join(dir, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), secret) {
		t.Error("result.json holds the client secret")
	}
	res, err := reports.ReadFile(filepath.Join(dir, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("stampede %s: %s; result %s", name, time.Since(start).Round(time.Millisecond), filepath.Join(dir, "result.json"))
	return res
}

// signInTimes reads from the timeline when clients signed in: the start
// of each 100 ms bucket in which the signed-in gauge rose, once per client.
func signInTimes(res *reports.Result) []time.Duration {
	var at []time.Duration
	prev := int64(0)
	bucket := time.Duration(res.Timeline.BucketMs) * time.Millisecond
	for i, n := range res.Timeline.SignedIn {
		for range n - prev {
			at = append(at, time.Duration(i)*bucket)
		}
		prev = max(prev, n)
	}
	return at
}

// expectedRefreshes bounds the refreshes a fleet that signed in at the
// given times sends before the end: each client refreshes refreshAhead
// before exp, so every period. Dex writes exp in whole seconds, so a
// token's remaining life on receipt is between lifetime−1 s and lifetime;
// lower also allows each refresh 500 ms of latency and the bucket's width.
func expectedRefreshes(signIns []time.Duration, bucket time.Duration) (lower, upper int) {
	long := tokenLifetime - refreshAhead
	short := long - time.Second - 50*time.Millisecond
	for _, s := range signIns {
		for k := 1; s+time.Duration(k)*short < runLength; k++ {
			upper++
		}
		for k := 1; s+bucket+time.Duration(k)*(long+500*time.Millisecond) < runLength-200*time.Millisecond; k++ {
			lower++
		}
	}
	return lower, upper
}

// TestDexRotation: 200 clients for 60 s against Dex with rotation on: no
// error of any kind, every refresh uses the newest refresh token (a stale
// one would be refused), and as many refreshes as 30 s tokens allow.
func TestDexRotation(t *testing.T) {
	res := runStampede(t, "rotation", "run", "-p", "testdata/dex.yaml", "--target", dexURL)
	for _, op := range []string{"sign_in", "refresh", "api", "get_token"} {
		o := res.Ops[op]
		if o == nil || o.Count == 0 || o.ErrorCount() != 0 {
			t.Errorf("ops.%s: %+v: want requests and no errors", op, o)
		}
	}
	if res.Ops["sign_in"].OK != clients {
		t.Errorf("sign-ins: %d ok, want %d", res.Ops["sign_in"].OK, clients)
	}
	if res.Sessions.ForcedSignouts != 0 || res.Requests.Lost != 0 || res.Requests.UserVisibleErrors != 0 || res.Sessions.ByStatus["active"] != clients {
		t.Errorf("sessions %+v, requests %+v", res.Sessions, res.Requests)
	}
	signIns := signInTimes(res)
	if len(signIns) != clients {
		t.Fatalf("the timeline shows %d sign-ins, want %d", len(signIns), clients)
	}
	lower, upper := expectedRefreshes(signIns, time.Duration(res.Timeline.BucketMs)*time.Millisecond)
	got := res.Ops["refresh"].OK
	t.Logf("refreshes: %d (expected %d to %d for 30 s tokens refreshed 10 s ahead); sign-in p50 %.1f ms, refresh p50 %.1f ms p99 %.1f ms; api calls %d",
		got, lower, upper, res.Ops["sign_in"].LatencyMs.P50, res.Ops["refresh"].LatencyMs.P50, res.Ops["refresh"].LatencyMs.P99, res.Ops["api"].OK)
	if got < int64(lower) || got > int64(upper) {
		t.Errorf("refreshes %d, want %d to %d", got, lower, upper)
	}
}

// TestRacingRefreshes: two concurrent refreshes of one refresh token. Dex
// rotates for one; the other is refused as a reused token, which stampede
// classifies as refresh_token_reused, apart from other 4xx. (Dex answers a
// race it notices only in its storage with a 500; the client's retry with
// the same token is then refused as reused.)
func TestRacingRefreshes(t *testing.T) {
	oa, err := target.NewOAuth2(target.OAuth2Config{
		TokenURL: dexURL + "/token", ClientID: "stampede", ClientSecret: secret, Scope: "openid offline_access",
		UserPattern: "user%d@example.com", UserOffset: clients, Password: password, // users the runs do not use
		Client: &http.Client{Timeout: 10 * time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const pairs = 20
	direct, viaRetry := 0, 0
	for i := range pairs {
		cr, out := oa.SignIn(ctx, fmt.Sprintf("user-%d", i))
		if out.Class != model.ClassOK {
			t.Fatalf("sign-in %d: %+v", i, out)
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		outs := make([]model.Outcome, 2)
		creds := make([]target.Credentials, 2)
		for j := range 2 {
			wg.Go(func() {
				<-start
				creds[j], outs[j] = oa.Refresh(ctx, cr.SessionID, cr.ClientToken)
			})
		}
		close(start)
		wg.Wait()
		win := slices.IndexFunc(outs, func(o model.Outcome) bool { return o.Class == model.ClassOK })
		if win < 0 || outs[1-win].Class == model.ClassOK {
			t.Fatalf("pair %d: outcomes %+v: want exactly one refresh to win", i, outs)
		}
		lost := outs[1-win]
		switch {
		case lost.Code == target.CodeRefreshTokenReused && lost.Status == 400:
			direct++
		case lost.Class == model.Class5xx:
			// The client retries a 5xx with the same token.
			if _, again := oa.Refresh(ctx, cr.SessionID, cr.ClientToken); again.Code != target.CodeRefreshTokenReused {
				t.Errorf("pair %d: retry after %+v: %+v, want refresh_token_reused", i, lost, again)
			}
			viaRetry++
		default:
			t.Errorf("pair %d: the loser's answer %+v is not classified as reuse", i, lost)
		}
		// Rotation: the winner's new refresh token is the one that works.
		if creds[win].ClientToken == "" || creds[win].ClientToken == cr.ClientToken {
			t.Fatalf("pair %d: no rotated refresh token", i)
		}
		if _, out := oa.Refresh(ctx, cr.SessionID, creds[win].ClientToken); out.Class != model.ClassOK {
			t.Errorf("pair %d: the rotated token: %+v", i, out)
		}
	}
	t.Logf("%d racing pairs: one refresh won each; the other was refused as refresh_token_reused: %d at once (400 invalid_request), %d after Dex's storage-race 500 and a retry",
		pairs, direct, viaRetry)
	// Reuse and other 4xx are told apart.
	if _, out := oa.Refresh(ctx, "x", "not-a-token"); out.Code != target.CodeRefreshTokenReused {
		t.Logf("an unknown refresh token: %+v (Dex answers it as a reused one)", out)
	}
	bad, _ := target.NewOAuth2(target.OAuth2Config{TokenURL: dexURL + "/token", ClientID: "stampede", ClientSecret: "wrong",
		UserPattern: "user%d@example.com", Password: password, Scope: "openid offline_access"})
	if _, out := bad.SignIn(ctx, "user-0"); out.Class != model.Class401 || out.Code != "invalid_client" {
		t.Errorf("a wrong client secret: %+v, want http_401 invalid_client", out)
	}
	if _, out := oa.SignIn(ctx, "user-999999"); out.Class == model.ClassOK || out.Code == target.CodeRefreshTokenReused {
		t.Errorf("an unknown user: %+v", out)
	}
}

// TestToxiproxyFaults: the rotation run through toxiproxy, with a latency
// toxic from 22 s to 28 s and a reset_peer toxic from 42 s to 46 s: the
// refresh latency shifts by the toxic's 300 ms in its window, and network
// errors appear in the other's window and nowhere else.
func TestToxiproxyFaults(t *testing.T) {
	tc := toxiproxy.NewClient(toxiURL)
	if old, err := tc.Proxy("dex"); err == nil {
		_ = old.Delete()
	}
	proxy, err := tc.CreateProxy("dex", "127.0.0.1:0", dexAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Delete()
	if proxy.Listen == "" || strings.HasSuffix(proxy.Listen, ":0") {
		t.Fatalf("proxy listens on %q", proxy.Listen)
	}
	target := "http://" + proxy.Listen + "/dex"
	res := runStampede(t, "toxic", "run", "-p", "testdata/dex-toxic.yaml", "--target", target, "--set", "target.toxiproxy="+toxiURL)

	if len(res.Events) != 2 {
		t.Fatalf("events %+v", res.Events)
	}
	for i, want := range [][2]float64{{22, 28}, {42, 46}} {
		ev := res.Events[i]
		if ev.Type != "toxic" || ev.Error != "" || math.Abs(ev.StartS-want[0]) > 0.01 || math.Abs(ev.EndS-want[1]) > 0.01 {
			t.Errorf("events[%d] = %+v, want a toxic from %gs to %gs without error", i, ev, want[0], want[1])
		}
	}
	if toxics, err := proxy.Toxics(); err != nil || len(toxics) != 0 {
		t.Errorf("toxics left on the proxy: %v %v", toxics, err)
	}

	// The latency shift, from the refresh latency series.
	series := res.Timeline.RefreshLatencyMs
	window := time.Duration(series.WindowMs) * time.Millisecond
	var inside, before []float64
	for i, p50 := range series.P50 {
		from, to := time.Duration(i)*window, time.Duration(i+1)*window
		switch {
		case p50 == 0: // no refresh answered in the window
		case from >= 22500*time.Millisecond && to <= 28*time.Second:
			inside = append(inside, p50)
		case to <= 22*time.Second || (from >= 29*time.Second && to <= 41*time.Second):
			before = append(before, p50)
		}
	}
	in, out := median(inside), median(before)
	t.Logf("refresh p50 with the 300 ms latency toxic: %.1f ms (median of %d windows); without: %.1f ms (%d windows)", in, len(inside), out, len(before))
	if len(inside) == 0 || len(before) == 0 || in < 300 || in-out < 250 {
		t.Errorf("no latency shift: %.1f ms inside the toxic, %.1f ms outside", in, out)
	}

	// Network errors, in the reset_peer window only.
	bucket := time.Duration(res.Timeline.BucketMs) * time.Millisecond
	var errs, outside int64
	first, last := time.Duration(-1), time.Duration(0)
	for i, n := range res.Timeline.RefreshErrors {
		at := time.Duration(i) * bucket
		if n == 0 {
			continue
		}
		errs += n
		if first < 0 {
			first = at
		}
		last = at
		if at < 42*time.Second || at > 47*time.Second {
			outside += n
		}
	}
	netErrs := res.Ops["refresh"].Errors["network"] + res.Ops["api"].Errors["network"] + res.Ops["sign_in"].Errors["network"]
	t.Logf("refresh errors %d between %s and %s (network: refresh %d, api %d); refreshes %d ok; forced sign-outs %d",
		errs, first, last, res.Ops["refresh"].Errors["network"], res.Ops["api"].Errors["network"], res.Ops["refresh"].OK, res.Sessions.ForcedSignouts)
	if errs == 0 || netErrs == 0 || outside != 0 {
		t.Errorf("refresh errors %d (%d outside 42 s to 47 s), network errors %d: want network errors in the reset_peer window only", errs, outside, netErrs)
	}
	for _, op := range []string{"refresh", "api", "sign_in"} {
		for class, n := range res.Ops[op].Errors {
			if class != "network" && n != 0 {
				t.Errorf("ops.%s.errors.%s = %d: only network errors expected", op, class, n)
			}
		}
	}
	if res.Sessions.ForcedSignouts != 0 || res.Sessions.ByStatus["active"] != clients {
		t.Errorf("sessions %+v: the resets never reached Dex, so no session should end", res.Sessions)
	}
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}
