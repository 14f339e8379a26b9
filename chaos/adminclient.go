package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/stampede-load/stampede/chaos/adminapi"
)

// AdminCallTimeout bounds an admin call once the context of whoever made
// it has ended.
const AdminCallTimeout = 5 * time.Second

// AdminClient speaks the embedded backend's admin API over HTTP, at Base:
// the in-process backend or a stampede serve elsewhere. A call that has
// begun finishes when its context ends (bounded by AdminCallTimeout): a
// fleet event whose call was in flight when the run ended (a key rotation
// late under load) reports what the target said, not "context canceled".
type AdminClient struct {
	Base   string
	Client *http.Client
	// Token, if set, is sent as "Authorization: Bearer <token>": the admin
	// token of a stampede serve --admin-token.
	Token string
}

// RotateKeys starts signing with a new key: POST /admin/keys/rotate.
func (a *AdminClient) RotateKeys(ctx context.Context, keepPrevious bool) error {
	return a.do(ctx, http.MethodPost, "/admin/keys/rotate", map[string]bool{"keep_previous": keepPrevious}, nil)
}

// Revoke ends one session server-side: POST /admin/sessions/{sid}/revoke.
func (a *AdminClient) Revoke(ctx context.Context, sessionID string) error {
	return a.do(ctx, http.MethodPost, "/admin/sessions/"+url.PathEscape(sessionID)+"/revoke", struct{}{}, nil)
}

// SetPending moves one session into pending with a session task:
// POST /admin/sessions/{sid}/pending.
func (a *AdminClient) SetPending(ctx context.Context, sessionID, task string) error {
	return a.do(ctx, http.MethodPost, "/admin/sessions/"+url.PathEscape(sessionID)+"/pending", map[string]string{"task": task}, nil)
}

// CompleteTask makes a pending session active again: POST
// /admin/sessions/{sid}/complete_task.
func (a *AdminClient) CompleteTask(ctx context.Context, sessionID string) error {
	return a.do(ctx, http.MethodPost, "/admin/sessions/"+url.PathEscape(sessionID)+"/complete_task", struct{}{}, nil)
}

// SetFaults replaces the backend's faults: PUT /admin/faults.
func (a *AdminClient) SetFaults(ctx context.Context, f adminapi.Faults) error {
	return a.do(ctx, http.MethodPut, "/admin/faults", f, nil)
}

// SetRotation configures client-token rotation: PUT /admin/rotation.
func (a *AdminClient) SetRotation(ctx context.Context, r adminapi.Rotation) error {
	return a.do(ctx, http.MethodPut, "/admin/rotation", r, nil)
}

func (a *AdminClient) do(ctx context.Context, method, path string, body, into any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("admin %s: %w", path, err)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), AdminCallTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(a.Base, "/")+path, bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("admin %s: %w", path, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if a.Token != "" {
		req.Header.Set("Authorization", "Bearer "+a.Token)
	}
	resp, err := a.Client.Do(req)
	if err != nil {
		return fmt.Errorf("admin %s: %w", path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("admin %s: %w", path, err)
	}
	if resp.StatusCode/100 != 2 {
		var eb adminapi.ErrorResponse
		if json.Unmarshal(data, &eb) == nil && len(eb.Errors) > 0 {
			return fmt.Errorf("admin %s: %d %s: %s", path, resp.StatusCode, eb.Errors[0].Code, eb.Errors[0].Message)
		}
		return fmt.Errorf("admin %s: HTTP %d", path, resp.StatusCode)
	}
	if into != nil {
		if err := json.Unmarshal(data, into); err != nil {
			return fmt.Errorf("admin %s: %w", path, err)
		}
	}
	return nil
}
