package target

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stampede-load/stampede/load/model"
)

// Minted is one user's refresh token from Mint, with the outcome of its
// sign-in: the credential is only meaningful when Outcome.Class is
// model.ClassOK.
type Minted struct {
	Credential StoredCredential
	Outcome    model.Outcome
}

// MintOptions bound Mint.
type MintOptions struct {
	// Count users are signed in: clients 0 to Count-1.
	Count int
	// Concurrency sign-ins are in flight at once; at least 1.
	Concurrency int
	// Timeout bounds each sign-in (a device grant's wait for the user included).
	Timeout time.Duration
	// RetryBase is the first retry's wait, doubled at each retry; default
	// 500 ms. A Retry-After longer than it wins.
	RetryBase time.Duration
	// Grant signs user u (client i) in; nil is the password grant. See
	// OAuth2.CodeGrant and OAuth2.DeviceGrant for the others.
	Grant func(ctx context.Context, i int, u OAuth2User) (Credentials, model.Outcome)
}

// Mint signs users 0..Count-1 of oa in with o.Grant (the password grant),
// Concurrency at a time, retrying passing failures (network, timeouts,
// 429, 5xx) up to 3 times. Results are in user order; users not tried
// before ctx ended are of class cancelled.
func Mint(ctx context.Context, oa *OAuth2, o MintOptions) []Minted {
	if o.RetryBase <= 0 {
		o.RetryBase = 500 * time.Millisecond
	}
	if o.Grant == nil {
		o.Grant = func(ctx context.Context, _ int, u OAuth2User) (Credentials, model.Outcome) {
			return oa.PasswordGrant(ctx, u)
		}
	}
	results := make([]Minted, o.Count)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(max(o.Concurrency, 1), o.Count) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= o.Count {
					return
				}
				if ctx.Err() != nil {
					results[i].Outcome = model.Outcome{Class: model.ClassCancelled}
					continue
				}
				results[i] = mintOne(ctx, oa, i, o)
			}
		})
	}
	wg.Wait()
	return results
}

func mintOne(ctx context.Context, oa *OAuth2, i int, o MintOptions) Minted {
	u, _ := oa.User(i)
	var m Minted
	for attempt := 0; ; attempt++ {
		rctx, cancel := context.WithTimeout(ctx, o.Timeout)
		cr, out := o.Grant(rctx, i, u)
		cancel()
		m = Minted{Credential: StoredCredential{RefreshToken: cr.ClientToken, Subject: cr.SessionID}, Outcome: out}
		if out.Class == model.ClassOK || !out.Class.Retryable() || attempt == 3 || ctx.Err() != nil {
			return m
		}
		wait := max(o.RetryBase<<attempt, out.RetryAfter)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return m
		}
	}
}
