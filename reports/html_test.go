//go:build unix

package reports

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"image/png"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stampede-load/stampede/profiles"
)

func TestWriteHTMLStructure(t *testing.T) {
	r := htmlSampleResult(t)
	_, b := renderHTML(t, r, t.TempDir())
	page := string(b)

	for _, name := range HTMLCharts {
		if !strings.Contains(page, fmt.Sprintf(`data-chart="%s"`, name)) {
			t.Errorf("no chart container data-chart=%q", name)
		}
	}
	checkSelfContained(t, page)

	// The tables are plain HTML, readable without JavaScript, and escaped.
	for _, want := range []string{
		r.RunID, "herd-demo", html.EscapeString(r.Profile.Description), "embedded http://127.0.0.1:8787",
		"2026-11-28 09:30:00.000 UTC", "2026-11-28 09:31:00.000 UTC", "Partial result",
		"<code>refresh.p99 &lt; 250ms</code>", "<code>herd.peak_to_mean &lt; 4</code>", "FAIL (abort on fail)",
		"1 of 2 thresholds failed.", `class="verdict fail">FAIL`,
		"<td>outage</td><td>20s</td>", "<td>revocation_wave</td><td>75%</td>", "not recovered", ">4.2<",
		">4410<", ">6012<", "<code>peak_to_mean</code></th><td class=\"num\">8.506<",
		"<td>refresh</td><td class=\"num\">20240</td>", "http_401 200, timeout 40",
		"500 revoked", "uPlot 1.6.32 (MIT)",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "<b>herd</b>") {
		t.Error("profile description is not escaped")
	}

	d := parseDataBlock(t, page)
	if len(d.Events) != 2 || d.Events[0].Type != "outage" || d.Events[0].EndS != 30 || d.Events[1].StartS != 45 {
		t.Errorf("events in data = %+v", d.Events)
	}
	for _, name := range HTMLCharts {
		c, ok := d.Charts[name]
		if !ok {
			t.Fatalf("no data for chart %s", name)
		}
		if c.Note != "" {
			t.Errorf("chart %s has a note for a full result: %q", name, c.Note)
		}
	}
	ref := d.Charts[ChartRefresh]
	if ref.StepS != 0.1 || len(ref.Series) != 3 || len(ref.Series[0].Values) != 600 || *ref.Series[0].Values[305] != 330 {
		t.Errorf("refresh chart: step %v, %d series", ref.StepS, len(ref.Series))
	}
	lat := d.Charts[ChartLatency]
	if lat.StepS != 1 || len(lat.Series) != 3 || len(lat.Series[1].Values) != 60 {
		t.Fatalf("latency chart: step %v, %d series", lat.StepS, len(lat.Series))
	}
	if lat.Series[1].Values[20] != nil || *lat.Series[1].Values[31] != 650 {
		t.Errorf("latency p99: window 20 = %v (want a gap), window 31 = %v", lat.Series[1].Values[20], *lat.Series[1].Values[31])
	}
	if cl := d.Charts[ChartClients]; len(cl.Series) != 5 || *cl.Series[3].Values[250] != 800 {
		t.Errorf("clients chart: %d series", len(cl.Series))
	}

	// The HDR chart reads each histogram at 1/(1-p) = 10^(k/10).
	hdr := d.Charts[ChartHDR]
	if len(hdr.Series) != 3 || hdr.Series[0].Label != OpSignIn || hdr.Series[1].Label != OpRefresh || hdr.Series[2].Label != OpAPI {
		t.Fatalf("hdr series = %+v", hdr.Series)
	}
	if len(hdr.X) != 51 || *hdr.X[0] != 1 || *hdr.X[10] != 10 || *hdr.X[50] != 100000 {
		t.Fatalf("hdr x: %d points", len(hdr.X))
	}
	h, err := DecodeHistogram(r.Ops[OpRefresh].HDR)
	if err != nil {
		t.Fatal(err)
	}
	refreshHDR := hdr.Series[1].Values
	if got, want := *refreshHDR[20], float64(h.ValueAtQuantile(99))/1000; got != want {
		t.Errorf("refresh at 99%% = %v, want %v", got, want)
	}
	// 20000 samples: 1/(1-p) runs to 10^4.3, the next point is the max, then gaps.
	if got, want := *refreshHDR[44], float64(h.Max())/1000; got != want {
		t.Errorf("refresh last point = %v, want the max %v", got, want)
	}
	if refreshHDR[45] != nil || refreshHDR[50] != nil {
		t.Errorf("refresh past its count: %v %v, want gaps", refreshHDR[45], refreshHDR[50])
	}
	for i := 1; i < 45; i++ {
		if *refreshHDR[i] < *refreshHDR[i-1] {
			t.Errorf("refresh percentiles fall at %d: %v < %v", i, *refreshHDR[i], *refreshHDR[i-1])
		}
	}

	// Rendering is deterministic.
	var again bytes.Buffer
	if err := WriteHTML(&again, r); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Bytes(), b) {
		t.Error("two renderings of one result differ")
	}
}

// bareHTMLResult has no timeline, no histograms, no events and no thresholds.
func bareHTMLResult() *Result {
	start := time.Date(2026, 11, 28, 9, 30, 0, 0, time.UTC)
	return &Result{Schema: Schema, RunID: "bare", Profile: profiles.Profile{Name: "bare"},
		StartedAt: start, EndedAt: start.Add(10 * time.Second), Verdict: VerdictPass}
}

func TestWriteHTMLNotesWhatTheResultLacks(t *testing.T) {
	r := htmlSampleResult(t)
	r.Timeline.RefreshLatencyMs = LatencySeries{}
	var b bytes.Buffer
	if err := WriteHTML(&b, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "No per-window latency series in this result") {
		t.Error("no note for the missing latency series")
	}
	if d := parseDataBlock(t, b.String()); d.Charts[ChartLatency].Note == "" || d.Charts[ChartRefresh].Note != "" {
		t.Errorf("notes: latency %q, refresh %q", d.Charts[ChartLatency].Note, d.Charts[ChartRefresh].Note)
	}

	b.Reset()
	if err := WriteHTML(&b, bareHTMLResult()); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{"No timeline in this result.", "No latency histograms in this result.",
		"No thresholds were set.", "The profile had no fleet events.", "No operation completed in this run.", `class="verdict pass">PASS`} {
		if !strings.Contains(page, want) {
			t.Errorf("bare page lacks %q", want)
		}
	}
	checkSelfContained(t, page)
	parseDataBlock(t, page)
}

func TestWriteHTMLEscapesResultText(t *testing.T) {
	r := htmlSampleResult(t)
	const nasty = `</script><script>alert(1)</script><!--`
	r.Events[1].Type = nasty
	r.Events[1].Error = nasty
	r.RunID = nasty
	var b bytes.Buffer
	if err := WriteHTML(&b, r); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "<script>alert") {
		t.Error("result text reached the page unescaped")
	}
	d := parseDataBlock(t, b.String())
	if d.Events[1].Type != nasty {
		t.Errorf("event type in the data block = %q, want %q", d.Events[1].Type, nasty)
	}
	checkSelfContained(t, b.String())
}

func TestWriteHTMLRejectsCorruptHistogram(t *testing.T) {
	r := htmlSampleResult(t)
	r.Ops[OpRefresh].HDR = "bm90IGEgaGlzdG9ncmFt"
	err := WriteHTML(io.Discard, r)
	if !errors.Is(err, ErrInvalidResult) || !strings.Contains(err.Error(), "ops.refresh.hdr") {
		t.Fatalf("err = %v, want ErrInvalidResult naming ops.refresh.hdr", err)
	}
}

// findChromium returns the Chromium binary on PATH, or "".
func findChromium() string {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// proxyTrap is the HTTP proxy Chromium is pointed at, with host name
// resolution off: nothing the browser fetches over the network leaves the
// machine. It answers nothing and records the first line of every
// connection. Chromium's own background services (update checks, account
// look-ups) knock on it too, so the page's requests are counted over the
// DevTools protocol instead, where they are the page's own.
type proxyTrap struct {
	ln       net.Listener
	mu       sync.Mutex
	requests []string
	flushed  chan struct{}
}

const trapSentinel = "STAMPEDE-TRAP-SENTINEL"

func newProxyTrap(t *testing.T) *proxyTrap {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxyTrap{ln: ln, flushed: make(chan struct{}, 1)}
	go p.serve()
	t.Cleanup(func() { ln.Close() })
	return p
}

// serve handles connections one at a time, in the order the kernel queued
// them, so when it sees the sentinel every earlier connection is recorded.
func (p *proxyTrap) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		c.SetReadDeadline(time.Now().Add(2 * time.Second)) // a preconnect sends nothing
		line, _ := bufio.NewReader(c).ReadString('\n')
		c.Close()
		line = strings.TrimSpace(line)
		if line == trapSentinel {
			p.flushed <- struct{}{}
			continue
		}
		if line == "" {
			line = "(preconnect, no request)"
		}
		if f := strings.Fields(line); len(f) >= 2 {
			line = f[0] + " " + f[1] // method and target, not the query
			if i := strings.IndexByte(line, '?'); i >= 0 {
				line = line[:i]
			}
		}
		p.mu.Lock()
		p.requests = append(p.requests, line)
		p.mu.Unlock()
	}
}

// Take waits until every connection made so far is recorded, returns them
// and starts a new record.
func (p *proxyTrap) Take(t *testing.T) []string {
	t.Helper()
	c, err := net.Dial("tcp", p.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(c, trapSentinel)
	c.Close()
	select {
	case <-p.flushed:
	case <-t.Context().Done():
		t.Fatal("proxy trap did not see its sentinel")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	reqs := p.requests
	p.requests = nil
	return reqs
}

// cdpMsg is one DevTools protocol message.
type cdpMsg struct {
	ID        int             `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Error     *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// chromiumBrowser is headless Chromium driven over the DevTools protocol on a pipe
// (--remote-debugging-pipe: NUL-terminated JSON, commands in on fd 3,
// answers and events out on fd 4), so the test needs neither a websocket
// client nor a Go dependency.
type chromiumBrowser struct {
	cmd    *exec.Cmd
	in     *os.File
	stderr bytes.Buffer

	wmu      sync.Mutex
	mu       sync.Mutex
	nextID   int
	pending  map[int]chan cdpMsg
	events   []cdpMsg
	evCh     chan cdpMsg
	readDone chan struct{}
}

// startBrowser starts headless Chromium with the network closed except for
// trap. The whole process group is killed when ctx ends or on close.
func startBrowser(t *testing.T, ctx context.Context, bin string, trap *proxyTrap) *chromiumBrowser {
	t.Helper()
	profile, err := os.MkdirTemp("", "stampede-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(profile) })
	args := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-extensions", "--disable-default-apps", "--no-default-browser-check", "--no-pings",
		"--disable-domain-reliability", "--disable-breakpad", "--hide-scrollbars", "--mute-audio",
		"--disable-features=NetworkTimeServiceQuerying", "--user-data-dir=" + profile,
		// Every http(s) or ws request goes to the trap, loopback included;
		// no host name resolves.
		"--proxy-server=http://" + trap.ln.Addr().String(), "--proxy-bypass-list=<-loopback>",
		"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
		"--enable-logging=stderr", "--v=0",
		"--remote-debugging-pipe", "about:blank",
	}
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	b := &chromiumBrowser{in: inW, pending: map[int]chan cdpMsg{}, evCh: make(chan cdpMsg, 4096), readDone: make(chan struct{})}
	b.cmd = exec.CommandContext(ctx, bin, args...)
	b.cmd.ExtraFiles = []*os.File{inR, outW} // fds 3 and 4
	b.cmd.Stderr = &b.stderr
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	b.cmd.Cancel = func() error { return syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL) }
	b.cmd.WaitDelay = 10 * time.Second
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	inR.Close()
	outW.Close()
	go b.read(outR)
	return b
}

func (b *chromiumBrowser) read(r *os.File) {
	defer close(b.readDone)
	defer r.Close()
	br := bufio.NewReader(r)
	for {
		raw, err := br.ReadBytes(0)
		if err != nil {
			return
		}
		var m cdpMsg
		if json.Unmarshal(raw[:len(raw)-1], &m) != nil {
			continue
		}
		b.mu.Lock()
		if m.ID != 0 {
			if ch := b.pending[m.ID]; ch != nil {
				ch <- m
				delete(b.pending, m.ID)
			}
		} else {
			b.events = append(b.events, m)
			select {
			case b.evCh <- m:
			default: // waitEvent only looks for early events; all are in b.events
			}
		}
		b.mu.Unlock()
	}
}

// call sends a command (to the page session, unless session is "") and
// decodes its result into result, if not nil.
func (b *chromiumBrowser) call(ctx context.Context, session, method string, params, result any) error {
	if params == nil {
		params = struct{}{}
	}
	b.mu.Lock()
	b.nextID++
	id := b.nextID
	ch := make(chan cdpMsg, 1)
	b.pending[id] = ch
	b.mu.Unlock()
	msg, err := json.Marshal(struct {
		ID        int    `json:"id"`
		Method    string `json:"method"`
		Params    any    `json:"params"`
		SessionID string `json:"sessionId,omitempty"`
	}{id, method, params, session})
	if err != nil {
		return err
	}
	b.wmu.Lock()
	_, err = b.in.Write(append(msg, 0))
	b.wmu.Unlock()
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			return fmt.Errorf("%s: %s (%d)", method, m.Error.Message, m.Error.Code)
		}
		if result != nil {
			if err := json.Unmarshal(m.Result, result); err != nil {
				return fmt.Errorf("%s result: %w", method, err)
			}
		}
		return nil
	case <-b.readDone:
		return fmt.Errorf("%s: the browser closed the pipe", method)
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

// waitEvent waits for the event method on session.
func (b *chromiumBrowser) waitEvent(ctx context.Context, session, method string) error {
	for {
		select {
		case m := <-b.evCh:
			if m.Method == method && m.SessionID == session {
				return nil
			}
		case <-b.readDone:
			return fmt.Errorf("waiting for %s: the browser closed the pipe", method)
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", method, ctx.Err())
		}
	}
}

// Events returns the events of session received so far.
func (b *chromiumBrowser) Events(session string) []cdpMsg {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []cdpMsg
	for _, m := range b.events {
		if m.SessionID == session {
			out = append(out, m)
		}
	}
	return out
}

// close asks the browser to quit, waits for it, kills what is left of its
// process group and returns its log (stderr).
func (b *chromiumBrowser) close(ctx context.Context) string {
	quit, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	b.call(quit, "", "Browser.close", nil, nil) // the pipe may close before the answer
	b.in.Close()
	b.cmd.Wait()
	syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL) // helpers left behind, if any
	<-b.readDone
	return b.stderr.String()
}

// chromiumPage is what one page did in the browser.
type chromiumPage struct {
	session  string
	requests []string // URLs the page requested (Network.requestWillBeSent)
	problems []string // console errors, exceptions, failed loads
}

// openPage opens url in a new 1400 px wide tab, waits for its load event and
// then for ready (a JS promise expression, "" for none), and reports the
// page's requests and problems so far.
func (b *chromiumBrowser) openPage(t *testing.T, ctx context.Context, url, ready string) (chromiumPage, string) {
	t.Helper()
	var tgt struct {
		TargetID string `json:"targetId"`
	}
	if err := b.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &tgt); err != nil {
		t.Fatal(err)
	}
	var att struct {
		SessionID string `json:"sessionId"`
	}
	if err := b.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": tgt.TargetID, "flatten": true}, &att); err != nil {
		t.Fatal(err)
	}
	s := att.SessionID
	for _, m := range []string{"Page.enable", "Network.enable", "Runtime.enable", "Log.enable"} {
		if err := b.call(ctx, s, m, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.call(ctx, s, "Emulation.setDeviceMetricsOverride",
		map[string]any{"width": 1400, "height": 1000, "deviceScaleFactor": 1, "mobile": false}, nil); err != nil {
		t.Fatal(err)
	}
	var nav struct {
		ErrorText string `json:"errorText"`
	}
	if err := b.call(ctx, s, "Page.navigate", map[string]any{"url": url}, &nav); err != nil {
		t.Fatal(err)
	}
	if nav.ErrorText != "" {
		t.Fatalf("navigate to %s: %s", url, nav.ErrorText)
	}
	if err := b.waitEvent(ctx, s, "Page.loadEventFired"); err != nil {
		t.Fatal(err)
	}
	readyValue := ""
	if ready != "" {
		readyValue = b.eval(t, ctx, s, ready)
	}
	return b.pageState(s), readyValue
}

// pageState collects the requests and problems of session from its events.
func (b *chromiumBrowser) pageState(s string) chromiumPage {
	run := chromiumPage{session: s}
	for _, m := range b.Events(s) {
		var p struct {
			Request struct {
				URL string `json:"url"`
			} `json:"request"`
			Type  string `json:"type"`
			Entry struct {
				Level, Text, URL string
			} `json:"entry"`
			Args []struct {
				Value       any    `json:"value"`
				Description string `json:"description"`
			} `json:"args"`
			ExceptionDetails struct {
				Text      string `json:"text"`
				Exception struct {
					Description string `json:"description"`
				} `json:"exception"`
			} `json:"exceptionDetails"`
			ErrorText string `json:"errorText"`
		}
		json.Unmarshal(m.Params, &p)
		switch m.Method {
		case "Network.requestWillBeSent":
			run.requests = append(run.requests, p.Request.URL)
		case "Network.loadingFailed":
			run.problems = append(run.problems, "loading failed: "+p.ErrorText)
		case "Log.entryAdded":
			if p.Entry.Level == "error" || p.Entry.Level == "warning" {
				run.problems = append(run.problems, fmt.Sprintf("log %s: %s %s", p.Entry.Level, p.Entry.Text, p.Entry.URL))
			}
		case "Runtime.consoleAPICalled":
			if p.Type == "error" || p.Type == "warning" || p.Type == "assert" {
				run.problems = append(run.problems, fmt.Sprintf("console.%s: %v", p.Type, p.Args))
			}
		case "Runtime.exceptionThrown":
			run.problems = append(run.problems, "exception: "+p.ExceptionDetails.Text+" "+p.ExceptionDetails.Exception.Description)
		}
	}
	return run
}

// eval evaluates a JS expression in the page, awaiting a promise, and
// returns its value as a string (JSON for non-strings).
func (b *chromiumBrowser) eval(t *testing.T, ctx context.Context, session, expr string) string {
	t.Helper()
	var res struct {
		Result struct {
			Type  string          `json:"type"`
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	if err := b.call(ctx, session, "Runtime.evaluate",
		map[string]any{"expression": expr, "awaitPromise": true, "returnByValue": true}, &res); err != nil {
		t.Fatal(err)
	}
	if res.ExceptionDetails != nil {
		t.Fatalf("evaluate %.80q: %s", expr, res.ExceptionDetails.Text)
	}
	var s string
	if json.Unmarshal(res.Result.Value, &s) == nil {
		return s
	}
	return string(res.Result.Value)
}

// jsChartsRendered waits until the page says all its charts are drawn, or
// one failed; it resolves to the body's data-charts-rendered or to "error: …".
const jsChartsRendered = `new Promise(function (resolve) {
  function check() {
    var failed = document.querySelector("[data-chart][data-error]");
    if (failed) { resolve("error: " + failed.dataset.chart + ": " + failed.dataset.error); return; }
    var n = document.body.dataset.chartsRendered;
    if (n) { resolve(n); return; }
    requestAnimationFrame(check);
  }
  check();
})`

// jsChartsState describes each chart container: its canvases, whether it
// drew, and how many pixels of its first canvas carry ink.
const jsChartsState = `JSON.stringify(Array.prototype.map.call(document.querySelectorAll("[data-chart]"), function (el) {
  var c = el.querySelector("canvas"), ink = 0;
  if (c) {
    var d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    for (var i = 3; i < d.length; i += 4) { if (d[i] > 0) { ink++; } }
  }
  return { name: el.dataset.chart, canvases: el.querySelectorAll("canvas").length,
    rendered: el.dataset.rendered || "", error: el.dataset.error || "", width: c ? c.width : 0, ink: ink };
}))`

type htmlChartState struct {
	Name     string `json:"name"`
	Canvases int    `json:"canvases"`
	Rendered string `json:"rendered"`
	Error    string `json:"error"`
	Width    int    `json:"width"`
	Ink      int    `json:"ink"`
}

// checkChromiumLog fails t on failed loads and script errors in Chromium's log.
func checkChromiumLog(t *testing.T, stderr string) {
	t.Helper()
	for line := range strings.Lines(stderr) {
		for _, bad := range []string{"Failed to load resource", "Uncaught", "stampede chart"} {
			if strings.Contains(line, bad) {
				t.Errorf("chromium log: %s", strings.TrimSpace(line))
			}
		}
	}
}

// keepHTMLForInspection copies files to $STAMPEDE_KEEP_REPORT, when set, since
// the test's temporary directory goes when the test ends.
func keepHTMLForInspection(t *testing.T, prefix string, paths ...string) {
	t.Helper()
	dir := os.Getenv("STAMPEDE_KEEP_REPORT")
	if dir == "" {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, prefix+filepath.Base(p))
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("kept %s", dst)
	}
}

// TestHTMLReportInChromium opens the report in headless Chromium: every
// chart draws, the page requests nothing but its own file, nothing goes
// wrong in its console, and a full-page screenshot is kept in the test's
// temporary directory (and in $STAMPEDE_KEEP_REPORT, when set).
func TestHTMLReportInChromium(t *testing.T) {
	bin := findChromium()
	if bin == "" {
		t.Skip("chromium not installed; .ci/run installs it (apt-get install chromium)")
	}
	dir := t.TempDir()
	trap := newProxyTrap(t)

	// The accounting works: a page that fetches from the network is seen
	// requesting it, and the request ends at the trap, not on the network.
	t.Run("probe", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
		defer cancel()
		probe := filepath.Join(dir, "probe.html")
		const remote = "http://stampede-probe.invalid/pixel.png"
		if err := os.WriteFile(probe, []byte(`<!DOCTYPE html><title>probe</title><img src="`+remote+`">`), 0o644); err != nil {
			t.Fatal(err)
		}
		b := startBrowser(t, ctx, bin, trap)
		run, _ := b.openPage(t, ctx, "file://"+probe, "")
		stderr := b.close(ctx)
		if !slices.Contains(run.requests, remote) {
			t.Errorf("the probe's request was not seen; requests: %q", run.requests)
		}
		if reqs := trap.Take(t); !strings.Contains(strings.Join(reqs, "\n"), "stampede-probe.invalid") {
			t.Errorf("the probe's request did not reach the trap; it saw %q", reqs)
		}
		if !strings.Contains(strings.Join(run.problems, "\n"), "Failed to load resource") {
			t.Errorf("the probe's failed load was not reported; problems: %q", run.problems)
		}
		t.Logf("probe: problems %q; Chromium's stderr has the failed load: %v", run.problems, strings.Contains(stderr, "Failed to load resource"))
	})

	for _, tc := range []struct {
		name string
		r    *Result
	}{{"full", htmlSampleResult(t)}, {"bare", bareHTMLResult()}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
			defer cancel()
			sub := filepath.Join(dir, tc.name)
			if err := os.MkdirAll(sub, 0o755); err != nil {
				t.Fatal(err)
			}
			report, _ := renderHTML(t, tc.r, sub)
			url := "file://" + report

			b := startBrowser(t, ctx, bin, trap)
			defer func() {
				if b != nil {
					b.close(ctx)
				}
			}()
			run, rendered := b.openPage(t, ctx, url, jsChartsRendered)
			if rendered != fmt.Sprint(len(HTMLCharts)) {
				t.Errorf("data-charts-rendered = %q, want %d", rendered, len(HTMLCharts))
			}
			var charts []htmlChartState
			if err := json.Unmarshal([]byte(b.eval(t, ctx, run.session, jsChartsState)), &charts); err != nil {
				t.Fatal(err)
			}
			if len(charts) != len(HTMLCharts) {
				t.Errorf("%d chart containers, want %d", len(charts), len(HTMLCharts))
			}
			for i, c := range charts {
				if i < len(HTMLCharts) && c.Name != HTMLCharts[i] {
					t.Errorf("chart %d is %q, want %q", i, c.Name, HTMLCharts[i])
				}
				if c.Canvases != 1 || c.Rendered != "true" || c.Error != "" || c.Width < 1000 || c.Ink < 2000 {
					t.Errorf("chart %s did not draw: %+v", c.Name, c)
				}
			}

			// A full-page screenshot.
			height, err := strconv.Atoi(b.eval(t, ctx, run.session, "document.documentElement.scrollHeight"))
			if err != nil {
				t.Fatal(err)
			}
			var shotRes struct {
				Data []byte `json:"data"` // base64 in JSON
			}
			if err := b.call(ctx, run.session, "Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true,
				"clip": map[string]any{"x": 0, "y": 0, "width": 1400, "height": height, "scale": 1}}, &shotRes); err != nil {
				t.Fatal(err)
			}
			shot := filepath.Join(sub, "report.png")
			if err := os.WriteFile(shot, shotRes.Data, 0o644); err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(shotRes.Data))
			if err != nil {
				t.Fatalf("screenshot: %v", err)
			}
			if sz := img.Bounds().Size(); sz.X != 1400 || sz.Y != height {
				t.Errorf("screenshot is %v, want 1400x%d", sz, height)
			}
			t.Logf("screenshot: %s (%dx%d)", shot, 1400, height)

			if tc.name == "full" {
				// The HDR chart's latency axis switches to linear and back.
				const toggle = `(function () {
  var box = document.querySelector("#chart-hdr .toggle input"), el = document.querySelector('[data-chart="hdr"]');
  box.click();
  var linear = el.dataset.logy + " " + el.querySelectorAll("canvas").length;
  box.click();
  return linear + ", " + el.dataset.logy + " " + el.querySelectorAll("canvas").length;
})()`
				if got := b.eval(t, ctx, run.session, toggle); got != "false 1, true 1" {
					t.Errorf("HDR log toggle: %q, want %q", got, "false 1, true 1")
				}
			}

			run = b.pageState(run.session) // everything the page did, screenshot included
			stderr := b.close(ctx)
			b = nil
			if len(run.requests) != 1 || run.requests[0] != url {
				t.Errorf("the page requested %q, want only its own file %s", run.requests, url)
			}
			for _, p := range run.problems {
				t.Errorf("page: %s", p)
			}
			checkChromiumLog(t, stderr)
			if reqs := trap.Take(t); len(reqs) > 0 {
				t.Logf("Chromium's own background connections, stopped at the trap: %q", reqs)
			}
			keepHTMLForInspection(t, tc.name+"-", report, shot)
		})
	}
}
