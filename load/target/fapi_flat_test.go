package target

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/chaos/backend"

	"github.com/stampede-load/stampede/load/internal/flatjson"
	"github.com/stampede-load/stampede/load/model"
	"github.com/stampede-load/stampede/profiles"
)

// TestEmbeddedBackendAnswersTakeTheFlatPath: the embedded backend's refresh
// answers and JWT payloads are what Scan decodes, so the clients' hot
// path skips encoding/json.
func TestEmbeddedBackendAnswersTakeTheFlatPath(t *testing.T) {
	be, err := backend.New(backend.Config{TokenLifetime: time.Minute, Signing: profiles.Default().Backend.Signing})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(be)
	t.Cleanup(srv.Close)
	f := &FAPI{Base: srv.URL, Client: srv.Client()}
	cr, o := f.SignIn(context.Background(), "flat")
	if o.Class != model.ClassOK {
		t.Fatalf("sign-in: %+v", o)
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/client/sessions/"+cr.SessionID+"/tokens", nil)
	req.Header.Set("Authorization", "Bearer "+cr.ClientToken)
	resp, err := f.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var ans tokenAnswer
	if !ans.decodeFlat(body) || ans.JWT == "" {
		t.Fatalf("the refresh answer did not take the flat path: %d bytes", len(body))
	}
	parts := strings.Split(ans.JWT, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var exp, iat *float64
	if !flatjson.Scan(payload, []flatjson.Field{{Key: "exp", Num: &exp}, {Key: "iat", Num: &iat}}) || exp == nil || iat == nil {
		t.Fatalf("the JWT payload did not take the flat path (claims %s)", claimNames(payload))
	}
}

// claimNames lists a JWT payload's claim names, never their values.
func claimNames(payload []byte) []string {
	var m map[string]json.RawMessage
	_ = json.Unmarshal(payload, &m)
	return slices.Sorted(maps.Keys(m))
}
