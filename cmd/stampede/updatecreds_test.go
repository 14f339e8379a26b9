package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUpdateCredentialsRefusals: --update-credentials never writes refresh
// tokens into the results directory, nor from one shard of several, and
// needs a credentials file to write to.
func TestUpdateCredentialsRefusals(t *testing.T) {
	t.Setenv("TEST_STAMPEDE_SECRET", "s")
	t.Setenv("TEST_STAMPEDE_PW", "pw")
	out := t.TempDir()
	inside := filepath.Join(out, "creds.jsonl")
	if err := os.WriteFile(inside, []byte(`{"refresh_token":"a"}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"inside --out", []string{"-p", credsOnlyProfile(t, 1, inside), "--out", out},
			"--update-credentials: target.credentials_file " + inside + " lies inside the results directory"},
		{"a shard", []string{"-p", credsOnlyProfile(t, 2, inside), "--out", t.TempDir(), "--shard", "0/2", "--start-at", "2030-01-01T00:00:00Z"},
			"--update-credentials: a shard holds only its own clients' refresh tokens"},
		{"no file", []string{"-p", writeOAuth2Profile(t, oauth2ProfileYAML(1, "")), "--out", t.TempDir()},
			"--update-credentials: writes the newest refresh tokens back to target.credentials_file: give one"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(context.Background(), append([]string{"run", "--update-credentials", "--target", "http://127.0.0.1:1", "--quiet"}, tc.args...)...)
			if code != exitUsage || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 saying %q", code, stderr, tc.want)
			}
		})
	}
	if raw, _ := os.ReadFile(inside); string(raw) != `{"refresh_token":"a"}`+"\n" {
		t.Errorf("the credentials file changed: %q", raw)
	}
}
