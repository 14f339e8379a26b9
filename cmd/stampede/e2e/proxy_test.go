//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"maps"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/reports"
)

// proxyClients is the fleet of testdata/dex-2000.yaml.
const proxyClients = 2000

// TestProxyInFrontOfDex: stampede run's 2,000 clients against Dex through
// stampede proxy, with a brownout of the token endpoint on the proxy's
// timeline (refreshes 300 ms slower, a fifth answered 503). The proxy
// forwards everything (no 502), tells the 2,000 sessions apart by the JWTs'
// sub, and counts what the run counts: the same sign-ins, refreshes (ok,
// and failed: by class for the server's answers, the brownout's 503s on
// both sides; in all for the requests the clients gave up on) and API calls,
// the same duplicate refreshes, one session per client, every client with
// a session at the end, and no rotated refresh token reused (Dex would
// refuse it). The run takes 230 s: Dex's bcrypt check of each password
// grant needs a 200 s ramp for 2,000 sign-ins (testdata/dex-2000.yaml).
func TestProxyInFrontOfDex(t *testing.T) {
	dir := filepath.Join(outDir, "proxy-dex")
	// The proxy outlives the run (230 s, and its start) by a few seconds,
	// and writes its result at --duration.
	px := exec.Command(stampedeBin, "proxy", "--upstream", "http://"+dexAddr, "-p", "testdata/dex-proxy.yaml",
		"--listen", "127.0.0.1:0", "--duration", "238s", "--out", dir)
	var stderr bytes.Buffer
	px.Stderr = &stderr
	stdout, err := px.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := px.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = px.Process.Kill() }()
	sc := bufio.NewScanner(stdout)
	listening := regexp.MustCompile(`listening on (http://\S+)`)
	proxyURL := ""
	for sc.Scan() {
		if m := listening.FindStringSubmatch(sc.Text()); m != nil {
			proxyURL = m[1]
			break
		}
	}
	if proxyURL == "" {
		_ = px.Wait()
		t.Fatalf("stampede proxy printed no address: %s", stderr.String())
	}
	go func() { // keep reading, so the proxy never blocks on a full pipe
		for sc.Scan() {
		}
	}()
	start := time.Now()
	run := runStampede(t, "proxy-dex-run", "run", "-p", "testdata/dex-2000.yaml", "--target", proxyURL+"/dex")
	ranFor := time.Since(start)
	if err := px.Wait(); err != nil {
		t.Fatalf("stampede proxy: %v (after %s): %s", err, time.Since(start).Round(time.Second), stderr.String())
	}
	t.Logf("the run took %s, the test %s", ranFor.Round(time.Second), time.Since(start).Round(time.Second))
	res, err := reports.ReadFile(filepath.Join(dir, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	p := res.Proxy
	t.Logf("proxy: %+v", p)
	for _, op := range []string{"sign_in", "refresh", "api"} {
		r, x := run.Ops[op], res.Ops[op]
		if r == nil || x == nil {
			t.Errorf("ops.%s: run %+v, proxy %+v", op, r, x)
			continue
		}
		t.Logf("ops.%s: run %d (%d ok, errors %v), proxy %d (%d ok, errors %v)", op, r.Count, r.OK, r.Errors, x.Count, x.OK, x.Errors)
		if r.Count != x.Count || r.OK != x.OK || r.ErrorCount() != x.ErrorCount() || !maps.Equal(serverSaid(r.Errors), serverSaid(x.Errors)) {
			t.Errorf("ops.%s: run %d (%d ok, errors %v), proxy %d (%d ok, errors %v): want the same counts",
				op, r.Count, r.OK, r.Errors, x.Count, x.OK, x.Errors)
		}
	}
	if si := run.Ops["sign_in"]; si == nil || si.OK != proxyClients {
		t.Errorf("sign-ins %+v: want %d ok", si, proxyClients)
	}
	if p.Sessions != proxyClients || p.UpstreamErrors != 0 || p.Unattributed != 0 || p.Rejected != 0 {
		t.Errorf("proxy: sessions %d (want %d), upstream errors %d, unattributed %d, rejected %d",
			p.Sessions, proxyClients, p.UpstreamErrors, p.Unattributed, p.Rejected)
	}
	if run.Sessions.ByStatus["active"] != proxyClients || run.Sessions.ForcedSignouts != 0 {
		t.Errorf("run: sessions %+v: want all %d active, no forced sign-outs", run.Sessions, proxyClients)
	}
	// The brownout's 503s: the proxy made them, and both sides count each
	// as a failed refresh of class http_5xx (the run saw no other 5xx:
	// Dex answered every refresh it got).
	b503 := p.Faults["brownout_503"]
	if b503 == 0 {
		t.Errorf("the brownout answered no refresh 503: %v", p.Faults)
	}
	if r, x := run.Ops["refresh"], res.Ops["refresh"]; r != nil && x != nil && (r.Errors["http_5xx"] != b503 || x.Errors["http_5xx"] != b503) {
		t.Errorf("brownout: the proxy answered %d refreshes 503; the run counts %d http_5xx, the proxy %d",
			b503, r.Errors["http_5xx"], x.Errors["http_5xx"])
	}
	if p.DuplicateInflight != run.Herd.DuplicateRefreshes {
		t.Errorf("duplicate refreshes: proxy %d in flight, run %d", p.DuplicateInflight, run.Herd.DuplicateRefreshes)
	}
	if p.RefreshTokenReuse != 0 {
		t.Errorf("refresh-token reuse %d, want 0", p.RefreshTokenReuse)
	}
}

// serverSaid is m's error classes of an HTTP answer (http_401, http_429,
// http_5xx), without zero counts. The other classes are the client's
// reasons to give up on a request (a timeout, a superseded token, the run
// ending), which the proxy sees as a client gone away and counts as other:
// only their sum is compared.
func serverSaid(m map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range m {
		if strings.HasPrefix(k, "http_") && v != 0 {
			out[k] = v
		}
	}
	return out
}
