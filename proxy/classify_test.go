package proxy

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stampede-load/stampede/profiles"
)

func TestClassifierReadsEachTargetKindsPaths(t *testing.T) {
	oauth := profiles.Default()
	oauth.Target = profiles.Target{Kind: profiles.TargetOAuth2, URL: "http://127.0.0.1:5556/dex", TokenEndpoint: "/token", APIURL: "/userinfo"}
	fapi := profiles.Default()
	fapi.Target = profiles.Target{Kind: profiles.TargetFAPI, URL: "https://auth.example/base/"}
	custom := profiles.Default()
	custom.Target = profiles.Target{Kind: profiles.TargetHTTP, URL: "http://x/v2",
		SignIn:  profiles.HTTPRequest{Path: "/login"},
		Refresh: profiles.HTTPRequest{Path: "/sessions/{{.SessionID}}/refresh", Body: `{"refresh_token": {{json .RefreshToken}}}`},
		API:     profiles.HTTPRequest{Path: "/me"}}
	for _, tc := range []struct {
		name      string
		p         profiles.Profile
		method    string
		path      string
		body      string
		want      Kind
		presented string
	}{
		{"oauth2 password grant", oauth, "POST", "/dex/token", "grant_type=password&username=u", KindSignIn, ""},
		{"oauth2 refresh grant", oauth, "POST", "/dex/token", "grant_type=refresh_token&refresh_token=rt1", KindRefresh, "rt1"},
		{"stampede run's pre-flight probe", oauth, "POST", "/dex/token", "grant_type=refresh_token&refresh_token=" + PreflightRefreshToken, KindOther, ""},
		{"oauth2 api", oauth, "GET", "/dex/userinfo", "", KindAPI, ""},
		{"oauth2 elsewhere", oauth, "GET", "/dex/keys", "", KindOther, ""},
		{"fapi sign-in under the base path", fapi, "POST", "/base/v1/client/sign_ins", "", KindSignIn, ""},
		{"fapi refresh", fapi, "POST", "/base/v1/client/sessions/s1/tokens", "", KindRefresh, "ct"},
		{"fapi api", fapi, "GET", "/base/api/me", "", KindAPI, ""},
		{"fapi refresh by GET", fapi, "GET", "/base/v1/client/sessions/s1/tokens", "", KindOther, ""},
		{"http sign-in", custom, "POST", "/v2/login", "", KindSignIn, ""},
		{"http refresh", custom, "POST", "/v2/sessions/abc/refresh", `{"refresh_token": "rt9"}`, KindRefresh, "rt9"},
		{"http api", custom, "GET", "/v2/me", "", KindAPI, ""},
		{"http other", custom, "GET", "/v2/sessions/abc/refresh/x", "", KindOther, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewClassifier(tc.p)
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			r.Header.Set("Authorization", "Bearer ct")
			q := c.classify(r, []byte(tc.body))
			if q.kind != tc.want || q.presented != tc.presented {
				t.Errorf("kind %s presenting %q, want %s presenting %q", q.kind, q.presented, tc.want, tc.presented)
			}
		})
	}
}
