package model

import (
	"testing"
	"time"
)

// BenchmarkClientRefreshCycle measures the client model alone: one op is a
// poll timer, its refresh answer and an API call with its answer.
func BenchmarkClientRefreshCycle(b *testing.B) {
	cfg := cmConfig()
	c := NewClient(&cfg, 1, 1)
	now := cmT0
	c.Step(now, evStart(now))
	c.Step(now, Event{Kind: EvSignInDone, Req: 1, Token: tokA, SessionID: cmSession, ClientToken: cmClientToken, Outcome: ok200})
	tokens := []string{cmJWT(cmT0, cmAt(60*time.Second)), cmJWT(cmT0, cmAt(120*time.Second))}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		now = now.Add(time.Second)
		var refresh, api uint64
		for _, a := range c.Step(now, evTimer(TimerRefresh, now)) {
			if a.Kind == ActRefresh {
				refresh = a.Req
			}
		}
		c.Step(now, Event{Kind: EvRefreshDone, Req: refresh, Token: tokens[i%2], Outcome: ok200})
		for _, a := range c.Step(now, evTimer(TimerAPI, now)) {
			if a.Kind == ActAPI {
				api = a.Req
			}
		}
		c.Step(now, evAPI(api, ok200))
	}
}
