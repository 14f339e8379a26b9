//go:build e2e

package e2e

import (
	"bufio"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stampede-load/stampede/reports"
)

// TestProxyInFrontOfDex: stampede run's 200 clients against Dex through
// stampede proxy, with a brownout of the token endpoint on the proxy's
// timeline. The proxy forwards everything (no 502), tells the 200
// sessions apart by the JWTs' sub, and counts what the run counts: the
// same sign-ins, refreshes and API calls, the same duplicate refreshes,
// and no rotated refresh token reused (Dex would refuse it).
func TestProxyInFrontOfDex(t *testing.T) {
	dir := filepath.Join(outDir, "proxy-dex")
	px := exec.Command(stampedeBin, "proxy", "--upstream", "http://"+dexAddr, "-p", "testdata/dex-proxy.yaml",
		"--listen", "127.0.0.1:0", "--duration", "75s", "--out", dir)
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
		t.Fatal("stampede proxy printed no address")
	}
	go func() { // keep reading, so the proxy never blocks on a full pipe
		for sc.Scan() {
		}
	}()
	start := time.Now()
	run := runStampede(t, "proxy-dex-run", "run", "-p", "testdata/dex.yaml", "--target", proxyURL+"/dex")
	if err := px.Wait(); err != nil {
		t.Fatalf("stampede proxy: %v (after %s)", err, time.Since(start).Round(time.Second))
	}
	res, err := reports.ReadFile(filepath.Join(dir, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	p := res.Proxy
	t.Logf("proxy: %+v; run: duplicate refreshes %d, refreshes %d (%d ok)", p, run.Herd.DuplicateRefreshes,
		run.Ops["refresh"].Count, run.Ops["refresh"].OK)
	if p.Sessions != clients || p.UpstreamErrors != 0 || p.Unattributed != 0 {
		t.Errorf("sessions %d (want %d), upstream errors %d, unattributed %d", p.Sessions, clients, p.UpstreamErrors, p.Unattributed)
	}
	if p.Faults["brownout_503"] == 0 {
		t.Errorf("the brownout answered no refresh 503: %v", p.Faults)
	}
	for _, op := range []string{"sign_in", "refresh", "api"} {
		if r, x := run.Ops[op], res.Ops[op]; r == nil || x == nil || r.Count != x.Count || r.OK != x.OK {
			t.Errorf("ops.%s: run %+v, proxy %+v: want the same count and ok", op, r, x)
		}
	}
	if p.DuplicateInflight != run.Herd.DuplicateRefreshes {
		t.Errorf("duplicate refreshes: proxy %d in flight, run %d", p.DuplicateInflight, run.Herd.DuplicateRefreshes)
	}
	if p.RefreshTokenReuse != 0 {
		t.Errorf("refresh-token reuse %d, want 0", p.RefreshTokenReuse)
	}
}
