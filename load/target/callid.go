package target

import (
	"context"
	"net/http"
	"strconv"
)

// CallIDHeader is the header an API call carries its app call's id in:
// the same on every retry of one call, new for each call the app makes,
// so a proxy in front of the target (stampede proxy) tells a retry from a
// new call to the same URL (docs/proxy.md#what-it-counts).
const CallIDHeader = "X-Request-Id"

type callIDKey struct{}

// WithCallID returns ctx carrying the id of client's app call number call
// ("stampede-<client>-<call>"); the targets' Call sends it as
// CallIDHeader. A call of 0 is none: ctx is returned as it is.
func WithCallID(ctx context.Context, client int, call uint64) context.Context {
	if call == 0 {
		return ctx
	}
	b := make([]byte, 0, 32)
	b = append(b, "stampede-"...)
	b = strconv.AppendInt(b, int64(client), 10)
	b = append(b, '-')
	b = strconv.AppendUint(b, call, 10)
	return context.WithValue(ctx, callIDKey{}, string(b))
}

// CallID is the call id ctx carries, "" if none.
func CallID(ctx context.Context) string {
	id, _ := ctx.Value(callIDKey{}).(string)
	return id
}

// setCallID sets req's CallIDHeader from its context, if it carries one
// and the request does not name its own.
func setCallID(req *http.Request) {
	if id := CallID(req.Context()); id != "" && req.Header.Get(CallIDHeader) == "" {
		req.Header.Set(CallIDHeader, id)
	}
}
