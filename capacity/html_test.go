package capacity

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

func sampleReport(t *testing.T) *Report {
	t.Helper()
	p := profiles.Default()
	p.Thresholds = []profiles.Threshold{{Expr: "refresh.p99 < 250ms"}}
	res := &reports.Result{RunID: "cap-</script>", Stages: []reports.Stage{
		stage(0, 200, 20, 1000, 0, 2), stage(1, 400, 90, 2000, 0, 3), stage(2, 800, 900, 2000, 450, 4)}}
	rep, err := Knee(res, p, 50*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestWriteHTMLHasTheTableAndTheData(t *testing.T) {
	var b bytes.Buffer
	if err := sampleReport(t).WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{"holds 400 clients at refresh.p99 &lt; 250ms", `<td class="fail">fail</td>`, `"first_fail":800`, `"last_pass":400`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "cap-</script>") {
		t.Error("the run id reached the page unescaped")
	}
	for _, ref := range []string{"src=\"http", "href=\"http", "<link"} {
		if strings.Contains(page, ref) {
			t.Errorf("page loads something: %q", ref)
		}
	}
}

// TestWriteHTMLRendersInChromium: headless Chromium, its network closed
// (every connection goes to a proxy that refuses), runs the page's script:
// it draws every chart against fleet size with the knee marked, and
// throws nothing.
func TestWriteHTMLRendersInChromium(t *testing.T) {
	bin := ""
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		t.Skip("no chromium on PATH")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "capacity.html")
	var b bytes.Buffer
	if err := sampleReport(t).WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
		"--virtual-time-budget=2000", "--dump-dom", "file://"+path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	dom, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	got := string(dom)
	if !strings.Contains(got, `data-rendered="ok"`) {
		t.Fatalf("the page's script did not finish (error: %q)", between(got, `data-error="`, `"`))
	}
	for _, id := range []string{"c-throughput", "c-latency", "c-errors"} {
		svg := between(got, `id="`+id+`"`, "</svg>")
		if n := strings.Count(svg, "<polyline"); n < 1 {
			t.Errorf("chart %s has %d curves", id, n)
		}
		if n := strings.Count(svg, "<circle"); n < 3 {
			t.Errorf("chart %s has %d points, want one per stage", id, n)
		}
		if n := strings.Count(svg, `class="knee"`); n != 2 {
			t.Errorf("chart %s marks the knee with %d lines, want 2 (holds, tips)", id, n)
		}
	}
}

func between(s, from, to string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return ""
	}
	s = s[i+len(from):]
	if j := strings.Index(s, to); j >= 0 {
		return s[:j]
	}
	return s
}
