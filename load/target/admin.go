package target

import (
	"context"
	"time"

	"github.com/stampede-load/stampede/chaos"
	"github.com/stampede-load/stampede/chaos/backend"
)

// adminCallTimeout bounds an admin call once the run that made it has
// ended, as the fleet's own clean-up calls are bounded.
const adminCallTimeout = 5 * time.Second

// settledAdmin lets an admin call that has begun finish when the run that
// made it ends: the fleet's context ends with the run, and an event whose
// call was in flight then (a key rotation late under load) would otherwise
// be recorded as "context canceled" though the target may have acted on
// it. Each call keeps ctx's values and is bounded by adminCallTimeout
// instead of ctx's cancellation.
type settledAdmin struct{ admin chaos.Admin }

func settle(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), adminCallTimeout)
}

func (a settledAdmin) RotateKeys(ctx context.Context, keepPrevious bool) error {
	ctx, cancel := settle(ctx)
	defer cancel()
	return a.admin.RotateKeys(ctx, keepPrevious)
}

func (a settledAdmin) Revoke(ctx context.Context, sessionID string) error {
	ctx, cancel := settle(ctx)
	defer cancel()
	return a.admin.Revoke(ctx, sessionID)
}

func (a settledAdmin) SetFaults(ctx context.Context, f backend.Faults) error {
	ctx, cancel := settle(ctx)
	defer cancel()
	return a.admin.SetFaults(ctx, f)
}

func (a settledAdmin) SetRotation(ctx context.Context, r backend.Rotation) error {
	ctx, cancel := settle(ctx)
	defer cancel()
	return a.admin.SetRotation(ctx, r)
}
