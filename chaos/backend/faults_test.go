package backend

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// setFaults sets f or fails the test.
func setFaults(t testing.TB, b *Backend, f Faults) {
	t.Helper()
	if err := b.SetFaults(f); err != nil {
		t.Fatalf("SetFaults(%+v): %v", f, err)
	}
}

// tokenStatuses mints n times for si and returns the statuses in order.
func tokenStatuses(t testing.TB, b *Backend, si signInResponse, n int) []int {
	t.Helper()
	out := make([]int, n)
	for i := range out {
		out[i] = mintToken(t, b, si).Code
	}
	return out
}

// countOf returns how many elements of s equal v.
func countOf[T comparable](s []T, v T) int {
	n := 0
	for _, x := range s {
		if x == v {
			n++
		}
	}
	return n
}

func TestFaultsAreOffByDefault(t *testing.T) {
	b, _ := newTestBackend(t, Config{Signing: SigningEdDSA})
	if got := b.Faults(); got != (Faults{}) {
		t.Errorf("Faults() = %+v, want zero", got)
	}
	si := signIn(t, b)
	for _, code := range tokenStatuses(t, b, si, 50) {
		if code != http.StatusOK {
			t.Fatalf("mint without faults: status %d", code)
		}
	}
}

func TestRate429AnswersAllWithRetryAfter(t *testing.T) {
	b, _ := newTestBackend(t, Config{Signing: SigningEdDSA})
	si := signIn(t, b)
	setFaults(t, b, Faults{Rate429: 1, RetryAfter: 1500 * time.Millisecond})
	for range 20 {
		rec := mintToken(t, b, si)
		expectError(t, rec, http.StatusTooManyRequests, CodeRateLimited)
		if got := rec.Header().Get("Retry-After"); got != "2" {
			t.Fatalf("Retry-After = %q, want 2", got)
		}
	}
	// Faults come before authentication: a wrong client token or an unknown
	// session is rate limited too, and nothing was minted.
	expectError(t, do(t, b, http.MethodPost, "/v1/client/sessions/sess_nope/tokens", "x", ""), http.StatusTooManyRequests, CodeRateLimited)
	st := b.Stats()
	if want := map[string]int64{"429": 21}; !maps.Equal(st.Endpoints[EndpointToken], want) {
		t.Errorf(`Endpoints["token"] = %v, want %v`, st.Endpoints[EndpointToken], want)
	}
	if st.TokensMinted != 1 {
		t.Errorf("TokensMinted = %d, want 1 (the sign-in)", st.TokensMinted)
	}
	// Other endpoints are not affected.
	if rec := callAPI(t, b, si.JWT); rec.Code != http.StatusOK {
		t.Errorf("API during a token brownout: status %d", rec.Code)
	}
}

func TestRetryAfterRoundsUpToWholeSeconds(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, ""},
		{-time.Second, ""},
		{time.Nanosecond, "1"},
		{999 * time.Millisecond, "1"},
		{time.Second, "1"},
		{time.Second + time.Nanosecond, "2"},
		{1500 * time.Millisecond, "2"},
		{2 * time.Minute, "120"},
	}
	for _, tt := range tests {
		if got := retryAfterSeconds(tt.d); got != tt.want {
			t.Errorf("retryAfterSeconds(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
	b, _ := newTestBackend(t, Config{})
	setFaults(t, b, Faults{Rate429: 1}) // RetryAfter 0: no header
	rec := do(t, b, http.MethodPost, "/v1/client/sessions/sess_x/tokens", "x", "")
	expectError(t, rec, http.StatusTooManyRequests, CodeRateLimited)
	if _, ok := rec.Header()["Retry-After"]; ok {
		t.Errorf("Retry-After = %q, want no header", rec.Header().Get("Retry-After"))
	}
}

func TestRate503(t *testing.T) {
	b, _ := newTestBackend(t, Config{})
	setFaults(t, b, Faults{Rate503: 1, RetryAfter: time.Second})
	rec := do(t, b, http.MethodPost, "/v1/client/sessions/sess_x/tokens", "x", "")
	expectError(t, rec, http.StatusServiceUnavailable, CodeUnavailable)
	if got := rec.Header().Get("Retry-After"); got != "" {
		t.Errorf("Retry-After on 503 = %q, want none", got)
	}
}

func TestFaultRatesAreSharesOfTokenRequests(t *testing.T) {
	const n = 2000
	// Faults are drawn before the session is looked up, so requests for an
	// unknown session (answered 404 unless a fault hits) measure the shares
	// without the cost of signing.
	unknown := signInResponse{ClientToken: "x", Session: sessionJSON{ID: "sess_nope"}}
	run := func(seed uint64, f Faults) []int {
		b, _ := newTestBackend(t, Config{Seed: seed})
		setFaults(t, b, f)
		codes := tokenStatuses(t, b, unknown, n)
		// Stats count every answer exactly.
		want := map[string]int64{}
		for _, c := range codes {
			want[strconv.Itoa(c)]++
		}
		if got := b.Stats().Endpoints[EndpointToken]; !maps.Equal(got, want) {
			t.Errorf("Stats token counts %v, want %v", got, want)
		}
		return codes
	}
	within := func(name string, got int, share, tolerance float64) {
		t.Helper()
		if want := share * n; math.Abs(float64(got)-want) > tolerance*n {
			t.Errorf("%s: %d of %d, want %.0f ± %.0f", name, got, n, want, tolerance*n)
		}
	}

	a := run(42, Faults{Rate429: 0.3})
	within("429 at rate 0.3", countOf(a, http.StatusTooManyRequests), 0.3, 0.03)
	if got := countOf(a, http.StatusNotFound); got+countOf(a, http.StatusTooManyRequests) != n {
		t.Errorf("statuses other than 404 and 429: %v", a)
	}
	if again := run(42, Faults{Rate429: 0.3}); !slices.Equal(a, again) {
		t.Error("the same seed and request order gave different faults")
	}
	if other := run(43, Faults{Rate429: 0.3}); slices.Equal(a, other) {
		t.Error("seeds 42 and 43 gave the same faults")
	}

	mixed := run(7, Faults{Rate429: 0.2, Rate503: 0.3})
	within("429 of 0.2/0.3", countOf(mixed, http.StatusTooManyRequests), 0.2, 0.03)
	within("503 of 0.2/0.3", countOf(mixed, http.StatusServiceUnavailable), 0.3, 0.03)

	// 429 takes precedence when the rates add up to more than 1.
	over := run(7, Faults{Rate429: 0.6, Rate503: 0.6})
	within("429 of 0.6/0.6", countOf(over, http.StatusTooManyRequests), 0.6, 0.03)
	within("503 of 0.6/0.6", countOf(over, http.StatusServiceUnavailable), 0.4, 0.03)

	// Rate 0 injects nothing, even with other faults set.
	none := run(7, Faults{Rate429: 0, Rate503: 0, RetryAfter: time.Second, Spurious401: 1})
	if got := countOf(none, http.StatusNotFound); got != n {
		t.Errorf("rates 0: %d of %d reached the session lookup", got, n)
	}
}

func TestSpurious401(t *testing.T) {
	b, clock := newTestBackend(t, Config{Signing: SigningEdDSA, Seed: 1})
	si := signIn(t, b)
	setFaults(t, b, Faults{Spurious401: 0.25})
	const n = 800
	rejected := 0
	for range n {
		rec := callAPI(t, b, si.JWT)
		if rec.Code == http.StatusOK {
			continue
		}
		expectTokenRejected(t, rec, CodeTokenInvalid)
		rejected++
	}
	if rejected < 160 || rejected > 240 {
		t.Errorf("spurious 401s: %d of %d, want 200 ± 40", rejected, n)
	}
	if got := b.Stats().Endpoints[EndpointAPI]; got["401"] != int64(rejected) || got["200"] != int64(n-rejected) {
		t.Errorf(`Endpoints["api"] = %v, want 401: %d, 200: %d`, got, rejected, n-rejected)
	}

	setFaults(t, b, Faults{Spurious401: 1})
	for range 10 {
		expectTokenRejected(t, callAPI(t, b, si.JWT), CodeTokenInvalid)
	}
	// Tokens that are really invalid keep their own code; the token
	// endpoint is not affected.
	clock.Advance(time.Hour)
	expectTokenRejected(t, callAPI(t, b, si.JWT), CodeTokenExpired)
	expectTokenRejected(t, callAPI(t, b, "garbage"), CodeTokenInvalid)
	if rec := mintToken(t, b, si); rec.Code != http.StatusOK {
		t.Errorf("mint with Spurious401 1: status %d", rec.Code)
	}
	setFaults(t, b, Faults{})
	fresh := decode[tokenResponse](t, mintToken(t, b, si)).JWT
	if rec := callAPI(t, b, fresh); rec.Code != http.StatusOK {
		t.Errorf("after clearing: status %d", rec.Code)
	}
}

func TestTokenLatencyDelaysTheAnswer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, _ := newTestBackend(t, Config{Signing: SigningEdDSA, Now: time.Now}) // the bubble's fake clock
		si := signIn(t, b)
		setFaults(t, b, Faults{TokenLatency: 250 * time.Millisecond})
		start := time.Now()
		rec := mintToken(t, b, si)
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d, body %s", rec.Code, rec.Body)
		}
		if got := time.Since(start); got != 250*time.Millisecond {
			t.Errorf("answered after %v, want 250ms", got)
		}
		// The token is minted after the wait.
		if iat := string(payload(t, decode[tokenResponse](t, rec).JWT)["iat"]); iat != string(appendNumericTime(nil, start.Add(250*time.Millisecond))) {
			t.Errorf("iat = %s, want the time after the wait", iat)
		}

		// Latency comes before the injected errors.
		setFaults(t, b, Faults{TokenLatency: 2 * time.Second, Rate503: 1})
		start = time.Now()
		expectError(t, mintToken(t, b, si), http.StatusServiceUnavailable, CodeUnavailable)
		if got := time.Since(start); got != 2*time.Second {
			t.Errorf("503 after %v, want 2s", got)
		}

		// Concurrent requests wait side by side.
		setFaults(t, b, Faults{TokenLatency: time.Second})
		start = time.Now()
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() { mintToken(t, b, si) })
		}
		wg.Wait()
		if got := time.Since(start); got != time.Second {
			t.Errorf("10 concurrent requests took %v, want 1s", got)
		}
	})
}

func TestTokenLatencyStopsWhenTheRequestIsCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, _ := newTestBackend(t, Config{Signing: SigningEdDSA, Now: time.Now})
		si := signIn(t, b)
		setFaults(t, b, Faults{TokenLatency: time.Hour})
		ctx, cancel := context.WithTimeout(t.Context(), 40*time.Millisecond)
		defer cancel()
		req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/v1/client/sessions/"+si.Session.ID+"/tokens", nil)
		req.Header.Set("Authorization", "Bearer "+si.ClientToken)
		rec := httptest.NewRecorder()
		start := time.Now()
		b.ServeHTTP(rec, req)
		if got := time.Since(start); got != 40*time.Millisecond {
			t.Errorf("cancelled request answered after %v, want 40ms", got)
		}
		expectError(t, rec, StatusClientClosedRequest, CodeClientClosedRequest)
		st := b.Stats()
		if want := map[string]int64{"499": 1}; !maps.Equal(st.Endpoints[EndpointToken], want) {
			t.Errorf(`Endpoints["token"] = %v, want %v`, st.Endpoints[EndpointToken], want)
		}
		if st.TokensMinted != 1 {
			t.Errorf("TokensMinted = %d, want 1 (the sign-in)", st.TokensMinted)
		}
	})
}

func TestTokenLatencyWithACancelledContextDoesNotWait(t *testing.T) {
	b, _ := newTestBackend(t, Config{})
	setFaults(t, b, Faults{TokenLatency: time.Hour})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/v1/client/sessions/sess_x/tokens", nil)
	rec := httptest.NewRecorder()
	b.ServeHTTP(rec, req) // would hang for an hour if the context were ignored
	expectError(t, rec, StatusClientClosedRequest, CodeClientClosedRequest)
}

func TestTokenLatencyOverHTTP(t *testing.T) {
	// Real waiting, kept small; only the lower bound is asserted.
	b, _ := newTestBackend(t, Config{Signing: SigningEdDSA})
	srv := httptest.NewServer(b)
	defer srv.Close()
	si := signIn(t, b)
	setFaults(t, b, Faults{TokenLatency: 15 * time.Millisecond})
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/v1/client/sessions/"+si.Session.ID+"/tokens", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+si.ClientToken)
	start := time.Now()
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if elapsed := time.Since(start); elapsed < 15*time.Millisecond {
		t.Errorf("answered after %v, want at least 15ms", elapsed)
	}
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status %d", resp.StatusCode)
	}
}

func TestSetFaultsValidates(t *testing.T) {
	b, _ := newTestBackend(t, Config{})
	good := Faults{TokenLatency: time.Second, Rate429: 0.5}
	setFaults(t, b, good)
	tests := []struct {
		f                Faults
		field, jsonField string
	}{
		{Faults{TokenLatency: -time.Millisecond}, "TokenLatency", "token_latency"},
		{Faults{RetryAfter: -time.Second}, "RetryAfter", "retry_after"},
		{Faults{Rate429: -0.01}, "Rate429", "rate_429"},
		{Faults{Rate429: 1.01}, "Rate429", "rate_429"},
		{Faults{Rate429: math.NaN()}, "Rate429", "rate_429"},
		{Faults{Rate503: 2}, "Rate503", "rate_503"},
		{Faults{Rate503: math.Inf(1)}, "Rate503", "rate_503"},
		{Faults{Spurious401: -1}, "Spurious401", "spurious_401"},
		{Faults{Spurious401: math.NaN()}, "Spurious401", "spurious_401"},
	}
	for _, tt := range tests {
		err := b.SetFaults(tt.f)
		fe, ok := errors.AsType[*FieldError](err)
		if !ok || fe.Type != "Faults" || fe.Field != tt.field || fe.JSONField != tt.jsonField {
			t.Errorf("SetFaults(%+v) = %v, want a FieldError for %s", tt.f, err, tt.field)
			continue
		}
		if !strings.Contains(err.Error(), "Faults."+tt.field) {
			t.Errorf("error %q does not name Faults.%s", err, tt.field)
		}
	}
	if got := b.Faults(); got != good {
		t.Errorf("after invalid SetFaults: Faults() = %+v, want %+v", got, good)
	}
	// ClockOffset may be negative; the boundaries are allowed.
	setFaults(t, b, Faults{ClockOffset: -time.Hour, Rate429: 1, Rate503: 0, Spurious401: 1})
	b.ClearFaults()
	if got := b.Faults(); got != (Faults{}) {
		t.Errorf("after ClearFaults: %+v", got)
	}
}

func TestClockOffsetMovesMintedClaims(t *testing.T) {
	b, _ := newTestBackend(t, Config{Signing: SigningEdDSA})
	setFaults(t, b, Faults{ClockOffset: time.Hour})
	si := signIn(t, b)
	for _, raw := range []string{si.JWT, decode[tokenResponse](t, mintToken(t, b, si)).JWT} {
		claims := payload(t, raw)
		if got, want := string(claims["iat"]), "1700003600"; got != want {
			t.Errorf("iat = %s, want %s (1h ahead of the real clock)", got, want)
		}
		if got, want := string(claims["nbf"]), "1700003600"; got != want {
			t.Errorf("nbf = %s, want %s", got, want)
		}
		if got, want := string(claims["exp"]), "1700003660"; got != want {
			t.Errorf("exp = %s, want %s", got, want)
		}
		// The skewed server accepts its own tokens.
		if rec := callAPI(t, b, raw); rec.Code != http.StatusOK {
			t.Errorf("API on the skewed server: status %d, body %s", rec.Code, rec.Body)
		}
	}
	// Session bookkeeping keeps the real clock.
	if si.Session.LastActiveAt != epoch.UnixMilli() {
		t.Errorf("last_active_at = %d, want the real time %d", si.Session.LastActiveAt, epoch.UnixMilli())
	}
}

func TestClockOffsetAppliesToVerification(t *testing.T) {
	b, clock := newTestBackend(t, Config{Signing: SigningEdDSA, MaxLifetime: time.Hour})
	si := signIn(t, b) // iat epoch, exp epoch+60s
	clock.Advance(10 * time.Second)
	if rec := callAPI(t, b, si.JWT); rec.Code != http.StatusOK {
		t.Fatalf("before skew: status %d", rec.Code)
	}
	// Valid by real time (10s of 60s), expired by the server's clock.
	setFaults(t, b, Faults{ClockOffset: 2 * time.Minute})
	expectTokenRejected(t, callAPI(t, b, si.JWT), CodeTokenExpired)
	// Server behind: not yet valid.
	setFaults(t, b, Faults{ClockOffset: -time.Minute})
	expectTokenRejected(t, callAPI(t, b, si.JWT), CodeTokenNotYetValid)
	// Skew does not expire the session: its lifetime runs on the real clock.
	setFaults(t, b, Faults{ClockOffset: 2 * time.Hour})
	if rec := mintToken(t, b, si); rec.Code != http.StatusOK {
		t.Errorf("mint with the clock 2h ahead of a 1h session: status %d, body %s", rec.Code, rec.Body)
	}
	if got := b.Stats().Sessions; !maps.Equal(got, map[string]int64{SessionActive: 1}) {
		t.Errorf("Sessions = %v, want one active", got)
	}
}

func TestFaultsJSON(t *testing.T) {
	f := Faults{TokenLatency: 300 * time.Millisecond, Rate429: 0.5, RetryAfter: 1500 * time.Millisecond,
		Rate503: 0.1, Spurious401: 0.25, ClockOffset: -time.Hour}
	raw, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"token_latency":"300ms","rate_429":0.5,"retry_after":"1.5s","rate_503":0.1,"spurious_401":0.25,"clock_offset":"-1h0m0s"}`
	if string(raw) != want {
		t.Errorf("JSON = %s\nwant   %s", raw, want)
	}
	var back Faults
	if err := json.Unmarshal(raw, &back); err != nil || back != f {
		t.Errorf("round trip = %+v, %v; want %+v", back, err, f)
	}
	zero, _ := json.Marshal(Faults{})
	if want := `{"token_latency":"0s","rate_429":0,"retry_after":"0s","rate_503":0,"spurious_401":0,"clock_offset":"0s"}`; string(zero) != want {
		t.Errorf("zero JSON = %s, want %s", zero, want)
	}
	// Missing fields and null are zero; the decoded value is replaced whole.
	back = f
	if err := json.Unmarshal([]byte(`{"rate_503":1,"token_latency":null}`), &back); err != nil || back != (Faults{Rate503: 1}) {
		t.Errorf("partial = %+v, %v; want only Rate503", back, err)
	}
	// Inside another document too.
	var doc struct{ F Faults }
	if err := json.Unmarshal([]byte(`{"F":{"retry_after":"2s"}}`), &doc); err != nil || doc.F != (Faults{RetryAfter: 2 * time.Second}) {
		t.Errorf("nested = %+v, %v", doc.F, err)
	}
}

func TestFaultsJSONErrorsNameTheField(t *testing.T) {
	tests := []struct{ in, field, jsonField string }{
		{`{"rate_429":0.5,"nope":1}`, "", "nope"},
		{`{"Rate429":0.5}`, "", "Rate429"}, // names are exact
		{`{"token_latency":300}`, "TokenLatency", "token_latency"},
		{`{"retry_after":"2 seconds"}`, "RetryAfter", "retry_after"},
		{`{"clock_offset":true}`, "ClockOffset", "clock_offset"},
		{`{"rate_429":"0.5"}`, "Rate429", "rate_429"},
		{`{"rate_503":[]}`, "Rate503", "rate_503"},
		{`{"spurious_401":{}}`, "Spurious401", "spurious_401"},
	}
	for _, tt := range tests {
		var f Faults
		err := json.Unmarshal([]byte(tt.in), &f)
		fe, ok := errors.AsType[*FieldError](err)
		if !ok || fe.Field != tt.field || fe.JSONField != tt.jsonField {
			t.Errorf("unmarshal %s = %v, want a FieldError for %q", tt.in, err, tt.jsonField)
			continue
		}
		if !strings.Contains(err.Error(), tt.jsonField) {
			t.Errorf("error %q does not name %s", err, tt.jsonField)
		}
	}
	for _, in := range []string{`[]`, `1`, `"x"`} {
		var f Faults
		if err := json.Unmarshal([]byte(in), &f); err == nil || !strings.Contains(err.Error(), "JSON object") {
			t.Errorf("unmarshal %s = %v, want an error asking for an object", in, err)
		}
	}
}

func TestAdminFaultsRoundTrip(t *testing.T) {
	b, _ := newTestBackend(t, Config{})
	const zero = `{"token_latency":"0s","rate_429":0,"retry_after":"0s","rate_503":0,"spurious_401":0,"clock_offset":"0s"}` + "\n"
	rec := do(t, b, http.MethodGet, "/admin/faults", "", "")
	if rec.Code != http.StatusOK || rec.Body.String() != zero {
		t.Fatalf("GET: status %d, body %s; want %s", rec.Code, rec.Body, zero)
	}
	rec = do(t, b, http.MethodPut, "/admin/faults", "", `{"token_latency":"300ms","rate_429":0.5,"retry_after":"2s","clock_offset":"-90s"}`)
	if rec.Code != http.StatusOK {
		t.Fatalf("PUT: status %d, body %s", rec.Code, rec.Body)
	}
	want := Faults{TokenLatency: 300 * time.Millisecond, Rate429: 0.5, RetryAfter: 2 * time.Second, ClockOffset: -90 * time.Second}
	if got := decode[Faults](t, rec); got != want {
		t.Errorf("PUT answer = %+v, want %+v", got, want)
	}
	if got := b.Faults(); got != want {
		t.Errorf("Faults() = %+v, want %+v", got, want)
	}
	if got := decode[Faults](t, do(t, b, http.MethodGet, "/admin/faults", "", "")); got != want {
		t.Errorf("GET = %+v, want %+v", got, want)
	}
	const wantJSON = `{"token_latency":"300ms","rate_429":0.5,"retry_after":"2s","rate_503":0,"spurious_401":0,"clock_offset":"-1m30s"}` + "\n"
	if got := do(t, b, http.MethodGet, "/admin/faults", "", "").Body.String(); got != wantJSON {
		t.Errorf("GET body = %s, want %s", got, wantJSON)
	}

	// PUT replaces: fields left out are cleared.
	if got := decode[Faults](t, do(t, b, http.MethodPut, "/admin/faults", "", `{"rate_503":0.1}`)); got != (Faults{Rate503: 0.1}) {
		t.Errorf("second PUT = %+v, want only rate_503", got)
	}
	rec = do(t, b, http.MethodDelete, "/admin/faults", "", "")
	if rec.Code != http.StatusOK || rec.Body.String() != zero {
		t.Errorf("DELETE: status %d, body %s", rec.Code, rec.Body)
	}
	if got := b.Faults(); got != (Faults{}) {
		t.Errorf("after DELETE: %+v", got)
	}
	st := b.Stats().Endpoints[EndpointAdmin]
	if want := map[string]int64{"200": 6}; !maps.Equal(st, want) {
		t.Errorf(`Endpoints["admin"] = %v, want %v`, st, want)
	}
}

func TestAdminFaultsRejectsBadBodies(t *testing.T) {
	b, _ := newTestBackend(t, Config{})
	before := Faults{Rate429: 0.5}
	setFaults(t, b, before)
	tests := []struct{ body, mention string }{
		{`{"rate_429":0.5,"latency":"1s"}`, `unknown field "latency"`},
		{`{"rate_429":1.5}`, "rate_429 must be within [0,1], got 1.5"},
		{`{"rate_503":-0.1}`, "rate_503"},
		{`{"spurious_401":"all"}`, "spurious_401"},
		{`{"token_latency":"-1s"}`, "token_latency must not be negative"},
		{`{"retry_after":2}`, "retry_after"},
		{`{"clock_offset":"soon"}`, "clock_offset"},
		{`{"rate_429":0.5`, "malformed JSON"},
		{`{"rate_429":0.5} {}`, "malformed JSON"},
		{`[]`, "JSON object"},
		{``, "required"},
	}
	for _, tt := range tests {
		e := expectError(t, do(t, b, http.MethodPut, "/admin/faults", "", tt.body), http.StatusBadRequest, CodeInvalidRequest)
		if !strings.Contains(e.Message, tt.mention) {
			t.Errorf("PUT %s: message %q does not mention %q", tt.body, e.Message, tt.mention)
		}
	}
	if got := b.Faults(); got != before {
		t.Errorf("after bad PUTs: Faults() = %+v, want %+v", got, before)
	}
	rec := do(t, b, http.MethodPost, "/admin/faults", "", `{}`)
	expectError(t, rec, http.StatusMethodNotAllowed, CodeMethodNotAllowed)
	if got := rec.Header().Get("Allow"); got != "GET, HEAD, PUT, DELETE" {
		t.Errorf("Allow = %q", got)
	}
}

func TestFaultDiceIsDeterministicAndSafeForConcurrentUse(t *testing.T) {
	const workers, each = 8, 500
	seq := newFaultDice(99, streamToken)
	var want []float64
	for range workers * each {
		u := seq.float64()
		if u < 0 || u >= 1 {
			t.Fatalf("draw %v outside [0,1)", u)
		}
		want = append(want, u)
	}
	conc := newFaultDice(99, streamToken)
	var (
		mu  sync.Mutex
		got []float64
		wg  sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			local := make([]float64, 0, each)
			for range each {
				local = append(local, conc.float64())
			}
			mu.Lock()
			got = append(got, local...)
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Error("concurrent draws are not the sequential draws in another order")
	}
	// Streams differ.
	if a, b := newFaultDice(99, streamToken).float64(), newFaultDice(99, streamAPI).float64(); a == b {
		t.Errorf("token and api streams start with the same draw %v", a)
	}
	// Roughly uniform: each tenth gets its share.
	var buckets [10]int
	for _, u := range want {
		buckets[int(u*10)]++
	}
	for i, n := range buckets {
		if n < 300 || n > 500 {
			t.Errorf("bucket %d has %d of %d draws, want about 400", i, n, len(want))
		}
	}
}

func BenchmarkFaultDice(b *testing.B) {
	d := newFaultDice(1, streamToken)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			d.float64()
		}
	})
}
