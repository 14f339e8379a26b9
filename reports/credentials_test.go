package reports

import (
	"bytes"
	"strings"
	"testing"
)

func TestCredentialsWarningInTheSummary(t *testing.T) {
	r := &Result{Schema: Schema, Sessions: Sessions{ByStatus: map[string]int64{"active": 3, StatusCredentialsExhausted: 2}}}
	var b bytes.Buffer
	if err := WriteText(&b, r); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, "sessions   3 active, 2 credentials_exhausted") || !strings.Contains(out, "warning    2 clients had no credentials left") ||
		!strings.Contains(out, "--update-credentials") {
		t.Errorf("summary:\n%s", out)
	}
	r.Sessions.ByStatus = map[string]int64{"active": 5}
	if CredentialsWarning(r) != "" {
		t.Errorf("a warning with every client active: %q", CredentialsWarning(r))
	}
}
