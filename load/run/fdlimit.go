package run

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/stampede-load/stampede/load/transport"
	"github.com/stampede-load/stampede/profiles"
)

// fdSpare is the descriptors kept free for everything but connections:
// result files, histogram logs, checkpoints, the listener.
const fdSpare = 64

// fdBudget checks, before a per_client run starts, that the descriptor
// limit holds a connection per client: two with the embedded backend,
// whose end of each connection is in this process too. It returns nil for
// a shared pool, an unknown limit (0) or a budget that fits, else the
// one-line error with the numbers.
func fdBudget(p profiles.Profile, clients int, limit uint64, open int) error {
	if p.Connections != profiles.ConnectionsPerClient || limit == 0 {
		return nil
	}
	ends, why := 1, "1 per client"
	if p.TargetKind() == profiles.TargetBuiltin {
		ends, why = 2, "2 per client, the embedded backend holding the other end"
	}
	need := uint64(clients*ends + open + fdSpare)
	if need <= limit {
		return nil
	}
	return fmt.Errorf("connections: per_client needs about %s file descriptors (%s: %d × %s clients + %d open + %d spare) but the limit is %s (RLIMIT_NOFILE, soft raised to hard): raise the hard limit (ulimit -Hn, systemd LimitNOFILE), run fewer clients per process (--shard, or against a target in another process), or use connections: shared",
		thousands(need), why, ends, thousands(uint64(clients)), open, fdSpare, thousands(limit))
}

// maxConns is the most connections the descriptor limit leaves room for,
// two descriptors each with the embedded backend, keeping fdSpare free for
// result files (0 when the limit is unknown), and the shared pool's size
// within it.
func maxConns(p profiles.Profile, limit uint64, open int) (maxOpen, shared int) {
	if limit == 0 {
		return 0, transport.SharedConns
	}
	ends := 1
	if p.TargetKind() == profiles.TargetBuiltin {
		ends = 2
	}
	maxOpen = max(1, (int(min(limit, 1<<30))-open-fdSpare)/ends)
	return maxOpen, min(transport.SharedConns, maxOpen)
}

// thousands writes n with commas: 40,064.
func thousands(n uint64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// newTransport raises the descriptor limit, checks that a per_client run
// fits in it (an error with the numbers when it does not) and builds the
// run's transport, which warns on w when dials run out of ports or
// descriptors. It returns the limit (0 if unknown).
func newTransport(p profiles.Profile, o Options, w io.Writer) (uint64, *transport.Transport, error) {
	raise := o.FDLimit
	if raise == nil {
		raise = raiseFDLimit
	}
	limit, err := raise()
	if err != nil {
		fmt.Fprintf(w, "stampede: warning: cannot raise the open-file limit: %v\n", err)
	}
	clients := (p.Clients - o.Shard + o.Shards - 1) / o.Shards // this shard's
	open := openFDs()
	if err := fdBudget(p, clients, limit, open); err != nil {
		return limit, nil, err
	}
	maxOpen, shared := maxConns(p, limit, open)
	var mu sync.Mutex
	tr := transport.NewTransport(transport.TransportConfig{
		PerClient:   p.Connections == profiles.ConnectionsPerClient,
		Clients:     p.Clients,
		SharedConns: shared,
		MaxOpen:     maxOpen,
		TLS:         o.TLS,
		HTTPVersion: p.HTTPVersion,
		FDLimit:     limit,
		Warn: func(msg string) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(w, "stampede: warning: %s\n", msg)
		},
		TLSResumption: p.TLSResumption && speaksTLS(p),
	})
	return limit, tr, nil
}
