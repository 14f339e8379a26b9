package target

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// newest keeps each client's newest refresh token as the provider handed
// it out, so that a credentials file survives rotation (target
// update_credentials). Refresh answers carry no client number: a rotated
// token is traced back to its client through the token it replaced (the
// client's current or previous one, so that two racing refreshes both
// resolve).
type newest struct {
	mu      sync.Mutex
	clients map[int]*newestClient
	owner   map[string]int // a client's current and previous refresh token → the client
}

type newestClient struct {
	token, prev, subject string
}

func newNewest() *newest {
	return &newest{clients: map[int]*newestClient{}, owner: map[string]int{}}
}

// signedIn records client i's refresh token after a sign-in.
func (n *newest) signedIn(i int, token, subject string) {
	if token == "" {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	c := n.clients[i]
	if c == nil {
		c = &newestClient{}
		n.clients[i] = c
	}
	n.replace(i, c, token)
	c.subject = subject
}

// rotated records that old was exchanged for token.
func (n *newest) rotated(old, token string) {
	if token == "" || token == old {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	i, ok := n.owner[old]
	if !ok {
		return
	}
	n.replace(i, n.clients[i], token)
}

// replace makes token client i's newest; the one before it stays known as
// its previous, the one before that is forgotten.
func (n *newest) replace(i int, c *newestClient, token string) {
	if c.prev != "" && c.prev != c.token {
		delete(n.owner, c.prev)
	}
	c.prev, c.token = c.token, token
	n.owner[token] = i
}

// NewestCredentials is the credentials file as it should be now: line i
// holds client i's newest refresh token, or the file's own line when the
// client never signed in; clients past the file's end (password-grant
// users) follow for as long as their numbers run on without a gap. Nil
// when the target does not keep them (OAuth2Config.KeepNewest).
func (o *OAuth2) NewestCredentials() []StoredCredential {
	if o.newest == nil {
		return nil
	}
	n := o.newest
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]StoredCredential, 0, max(len(o.cfg.Credentials), len(n.clients)))
	for i := 0; ; i++ {
		c, ok := n.clients[i]
		switch {
		case ok && c.token != "":
			sc := StoredCredential{RefreshToken: c.token, Subject: c.subject}
			if i < len(o.cfg.Credentials) && o.cfg.Credentials[i].Subject != "" {
				sc.Subject = o.cfg.Credentials[i].Subject
			}
			out = append(out, sc)
		case i < len(o.cfg.Credentials):
			out = append(out, o.cfg.Credentials[i])
		default:
			return out
		}
	}
}

// WriteCredentialsFile replaces the credentials file at path with creds,
// atomically: a temporary file in the same directory, mode 0600, synced,
// then renamed over path. A reader sees the old file or the new one,
// never a part of either.
func WriteCredentialsFile(path string, creds []StoredCredential) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("credentials file: %w", err)
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("credentials file %s: %w", path, err)
	}
	if err := f.Chmod(0o600); err != nil {
		return fail(err)
	}
	w := bufio.NewWriter(f)
	for _, c := range creds {
		if err := WriteCredential(w, c); err != nil {
			return fail(err)
		}
	}
	if err := w.Flush(); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("credentials file %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("credentials file %s: %w", path, err)
	}
	return nil
}
