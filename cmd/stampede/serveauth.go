package main

import (
	"net"
	"net/netip"
	"os"
	"strings"
)

// adminTokenEnv is the environment variable stampede serve takes the admin
// token from when --admin-token is not given.
const adminTokenEnv = "STAMPEDE_ADMIN_TOKEN"

// isLoopbackAddr reports whether a listen address binds loopback only:
// 127.0.0.0/8, ::1 or localhost. An empty host (":8787"), 0.0.0.0, :: and
// every other host or address reach beyond. An address that does not parse
// counts as loopback: listening on it fails anyway, with its own error.
func isLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return true
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.WithZone("").IsLoopback()
}

// resolveAdminToken returns the admin token of --admin-token, else of
// $STAMPEDE_ADMIN_TOKEN, and the problem with serving on addr with it: a
// listener beyond loopback needs one.
func (o *serveOptions) resolveAdminToken() (token, problem string) {
	token = o.adminToken
	if token == "" {
		token = os.Getenv(adminTokenEnv)
	}
	if token == "" && !isLoopbackAddr(o.addr) {
		return "", "--admin-token: required to listen on " + o.addr + ", beyond loopback (or set " + adminTokenEnv +
			"): without it anyone who reaches the backend could rotate keys, revoke sessions and set faults through /admin; " +
			"listen on 127.0.0.1 to go without"
	}
	return token, ""
}
