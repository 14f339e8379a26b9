//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The resource-abuse suite: each input a hostile or careless user gave
// stampede, run as its own process (built once, without the race
// detector, into the test's directory), must end with the documented exit
// code and a bounded, one-line-per-problem message, within abuseTime and
// abuseRSS of peak memory (docs/reliability.md).
const (
	abuseTime = 5 * time.Second
	abuseRSS  = 500 << 20
	// abuseStderr bounds what any case may print on stderr.
	abuseStderr = 8 << 10
)

// abuseBinary builds stampede into dir, without the race detector, for the
// suite's processes.
func abuseBinary(t *testing.T, dir string) string {
	t.Helper()
	exe := filepath.Join(dir, "stampede")
	if out, err := exec.Command("go", "build", "-o", exe, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return exe
}

// abuseCase is one reproduction: the command line, what it must exit with
// and say on stderr, and what it must not say.
type abuseCase struct {
	name   string
	args   []string
	code   int
	want   []string
	reject []string
	// signal, if set, is sent once the process has run for signalAfter.
	signal      syscall.Signal
	signalAfter time.Duration
}

// abuseFiles writes the inputs of the suite into dir.
func abuseFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	write := func(name string, b []byte) {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		files[name] = p
	}
	// 1.3 M unknown keys (14 MB): over the profile size limit.
	var big bytes.Buffer
	for i := range 1_300_000 {
		fmt.Fprintf(&big, "k%d: 1\n", i)
	}
	write("unknown-14mb.yaml", big.Bytes())
	// Under the size limit, still 370,000 unknown keys.
	var under bytes.Buffer
	for i := 0; under.Len() < 4_000_000; i++ {
		fmt.Fprintf(&under, "k%d: 1\n", i)
	}
	write("unknown-4mb.yaml", under.Bytes())
	// 10,000 revocation waves on 10 clients.
	var waves bytes.Buffer
	waves.WriteString("clients: 10\nduration: 10s\nramp: 1s\nevents:\n")
	for i := range 10_000 {
		fmt.Fprintf(&waves, "  - type: revocation_wave\n    at: %dms\n    fraction: 0.5\n", 1000+i%8000)
	}
	write("waves.yaml", waves.Bytes())
	write("dup.yaml", []byte("clients: 10\nduration: 1m\nclients: 20\n"))

	// Results: a valid one (the golden result), then broken copies.
	golden, err := os.ReadFile(filepath.Join("..", "..", "load", "testdata", "golden_result.json"))
	if err != nil {
		t.Fatal(err)
	}
	result := func(name string, edit func(r map[string]any)) {
		var r map[string]any
		if err := json.Unmarshal(golden, &r); err != nil {
			t.Fatal(err)
		}
		r["schema"] = "stampede.result/v1"
		edit(r)
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		write(name, b)
	}
	sub := func(r map[string]any, path ...string) map[string]any {
		for _, p := range path {
			r = r[p].(map[string]any)
		}
		return r
	}
	result("shard-2e9.json", func(r map[string]any) { r["shard"] = map[string]any{"index": 0, "count": 2_000_000_000} })
	for i := range 2 {
		result(fmt.Sprintf("huge-%d.json", i), func(r map[string]any) {
			r["shard"] = map[string]any{"index": i, "count": 2}
			sub(r, "requests")["issued"] = int64(9e18)
			sub(r, "requests")["settled"] = int64(9e18)
		})
	}
	result("bad-count.json", func(r map[string]any) { sub(r, "ops", "sign_in")["count"] = 1_000_000 })
	result("negative.json", func(r map[string]any) {
		sub(r, "ops", "refresh", "latency_ms")["p99"] = -1
		sub(r, "engine")["clients"] = -5
	})
	// An over-large result (sparse: nothing is written to disk).
	f, err := os.Create(filepath.Join(dir, "sparse.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(300 << 20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	files["sparse.json"] = f.Name()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	files["fifo"] = fifo
	return files
}

func TestAbuseEndsBoundedWithExitCodeAndMessage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts stampede processes")
	}
	dir := t.TempDir()
	exe := abuseBinary(t, dir)
	f := abuseFiles(t, dir)
	out := filepath.Join(dir, "out")
	longThreshold := strings.Repeat("a", 100_000) + " < 1ms"
	cases := []abuseCase{
		{name: "ten billion clients", args: []string{"run", "--clients", "10000000000", "--out", out},
			code: exitUsage, want: []string{"--clients: must be at most 100000000"}},
		{name: "a fleet the machine cannot hold", args: []string{"run", "--clients", "90000000", "--out", out},
			code: exitUsage, want: []string{"needs about", "available", "--force"}},
		{name: "a 20000 h timeline", args: []string{"run", "--duration", "20000h", "--out", out},
			code: exitUsage, want: []string{"720000001 timeline buckets", "needs about"}},
		{name: "profile /dev/zero", args: []string{"run", "-p", "/dev/zero", "--out", out},
			code: exitUsage, want: []string{"/dev/zero: too large"}},
		{name: "profile of 14 MB", args: []string{"run", "-p", f["unknown-14mb.yaml"], "--out", out},
			code: exitUsage, want: []string{"too large", "at most 4194304"}},
		{name: "370,000 unknown keys", args: []string{"run", "-p", f["unknown-4mb.yaml"], "--out", out},
			code: exitUsage, want: []string{"unknown field", "more problems (the first 20 are listed)"}},
		{name: "10,000 revocation waves", args: []string{"run", "-p", f["waves.yaml"], "--out", out},
			code: exitUsage, want: []string{"events: at most 1000 fleet events, got 10000"}},
		{name: "a shard of 99999999999", args: []string{"run", "--shard", "0/99999999999", "--out", out},
			code: exitUsage, want: []string{"--shard: the shard count must be at least 1 and at most 100000"}},
		{name: "time scale Inf", args: []string{"run", "--time-scale", "Inf", "--out", out},
			code: exitUsage, want: []string{"--time-scale: must be at most 3600"}},
		{name: "time scale 1e12", args: []string{"run", "--time-scale", "1e12", "--out", out},
			code: exitUsage, want: []string{"--time-scale: must be at most 3600"}},
		{name: "1e12 API calls a minute", args: []string{"run", "--set", "app.api_calls_per_minute=1e12", "--out", out},
			code: exitUsage, want: []string{"app.api_calls_per_minute=1e12: must be at most 60000"}},
		{name: "a 100 KB threshold", args: []string{"run", "--threshold", longThreshold, "--out", out},
			code: exitUsage, want: []string{"(100006 bytes): too long"}},
		{name: "profile /etc/passwd", args: []string{"run", "-p", "/etc/passwd", "--out", out},
			code: exitUsage, want: []string{"not a YAML profile"}, reject: []string{"root:"}},
		{name: "a key given twice, with a flag", args: []string{"run", "-p", f["dup.yaml"], "--clients", "5", "--out", out},
			code: exitUsage, want: []string{f["dup.yaml"] + ":3: clients: given twice (first on line 1)"}, reject: []string{"--clients"}},
		{name: "serve on no address", args: []string{"serve", "--addr", "notanaddr"},
			code: exitUsage, want: []string{"--addr: \"notanaddr\" is not HOST:PORT"}},
		{name: "merge of 2e9 shards", args: []string{"merge", f["shard-2e9.json"]},
			code: exitUsage, want: []string{"shard.count: must be from 1 to 100000, got 2000000000"}},
		{name: "merge of counts near 9e18", args: []string{"merge", f["huge-0.json"], f["huge-1.json"]},
			code: exitUsage, want: []string{"overflow a 64-bit integer: requests.issued, requests.settled"}},
		{name: "merge names every bad file", args: []string{"merge", f["bad-count.json"], f["negative.json"]},
			code: exitUsage, want: []string{f["bad-count.json"], f["negative.json"]}},
		{name: "report of count != ok + errors", args: []string{"report", f["bad-count.json"]},
			code: exitUsage, want: []string{"ops.sign_in: count 1000000 is not ok"}},
		{name: "report of negative figures", args: []string{"report", f["negative.json"]},
			code: exitUsage, want: []string{"ops.refresh.latency_ms.p99: negative", "engine.clients: negative (-5)"}},
		{name: "compare of negative figures", args: []string{"compare", f["negative.json"], f["bad-count.json"]},
			code: exitUsage, want: []string{"negative"}},
		{name: "report /dev/zero", args: []string{"report", "/dev/zero"},
			code: exitUsage, want: []string{"too large: more than 134217728 bytes"}},
		{name: "report of 300 MB", args: []string{"report", f["sparse.json"]},
			code: exitUsage, want: []string{"too large: 314572800 bytes"}},
		// A FIFO nobody writes: the first signal ends each command at once.
		{name: "SIGTERM to profiles validate", args: []string{"profiles", "validate", f["fifo"]}, signal: syscall.SIGTERM,
			code: exitInterrupted, want: []string{"interrupted; stampede profiles validate stopped"}, reject: []string{"partial"}},
		{name: "SIGINT to report", args: []string{"report", f["fifo"]}, signal: syscall.SIGINT,
			code: exitInterrupted, want: []string{"interrupted; stampede report stopped"}, reject: []string{"partial"}},
		{name: "SIGINT to merge", args: []string{"merge", f["fifo"]}, signal: syscall.SIGINT,
			code: exitInterrupted, want: []string{"interrupted; merge stopped"}, reject: []string{"partial"}},
		{name: "SIGTERM to compare", args: []string{"compare", f["fifo"], f["fifo"]}, signal: syscall.SIGTERM,
			code: exitInterrupted, want: []string{"interrupted; stampede compare stopped"}, reject: []string{"partial"}},
		{name: "SIGINT to a run reading its profile", args: []string{"run", "-p", f["fifo"], "--out", out}, signal: syscall.SIGINT,
			code: exitInterrupted, want: []string{"interrupted before the run started; nothing written"}, reject: []string{"partial"}},
		{name: "SIGTERM to serve", args: []string{"serve", "--addr", "127.0.0.1:0"}, signal: syscall.SIGTERM, signalAfter: time.Second,
			code: exitInterrupted, want: []string{"interrupted; stopping the backend"}, reject: []string{"partial"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 4*abuseTime)
			defer cancel()
			cmd := exec.CommandContext(ctx, exe, c.args...)
			cmd.Env = os.Environ()
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			start := time.Now()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			if c.signal != 0 {
				time.AfterFunc(max(c.signalAfter, 200*time.Millisecond), func() { _ = cmd.Process.Signal(c.signal) })
			}
			_ = cmd.Wait()
			took := time.Since(start)
			code := cmd.ProcessState.ExitCode()
			rss := int64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) << 10 // KiB on Linux
			errText := stderr.String()
			t.Logf("exit %d in %s, peak RSS %d MiB, %d bytes of stderr", code, took.Round(time.Millisecond), rss>>20, len(errText))
			if code != c.code {
				t.Errorf("exit %d, want %d; stderr:\n%.2000s", code, c.code, errText)
			}
			if took > abuseTime+c.signalAfter {
				t.Errorf("took %s, more than %s", took, abuseTime+c.signalAfter)
			}
			if rss > abuseRSS {
				t.Errorf("peak RSS %d MiB, more than %d MiB", rss>>20, abuseRSS>>20)
			}
			if len(errText) > abuseStderr {
				t.Errorf("%d bytes of stderr, more than %d:\n%.2000s", len(errText), abuseStderr, errText)
			}
			for _, w := range c.want {
				if !strings.Contains(errText, w) {
					t.Errorf("stderr lacks %q:\n%.2000s", w, errText)
				}
			}
			for _, r := range c.reject {
				if strings.Contains(errText, r) {
					t.Errorf("stderr says %q:\n%.2000s", r, errText)
				}
			}
		})
	}
}
