package transport

import (
	"net"
	"net/http"
	"time"
)

// NewClient returns a keep-alive client of at most SharedConns connections
// per host that does not follow redirects (stampede creds; a run uses a
// Transport).
func NewClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			Proxy:        http.ProxyFromEnvironment,
			DialContext:  (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns: 0,
			// The shared pool: at most 1,024 connections; a request that finds
			// none free waits for one, and the wait counts in its latency.
			MaxConnsPerHost:       SharedConns,
			MaxIdleConnsPerHost:   SharedConns,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
			DisableCompression:    true,
		},
		CheckRedirect: NoRedirects,
	}
}

// NoRedirects makes an http.Client return redirects: they are answers to
// classify, not to follow.
func NoRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
