package profiles

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestQuoteCutsLongInputsWithTheirSize(t *testing.T) {
	if got := Quote("refresh"); got != `"refresh"` {
		t.Errorf("Quote(short) = %s", got)
	}
	long := strings.Repeat("é", 50_000) // 100,000 bytes, 2 per rune
	got := Quote(long)
	if len(got) > 100 || !strings.HasSuffix(got, "… (100000 bytes)") || strings.Contains(got, `\x`) {
		t.Errorf("Quote(100 KB) = %s", got)
	}
}

func TestReadFileLimitedStopsAtTheLimit(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small.yaml")
	if err := os.WriteFile(small, []byte("clients: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadFileLimited(small, 100); err != nil || string(b) != "clients: 1\n" {
		t.Errorf("ReadFileLimited(small) = %q, %v", b, err)
	}
	if _, err := ReadFileLimited(small, 4); !errors.Is(err, ErrTooLarge) {
		t.Errorf("a regular file past the limit: %v", err)
	}
	if _, err := os.Stat("/dev/zero"); err == nil {
		if _, err := ReadFileLimited("/dev/zero", 1<<20); !errors.Is(err, ErrTooLarge) {
			t.Errorf("/dev/zero: %v", err)
		}
	}
}

func TestProfileLimits(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(p *Profile)
		field string
	}{
		{"clients", func(p *Profile) { p.Clients = MaxClients + 1 }, "clients"},
		{"events", func(p *Profile) {
			p.Events = make([]Event, MaxEvents+1)
			for i := range p.Events {
				p.Events[i] = Event{Type: EventRevocationWave, At: At{Share: 0.5}, Fraction: 0.1}
			}
		}, "events"},
		{"time_scale Inf", func(p *Profile) { p.TimeScale = math.Inf(1) }, "time_scale"},
		{"time_scale 1e12", func(p *Profile) { p.TimeScale = 1e12 }, "time_scale"},
		{"simulated years", func(p *Profile) {
			p.TimeScale = MaxTimeScale
			p.Duration = Duration(300_000 * time.Hour)
		}, "time_scale"},
		{"api calls", func(p *Profile) { p.App.APICallsPerMinute = 1e12 }, "app.api_calls_per_minute"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := Default()
			tc.edit(&p)
			var paths []string
			for _, fe := range FieldErrors(p.Validate()) {
				paths = append(paths, fe.Path)
			}
			if len(paths) != 1 || paths[0] != tc.field {
				t.Errorf("problems at %v, want one at %s", paths, tc.field)
			}
		})
	}
	p := Default()
	p.TimeScale = MaxTimeScale
	p.App.APICallsPerMinute = MaxAPICallsPerMinute
	if err := p.Validate(); err != nil {
		t.Errorf("the limits themselves are refused: %v", err)
	}
}

func TestManyProblemsAreCappedAndCounted(t *testing.T) {
	var b strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&b, "k%d: 1\n", i)
	}
	_, err := Parse("many.yaml", []byte(b.String()))
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != MaxProblems+1 {
		t.Fatalf("%d lines, want %d", len(lines), MaxProblems+1)
	}
	if last := lines[MaxProblems]; last != "many.yaml: and 980 more problems (the first 20 are listed)" {
		t.Errorf("last line %q", last)
	}
}

func TestDuplicateKeyIsTheFilesProblem(t *testing.T) {
	_, err := parseAdjusted(t, "dup.yaml", "clients: 10\nclients: 20\n", func(p *Profile) { p.Clients = 5 })
	fes := FieldErrors(err)
	if len(fes) != 1 || !fes[0].InFile || fes[0].Error() != "dup.yaml:2: clients: given twice (first on line 1)" {
		t.Errorf("problems %v", err)
	}
}

// parseAdjusted parses src as file with adjust applied, as a flag would.
func parseAdjusted(t *testing.T, file, src string, adjust func(*Profile)) (Profile, error) {
	t.Helper()
	return parse(file, []byte(src), adjust)
}

func TestRedactedMasksURLPasswords(t *testing.T) {
	p := Default()
	p.Target.URL = "http://user:PW@host:8080/base"
	p.Target.TokenEndpoint = "https://u:secret@idp.example/token"
	p.Target.APIURL = "http://only-user@api.example/v1"
	r := p.Redacted()
	if r.Target.URL != "http://user:xxxxx@host:8080/base" || r.Target.TokenEndpoint != "https://u:xxxxx@idp.example/token" {
		t.Errorf("redacted %q, %q", r.Target.URL, r.Target.TokenEndpoint)
	}
	if r.Target.APIURL != p.Target.APIURL {
		t.Errorf("a URL without a password changed: %q", r.Target.APIURL)
	}
}
