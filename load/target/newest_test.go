package target

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stampede-load/stampede/load/model"
)

// TestNewestCredentialsFollowRotation: with KeepNewest, each line of the
// credentials file becomes its client's newest refresh token, traced
// through rotations; a client that never signed in keeps its line, and
// the file is replaced atomically with mode 0600.
func TestNewestCredentialsFollowRotation(t *testing.T) {
	var mu sync.Mutex
	seq := 0
	srv := oaServe(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seq++
		n := seq
		mu.Unlock()
		oaJSON(w, 200, map[string]any{"access_token": oaJWT(oaNow, oaNow.Add(time.Minute)), "refresh_token": "rt" + strings.Repeat("x", n)})
	})
	creds := []StoredCredential{{RefreshToken: "a", Subject: "alice"}, {RefreshToken: "b", Subject: "bob"}}
	o := oaTarget(t, srv, func(c *OAuth2Config) { c.Credentials, c.UserPattern, c.KeepNewest = creds, "", true })
	cr, out := o.SignIn(context.Background(), "user-0")
	if out.Class != model.ClassOK {
		t.Fatalf("sign-in %+v", out)
	}
	rt := cr.ClientToken
	for range 3 {
		cr, out = o.Refresh(context.Background(), cr.SessionID, rt)
		if out.Class != model.ClassOK {
			t.Fatalf("refresh %+v", out)
		}
		rt = cr.ClientToken
	}
	got := o.NewestCredentials()
	if len(got) != 2 || got[0] != (StoredCredential{RefreshToken: rt, Subject: "alice"}) || got[1] != creds[1] {
		t.Fatalf("newest %+v, want alice's %s and bob's line", got, rt)
	}
	path := filepath.Join(t.TempDir(), "creds.jsonl")
	if err := os.WriteFile(path, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteCredentialsFile(path, got); err != nil {
		t.Fatal(err)
	}
	back, err := ReadCredentialsFile(path)
	fi, _ := os.Stat(path)
	if err != nil || len(back) != 2 || back[0] != got[0] || fi.Mode().Perm() != 0o600 {
		t.Errorf("read back %+v, %v, mode %v", back, err, fi.Mode())
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("%d files left in the directory", len(entries))
	}
	if plain := oaTarget(t, srv, nil); plain.NewestCredentials() != nil {
		t.Errorf("without KeepNewest: %+v", plain.NewestCredentials())
	}
}
