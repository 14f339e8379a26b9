#!/usr/bin/env bash
# bench.sh: stampede against wrk on the same `stampede serve` refresh endpoint
# (rate and CPU per request), scheduling lag at about 10,000 refreshes/s
# (unpinned, then stampede and the server each pinned to a core of its own),
# and memory per simulated client. Prints one table, each figure with its
# target, and the commands that measured them.
#   scripts/bench.sh [CLIENTS [HOLD]]
# CLIENTS (default 100000) idle clients for the memory figure, and 10,000
# more for its baseline, started at 5,000 a second and then held HOLD
# (default 20s) on 60 s tokens; the marginal memory per client is
# (RSS at CLIENTS - RSS at 10,000) / (CLIENTS - 10,000).
# `scripts/bench.sh 1000000 120s` is the million-client run.
# Knobs (environment): BENCH_SAT_DUR (10s) each closed-loop run,
# BENCH_LAG_DUR (20s) each lag run, BENCH_LAG_CLIENTS (17000) the lag runs'
# fleet, BENCH_BASE_CLIENTS (10000) the memory baseline.
# Needs wrk (Debian's package; installed when absent), curl, python3 and
# taskset (util-linux).
set -euo pipefail
cd "$(dirname "$0")/.."
mem_clients="${1:-100000}"
hold="${2:-20s}"
sat_dur="${BENCH_SAT_DUR:-10s}"
lag_dur="${BENCH_LAG_DUR:-20s}"
lag_clients="${BENCH_LAG_CLIENTS:-17000}"
base_clients="${BENCH_BASE_CLIENTS:-10000}"
command -v wrk >/dev/null && [ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq wrk time >/dev/null; }
go build -o bin/stampede ./cmd/stampede
work="$(mktemp -d)"
trap 'set +e; kill $(jobs -p) 2>/dev/null; if [ -n "${BENCH_KEEP:-}" ]; then cp -r "$work" "$BENCH_KEEP"; fi; rm -rf "$work"' EXIT
ncpu=$(nproc)
cores=$(taskset -pc $$ 2>/dev/null | sed 's/.*: //' || true)

freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
serve() { # serve PORT TOKEN_LIFETIME [PIN]: an EdDSA stampede serve, waited for
  ${3:+taskset -c "$3"} ./bin/stampede serve --addr "127.0.0.1:$1" --signing EdDSA --token-lifetime "$2" >"$work/serve-$1.log" 2>&1 &
  servepid=$!
  for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$1/.well-known/jwks.json" && return; sleep 0.1; done
  echo "bench: stampede serve on port $1 did not start" >&2; exit 1
}
# steady RESULT [TIMEFILE]: refresh ok/s and attempts/s after the ramp (2 s)
# and before the end (1 s), lag p50 and p99, and the client's CPU per
# request (µs) if a time file is given.
steady() {
  python3 - "$@" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
t = r["timeline"]; per_s = 1000 / t["bucket_ms"]
lo, hi = int(2 * per_s), len(t["refresh_ok"]) - int(1 * per_s)
secs = (hi - lo) / per_s
ok = sum(t["refresh_ok"][lo:hi]) / secs
att = sum(t["refresh_attempts"][lo:hi]) / secs
cpu = "-"
if len(sys.argv) > 2:
    u, s = map(float, open(sys.argv[2]).read().split()[-2:])
    n = sum(r["ops"][op]["count"] for op in ("sign_in", "refresh", "api"))
    cpu = f"{(u + s) / n * 1e6:.1f}"
lag = r["engine"]["lag_ms"]
print(f'{ok:.0f} {att:.0f} {lag["p50"]} {lag["p99"]} {cpu}')
PY
}

# Throughput and CPU per request: closed loop, as wrk is. 15 ms tokens
# refreshed 17 s simulated (14 ms at ×1200) ahead of exp: each client
# refreshes again as soon as its answer is in, so its refreshes are as many
# as the endpoint can mint. wrk and stampede alternate, twice each, against
# the same server; stampede with 256 then 512 clients (the rate peaks there
# on 2 cores: more connections cost the server more). The rate shown is the
# better run of each; CPU per request (user + system, /usr/bin/time) is each
# tool's total over its two runs.
port=$(freeport); url="http://127.0.0.1:$port"; serve "$port" 15ms
signin=$(curl -s -X POST "$url/v1/client/sign_ins" -d '{"identifier":"bench"}')
sid=$(printf '%s' "$signin" | python3 -c 'import json,sys; print(json.load(sys.stdin)["session"]["id"])')
ct=$(printf '%s' "$signin" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_token"])')
cat >"$work/refresh.lua" <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer $ct"
LUA
wrk_cmd="wrk -t2 -c64 -d$sat_dur -s refresh.lua $url/v1/client/sessions/SID/tokens"
sat_cmd="stampede run --target $url --clients N --duration $sat_dur --ramp 1s --time-scale 1200 --set app.api_calls_per_minute=0"
wrk_best=0; st_best=0; st_line=""; st_clients=0
wrk_cpu=0; wrk_n=0; st_cpu_s=0; st_n=0
for clients in 256 512; do
  /usr/bin/time -f "%U %S" -o "$work/wrk-$clients.time" \
    wrk -t2 -c64 -d"$sat_dur" -s "$work/refresh.lua" "$url/v1/client/sessions/$sid/tokens" >"$work/wrk.txt"
  rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")
  n=$(awk '/requests in/ {print $1}' "$work/wrk.txt")
  grep -q "Non-2xx" "$work/wrk.txt" && { echo "bench: wrk got non-2xx answers:" >&2; cat "$work/wrk.txt" >&2; exit 1; }
  wrk_best=$(python3 -c "print(max($wrk_best, $rps))")
  read -r u s <"$work/wrk-$clients.time"
  wrk_cpu=$(python3 -c "print($wrk_cpu + $u + $s)"); wrk_n=$((wrk_n + n))
  /usr/bin/time -f "%U %S" -o "$work/sat-$clients.time" \
    ./bin/stampede run --target "$url" --clients "$clients" --duration "$sat_dur" --ramp 1s --time-scale 1200 \
      --set app.api_calls_per_minute=0 --out "$work/sat-$clients" --quiet >/dev/null 2>&1 || true
  line=$(steady "$work/sat-$clients/result.json" "$work/sat-$clients.time")
  ok=${line%% *}
  read -r u s <"$work/sat-$clients.time"
  st_cpu_s=$(python3 -c "print($st_cpu_s + $u + $s)")
  st_n=$((st_n + $(python3 -c "import json; r=json.load(open('$work/sat-$clients/result.json')); print(sum(r['ops'][o]['count'] for o in ('sign_in','refresh','api')))")))
  if python3 -c "import sys; sys.exit(0 if $ok > $st_best else 1)"; then st_best=$ok; st_line=$line; st_clients=$clients; fi
done
read -r st_rps _ _ sat_lag99 _ <<<"$st_line"
kill "$servepid" 2>/dev/null || true
read -r st_cpu wrk_cpu_req cpu_ratio <<<"$(python3 -c "a=$st_cpu_s/$st_n*1e6; b=$wrk_cpu/$wrk_n*1e6; print(f'{a:.1f} {b:.1f} {a/b:.2f}')")"

# Lag at about 10,000 refreshes/s: LAG_CLIENTS clients on 2 s tokens at ×60
# (refresh-ahead 17 s simulated = 0.28 s), no API calls. First as they
# come (stampede and the server share the cores), then, on a machine of 2
# cores or more, stampede pinned to the first core and the server to the
# second (taskset), so that what is left is the engine's own lateness.
lagrun() { # lagrun NAME STAMPEDE_PIN SERVER_PIN
  local p; p=$(freeport); serve "$p" 2s "$3"
  /usr/bin/time -f "%U %S" -o "$work/$1.time" ${2:+taskset -c "$2"} \
    ./bin/stampede run --target "http://127.0.0.1:$p" --clients "$lag_clients" --duration "$lag_dur" --ramp 2s --time-scale 60 \
      --set app.api_calls_per_minute=0 --out "$work/$1" --quiet >/dev/null 2>&1 || true
  kill "$servepid" 2>/dev/null || true
  steady "$work/$1/result.json" "$work/$1.time"
}
lag_cmd="stampede run --target http://127.0.0.1:PORT --clients $lag_clients --duration $lag_dur --ramp 2s --time-scale 60 --set app.api_calls_per_minute=0"
load_before=$(cut -d' ' -f1 /proc/loadavg)
read -r _ lag_rate lag50 lag99 lag_cpu <<<"$(lagrun lag "" "")"
pin_line="- - - - -"; pin_a=""; pin_b=""
if [ "$ncpu" -ge 2 ] && [ -n "$cores" ]; then
  pin_a=$(echo "$cores" | python3 -c 'import sys
c=[]
for part in sys.stdin.read().strip().split(","):
    a,_,b=part.partition("-"); c+=range(int(a),int(b or a)+1)
print(c[0], c[1] if len(c)>1 else "")')
  read -r pin_a pin_b <<<"$pin_a"
  [ -n "$pin_b" ] && pin_line=$(lagrun lagpin "$pin_a" "$pin_b")
fi
read -r _ pin_rate pin50 pin99 pin_cpu <<<"$pin_line"
load_after=$(cut -d' ' -f1 /proc/loadavg)

# Memory: idle clients (60 s tokens refreshed 2 s before they expire:
# 100,000 clients ask for 1,700 refreshes a second; no API calls) against
# another server, started at 5,000 a second, then held. RSS is sampled
# every second: the last sample (all clients idle) is the figure. Once
# with BASE clients, once with CLIENTS; the difference over the extra
# clients is the marginal memory per client, free of the process's fixed
# costs.
memrun() { # memrun NAME CLIENTS: prints idle RSS (bytes), peak RSS (bytes), refreshes ok/s held, errors, sign-ins ok, refreshes ok, lag p99
  local n=$2 p; p=$(freeport); serve "$p" 60s
  local ramp=$(( (n + 4999) / 5000 ))s
  local dur; dur=$(python3 -c "h='$hold'; print(int('$ramp'[:-1]) + (int(h[:-1]) * (60 if h.endswith('m') else 1)))")s
  ./bin/stampede run --target "http://127.0.0.1:$p" --clients "$n" --duration "$dur" --ramp "$ramp" --time-scale 1 \
    --set app.api_calls_per_minute=0 --set sdk.refresh_ahead=2s --out "$work/$1" --quiet >/dev/null 2>&1 &
  local mpid=$! last_rss=0 rss
  while kill -0 "$mpid" 2>/dev/null; do
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$mpid/status" 2>/dev/null || true)
    [ -n "$rss" ] && last_rss=$rss
    sleep 1
  done
  wait "$mpid" || true
  kill "$servepid" 2>/dev/null || true
  python3 - "$work/$1/result.json" "$last_rss" "${ramp%s}" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); last = int(sys.argv[2]) * 1024; ramp = int(sys.argv[3])
t = r["timeline"]; per_s = 1000 / t["bucket_ms"]
lo, hi = int((ramp + 5) * per_s), len(t["refresh_ok"]) - int(per_s)
held = sum(t["refresh_ok"][lo:hi]) / max(1, (hi - lo) / per_s)
errors = sum(sum(o["errors"].values()) for o in r["ops"].values())
print(last, r["engine"]["max_rss_bytes"], f"{held:.0f}", errors, r["ops"]["sign_in"]["ok"], r["ops"]["refresh"]["ok"], r["engine"]["lag_ms"]["p99"])
PY
}
mem_cmd="stampede run --target http://127.0.0.1:PORT --clients N --duration RAMP+$hold --ramp N/5000s --time-scale 1 --set app.api_calls_per_minute=0 --set sdk.refresh_ahead=2s"
read -r base_rss _ _ base_errors _ _ _ <<<"$(memrun membase "$base_clients")"
read -r big_rss big_peak held_rate errors signin_ok refresh_ok mem_lag <<<"$(memrun mem "$mem_clients")"
read -r marginal idle_per peak_per <<<"$(python3 -c "
print(f'{($big_rss - $base_rss) / ($mem_clients - $base_clients):.0f} {$big_rss / $mem_clients:.0f} {$big_peak / $mem_clients:.0f}')")"

row() { printf '%-58s %-26s %s\n' "$1" "$2" "$3"; }
met() { python3 -c "import sys; print('met' if $1 else 'not met')"; }
echo
row "figure ($ncpu cores, $(date -u +%Y-%m-%d), load $load_before/$load_after)" "value" "target"
echo "  \$ $wrk_cmd   (twice, under /usr/bin/time)"
echo "  \$ $sat_cmd   (N = 256, 512, under /usr/bin/time)"
row "wrk refresh rate (req/s, best of 2)" "$wrk_best" ""
row "stampede refresh rate at saturation (ok/s, best of 2)" "$st_rps ($st_clients clients)" ""
row "ratio stampede / wrk" "$(python3 -c "print(f'{$st_rps/$wrk_best:.2f}')")" ">= 0.6"
row "CPU per request (µs): stampede, wrk" "$st_cpu, $wrk_cpu_req" ""
row "CPU per request, stampede / wrk" "$cpu_ratio" "<= 1.5 ($(met "$cpu_ratio <= 1.5"))"
row "stampede lag p99 at saturation (ms)" "$sat_lag99" ""
echo "  \$ $lag_cmd   (serve --token-lifetime 2s)"
row "lag p50 / p99 at $lag_rate refreshes/s, unpinned (ms)" "$lag50 / $lag99" ""
row "  stampede CPU per request (µs)" "$lag_cpu" ""
echo "  \$ taskset -c $pin_a $lag_cmd   (serve under taskset -c $pin_b)"
row "lag p50 / p99 at $pin_rate refreshes/s, pinned (ms)" "$pin50 / $pin99" "0.1 / 0.5 ($(met "'$pin50' != '-' and $pin50 <= 0.1 and $pin99 <= 0.5" 2>/dev/null || echo 'not measured'))"
row "  stampede CPU per request (µs)" "$pin_cpu" ""
echo "  \$ $mem_cmd   (N = $base_clients, $mem_clients; RSS sampled each second, the last sample)"
row "$mem_clients clients: sign-ins ok, refreshes ok" "$signin_ok, $refresh_ok" ""
row "  refreshes ok/s while held, errors in all" "$held_rate, $errors (baseline run: $base_errors)" "0 errors"
row "RSS idle: $base_clients clients, $mem_clients clients (MiB)" "$((base_rss / 1048576)), $((big_rss / 1048576))" ""
row "marginal memory per client (bytes)" "$marginal" "<= 3072 ($(met "$marginal <= 3072"))"
row "RSS per client at $mem_clients, idle at the end / peak (bytes)" "$idle_per / $peak_per" ""
row "lag p99 with $mem_clients clients (ms)" "$mem_lag" ""
