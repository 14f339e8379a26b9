#!/usr/bin/env bash
# bench.sh: stampede against wrk on the same `stampede serve` refresh endpoint,
# and stampede's memory per simulated client. Prints one table.
#   scripts/bench.sh [CLIENTS_FOR_MEMORY]   (default 200000)
# Needs wrk (Debian's package; installed when absent) and curl.
set -euo pipefail
cd "$(dirname "$0")/.."
mem_clients="${1:-200000}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
go build -o bin/stampede ./cmd/stampede
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT

freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
serve() { # serve PORT TOKEN_LIFETIME: an EdDSA stampede serve, waited for
  ./bin/stampede serve --addr "127.0.0.1:$1" --signing EdDSA --token-lifetime "$2" >"$work/serve-$1.log" 2>&1 &
  for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$1/.well-known/jwks.json" && return; sleep 0.1; done
}
# Short tokens for the refresh-rate comparison, 60 s tokens for memory.
port=$(freeport); url="http://127.0.0.1:$port"; serve "$port" 100ms
mport=$(freeport); murl="http://127.0.0.1:$mport"; serve "$mport" 60s

# wrk: one session's refresh endpoint, 2 threads, 64 connections, 10 s.
signin=$(curl -s -X POST "$url/v1/client/sign_ins" -d '{"identifier":"bench"}')
sid=$(printf '%s' "$signin" | python3 -c 'import json,sys; print(json.load(sys.stdin)["session"]["id"])')
ct=$(printf '%s' "$signin" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_token"])')
cat >"$work/refresh.lua" <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer $ct"
LUA
wrk -t2 -c64 -d10s -s "$work/refresh.lua" "$url/v1/client/sessions/$sid/tokens" >"$work/wrk.txt"
wrk_rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")

# stampede at saturation: 2,000 clients on 100 ms tokens, refreshing 17 s
# simulated (14 ms at ×1200) ahead of exp, ask for more refreshes than the
# endpoint can mint.
./bin/stampede run --target "$url" --clients 2000 --duration 10s --ramp 1s --time-scale 1200 \
  --set app.api_calls_per_minute=0 --out "$work/sat" --quiet >/dev/null 2>&1 || true
read -r st_rps lag99 <<<"$(python3 - "$work/sat/result.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
from datetime import datetime
def t(s): return datetime.fromisoformat(s.replace("Z", "+00:00"))
secs = (t(r["ended_at"]) - t(r["started_at"])).total_seconds()
ok = r["ops"]["refresh"]["ok"]
print(f'{ok/secs:.0f} {r["engine"]["lag_ms"]["p99"]}')
PY
)"

# Memory: many idle clients (60 s tokens, no API calls) against the same server.
./bin/stampede run --target "$murl" --clients "$mem_clients" --duration 40s --ramp 20s --time-scale 1 \
  --set app.api_calls_per_minute=0 --out "$work/mem" --quiet >/dev/null 2>&1 || true
read -r rss per_client mem_lag <<<"$(python3 - "$work/mem/result.json" "$mem_clients" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); n = int(sys.argv[2])
rss = r["engine"]["max_rss_bytes"]
print(f'{rss/2**20:.0f} {rss/n:.0f} {r["engine"]["lag_ms"]["p99"]}')
PY
)"

printf '\n%-44s %s\n' "figure ($(nproc) cores, $(date -u +%Y-%m-%d))" "value"
printf '%-44s %s\n' "wrk refresh rate (req/s, -t2 -c64)" "$wrk_rps"
printf '%-44s %s\n' "stampede refresh rate at saturation (ok/s)" "$st_rps"
printf '%-44s %s\n' "ratio stampede / wrk" "$(python3 -c "print(f'{$st_rps/$wrk_rps:.2f}')")"
printf '%-44s %s\n' "stampede lag p99 at saturation (ms)" "$lag99"
printf '%-44s %s\n' "RSS with $mem_clients idle clients (MiB)" "$rss"
printf '%-44s %s\n' "RSS per client (bytes)" "$per_client"
printf '%-44s %s\n' "lag p99 with $mem_clients clients (ms)" "$mem_lag"
