package backend

import (
	"errors"
	"net/http"
)

// signInRequest is the optional body of POST /v1/client/sign_ins.
type signInRequest struct {
	Identifier string `json:"identifier"`
}

// signInResponse is the body of a successful sign-in.
type signInResponse struct {
	ClientToken string      `json:"client_token"`
	Session     sessionJSON `json:"session"`
	JWT         string      `json:"jwt"`
}

// tokenResponse is the body of a successful token mint. ClientToken is set
// when the client must switch to it: after a rotation, or when a retired
// token was accepted within grace (see Rotation).
type tokenResponse struct {
	Object      string `json:"object"`
	JWT         string `json:"jwt"`
	ClientToken string `json:"client_token,omitempty"`
}

// mint signs a session JWT and counts it.
func (b *Backend) mint(userID, sid string) (string, error) {
	jwt, err := b.tokens.sign(userID, sid)
	if err != nil {
		return "", err
	}
	b.tokensMinted.Add(1)
	return jwt, nil
}

// handleSignIn creates a client and an active session and mints its first JWT.
func (b *Backend) handleSignIn(w http.ResponseWriter, r *http.Request, _ string) {
	var req signInRequest
	if !readJSON(w, r, &req) {
		return
	}
	view, clientToken := b.sessions.create(req.Identifier, b.cfg.Now())
	jwt, err := b.mint(view.UserID, view.ID)
	if err != nil {
		writeError(w, http.StatusInternalServerError, CodeInternal, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, signInResponse{ClientToken: clientToken, Session: view.json(), JWT: jwt})
}

// handleToken mints a session JWT for an active session, rotating the client
// token if rotation is on (see Rotation). The injected faults (see Faults)
// were applied before, by serveClient.
func (b *Backend) handleToken(w http.ResponseWriter, r *http.Request, sid string) {
	res, ok := b.clientAccess(w, r, sid, actionMint)
	if !ok {
		return
	}
	jwt, err := b.mint(res.view.UserID, res.view.ID)
	if err != nil {
		writeError(w, http.StatusInternalServerError, CodeInternal, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, tokenResponse{Object: "token", JWT: jwt, ClientToken: res.clientToken})
}

// handleTouch marks activity on an active session.
func (b *Backend) handleTouch(w http.ResponseWriter, r *http.Request, sid string) {
	if res, ok := b.clientAccess(w, r, sid, actionTouch); ok {
		writeJSON(w, http.StatusOK, res.view.json())
	}
}

// handleEnd signs an active session out.
func (b *Backend) handleEnd(w http.ResponseWriter, r *http.Request, sid string) {
	if res, ok := b.clientAccess(w, r, sid, actionEnd); ok {
		writeJSON(w, http.StatusOK, res.view.json())
	}
}

// clientAccess authenticates the request's client token for session sid and
// applies action. On failure it writes the error response and returns false.
func (b *Backend) clientAccess(w http.ResponseWriter, r *http.Request, sid string, action clientAction) (accessResult, bool) {
	if _, ok := readBody(w, r); !ok {
		return accessResult{}, false
	}
	clientToken := bearerToken(r)
	if clientToken == "" {
		writeError(w, http.StatusUnauthorized, CodeClientTokenInvalid, "missing client token: send Authorization: Bearer <client_token>")
		return accessResult{}, false
	}
	res, err := b.sessions.access(sid, clientToken, action, *b.rotation.Load(), b.cfg.Now())
	if err == nil {
		return res, true
	}
	if inactive, ok := errors.AsType[*inactiveError](err); ok {
		writeError(w, http.StatusUnauthorized, "session_"+inactive.status, inactive.Error())
		return accessResult{}, false
	}
	if reuse, ok := errors.AsType[*reuseError](err); ok {
		writeError(w, http.StatusUnauthorized, CodeClientTokenReused, reuse.Error())
		return accessResult{}, false
	}
	switch {
	case errors.Is(err, ErrSessionNotFound):
		writeError(w, http.StatusNotFound, CodeSessionNotFound, "session "+sid+" not found")
	case errors.Is(err, errClientToken):
		writeError(w, http.StatusUnauthorized, CodeClientTokenInvalid, "client token is not valid for session "+sid)
	default:
		writeError(w, http.StatusInternalServerError, CodeInternal, err.Error())
	}
	return accessResult{}, false
}
