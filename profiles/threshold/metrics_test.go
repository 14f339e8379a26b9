package threshold

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// expandBraces expands a brace listing "{a,b}.{c,d.{e,f}}" into its names.
func expandBraces(s string) []string {
	i := strings.IndexByte(s, '{')
	if i < 0 {
		return []string{s}
	}
	depth, j := 0, i
	for ; j < len(s); j++ {
		if s[j] == '{' {
			depth++
		} else if s[j] == '}' {
			if depth--; depth == 0 {
				break
			}
		}
	}
	var alts []string
	depth, start := 0, i+1
	for k := i + 1; k < j; k++ {
		switch s[k] {
		case '{':
			depth++
		case '}':
			depth--
		case ',':
			if depth == 0 {
				alts = append(alts, s[start:k])
				start = k + 1
			}
		}
	}
	alts = append(alts, s[start:j])
	var out []string
	for _, a := range alts {
		out = append(out, expandBraces(s[:i]+a+s[j+1:])...)
	}
	return out
}

func TestMetricsListing(t *testing.T) {
	_, err := Parse("nope < 1")
	_, listing, ok := strings.Cut(err.Error(), "; metrics: ")
	if !ok {
		t.Fatalf("no listing in %q", err)
	}
	var names []string
	for _, g := range strings.Split(listing, "; ") {
		names = append(names, expandBraces(g)...)
	}
	var all []string
	for _, m := range Metrics() {
		all = append(all, m.Name)
	}
	slices.Sort(names)
	slices.Sort(all)
	if !slices.Equal(names, all) {
		t.Errorf("listing expands to %d names, want the %d of Metrics:\n%v\n%v", len(names), len(all), names, all)
	}
	for _, want := range []string{
		"refresh.p99", "api.p95", "sign_in.mean", "foreground_recovery.p999", "get_token.error_rate",
		"refresh.errors.http_429", "api.errors.cancelled", "refresh.service_p99", "refresh.count", "refresh.ok", "refresh.errors",
		"herd.peak_rps", "herd.mean_rps", "herd.peak_to_mean", "herd.max_inflight", "herd.amplification",
		"herd.duplicate_refreshes", "herd.retries", "herd.retries_share", "herd.dispersion",
		"requests.issued", "requests.settled", "requests.lost", "requests.ok", "requests.user_visible_errors",
		"requests.cancelled", "requests.retry_loops", "requests.stale_token_retries",
		"sessions.forced_signouts", "sessions.re_sign_ins", "engine.lag_p50", "engine.lag_p99", "engine.lag_max",
	} {
		if !slices.Contains(all, want) {
			t.Errorf("metric %s missing", want)
		}
	}
	for _, name := range all {
		if _, err := Parse(name + " >= 0"); err != nil {
			t.Errorf("listed metric does not parse: %v", err)
		}
	}
}

func TestMetricKindsAndLookup(t *testing.T) {
	for _, tc := range []struct {
		name string
		kind Kind
	}{
		{"refresh.p99", Latency}, {"api.service_p50", Latency}, {"engine.lag_max", Latency},
		{"refresh.error_rate", Rate}, {"herd.retries_share", Rate},
		{"requests.lost", Count}, {"sign_in.errors.http_429", Count}, {"herd.max_inflight", Count},
		{"herd.peak_to_mean", Ratio}, {"herd.peak_rps", Ratio},
	} {
		m, ok := Lookup(tc.name)
		if !ok || m.Name != tc.name || m.Kind != tc.kind {
			t.Errorf("Lookup(%q) = %+v, %v; want kind %s", tc.name, m, ok, tc.kind)
		}
	}
	for _, name := range []string{"", "refresh", "refresh.p100", "herd", "requests.lost.x", "REFRESH.P99"} {
		if m, ok := Lookup(name); ok {
			t.Errorf("Lookup(%q) = %+v, want not found", name, m)
		}
	}
	seen := map[string]bool{}
	for _, m := range Metrics() {
		if seen[m.Name] {
			t.Errorf("metric %s listed twice", m.Name)
		}
		seen[m.Name] = true
		if m.Kind < Latency || m.Kind > Ratio {
			t.Errorf("metric %s has kind %d", m.Name, m.Kind)
		}
	}
	// The caller's copy is its own.
	ms := Metrics()
	ms[0].Name = "changed"
	if Metrics()[0].Name == "changed" {
		t.Error("Metrics returned the package's own table")
	}
}

// TestImportsNothingOfStampede keeps the package a leaf: profiles and
// reports import it, so it may import neither (nor anything that does).
func TestImportsNothingOfStampede(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(path, "github.com/stampede-load/stampede") || !isStdlib(path) {
				t.Errorf("%s imports %s: the threshold grammar imports the standard library only", file, path)
			}
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no source files checked")
	}
}

// isStdlib reports whether an import path is the standard library's: its
// first element has no dot.
func isStdlib(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

func TestIsStdlib(t *testing.T) {
	for path, want := range map[string]bool{
		"strings": true, "unicode/utf8": true, "github.com/stampede-load/stampede/reports": false, "go.yaml.in/yaml/v3": false,
	} {
		if isStdlib(path) != want {
			t.Errorf("isStdlib(%q) = %v", path, !want)
		}
	}
}

// TestSampledOp: latencies and error rates of an operation need its
// samples; counts and the fleet's figures do not.
func TestSampledOp(t *testing.T) {
	for _, tc := range []struct{ name, op string }{
		{"refresh.p99", "refresh"}, {"sign_in.max", "sign_in"}, {"api.service_p50", "api"},
		{"get_token.mean", "get_token"}, {"foreground_recovery.error_rate", "foreground_recovery"},
		{"refresh.count", ""}, {"refresh.errors", ""}, {"api.errors.http_401", ""},
		{"requests.lost", ""}, {"engine.lag_p99", ""}, {"herd.retries_share", ""}, {"nonsense.p99", ""},
	} {
		op, ok := SampledOp(tc.name)
		if op != tc.op || ok != (tc.op != "") {
			t.Errorf("SampledOp(%q) = %q, %v; want %q", tc.name, op, ok, tc.op)
		}
	}
}
