package reports

import "fmt"

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

// protocolSummary is what a run's connections spoke, for the reports:
// "HTTP/2 · 6 requests · at most 5 in flight on one connection", "HTTP/1.1",
// or "" when unknown.
func protocolSummary(c Connections) string {
	if c.Protocol == "" {
		return ""
	}
	s := c.Protocol
	if c.HTTP2Conns > 0 {
		s += fmt.Sprintf(" (%d of %d connections, %d requests over HTTP/2, at most %d in flight on one connection)",
			c.HTTP2Conns, c.HTTP1Conns+c.HTTP2Conns, c.HTTP2Requests, c.MaxStreams)
	}
	return s
}

// connectionsSummary is the connections line of the Markdown and HTML
// reports: the mode, what they spoke, the dials and TLS handshakes.
func connectionsSummary(mode string, c Connections) string {
	if mode == "" {
		mode = "shared"
	}
	s := mode
	if p := protocolSummary(c); p != "" {
		s += " · " + p
	}
	return s + fmt.Sprintf(" · %d dials · %d TLS handshakes · peak %d open", c.Dials, c.TLSHandshakes, c.PeakOpen)
}
