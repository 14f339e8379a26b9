// Package e2e holds stampede's end-to-end tests against real third-party
// servers: Dex (an OpenID Connect provider with refresh-token rotation)
// and toxiproxy-server. They are behind the e2e build tag, so `make test`
// needs neither; `make e2e` (cmd/stampede/e2e/run.sh) installs and starts both on
// 127.0.0.1 and runs `go test -tags e2e ./e2e/`.
package e2e
