package model

import (
	"time"

	"github.com/stampede-load/stampede/profiles"
)

// maxLoop bounds how often bug_no_retry_flag retries one call, so a
// simulated loop ends; every retry past the first counts as a loop.
const maxLoop = 20

// intercept handles an API call answered 401 while signed in, the way the
// configured strategy (profiles.Interceptor*) does.
func (c *Client) intercept(now time.Time, call apiCall) {
	switch c.cfg.Interceptor {
	case profiles.InterceptorNaive:
		if call.retries > 0 {
			c.settle(false, Class401)
			return
		}
		call.retries++
		call.since = now
		c.sendPrivateRefresh(now, call)
	case profiles.InterceptorBugNoRetryFlag:
		if call.retries >= maxLoop {
			c.settle(false, Class401)
			return
		}
		c.retry(now, call) // no _retry flag: never says no
	case profiles.InterceptorRetryOnce, profiles.InterceptorBugUnsettledQueue, profiles.InterceptorBugStuckFlag, profiles.InterceptorBugStaleRetry:
		if call.retries > 0 {
			c.settle(false, Class401)
			return
		}
		if c.irefreshing {
			if c.cfg.Interceptor == profiles.InterceptorRetryOnce {
				c.settle(false, Class401) // no queue: the caller sees the 401
				return
			}
			call.retries++
			call.since = now
			c.iqueue = append(c.iqueue, call)
			return
		}
		c.irefreshing = true
		call.owner = true
		c.retry(now, call)
	default: // single_flight
		if call.retries > 0 {
			c.settle(false, Class401)
			return
		}
		c.retry(now, call)
	}
}

// retry retries call after a 401 through getToken: at once with a newer
// token if one arrived meanwhile, else after the single refresh in flight.
func (c *Client) retry(now time.Time, call apiCall) {
	call.retries++
	call.since = now
	if c.token != "" && c.tokenSeq > call.tokenSeq && now.Before(c.expiresAt) {
		c.record(Action{Metric: MetricGetToken, OK: true})
		c.sendAPI(call, now)
		if call.owner {
			c.processQueue(now, true)
		}
		return
	}
	c.waiting = append(c.waiting, call)
	if c.refreshReq == 0 && !c.retryPending {
		c.sendRefresh(now)
	}
}

// processQueue settles the interceptor's queue once the refresh that its
// owner call waited for has ended: ok says whether it brought a token.
func (c *Client) processQueue(now time.Time, ok bool) {
	if !c.irefreshing {
		return
	}
	q := c.iqueue
	c.iqueue = nil
	switch {
	case ok && c.cfg.Interceptor == profiles.InterceptorBugStaleRetry:
		for _, call := range q {
			c.record(Action{Metric: MetricGetToken, OK: true, Latency: now.Sub(call.since)})
			c.sendAPIWith(call, now, call.token, call.tokenSeq, CallReplayingQueue) // the bug: the old token
		}
	case ok:
		for _, call := range q {
			c.record(Action{Metric: MetricGetToken, OK: true, Latency: now.Sub(call.since)})
			c.sendAPI(call, now)
		}
	case c.cfg.Interceptor == profiles.InterceptorBugUnsettledQueue:
		c.drop(q, CallDropped) // the bug: dropped, never settled
	default:
		for _, call := range q {
			c.record(Action{Metric: MetricGetToken, OK: false, Class: Class401, Latency: now.Sub(call.since)})
			c.settle(false, Class401)
		}
	}
	if !ok && c.cfg.Interceptor == profiles.InterceptorBugStuckFlag {
		c.stuck = true // the bug: isRefreshing stays true, nothing will ever refresh for the queue
		return
	}
	c.irefreshing = false
}

// privateFlight is a refresh the naive interceptor started for one call.
type privateFlight struct {
	req  uint64
	call apiCall
}

func (c *Client) sendPrivateRefresh(now time.Time, call apiCall) {
	c.nextReq++
	c.private = append(c.private, privateFlight{req: c.nextReq, call: call})
	c.out = append(c.out, Action{Kind: ActRefresh, Req: c.nextReq, At: now,
		SessionID: c.sessionID, ClientToken: c.clientToken})
}

// onPrivateRefresh handles the answer to a naive interceptor's refresh; it
// reports false when ev answers no such refresh.
func (c *Client) onPrivateRefresh(now time.Time, ev Event) bool {
	i := -1
	for j := range c.private {
		if c.private[j].req == ev.Req {
			i = j
			break
		}
	}
	if i < 0 {
		return false
	}
	call := c.private[i].call
	c.private = append(c.private[:i], c.private[i+1:]...)
	if c.phase != PhaseSignedIn {
		c.settle(false, ev.Outcome.Class)
		return true
	}
	o, times := refreshAnswer(now, ev)
	switch {
	case o.Class == ClassOK:
		if ev.ClientToken != "" {
			c.clientToken = ev.ClientToken
		}
		c.setToken(now, ev.Token, times)
		c.record(Action{Metric: MetricGetToken, OK: true, Latency: now.Sub(call.since)})
		c.sendAPI(call, now)
		c.serveWaiting(now)
	case o.Class == ClassCancelled:
		c.settle(false, ClassCancelled)
	case SessionLost(o):
		c.settle(false, o.Class)
		c.signOut(now, o)
	default:
		c.settle(false, o.Class)
	}
	return true
}
