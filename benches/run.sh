#!/usr/bin/env bash
# benches/run.sh - A/B benchmark of haproxy-rs against HAProxy 2.6.
#
#   bash benches/run.sh                      # full run (~5-7 min)
#   QUICK=1 bash benches/run.sh              # smoke run (< 2 min)
#   PROXY_RS=/usr/sbin/haproxy QUICK=1 bash benches/run.sh   # A/A check of the harness
#
# Both proxies get the same generated config and are started as
# "BIN -f CFG -db", one at a time, alternating the order each round; all
# traffic is on 127.0.0.1.  See benches/README.md for scenarios and knobs.
# Exit status: 0 ok, 2 a proxy failed to start or died, 3 setup error,
# 4 a load generator produced no result.
set -u -o pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
LIB=$BENCH_DIR/lib
T0=$(date +%s)

# ------------------------------------------------------------------ settings
QUICK=${QUICK:-0}
if [[ $QUICK == 1 ]]; then
    ROUNDS=${ROUNDS:-2}; DUR=${DUR:-1}; CONN_DUR=${CONN_DUR:-1}; WARMUP=${WARMUP:-0}
else
    ROUNDS=${ROUNDS:-3}; DUR=${DUR:-5}; CONN_DUR=${CONN_DUR:-3}; WARMUP=${WARMUP:-1}
fi
ALL_SCENARIOS=direct,tcp_bulk,tcp_bulk_p10,tcp_splice,tcp_splice_p10,tcp_splice_shared,tcp_splice_p10_shared,tcp_connrate,mem_idle
SCENARIOS=${SCENARIOS:-$ALL_SCENARIOS}
IFS=, read -r -a SCEN_LIST <<< "$SCENARIOS"
for scen in "${SCEN_LIST[@]}"; do
    [[ ,$ALL_SCENARIOS, == *,$scen,* ]] || { echo "unknown scenario '$scen' (known: $ALL_SCENARIOS)" >&2; exit 3; }
done
PROXY_HAPROXY=${PROXY_HAPROXY:-/usr/sbin/haproxy}
PROXY_RS=${PROXY_RS:-}
MEM_CONNS=${MEM_CONNS:-10000}
MAXCONN=${MAXCONN:-30000}
WRK_CONNS=${WRK_CONNS:-50}
PROXY_CPU=${PROXY_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
PORT_BASE=${PORT_BASE:-22000}
STEAL_MAX=${STEAL_MAX:-10}   # % of all CPUs stolen by the hypervisor during a run
BG_MAX=${BG_MAX:-25}         # % of one core used by processes outside the benchmark
REDO_MAX=${REDO_MAX:-2}      # disturbed runs re-done per scenario at most

P_PROXY=$PORT_BASE           # proxy frontend
P_IPERF=$((PORT_BASE + 1))   # iperf3 -s backend
P_NGINX=$((PORT_BASE + 2))   # nginx backend (100-byte file)
P_HOLD=$((PORT_BASE + 3))    # idle-connection holding backend (python)

log() { printf '[%4ds] %s\n' $(($(date +%s) - T0)) "$*" >&2; }
die() { local rc=$1; shift; log "ERROR: $*"; exit "$rc"; }

# ---------------------------------------------------------------- tools
need_install=0
for c in nginx wrk iperf3 python3 taskset; do command -v "$c" >/dev/null || need_install=1; done
[[ -x $PROXY_HAPROXY || $PROXY_HAPROXY != /usr/sbin/haproxy ]] || need_install=1
if ((need_install)); then
    log "installing missing tools: haproxy nginx-light wrk iperf3 python3"
    [[ $(id -u) == 0 ]] || die 3 "missing tools and not root: apt-get install haproxy nginx-light wrk iperf3 python3"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update && apt-get install -y haproxy nginx-light wrk iperf3 python3; } >&2 ||
        die 3 "apt-get install failed"
fi
for c in nginx wrk iperf3 python3 taskset; do command -v "$c" >/dev/null || die 3 "missing command: $c"; done

if [[ -z $PROXY_RS ]]; then
    PROXY_RS=$REPO/target/release/haproxy-rs
    if [[ ${SKIP_BUILD:-0} != 1 ]]; then
        command -v cargo >/dev/null || PATH=$PATH:$HOME/.cargo/bin
        command -v cargo >/dev/null || die 3 "cargo not found (set PROXY_RS to a prebuilt binary, or install Rust)"
        log "cargo build --release"
        (cd "$REPO" && cargo build --release) >&2 || die 3 "cargo build --release failed"
    fi
fi
[[ -x $PROXY_HAPROXY ]] || die 3 "HAProxy binary not found: $PROXY_HAPROXY"
[[ -x $PROXY_RS ]] || die 3 "haproxy-rs binary not found: $PROXY_RS (build it, or set PROXY_RS)"
declare -A BIN=([haproxy]=$PROXY_HAPROXY [rs]=$PROXY_RS)
declare -A NAME=([haproxy]=HAProxy [rs]=haproxy-rs)

if (($(nproc) >= 2)) && [[ ${PIN:-1} == 1 ]]; then
    PINNED=1; ON_PROXY_CPU=(taskset -c "$PROXY_CPU"); ON_LOAD_CPU=(taskset -c "$LOAD_CPU")
else
    PINNED=0; ON_PROXY_CPU=(); ON_LOAD_CPU=(); log "note: not pinning (PIN=0 or fewer than 2 CPUs)"
fi
PINNED_PROXY=("${ON_PROXY_CPU[@]}") PINNED_LOAD=("${ON_LOAD_CPU[@]}")
# The *_shared scenarios let the proxy, the load generator and the backend float
# over all CPUs, as on a machine where the proxy shares its cores with other
# work: there the CPU a proxy does not use goes to the load, so efficiency
# shows as throughput too.  The pinned layout isolates the proxy on its core.
layout() {                      # pinned | shared: sets ON_*_CPU and the iperf3 server's affinity
    if [[ $1 == shared || $PINNED == 0 ]]; then ON_PROXY_CPU=(); ON_LOAD_CPU=()
    else ON_PROXY_CPU=("${PINNED_PROXY[@]}"); ON_LOAD_CPU=("${PINNED_LOAD[@]}"); fi
    [[ -n ${IPERF_PID:-} && $PINNED == 1 ]] || return 0
    local cpus=$LOAD_CPU; [[ $1 == shared ]] && cpus=0-$(($(nproc) - 1))
    taskset -apc "$cpus" "$IPERF_PID" > /dev/null || die 3 "cannot set the CPU affinity of iperf3 -s"
}

# File descriptors: 10k idle proxied connections need 2 fds each in the proxy.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE=$(ulimit -n)
[[ $NOFILE == unlimited ]] && NOFILE=1048576
if ((MEM_CONNS > (NOFILE - 200) / 2)); then
    log "note: fd limit is $NOFILE (hard limit $(ulimit -Hn)), mem_idle uses $(((NOFILE - 200) / 2)) connections instead of $MEM_CONNS"
    MEM_CONNS=$(((NOFILE - 200) / 2))
fi
# HAProxy 2.6 refuses to start when it cannot raise the fd limit to what
# maxconn needs (strict-limits is on by default): 2 fds per connection, plus
# 2 per pipe with splicing (maxpipes = maxconn/4).  Lower maxconn to fit.
MAXCONN_PLAIN=$MAXCONN MAXCONN_SPLICE=$MAXCONN
((2 * MAXCONN + 100 > NOFILE)) && MAXCONN_PLAIN=$(((NOFILE - 100) / 2))
((5 * MAXCONN / 2 + 100 > NOFILE)) && MAXCONN_SPLICE=$(((NOFILE - 100) * 2 / 5))
if ((MAXCONN_SPLICE < MAXCONN)); then
    log "note: fd hard limit $NOFILE is too low for 'maxconn $MAXCONN' (HAProxy needs 2 fds per connection, 2.5 with splicing): using maxconn $MAXCONN_PLAIN, $MAXCONN_SPLICE in splice scenarios"
fi

WORK=${WORK:-$(mktemp -d /tmp/haproxy-rs-bench.XXXXXX)}
mkdir -p "$WORK"/{cfg,logs,www,nginx} || die 3 "cannot create $WORK"
RESULTS=$WORK/results.tsv
printf 'scenario\tmetric\tproxy\tround\tvalue\n' > "$RESULTS"
head -c 100 /dev/zero | tr '\0' x > "$WORK/www/100b"

# ------------------------------------------------------ process management
declare -a PIDS=()              # every background process this script started
stop_pid() {                    # TERM, up to 3 s grace, then KILL; reap
    local pid=$1 i
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null
        for ((i = 0; i < 30; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    fi
    reap "$pid"
    return 0
}
reap() {                        # PID: wait for it, forget it; returns its exit status
    local pid=$1 rc keep=() p
    wait "$pid" 2>/dev/null; rc=$?
    for p in "${PIDS[@]}"; do [[ $p != "$pid" ]] && keep+=("$p"); done
    PIDS=("${keep[@]}")
    return "$rc"
}
cleanup() {
    local i
    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${PIDS[$i]}"; done
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

port_listening() {              # any listener on this TCP port (v4 or v6)?
    local hex; hex=$(printf ':%04X' "$1")
    awk -v h="$hex" '$4 == "0A" && substr($2, length($2) - 4) == h { f = 1 } END { exit !f }' \
        /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
wait_listen() {                 # PORT PID SECONDS -> 0 ok, 1 process exited, 2 timeout
    local i
    for ((i = 0; i < $3 * 20; i++)); do
        kill -0 "$2" 2>/dev/null || return 1
        port_listening "$1" && return 0
        sleep 0.05
    done
    return 2
}
wait_port_free() { local i; for ((i = 0; i < 100; i++)); do port_listening "$1" || return 0; sleep 0.1; done; return 1; }
nfds() { ls -U /proc/"$1"/fd 2>/dev/null | wc -l; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' /proc/"$1"/status 2>/dev/null; }

# ------------------------------------------------------------- measurement
cpu_ns() {                      # on-CPU ns of all threads of the given pids
    local s=0 p f v
    for p in "$@"; do
        for f in /proc/"$p"/task/*/schedstat; do
            read -r v _ 2>/dev/null < "$f" && s=$((s + v))
        done
    done
    echo "$s"
}
CLK_TCK=$(getconf CLK_TCK)
machine_ns() {                  # CPU ns used by everything we can see
    if [[ -r /sys/fs/cgroup/cpuacct/cpuacct.usage ]]; then cat /sys/fs/cgroup/cpuacct/cpuacct.usage
    elif [[ -r /sys/fs/cgroup/cpu.stat ]]; then awk '/^usage_usec/ { printf "%d\n", $2 * 1000 }' /sys/fs/cgroup/cpu.stat
    else awk -v t="$CLK_TCK" '/^cpu / { printf "%d\n", ($2 + $3 + $4 + $7 + $8) * 1e9 / t }' /proc/stat; fi
}
steal_ns() { awk -v t="$CLK_TCK" '/^cpu / { printf "%d\n", $9 * 1e9 / t }' /proc/stat; }
proxy_pids() { [[ -n $PROXY_PID ]] && echo "$PROXY_PID" $(cat /proc/"$PROXY_PID"/task/*/children 2>/dev/null); }
backend_pids() { echo "${BACKEND_PIDS[@]}" "$IPERF_PID"; }

meas_begin() {
    M_P0=$(cpu_ns $(proxy_pids)); M_B0=$(cpu_ns $(backend_pids))
    M_M0=$(machine_ns); M_S0=$(steal_ns); M_T0=$(date +%s%N)
}
meas_end() {                    # $1 = CPU seconds of the load generator -> M_CPU M_WALL M_BG M_STEAL
    local t1 m1 s1 b1
    t1=$(date +%s%N); m1=$(machine_ns); s1=$(steal_ns); b1=$(cpu_ns $(backend_pids))
    M_CPU=$(($(cpu_ns $(proxy_pids)) - M_P0)); M_WALL=$((t1 - M_T0))
    M_PARTS="machine=$(((m1 - M_M0) / 1000000))ms proxy=$((M_CPU / 1000000))ms backends=$(((b1 - M_B0) / 1000000))ms loadgen=${1}s wall=$((M_WALL / 1000000))ms"
    M_BG=$(awk -v m=$((m1 - M_M0)) -v p="$M_CPU" -v b=$((b1 - M_B0)) -v l="$1" -v w="$M_WALL" \
        'BEGIN { x = m - p - b - l * 1e9; if (x < 0) x = 0; printf "%.1f", 100 * x / w }')
    M_STEAL=$(awk -v s=$((s1 - M_S0)) -v w="$M_WALL" -v n="$(nproc)" 'BEGIN { printf "%.1f", 100 * s / (w * n) }')
}
TIMEFORMAT='%3U %3S'
loadgen_cpu() { awk '{ s += $1 + $2 } END { printf "%.3f", s + 0 }' "$1" 2>/dev/null || echo 0; }

PENDING=()                      # records of the current run, kept only if it was not disturbed
rec() { PENDING+=("$(printf '%s\t%s\t%s\t%s\t%s' "$@")"); }
flush() { ((${#PENDING[@]})) && printf '%s\n' "${PENDING[@]}" >> "$RESULTS"; PENDING=(); }

# ---------------------------------------------------------------- backends
declare -a BACKEND_PIDS=()
IPERF_PID=""
start_iperf_server() {
    "${ON_LOAD_CPU[@]}" iperf3 -s -B 127.0.0.1 -p "$P_IPERF" > "$WORK/logs/iperf3-server.log" 2>&1 < /dev/null &
    IPERF_PID=$!; PIDS+=("$IPERF_PID")
    wait_listen "$P_IPERF" "$IPERF_PID" 10 || { cat "$WORK/logs/iperf3-server.log" >&2; die 3 "iperf3 server failed to start"; }
}
restart_iperf_server() { stop_pid "$IPERF_PID"; wait_port_free "$P_IPERF"; start_iperf_server; }
start_backends() {
    local p
    for p in "$P_PROXY" "$P_IPERF" "$P_NGINX" "$P_HOLD"; do
        wait_port_free "$p" || die 3 "port $p is already in use on this machine (set PORT_BASE)"
    done
    cat > "$WORK/nginx/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/logs/nginx.err warn;
events { worker_connections 4096; }
http {
    access_log off;
    default_type application/octet-stream;
    keepalive_timeout 300s;
    client_body_temp_path $WORK/nginx/body;
    proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi;
    uwsgi_temp_path $WORK/nginx/uwsgi;
    scgi_temp_path $WORK/nginx/scgi;
    server { listen 127.0.0.1:$P_NGINX backlog=4096; root $WORK/www; }
}
EOF
    "${ON_LOAD_CPU[@]}" nginx -p "$WORK/nginx/" -e "$WORK/logs/nginx.err" -c "$WORK/nginx/nginx.conf" \
        > "$WORK/logs/nginx.out" 2>&1 < /dev/null &
    local ng=$!; PIDS+=("$ng")
    wait_listen "$P_NGINX" "$ng" 10 || { cat "$WORK/logs/nginx."* >&2; die 3 "nginx backend failed to start"; }
    "${ON_LOAD_CPU[@]}" python3 "$LIB/hold_server.py" "$P_HOLD" 3600 > "$WORK/logs/hold-server.log" 2>&1 < /dev/null &
    HOLD_PID=$!; PIDS+=("$HOLD_PID")
    wait_listen "$P_HOLD" "$HOLD_PID" 10 || { cat "$WORK/logs/hold-server.log" >&2; die 3 "idle-connection backend failed to start"; }
    start_iperf_server
    BACKEND_PIDS=("$ng" "$HOLD_PID")
}

# -------------------------------------------------------------- the proxies
gen_cfg() {                     # SCENARIO -> path of its config
    local scen=$1 backend_port=$P_IPERF splice="" maxconn=$MAXCONN_PLAIN
    case $scen in
        tcp_connrate) backend_port=$P_NGINX ;;
        mem_idle) backend_port=$P_HOLD ;;
        tcp_splice*) splice=$'\n    option splice-auto'; maxconn=$MAXCONN_SPLICE ;;
    esac
    cat > "$WORK/cfg/$scen.cfg" <<EOF
global
    maxconn $maxconn
    nbthread 1

defaults
    mode tcp
    timeout connect 5s
    timeout client 30s
    timeout server 30s$splice

frontend fe
    bind 127.0.0.1:$P_PROXY
    default_backend be

backend be
    server s1 127.0.0.1:$backend_port
EOF
    echo "$WORK/cfg/$scen.cfg"
}

PROXY_PID=""
start_proxy() {                 # WHO CFG LOGFILE
    local who=$1 rc
    wait_port_free "$P_PROXY" || die 3 "proxy port $P_PROXY still busy"
    "${ON_PROXY_CPU[@]}" "${BIN[$who]}" -f "$2" -db > "$3" 2>&1 < /dev/null &
    PROXY_PID=$!; PIDS+=("$PROXY_PID")
    wait_listen "$P_PROXY" "$PROXY_PID" 10; rc=$?
    ((rc == 0)) && return 0
    local why="not listening on 127.0.0.1:$P_PROXY after 10 s"
    if ((rc == 1)); then reap "$PROXY_PID"; why="it exited with status $?"; fi
    log "${NAME[$who]} (${BIN[$who]}) FAILED TO START: $why"
    show_log "$2" "$3"
    abort 2
}
check_proxy() {                 # WHO LOGFILE: the proxy must have survived the load
    kill -0 "$PROXY_PID" 2>/dev/null && return 0
    reap "$PROXY_PID"
    log "${NAME[$1]} (${BIN[$1]}) DIED during the run (exit status $?)"
    show_log "$WORK/cfg/$scen.cfg" "$2"
    abort 2
}
show_log() {                    # CFG LOGFILE
    log "command: ${ON_PROXY_CPU[*]} ${BIN[$who]} -f $1 -db ; its stdout+stderr ($2):"
    if [[ -s $2 ]]; then tail -n 30 "$2" | sed 's/^/    | /' >&2; else echo "    | (no output)" >&2; fi
}
abort() { flush; cleanup; summarize; exit "$1"; }

# ----------------------------------------------------------- load generators
LOAD_ERRORS=0
run_iperf() {                   # PORT STREAMS OUT_JSON -> IPERF_BPS IPERF_BYTES (empty on failure)
    local try
    for try in 1 2; do
        meas_begin
        { time timeout $((DUR + 20)) "${ON_LOAD_CPU[@]}" iperf3 -c 127.0.0.1 -p "$1" -t "$DUR" -P "$2" -J \
            --connect-timeout 3000 > "$3" 2> "$3.err" < /dev/null; } 2> "$3.time"
        meas_end "$(loadgen_cpu "$3.time")"
        read -r IPERF_BPS IPERF_BYTES < <(python3 -c '
import json, sys
try:
    e = json.load(open(sys.argv[1]))["end"]["sum_received"]
    print(e["bits_per_second"], e["bytes"])
except Exception:
    print("")' "$3")
        [[ -n ${IPERF_BPS:-} && ${IPERF_BYTES:-0} != 0 ]] && return 0
        log "iperf3 produced no result (try $try): $(grep -o '"error":[^}]*' "$3" | head -n 1; tail -n 2 "$3.err")"
        restart_iperf_server
    done
    IPERF_BPS=""; IPERF_BYTES=""
    return 1
}

run_direct() {                  # ROUND STREAMS [shared]: iperf3 straight to the backend
    local r=$1 p=$2 sfx=${3:+_$3}
    layout "${3:-pinned}"
    run_iperf "$P_IPERF" "$p" "$WORK/logs/direct-p$p$sfx-r$r.json" || { LOAD_ERRORS=1; return; }
    rec direct "Gbit_s_$p$sfx" direct "$r" "$(awk -v b="$IPERF_BPS" 'BEGIN { printf "%.3f", b / 1e9 }')"
}

run_proxied() {                 # SCENARIO WHO ROUND
    local scen=$1 who=$2 r=$3 cfg plog
    if [[ $scen == *_shared ]]; then layout shared; else layout pinned; fi
    cfg=$(gen_cfg "$scen")
    plog=$WORK/logs/$scen-$who-r$r.proxy.log
    start_proxy "$who" "$cfg" "$plog"
    case $scen in
        tcp_bulk*|tcp_splice*)
            local streams=1; [[ $scen == *_p10* ]] && streams=10
            if run_iperf "$P_PROXY" "$streams" "$WORK/logs/$scen-$who-r$r.json"; then
                rec "$scen" Gbit_s "$who" "$r" "$(awk -v b="$IPERF_BPS" 'BEGIN { printf "%.3f", b / 1e9 }')"
                rec "$scen" cpu_ms_per_GB "$who" "$r" "$(awk -v c="$M_CPU" -v b="$IPERF_BYTES" 'BEGIN { printf "%.2f", (c / 1e6) / (b / 1e9) }')"
                rec "$scen" proxy_cpu_pct "$who" "$r" "$(awk -v c="$M_CPU" -v w="$M_WALL" 'BEGIN { printf "%.1f", 100 * c / w }')"
            else
                LOAD_ERRORS=1
            fi ;;
        tcp_connrate) run_wrk "$scen" "$who" "$r" ;;
        mem_idle) run_mem "$scen" "$who" "$r" ;;
    esac
    check_proxy "$who" "$plog"
    stop_pid "$PROXY_PID"; PROXY_PID=""
}

run_wrk() {                     # SCENARIO WHO ROUND: new TCP connection per request
    local scen=$1 who=$2 r=$3 out=$WORK/logs/$1-$2-r$3.wrk res
    local wrk=(timeout $((CONN_DUR + 15)) "${ON_LOAD_CPU[@]}" wrk -t1 -c"$WRK_CONNS" -H "Connection: close"
               -s "$LIB/wrk_report.lua" "http://127.0.0.1:$P_PROXY/100b")
    ((WARMUP > 0)) && "${wrk[@]}" -d"${WARMUP}s" > /dev/null 2>&1 < /dev/null
    meas_begin
    { time "${wrk[@]}" -d"${CONN_DUR}s" > "$out" 2>&1 < /dev/null; } 2> "$out.time"
    meas_end "$(loadgen_cpu "$out.time")"
    res=$(grep '^WRK_RESULT' "$out" | tail -n 1)
    local _ req dur_us serr herr
    read -r _ req dur_us serr herr <<< "$res"
    if [[ -z $res || ${req:-0} == 0 ]]; then
        log "wrk produced no result ($scen ${NAME[$who]} round $r): $(tail -n 3 "$out" | tr '\n' ' ')"
        LOAD_ERRORS=1; return
    fi
    ((serr + herr > req / 100)) && log "WARNING: $scen ${NAME[$who]}: $((serr + herr)) errors for $req requests"
    rec "$scen" conn_s "$who" "$r" "$(awk -v n="$req" -v d="$dur_us" 'BEGIN { printf "%.1f", n / (d / 1e6) }')"
    rec "$scen" cpu_us_per_conn "$who" "$r" "$(awk -v c="$M_CPU" -v n="$req" 'BEGIN { printf "%.2f", c / 1e3 / n }')"
    rec "$scen" proxy_cpu_pct "$who" "$r" "$(awk -v c="$M_CPU" -v w="$M_WALL" 'BEGIN { printf "%.1f", 100 * c / w }')"
    rec "$scen" errors "$who" "$r" $((serr + herr))
}

run_mem() {                     # SCENARIO WHO ROUND: RSS idle and with MEM_CONNS idle proxied conns
    local scen=$1 who=$2 r=$3 out=$WORK/logs/$1-$2-r$3.client i rss0 rss1 hold0 held last=-1 stable=0 cpid
    M_BG=0; M_STEAL=0           # not a timed load: no disturbance check
    hold0=$(nfds "$HOLD_PID")
    sleep 0.5
    rss0=$(rss_kib "$PROXY_PID")
    "${ON_LOAD_CPU[@]}" python3 "$LIB/idle_client.py" 127.0.0.1 "$P_PROXY" "$MEM_CONNS" 120 > "$out" 2>&1 < /dev/null &
    cpid=$!; PIDS+=("$cpid")
    for ((i = 0; i < 1300; i++)); do   # the client gives up after 60 s
        grep -q '^READY' "$out" 2>/dev/null && break
        kill -0 "$cpid" 2>/dev/null || break
        sleep 0.05
    done
    # wait until the backend holds every connection, or its count is stable for 1 s (max 20 s)
    for ((i = 0; i < 200; i++)); do
        held=$(($(nfds "$HOLD_PID") - hold0))
        ((held >= MEM_CONNS)) && break
        if ((held == last)); then ((++stable >= 10)) && break; else stable=0; fi
        last=$held; sleep 0.1
    done
    sleep 0.5
    rss1=$(rss_kib "$PROXY_PID"); held=$(($(nfds "$HOLD_PID") - hold0))
    check_proxy "$who" "$WORK/logs/$scen-$who-r$r.proxy.log"
    stop_pid "$cpid"
    if ((held <= 0)) || [[ -z $rss0 || -z $rss1 ]]; then
        log "mem_idle: no idle connection reached the backend through ${NAME[$who]}: $(head -c 300 "$out")"
        LOAD_ERRORS=1
    else
        ((held < MEM_CONNS)) && log "WARNING: ${NAME[$who]}: only $held of $MEM_CONNS idle connections were proxied ($(head -c 200 "$out"))"
        rec "$scen" rss_idle_KiB "$who" "$r" "$rss0"
        rec "$scen" rss_conns_KiB "$who" "$r" "$rss1"
        rec "$scen" bytes_per_conn "$who" "$r" "$(awk -v a="$rss0" -v b="$rss1" -v n="$held" 'BEGIN { printf "%.0f", (b - a) * 1024 / n }')"
        rec "$scen" conns "$who" "$r" "$held"
    fi
    # let the proxy and backend drop the connections before the next run
    for ((i = 0; i < 100; i++)); do (($(nfds "$HOLD_PID") <= hold0)) && break; sleep 0.1; done
}

# -------------------------------------------------------------------- main
summarize() {
    python3 "$LIB/summary.py" "$RESULTS" "$WORK/summary.tsv"
    if [[ -s $WORK/disturbed.tsv ]]; then
        echo "disturbed runs (steal > $STEAL_MAX% or foreign CPU > $BG_MAX% of a core): $(wc -l < "$WORK/disturbed.tsv"), of which $KEPT_DISTURBED kept after $REDO_MAX redos per scenario (see $WORK/disturbed.tsv)"
        ((KEPT_DISTURBED)) && echo "WARNING: other processes competed for the CPUs during kept runs: treat the figures above as noisy"
    fi
    echo "results: $RESULTS  summary: $WORK/summary.tsv  (logs: $WORK/logs, configs: $WORK/cfg)"
}
KEPT_DISTURBED=0
disturbed() {                   # SCENARIO WHO ROUND REDOS_SO_FAR: 0 = redo this run
    awk -v s="$M_STEAL" -v b="$M_BG" -v S="$STEAL_MAX" -v B="$BG_MAX" 'BEGIN { exit !(s > S || b > B) }' || return 1
    printf '%s\t%s\t%s\tsteal=%s\tforeign=%s\t%s\n' "$1" "$2" "$3" "$M_STEAL" "$M_BG" "$M_PARTS" >> "$WORK/disturbed.tsv"
    if (($4 < REDO_MAX)); then
        log "  run disturbed (steal $M_STEAL%, foreign CPU $M_BG% of a core): re-doing it"; sleep 1; return 0
    fi
    log "  run disturbed (steal $M_STEAL%, foreign CPU $M_BG% of a core), redo budget spent: keeping it"
    KEPT_DISTURBED=$((KEPT_DISTURBED + 1)); return 1
}

log "workdir $WORK"
log "HAProxy:    $PROXY_HAPROXY ($("$PROXY_HAPROXY" -v 2>/dev/null | head -n 1))"
log "haproxy-rs: $PROXY_RS"
log "scenarios $SCENARIOS; rounds $ROUNDS; bulk ${DUR}s; connrate ${CONN_DUR}s (+${WARMUP}s warm-up, wrk -c$WRK_CONNS); maxconn $MAXCONN_PLAIN (splice $MAXCONN_SPLICE); idle conns $MEM_CONNS; proxy CPU ${ON_PROXY_CPU[*]:-none}, load+backends ${ON_LOAD_CPU[*]:-none}; nofile $NOFILE"
start_backends
for scen in "${SCEN_LIST[@]}"; do
    log "$scen"
    redos=0
    for ((r = 1; r <= ROUNDS; r++)); do
        if [[ $scen == direct ]]; then
            order=(direct:1 direct:10)
            [[ ,$SCENARIOS, == *_shared,* && $PINNED == 1 ]] && order+=(direct:1:shared direct:10:shared)
        elif ((r % 2)); then order=(haproxy rs)
        else order=(rs haproxy); fi
        for who in "${order[@]}"; do
            while :; do
                if [[ $who == direct:* ]]; then IFS=: read -r _d streams share <<< "$who"; run_direct "$r" "$streams" "$share"; else run_proxied "$scen" "$who" "$r"; fi
                if disturbed "$scen" "$who" "$r" "$redos"; then PENDING=(); redos=$((redos + 1)); continue; fi
                flush; break
            done
        done
    done
done
cleanup
summarize
log "total $(($(date +%s) - T0)) s"
((LOAD_ERRORS)) && { log "a load generator produced no result (see messages above)"; exit 4; }
exit 0
