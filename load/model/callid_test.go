package model

import (
	"testing"
	"time"

	"github.com/stampede-load/stampede/profiles"
)

// Every app call carries an id (Action.Call, sent as X-Request-Id) that
// its retries repeat and that no other call of the client shares, for
// every interceptor strategy: a proxy tells a retry from a new call by it.
func TestAPICallsCarryTheirCallIDOnEveryRetry(t *testing.T) {
	for _, strategy := range profiles.Interceptors() {
		t.Run(strategy, func(t *testing.T) {
			cfg := cmConfig()
			cfg.Interceptor, cfg.Burst = strategy, 3
			f := newFx(t, cfg)
			stSignedIn(f)
			first := ofKind(f.do(cmAt(5*time.Second), evTimer(TimerAPI, cmAt(5*time.Second))), ActAPI)
			ids := map[uint64]bool{}
			for _, a := range first {
				if a.Call == 0 || ids[a.Call] {
					t.Fatalf("first tries carry call ids %v; want distinct, non-zero", first)
				}
				ids[a.Call] = true
			}
			var sent []Action
			for _, a := range first {
				sent = append(sent, f.do(cmAt(5*time.Second), evAPI(a.Req, o401))...)
			}
			for _, r := range ofKind(sent, ActRefresh) {
				sent = append(sent, f.do(cmAt(5200*time.Millisecond), evRefreshOK(r.Req, tokB))...)
			}
			retries := ofKind(sent, ActAPI)
			if len(retries) == 0 && strategy != profiles.InterceptorRetryOnce {
				t.Fatal("no call was retried")
			}
			for _, a := range retries {
				if !ids[a.Call] || a.Attempt == 0 {
					t.Errorf("retry %+v carries call id %d, want one of the first tries' %v", a, a.Call, ids)
				}
			}
			next := ofKind(f.do(cmAt(10*time.Second), evTimer(TimerAPI, cmAt(10*time.Second))), ActAPI)
			for _, a := range next {
				if ids[a.Call] || a.Call == 0 {
					t.Errorf("a new call carries id %d, already used (or none)", a.Call)
				}
			}
		})
	}
}
