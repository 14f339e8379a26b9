package backend

import (
	"fmt"
	"net/http"
	"time"
)

// The two statuses of the SDK's eight that no client request and no
// timeout causes: a session waiting for a session task, and a session a
// new sign-in of its user replaced.
const (
	// SessionPending: the user signed in but must complete a session task
	// (choose-organization, reset-password, setup-mfa) first; its token
	// requests are answered 401 code "session_pending" until the task is
	// done (CompleteTask). It still expires and is abandoned like an
	// active session.
	SessionPending = "pending"
	// SessionReplaced: the user signed in again while the session was
	// active or pending; the new sign-in replaced it (one session per
	// user, as the SDK's single-session mode keeps one per client).
	SessionReplaced = "replaced"
)

// pendingRequest is the body of POST /admin/sessions/{sid}/pending.
type pendingRequest struct {
	Task string `json:"task"`
}

// replace marks the latest session of user replaced, if it is still active
// or pending, and records sid as the user's latest.
func (s *sessionStore) replace(user, sid string, now time.Time) {
	s.usersMu.Lock()
	if s.current == nil {
		s.current = map[string]string{}
	}
	prev := s.current[user]
	s.current[user] = sid
	s.usersMu.Unlock()
	if prev == "" {
		return
	}
	sh := s.shard(prev)
	sh.mu.Lock()
	if se := sh.m[prev]; se != nil {
		if st := s.statusLocked(se, now); st == SessionActive || st == SessionPending {
			se.status, se.task = SessionReplaced, ""
		}
	}
	sh.mu.Unlock()
}

// setTask moves an active session into pending with task, or (task "")
// a pending session back to active: the user completed the task, which
// marks activity. Sessions in other statuses keep them.
func (s *sessionStore) setTask(sid, task string, now time.Time) (sessionView, error) {
	sh := s.shard(sid)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	se, ok := sh.m[sid]
	if !ok {
		return sessionView{}, fmt.Errorf("session %s: %w", sid, ErrSessionNotFound)
	}
	switch st := s.statusLocked(se, now); {
	case task != "" && st == SessionActive:
		se.status, se.task = SessionPending, task
	case task == "" && st == SessionPending:
		se.status, se.task, se.lastActive = SessionActive, "", now
	}
	return s.viewLocked(se, now), nil
}

// SetPending moves session sid, if active, into pending with a session
// task. The error wraps ErrSessionNotFound for an unknown sid.
func (b *Backend) SetPending(sid, task string) error {
	if task == "" {
		return fmt.Errorf("backend: set pending: a task is required")
	}
	if _, err := b.sessions.setTask(sid, task, b.cfg.Now()); err != nil {
		return fmt.Errorf("backend: set pending: %w", err)
	}
	return nil
}

// CompleteTask makes session sid active again if it is pending.
func (b *Backend) CompleteTask(sid string) error {
	if _, err := b.sessions.setTask(sid, "", b.cfg.Now()); err != nil {
		return fmt.Errorf("backend: complete task: %w", err)
	}
	return nil
}

// handlePending moves a session into pending with the body's task.
func (b *Backend) handlePending(w http.ResponseWriter, r *http.Request, sid string) {
	var req pendingRequest
	if !readJSON(w, r, &req) {
		return
	}
	if req.Task == "" {
		writeError(w, http.StatusBadRequest, CodeInvalidRequest, "task is required, such as \"setup-mfa\"")
		return
	}
	b.adminTask(w, sid, req.Task)
}

// handleCompleteTask makes a pending session active again.
func (b *Backend) handleCompleteTask(w http.ResponseWriter, r *http.Request, sid string) {
	if _, ok := readBody(w, r); !ok {
		return
	}
	b.adminTask(w, sid, "")
}

func (b *Backend) adminTask(w http.ResponseWriter, sid, task string) {
	view, err := b.sessions.setTask(sid, task, b.cfg.Now())
	if err != nil {
		writeError(w, http.StatusNotFound, CodeSessionNotFound, "session "+sid+" not found")
		return
	}
	writeJSON(w, http.StatusOK, view.json())
}
