package target

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/stampede-load/stampede/load/internal/flatjson"
	"github.com/stampede-load/stampede/load/model"
	"github.com/stampede-load/stampede/load/transport"
)

// Credentials are what a sign-in gives a client.
type Credentials struct {
	SessionID   string
	ClientToken string
	Token       string // the session token (a JWT with the embedded backend)
	// ExpiresAt is when Token expires, for targets that say so apart from
	// the token (OAuth 2.0 expires_in); zero means read the JWT's exp.
	ExpiresAt time.Time
	// Times are Token's iat and exp, when the Authenticator read and
	// checked them already (CheckTokenTimes); zero otherwise.
	Times model.TokenTimes
}

// Authenticator signs clients in and refreshes their session tokens.
type Authenticator interface {
	SignIn(ctx context.Context, identifier string) (Credentials, model.Outcome)
	// Refresh mints a session token; Credentials.ClientToken is set when
	// the server rotated the client token.
	Refresh(ctx context.Context, sessionID, clientToken string) (Credentials, model.Outcome)
}

// Resource is the protected API the simulated apps call.
type Resource interface {
	Call(ctx context.Context, token string) model.Outcome
}

// FAPI speaks the embedded backend's session API (docs/targets.md#the-embedded-backend) at Base: the
// in-process backend, or stampede serve on another host.
type FAPI struct {
	Base    string // e.g. "http://127.0.0.1:8787"
	Client  *http.Client
	APIPath string // protected resource; default "/api/me"
}

// SignIn creates a session: POST /v1/client/sign_ins. An answer whose
// session token the client refuses (CheckSessionToken: alg none, exp or iat
// out of range, dead on arrival) is class other with that code.
func (f *FAPI) SignIn(ctx context.Context, identifier string) (Credentials, model.Outcome) {
	body, _ := json.Marshal(map[string]string{"identifier": identifier})
	var ans struct {
		ClientToken string `json:"client_token"`
		Session     struct {
			ID string `json:"id"`
		} `json:"session"`
		JWT string `json:"jwt"`
	}
	o := f.do(ctx, http.MethodPost, "/v1/client/sign_ins", "", body, &ans)
	if o.Class != model.ClassOK {
		return Credentials{}, o
	}
	if ans.JWT == "" || ans.Session.ID == "" || ans.ClientToken == "" {
		return Credentials{}, model.Outcome{Class: model.ClassOther, Status: o.Status, Code: "incomplete_sign_in"}
	}
	times, code := model.CheckSessionToken(ans.JWT, time.Now())
	if code != "" {
		return Credentials{}, model.Outcome{Class: model.ClassOther, Status: o.Status, Code: code}
	}
	return Credentials{SessionID: ans.Session.ID, ClientToken: ans.ClientToken, Token: ans.JWT, Times: times}, o
}

// Refresh mints a session token: POST /v1/client/sessions/{sid}/tokens.
// A server rotating client tokens answers with the new one as client_token.
// A session token the client refuses is class other, as with SignIn.
func (f *FAPI) Refresh(ctx context.Context, sessionID, clientToken string) (Credentials, model.Outcome) {
	var ans tokenAnswer
	o := f.do(ctx, http.MethodPost, "/v1/client/sessions/"+url.PathEscape(sessionID)+"/tokens", clientToken, nil, &ans)
	if o.Class == model.ClassOK && ans.JWT == "" {
		return Credentials{}, model.Outcome{Class: model.ClassOther, Status: o.Status, Code: "no_token"}
	}
	var times model.TokenTimes
	if o.Class == model.ClassOK {
		var code string
		if times, code = model.CheckSessionToken(ans.JWT, time.Now()); code != "" {
			return Credentials{}, model.Outcome{Class: model.ClassOther, Status: o.Status, Code: code}
		}
	}
	return Credentials{SessionID: sessionID, ClientToken: ans.ClientToken, Token: ans.JWT, Times: times}, o
}

// Ender is an Authenticator that can end a session as the SDK's
// session.end() does: the session_end fleet event needs it.
type Ender interface {
	End(ctx context.Context, sessionID, clientToken string) model.Outcome
}

// End ends a session through its end endpoint: POST
// /v1/client/sessions/{sid}/end with the client token.
func (f *FAPI) End(ctx context.Context, sessionID, clientToken string) model.Outcome {
	return f.do(ctx, http.MethodPost, "/v1/client/sessions/"+url.PathEscape(sessionID)+"/end", clientToken, nil, nil)
}

// Call calls the protected API with the session token as bearer.
func (f *FAPI) Call(ctx context.Context, token string) model.Outcome {
	path := f.APIPath
	if path == "" {
		path = "/api/me"
	}
	return f.do(ctx, http.MethodGet, path, token, nil, nil)
}

func (f *FAPI) do(ctx context.Context, method, path, bearer string, body []byte, into any) model.Outcome {
	var rd *bytes.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := newRequest(ctx, method, strings.TrimRight(f.Base, "/")+path, rd)
	if err != nil {
		return model.Outcome{Class: model.ClassOther, Code: "bad_request"}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	setCallID(req)
	resp, err := f.Client.Do(req)
	var b []byte
	if err == nil {
		buf := transport.GetBodyBuf()
		defer transport.PutBodyBuf(buf)
		err = transport.ReadBody(resp, buf)
		b = buf.Bytes()
		if err != nil {
			// The status arrived but the body broke off.
			return transport.Classify(ctx, nil, nil, fmt.Errorf("read body: %w", err))
		}
	}
	o := transport.Classify(ctx, resp, b, err)
	if o.Class == model.ClassOK && into != nil {
		if !decodeAnswer(b, into) {
			return model.Outcome{Class: model.ClassOther, Status: o.Status, Code: "invalid_json", Body: transport.BodyHead(b)}
		}
	}
	return o
}

func newRequest(ctx context.Context, method, u string, body *bytes.Reader) (*http.Request, error) {
	if body == nil {
		return http.NewRequestWithContext(ctx, method, u, nil)
	}
	return http.NewRequestWithContext(ctx, method, u, body)
}

// tokenAnswer is the token endpoint's answer.
type tokenAnswer struct {
	JWT         string `json:"jwt"`
	ClientToken string `json:"client_token"`
}

func (a *tokenAnswer) decodeFlat(b []byte) bool {
	if flatjson.Scan(b, []flatjson.Field{{Key: "jwt", Str: &a.JWT}, {Key: "client_token", Str: &a.ClientToken}}) {
		return true
	}
	*a = tokenAnswer{} // drop what the scan filled in before it gave up
	return false
}

// flatAnswer is an answer that ScanFlat can usually decode; decodeFlat
// leaves it zero when it cannot.
type flatAnswer interface {
	decodeFlat(b []byte) bool
}

// decodeAnswer decodes a JSON answer into v, through ScanFlat when v allows
// and the answer is flat, else through encoding/json; it reports whether
// the answer was valid JSON of v's shape.
func decodeAnswer(b []byte, v any) bool {
	if f, ok := v.(flatAnswer); ok && f.decodeFlat(b) {
		return true
	}
	return json.Unmarshal(b, v) == nil
}
