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
			q := c.queues()
			q.iqueue = append(q.iqueue, call)
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
	var q []apiCall
	if c.iq != nil {
		q, c.iq.iqueue = c.iq.iqueue, nil
	}
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

// interceptorQueues are the 401 interceptor's calls: those queued behind
// its refresh, those it dropped, and the naive interceptor's refreshes.
type interceptorQueues struct {
	iqueue  []apiCall       // failedQueue
	orphans int             // calls dropped unsettled (bug_unsettled_queue, a killed app's queue)
	dropped []UnsettledCall // the first MaxDroppedKept of them
	private []privateFlight // naive: refreshes started for one call each
}

// queues returns the client's interceptor queues, made on first use.
func (c *Client) queues() *interceptorQueues {
	if c.iq == nil {
		c.iq = new(interceptorQueues)
	}
	return c.iq
}

// privateFlight is a refresh the naive interceptor started for one call.
type privateFlight struct {
	req  uint64
	call apiCall
}

func (c *Client) sendPrivateRefresh(now time.Time, call apiCall) {
	c.nextReq++
	q := c.queues()
	q.private = append(q.private, privateFlight{req: c.nextReq, call: call})
	c.out = append(c.out, Action{Kind: ActRefresh, Req: c.nextReq, At: now,
		SessionID: c.sessionID, ClientToken: c.clientToken})
}

// onPrivateRefresh handles the answer to a naive interceptor's refresh; it
// reports false when ev answers no such refresh.
func (c *Client) onPrivateRefresh(now time.Time, ev Event) bool {
	if c.iq == nil {
		return false
	}
	q := c.iq
	i := -1
	for j := range q.private {
		if q.private[j].req == ev.Req {
			i = j
			break
		}
	}
	if i < 0 {
		return false
	}
	call := q.private[i].call
	q.private = append(q.private[:i], q.private[i+1:]...)
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
