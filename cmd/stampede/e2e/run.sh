#!/usr/bin/env bash
# e2e: stampede against real third-party servers on 127.0.0.1.
#
#   1. installs Dex (an OpenID Connect provider: password grant, memory
#      storage, refresh-token rotation with reuse detection, JWT access
#      tokens) and toxiproxy-server, built from the Go module proxy into a
#      cache directory (once; later runs reuse the binaries);
#   2. starts both on free ports chosen now, stopped on exit by a trap;
#   3. runs go test -tags e2e ./cmd/stampede/e2e/: 200 clients for 60 s against Dex,
#      racing refreshes, 200 refresh tokens minted by the authorization-code
#      flow through Dex's login form and run on twice with
#      --update-credentials, and the same run through toxiproxy with a
#      latency and a reset_peer toxic on the timeline, and 2,000 clients
#      through stampede proxy with a token-endpoint brownout (230 s: Dex's
#      bcrypt check holds the password grants to about 16 a second).
#
# Environment: STAMPEDE_E2E_CACHE (binaries; default ~/.cache/stampede-e2e),
# STAMPEDE_E2E_OUT (result files; default ./stampede-results/e2e-<time>),
# E2E_USERS (Dex users; default 2250), E2E_RUN (a go test -run filter).
set -euo pipefail
cd "$(dirname "$0")/../../.."
root=$(pwd)

# Pinned versions (LIBRARY-NOTES): Dex v2.45.1 is this pseudo-version of
# its main module; the toxiproxy server package is cmd/server.
DEX_VERSION=v0.0.0-20260303133905-11d2eeb52b42
DEX_TAG=v2.45.1
TOXIPROXY_VERSION=v2.12.0

cache=${STAMPEDE_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/stampede-e2e}
out=${STAMPEDE_E2E_OUT:-$root/stampede-results/e2e-$(date -u +%Y%m%d-%H%M%S)}
users=${E2E_USERS:-2250}
mkdir -p "$cache/bin" "$out"
dex="$cache/bin/dex-$DEX_TAG"
toxiproxy="$cache/bin/toxiproxy-server-$TOXIPROXY_VERSION"

log() { echo "e2e: $*" >&2; }
t0=$(date +%s)

# --- install ---------------------------------------------------------------
if [ ! -x "$dex" ]; then
  log "building Dex $DEX_TAG through a tool module (a plain go install is refused; first time ~2 min)"
  tool="$cache/dextool"
  rm -rf "$tool" && mkdir -p "$tool"
  (
    cd "$tool"
    go mod init local/dextool >/dev/null 2>&1
    go get -tool "github.com/dexidp/dex/cmd/dex@$DEX_VERSION" >get.log 2>&1 || { cat get.log >&2; exit 1; }
    # Memory storage needs no SQLite: without cgo the build skips its C code
    # (and needs no gcc).
    CGO_ENABLED=0 go build -o "$dex.tmp" github.com/dexidp/dex/cmd/dex
  )
  mv "$dex.tmp" "$dex"
fi
if [ ! -x "$toxiproxy" ]; then
  log "installing toxiproxy-server $TOXIPROXY_VERSION"
  gobin=$(mktemp -d)
  GOBIN="$gobin" go install "github.com/Shopify/toxiproxy/v2/cmd/server@$TOXIPROXY_VERSION"
  mv "$gobin/server" "$toxiproxy" # the package is cmd/server: rename it
  rm -rf "$gobin"
fi
log "building stampede"
make -s build
log "installed in $(( $(date +%s) - t0 ))s"

# --- start -----------------------------------------------------------------
work=$(mktemp -d)
pids=()
cleanup() {
  local code=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  # Dex drains the requests it holds before it exits: after a failed run
  # that can be minutes of password checks, so it gets 5 s.
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.5
  done
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$code" -ne 0 ]; then
    for f in "$work"/*.log; do [ -s "$f" ] && { log "--- last lines of $(basename "$f")"; tail -n 20 "$f" >&2; }; done
  fi
  cp "$work"/*.log "$out"/ 2>/dev/null || true
  rm -rf "$work"
  exit "$code"
}
trap cleanup EXIT INT TERM

ports=$(go run ./cmd/stampede/e2e/freeport 2)
dex_port=${ports%%$'\n'*}
toxi_port=${ports##*$'\n'}
export STAMPEDE_CLIENT_SECRET="e2e-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
export STAMPEDE_PASSWORD=password

# Every user shares one bcrypt hash (cost 10, Dex's minimum) of "password":
# the one in Dex's own config.dev.yaml.
hash='$2a$10$2b2cU8CPhOTaGrs1HRQuAueS7JTT5ZHsHSzYiFPm1leZck7Mc8T4W'
{
  cat <<EOF
issuer: http://127.0.0.1:$dex_port/dex
storage:
  type: memory
web:
  http: 127.0.0.1:$dex_port
logger:
  level: warn
oauth2:
  passwordConnector: local
  skipApprovalScreen: true
expiry:
  idTokens: 30s            # access tokens (JWTs) live 30 s: exp = iat + 30
  refreshTokens:
    reuseInterval: 0s      # rotation on; a reused refresh token is refused at once
enablePasswordDB: true
staticClients:
  - id: stampede
    secret: $STAMPEDE_CLIENT_SECRET
    name: stampede
    redirectURIs: ['http://127.0.0.1/callback']
staticPasswords:
EOF
  for ((i = 0; i < users; i++)); do
    printf '  - {email: "user%d@example.com", username: "user%d", userID: "u%d", hash: "%s"}\n' "$i" "$i" "$i" "$hash"
  done
} >"$work/dex.yaml"

"$dex" serve "$work/dex.yaml" >"$work/dex.log" 2>&1 &
pids+=($!)
LOG_LEVEL=warn "$toxiproxy" -host 127.0.0.1 -port "$toxi_port" >"$work/toxiproxy.log" 2>&1 &
pids+=($!)

export DEX_URL="http://127.0.0.1:$dex_port/dex"
export DEX_ADDR="127.0.0.1:$dex_port"
export TOXIPROXY_URL="http://127.0.0.1:$toxi_port"
export STAMPEDE_BIN="$root/bin/stampede"
export STAMPEDE_E2E_OUT="$out"
export E2E_USERS="$users"
log "Dex at $DEX_URL ($users users), toxiproxy API at $TOXIPROXY_URL; results in $out"

# --- test ------------------------------------------------------------------
t1=$(date +%s)
set +e
go test -tags e2e -count=1 -v -timeout 14m ${E2E_RUN:+-run "$E2E_RUN"} ./cmd/stampede/e2e/ 2>&1 | tee "$out/go-test.log"
status=${PIPESTATUS[0]}
set -e
log "tests took $(( $(date +%s) - t1 ))s; e2e took $(( $(date +%s) - t0 ))s in all"
exit "$status"
