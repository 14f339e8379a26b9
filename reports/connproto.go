package reports

// Protocols of Connections.Protocol.
const (
	ProtoHTTP1 = "HTTP/1.1"
	ProtoHTTP2 = "HTTP/2"
	ProtoMixed = "HTTP/1.1 and HTTP/2"
)

// ConnProtocol names what a run's connections spoke, from the counts of
// those that spoke HTTP/1.1 and HTTP/2: ProtoHTTP1, ProtoHTTP2, ProtoMixed,
// or "" when none carried a request.
func ConnProtocol(http1, http2 int64) string {
	switch {
	case http1 > 0 && http2 > 0:
		return ProtoMixed
	case http2 > 0:
		return ProtoHTTP2
	case http1 > 0:
		return ProtoHTTP1
	}
	return ""
}
