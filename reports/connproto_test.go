package reports

import (
	"bytes"
	"strings"
	"testing"
)

func TestConnProtocol(t *testing.T) {
	for _, tc := range []struct {
		h1, h2 int64
		want   string
	}{{0, 0, ""}, {3, 0, ProtoHTTP1}, {0, 2, ProtoHTTP2}, {1, 2, ProtoMixed}} {
		if got := ConnProtocol(tc.h1, tc.h2); got != tc.want {
			t.Errorf("ConnProtocol(%d, %d) = %q, want %q", tc.h1, tc.h2, got, tc.want)
		}
	}
}

// TestReportsSayTheProtocol: the text, Markdown and HTML reports say what
// the connections spoke and how many requests shared one.
func TestReportsSayTheProtocol(t *testing.T) {
	r := &Result{}
	r.Profile.Connections = "per_client"
	r.Engine.Connections = Connections{Dials: 3, TLSHandshakes: 3, PeakOpen: 3, SourceAddrs: 1,
		Protocol: ProtoHTTP2, HTTP2Conns: 3, HTTP2Requests: 40, MaxStreams: 5}
	want := "HTTP/2 (3 of 3 connections, 40 requests over HTTP/2, at most 5 in flight on one connection)"
	for name, write := range map[string]func(*bytes.Buffer, *Result) error{
		"text":     func(b *bytes.Buffer, r *Result) error { return WriteText(b, r) },
		"markdown": func(b *bytes.Buffer, r *Result) error { return WriteMarkdown(b, r) },
		"html":     func(b *bytes.Buffer, r *Result) error { return WriteHTML(b, r) },
	} {
		var b bytes.Buffer
		if err := write(&b, r); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !strings.Contains(b.String(), "per_client") || !strings.Contains(b.String(), want) {
			t.Errorf("%s report does not say %q", name, want)
		}
	}
}

// TestMergeAddsUpProtocols: merged shards add up their connections by
// protocol and keep the most streams on one connection.
func TestMergeAddsUpProtocols(t *testing.T) {
	var a, b Engine
	a.Connections = Connections{HTTP1Conns: 1, HTTP2Conns: 0, Protocol: ProtoHTTP1}
	b.Connections = Connections{HTTP2Conns: 4, HTTP2Requests: 9, MaxStreams: 3, Protocol: ProtoHTTP2}
	var d Engine
	mergeEngine(&d, a)
	mergeEngine(&d, b)
	c := d.Connections
	if c.HTTP1Conns != 1 || c.HTTP2Conns != 4 || c.HTTP2Requests != 9 || c.MaxStreams != 3 || c.Protocol != ProtoMixed {
		t.Errorf("merged %+v", c)
	}
}
