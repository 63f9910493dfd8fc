#!/usr/bin/env bash
# benches/run.sh - A/B benchmark of haproxy-rs against HAProxy 2.6.
#
#   bash benches/run.sh                      # full run (~11-14 min)
#   QUICK=1 bash benches/run.sh              # smoke run (~2-3 min)
#   PROXY_RS=/usr/sbin/haproxy QUICK=1 bash benches/run.sh   # A/A check of the harness
#   MODE=alternate bash benches/run.sh       # one proxy at a time everywhere
#
# Both proxies get the same generated config and are started as
# "BIN -f CFG -db"; all traffic is on 127.0.0.1.  MODE=concurrent (default)
# runs the two proxies AT THE SAME TIME, on the same proxy CPU, in the CPU-cost
# scenarios (tcp_bulk*, tcp_splice*, tcp_connrate, http_ka_*, http_close_*,
# http_rules),
# each with its own load generator (and backend) and configs that differ only
# in ports: host noise then hits both alike.  Everything else (and everything
# with MODE=alternate) runs one proxy at a time, alternating the order each
# round.  The http_* scenarios use "mode http" in front of nginx (http_rules
# with 50 ACLs, 20 use_backend rules and a 10,000-entry map lookup); http_mem_*
# measure memory per idle or half-sent HTTP client connection.  syscalls and
# allocs count system calls (strace) and heap allocations (valgrind) per
# proxied TCP connection.  reload_storm runs each proxy in master-worker mode
# (-W -S) under HTTP load and reloads it by SIGUSR2 every second: req/s,
# failed requests, SIGUSR2 -> new worker serving.  See benches/README.md for
# scenarios and knobs.
# Exit status: 0 ok, 2 a proxy failed to start or died, 3 setup error,
# 4 a load generator produced no result, 5 the proxies failed http_rules' check.
set -u -o pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
LIB=$BENCH_DIR/lib
T0=$(date +%s)

# ------------------------------------------------------------------ settings
MODE=${MODE:-concurrent}
[[ $MODE == concurrent || $MODE == alternate ]] || { echo "MODE must be concurrent or alternate, not '$MODE'" >&2; exit 3; }
QUICK=${QUICK:-0}
# rounds: CONC_ROUNDS for the scenarios where both proxies run at once,
# ALONE_ROUNDS for those run one proxy at a time (and direct), COUNT_ROUNDS for
# syscalls and allocs; ROUNDS, when set, sets the first two
if [[ $QUICK == 1 ]]; then
    CONC_ROUNDS=${CONC_ROUNDS:-${ROUNDS:-3}}; ALONE_ROUNDS=${ALONE_ROUNDS:-${ROUNDS:-2}}
    DUR=${DUR:-1}; CONN_DUR=${CONN_DUR:-1}; WARMUP=${WARMUP:-0}
    COUNT_ROUNDS=${COUNT_ROUNDS:-1}; SYSCALL_CONNS=${SYSCALL_CONNS:-1000}
    HTTP_MEM_CONNS=${HTTP_MEM_CONNS:-2000}
else
    CONC_ROUNDS=${CONC_ROUNDS:-${ROUNDS:-5}}; ALONE_ROUNDS=${ALONE_ROUNDS:-${ROUNDS:-3}}
    DUR=${DUR:-5}; CONN_DUR=${CONN_DUR:-3}; WARMUP=${WARMUP:-1}
    COUNT_ROUNDS=${COUNT_ROUNDS:-3}; SYSCALL_CONNS=${SYSCALL_CONNS:-2000}
    HTTP_MEM_CONNS=${HTTP_MEM_CONNS:-5000}
fi
# reload_storm: STORM_DUR s of load, SIGUSR2 to the master every STORM_INTERVAL s,
# STORM_ROUNDS rounds (each storm gives about STORM_DUR / STORM_INTERVAL reloads)
if [[ $QUICK == 1 ]]; then STORM_DUR=${STORM_DUR:-6}; STORM_INTERVAL=${STORM_INTERVAL:-0.5}
else STORM_DUR=${STORM_DUR:-30}; STORM_INTERVAL=${STORM_INTERVAL:-1}; fi
if [[ $QUICK == 1 ]]; then STORM_ROUNDS=${STORM_ROUNDS:-1}; else STORM_ROUNDS=${STORM_ROUNDS:-3}; fi
STORM_CLOSE=${STORM_CLOSE:-0}            # 1: wrk sends "Connection: close" (a new connection per request)
# proxy: nginx moves to the proxy's core for the storm, wrk keeps the load core to
# itself and the proxy's CPU sets req/s; load: nginx stays with wrk, as in http_ka_*
STORM_LAYOUT=${STORM_LAYOUT:-proxy}
[[ $STORM_LAYOUT == proxy || $STORM_LAYOUT == load ]] || { echo "STORM_LAYOUT must be proxy or load, not '$STORM_LAYOUT'" >&2; exit 3; }
COUNT_WARMUP=${COUNT_WARMUP:-200}        # unmeasured connections before strace attaches
ALLOC_CONNS=${ALLOC_CONNS:-200,1200}     # the two runs of the allocs scenario
IFS=, read -r ALLOC_N1 ALLOC_N2 <<< "$ALLOC_CONNS"
[[ $ALLOC_N1 =~ ^[0-9]+$ && $ALLOC_N2 =~ ^[0-9]+$ ]] && ((ALLOC_N2 > ALLOC_N1)) ||
    { echo "ALLOC_CONNS must be N1,N2 with N2 > N1, not '$ALLOC_CONNS'" >&2; exit 3; }
ALL_SCENARIOS=direct,tcp_bulk,tcp_bulk_p10,tcp_splice,tcp_splice_p10,tcp_splice_shared,tcp_splice_p10_shared,tcp_connrate,http_ka_100,http_ka_64k,http_close_100,http_close_64k,http_rules,mem_idle,http_mem_idle,http_mem_partial,http_tls_hs_ecdsa,http_tls_hs_rsa,http_tls_ka,http_mem_tls_idle,reload_storm,syscalls,allocs
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
P_PROXY_RS=$((PORT_BASE + 4))  # haproxy-rs frontend when both proxies run at once
P_IPERF_RS=$((PORT_BASE + 5))  # its own iperf3 -s backend then (iperf3 -s serves one test at a time)
P_NGINX_RS=$((PORT_BASE + 6))  # its own nginx then, in the http_* wrk scenarios (per-proxy server-side counts)
P_ECHO=$((PORT_BASE + 7))      # http_rules' check: a backend that echoes the request head it got

# CPU-cost scenarios run with both proxies at once in MODE=concurrent
concurrent_scen() { [[ $MODE == concurrent && ( $1 == tcp_bulk* || $1 == tcp_splice* || $1 == tcp_connrate || $1 == http_ka_* || $1 == http_close_* || $1 == http_rules || $1 == http_tls_* ) ]]; }
selected() { [[ ,$SCENARIOS, == *,$1,* ]]; }
http_wrk_scen() { [[ $1 == http_ka_* || $1 == http_close_* || $1 == http_rules || $1 == http_tls_* ]]; }

log() { printf '[%4ds] %s\n' $(($(date +%s) - T0)) "$*" >&2; }
die() { local rc=$1; shift; log "ERROR: $*"; exit "$rc"; }

# ---------------------------------------------------------------- tools
TOOLS=(nginx wrk iperf3 python3 taskset) PKGS=(haproxy nginx-light wrk iperf3 python3)
selected syscalls && { TOOLS+=(strace); PKGS+=(strace); }
selected allocs && { TOOLS+=(valgrind); PKGS+=(valgrind); }
selected http_rules && { TOOLS+=(curl); PKGS+=(curl); }
need_install=0
for c in "${TOOLS[@]}"; do command -v "$c" >/dev/null || need_install=1; done
[[ -x $PROXY_HAPROXY || $PROXY_HAPROXY != /usr/sbin/haproxy ]] || need_install=1
if ((need_install)); then
    log "installing missing tools: ${PKGS[*]}"
    [[ $(id -u) == 0 ]] || die 3 "missing tools and not root: apt-get install ${PKGS[*]}"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update && apt-get install -y "${PKGS[@]}"; } >&2 ||
        die 3 "apt-get install failed"
fi
for c in "${TOOLS[@]}"; do command -v "$c" >/dev/null || die 3 "missing command: $c"; done

if [[ -z $PROXY_RS ]]; then
    TARGET_DIR=${CARGO_TARGET_DIR:-target}
    [[ $TARGET_DIR == /* ]] || TARGET_DIR=$REPO/$TARGET_DIR
    PROXY_RS=$TARGET_DIR/release/haproxy-rs
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
    [[ $PINNED == 1 ]] || return 0
    local cpus=$LOAD_CPU pid; [[ $1 == shared ]] && cpus=0-$(($(nproc) - 1))
    for pid in "${IPERF_PID[@]}"; do
        taskset -apc "$cpus" "$pid" > /dev/null || die 3 "cannot set the CPU affinity of iperf3 -s"
    done
}

# File descriptors: 10k idle proxied connections need 2 fds each in the proxy.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE=$(ulimit -n)
[[ $NOFILE == unlimited ]] && NOFILE=1048576
if ((MEM_CONNS > (NOFILE - 200) / 2)); then
    log "note: fd limit is $NOFILE (hard limit $(ulimit -Hn)), mem_idle uses $(((NOFILE - 200) / 2)) connections instead of $MEM_CONNS"
    MEM_CONNS=$(((NOFILE - 200) / 2))
fi
# http_mem_*: 1 fd per client connection in the proxy, plus 1 per server
# connection it keeps; the nginx backend holds those
if ((HTTP_MEM_CONNS > (NOFILE - 200) / 2)); then
    log "note: fd limit is $NOFILE, http_mem_* use $(((NOFILE - 200) / 2)) connections instead of $HTTP_MEM_CONNS"
    HTTP_MEM_CONNS=$(((NOFILE - 200) / 2))
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
head -c 65536 /dev/zero | tr '\0' y > "$WORK/www/64k"

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
    local i p
    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${PIDS[$i]}"; done
    # reload_storm: workers of a master-worker proxy, recorded as they appeared
    for p in $(storm_leftovers); do log "killing leftover ${STORM_BIN##*/} worker $p (reload_storm)"; kill -KILL "$p" 2>/dev/null; done
}
STORM_PIDS_FILE="" STORM_BIN=""
storm_leftovers() {             # the recorded reload_storm worker pids still running STORM_BIN
    [[ -n $STORM_PIDS_FILE && -s $STORM_PIDS_FILE ]] || return 0
    local p exe; exe=$(readlink -f "$STORM_BIN")
    for p in $(sort -un "$STORM_PIDS_FILE"); do
        [[ $(readlink "/proc/$p/exe" 2>/dev/null) == "$exe" ]] && echo "$p"
    done
    return 0
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
proxy_pids() {                  # WHO: the proxy's pid and its children (none with -db)
    local p=${PROXY_PID[$1]:-}
    [[ -n $p ]] && echo "$p" $(cat /proc/"$p"/task/*/children 2>/dev/null)
}
backend_pids() { echo "${BACKEND_PIDS[@]}" "${IPERF_PID[@]}"; }

ticks_sys() {                   # kernel-mode CPU ticks (stime) of the given pids, all threads
    local s=0 p v
    for p in "$@"; do
        v=$(awk '{ sub(/.*\) /, ""); print $13 }' /proc/"$p"/stat 2>/dev/null) && s=$((s + ${v:-0}))
    done
    echo "$s"
}
declare -A M_P0=() M_CPU=() M_K0=() M_SYS=()
M_WHO=()
meas_begin() {                  # WHO... : the proxies measured in this run (none for direct)
    local w; M_WHO=("$@")
    for w in "$@"; do M_P0[$w]=$(cpu_ns $(proxy_pids "$w")); M_K0[$w]=$(ticks_sys $(proxy_pids "$w")); done
    M_B0=$(cpu_ns $(backend_pids)); M_M0=$(machine_ns); M_S0=$(steal_ns); M_T0=$(date +%s%N)
}
meas_end() {                    # $1 = CPU seconds of the load generators -> M_CPU[WHO] M_WALL M_BG M_STEAL
    local t1 m1 s1 b1 w p=0
    t1=$(date +%s%N); m1=$(machine_ns); s1=$(steal_ns); b1=$(cpu_ns $(backend_pids))
    for w in "${M_WHO[@]}"; do
        M_CPU[$w]=$(($(cpu_ns $(proxy_pids "$w")) - M_P0[$w])); p=$((p + M_CPU[$w]))
        M_SYS[$w]=$((($(ticks_sys $(proxy_pids "$w")) - M_K0[$w]) * 1000000000 / CLK_TCK))
    done
    M_WALL=$((t1 - M_T0))
    M_PARTS="machine=$(((m1 - M_M0) / 1000000))ms proxies=$((p / 1000000))ms backends=$(((b1 - M_B0) / 1000000))ms loadgen=${1}s wall=$((M_WALL / 1000000))ms"
    M_BG=$(awk -v m=$((m1 - M_M0)) -v p="$p" -v b=$((b1 - M_B0)) -v l="$1" -v w="$M_WALL" \
        'BEGIN { x = m - p - b - l * 1e9; if (x < 0) x = 0; printf "%.1f", 100 * x / w }')
    M_STEAL=$(awk -v s=$((s1 - M_S0)) -v w="$M_WALL" -v n="$(nproc)" 'BEGIN { printf "%.1f", 100 * s / (w * n) }')
}
TIMEFORMAT='%3U %3S'
loadgen_cpu() { cat "$@" 2>/dev/null | awk '{ s += $1 + $2 } END { printf "%.3f", s + 0 }'; }

PENDING=()                      # records of the current run, kept only if it was not disturbed
rec() { PENDING+=("$(printf '%s\t%s\t%s\t%s\t%s' "$@")"); }
flush() { ((${#PENDING[@]})) && printf '%s\n' "${PENDING[@]}" >> "$RESULTS"; PENDING=(); }

# ---------------------------------------------------------------- backends
declare -a BACKEND_PIDS=()
declare -A IPERF_PID=()         # haproxy: iperf3 -s on P_IPERF (used by both proxies in alternate runs);
                                # rs: iperf3 -s on P_IPERF_RS, for haproxy-rs in concurrent runs
iperf_port() { if [[ $1 == rs ]]; then echo "$P_IPERF_RS"; else echo "$P_IPERF"; fi; }
start_iperf_server() {          # haproxy | rs
    local port; port=$(iperf_port "$1")
    "${ON_LOAD_CPU[@]}" iperf3 -s -B 127.0.0.1 -p "$port" > "$WORK/logs/iperf3-server-$1.log" 2>&1 < /dev/null &
    IPERF_PID[$1]=$!; PIDS+=("$!")
    wait_listen "$port" "${IPERF_PID[$1]}" 10 || { cat "$WORK/logs/iperf3-server-$1.log" >&2; die 3 "iperf3 server failed to start"; }
}
restart_iperf_server() { stop_pid "${IPERF_PID[$1]}"; wait_port_free "$(iperf_port "$1")"; start_iperf_server "$1"; }
# nginx: the 100-byte and 64 KiB files; keep-alive without a request limit;
# stub_status (/nginx_status) gives the connections it accepted and holds,
# i.e. what the proxy did on its server side
declare -A NGINX_PID=()         # haproxy: on P_NGINX (every proxy that runs alone, tcp_connrate);
                                # rs: on P_NGINX_RS, for haproxy-rs in concurrent http_* runs
start_nginx() {                 # haproxy | rs
    local dir=$WORK/nginx-$1 port=$P_NGINX ng
    [[ $1 == rs ]] && port=$P_NGINX_RS
    mkdir -p "$dir" || die 3 "cannot create $dir"
    cat > "$dir/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile $NOFILE;
pid $dir/nginx.pid;
error_log $WORK/logs/nginx-$1.err warn;
events { worker_connections $((NOFILE - 100)); }
http {
    access_log off;
    default_type application/octet-stream;
    sendfile on;
    keepalive_timeout 300s;
    keepalive_requests 100000000;
    client_body_temp_path $dir/body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    server {
        listen 127.0.0.1:$port backlog=4096;
        root $WORK/www;
        location = /nginx_status { stub_status; }
    }
}
EOF
    "${ON_LOAD_CPU[@]}" nginx -p "$dir/" -e "$WORK/logs/nginx-$1.err" -c "$dir/nginx.conf" \
        > "$WORK/logs/nginx-$1.out" 2>&1 < /dev/null &
    ng=$!; PIDS+=("$ng"); NGINX_PID[$1]=$ng
    wait_listen "$port" "$ng" 10 || { cat "$WORK/logs/nginx-$1."* >&2; die 3 "nginx backend failed to start"; }
}
start_backends() {
    local p
    for p in "$P_PROXY" "$P_IPERF" "$P_NGINX" "$P_HOLD" "$P_PROXY_RS" "$P_IPERF_RS" "$P_NGINX_RS" $(selected http_rules && echo "$P_ECHO"); do
        wait_port_free "$p" || die 3 "port $p is already in use on this machine (set PORT_BASE)"
    done
    start_nginx haproxy
    [[ ,$CONC_LIST, == *,http_* ]] && start_nginx rs
    "${ON_LOAD_CPU[@]}" python3 "$LIB/hold_server.py" "$P_HOLD" 3600 > "$WORK/logs/hold-server.log" 2>&1 < /dev/null &
    HOLD_PID=$!; PIDS+=("$HOLD_PID")
    wait_listen "$P_HOLD" "$HOLD_PID" 10 || { cat "$WORK/logs/hold-server.log" >&2; die 3 "idle-connection backend failed to start"; }
    start_iperf_server haproxy
    [[ $MODE == concurrent ]] && start_iperf_server rs
    BACKEND_PIDS=("${NGINX_PID[@]}" "$HOLD_PID")
}
nginx_of() { if [[ $CONC_NOW == 1 && $1 == rs ]]; then echo rs; else echo haproxy; fi; }
nginx_port() { if [[ $(nginx_of "$1") == rs ]]; then echo "$P_NGINX_RS"; else echo "$P_NGINX"; fi; }
nginx_status() {                # haproxy | rs -> "active accepted requests" (this query included), or nothing
    local port=$P_NGINX fd
    [[ $1 == rs ]] && port=$P_NGINX_RS
    exec {fd}<>"/dev/tcp/127.0.0.1/$port" 2>/dev/null || return 0
    printf 'GET /nginx_status HTTP/1.0\r\nHost: x\r\n\r\n' >&"$fd"
    timeout 5 cat <&"$fd" | awk '/^Active connections:/ { a = $3 }
        /^ *[0-9]+ +[0-9]+ +[0-9]+ *$/ { c = $1; q = $3 } END { if (a != "" && c != "") print a, c, q }'
    exec {fd}>&-
}

# -------------------------------------------------------------- the proxies
CONC_NOW=0                      # 1 while both proxies run at once: haproxy-rs then has its own ports
proxy_port() { if [[ $CONC_NOW == 1 && $1 == rs ]]; then echo "$P_PROXY_RS"; else echo "$P_PROXY"; fi; }
# One config per scenario, the same file for both proxies when they run one
# at a time; when they run at once, one file each, differing only in the
# frontend port and, for iperf3, the backend port.  No "log" line anywhere:
# logging is off.
gen_cfg() {                     # SCENARIO WHO -> path of its config
    local scen=$1 who=$2 name=$1 port backend_port=$P_IPERF splice="" maxconn=$MAXCONN_PLAIN mode=tcp fe_extra="" be_extra=""
    port=$(proxy_port "$who")
    if ((CONC_NOW)); then name=$scen-$who; backend_port=$(iperf_port "$who"); fi
    case $scen in
        tcp_connrate|syscalls|allocs) backend_port=$P_NGINX ;;
        mem_idle) backend_port=$P_HOLD ;;
        tcp_splice*) splice=$'\n    option splice-auto'; maxconn=$MAXCONN_SPLICE ;;
        http_*) mode=http; backend_port=$(nginx_port "$who")
            # HTTP_BE_EXTRA: a backend line for a variant (e.g. "http-reuse always")
            [[ -n ${HTTP_BE_EXTRA:-} ]] && be_extra=$'\n    '$HTTP_BE_EXTRA ;;
        reload_storm) mode=http; backend_port=$P_NGINX
            # which worker served: the reload probe waits for the new one
            fe_extra=$'\n    http-response set-header X-Pid %pid' ;;
    esac
    if [[ $scen == http_rules ]]; then
        rules_cfg "$port" "$backend_port" "$maxconn" > "$WORK/cfg/$name.cfg"
        echo "$WORK/cfg/$name.cfg"; return
    fi
    local ssl=""
    case $scen in
        http_tls_hs_rsa) ssl=" ssl crt $(tls_cert rsa)" ;;
        http_tls_*|http_mem_tls_*) ssl=" ssl crt $(tls_cert ecdsa)" ;;
    esac
    cat > "$WORK/cfg/$name.cfg" <<EOF
global
    maxconn $maxconn
    nbthread 1

defaults
    mode $mode
    timeout connect 5s
    timeout client 30s
    timeout server 30s$splice

frontend fe
    bind 127.0.0.1:$port$ssl$fe_extra
    default_backend be

backend be${be_extra}
    server s1 127.0.0.1:$backend_port
EOF
    echo "$WORK/cfg/$name.cfg"
}

# http_rules: the frontend of a site with routing rules.  50 ACLs of mixed
# kinds, 20 use_backend rules combining them, and a 10,000-entry map lookup
# on the Host header per request (http-request set-header X-Map).  The bench
# request (RULES_REQ_*) matches none of the first 19 rules, so every rule is
# evaluated, and the 20th sends it to be_app; its Host (mixed case, lowered
# before the lookup) is in the map.  All backends point at the scenario's
# nginx.  Same config for both proxies but for the ports.
RULES_MAP_N=10000
RULES_HOST=App-07777.Example.COM               # map key app-07777.example.com
RULES_MAP_VAL=pool-0798                        # its value (7777 % 997)
RULES_PATH='/100b?id=42&lang=en'
RULES_UA='wrk-bench/4.2 (rules scenario)'
# http_tls_*: TLS termination.  http_tls_hs_*: a full TLS 1.3 handshake and
# one request per connection, ECDSA P-256 or RSA 2048 certificate, by
# `openssl s_time -new` (STIME_PROCS at once per proxy; wrk would resume
# sessions, which costs no signature); http_tls_ka: keep-alive HTTPS
# requests (wrk); http_mem_tls_idle: memory per idle keep-alive TLS client.
tls_cert() {                    # ecdsa | rsa -> path of a self-signed cert+key PEM, made once
    local f=$WORK/cfg/$1.pem key=(-newkey rsa:2048)
    [[ $1 == ecdsa ]] && key=(-newkey ec -pkeyopt ec_paramgen_curve:P-256)
    if [[ ! -s $f ]]; then
        openssl req -x509 "${key[@]}" -nodes -days 30 -subj /CN=bench.test \
            -keyout "$f.key" -out "$f.crt" > /dev/null 2>&1 || die 1 "openssl cannot make the $1 certificate"
        cat "$f.crt" "$f.key" > "$f"
    fi
    echo "$f"
}

rules_map() {                   # -> path of the map file, written once
    local f=$WORK/cfg/rules.map
    [[ -s $f ]] || awk -v n="$RULES_MAP_N" 'BEGIN { for (i = 0; i < n; i++) printf "app-%05d.example.com pool-%04d\n", i, i % 997 }' > "$f"
    echo "$f"
}
rules_cfg() {                   # FRONTEND_PORT BACKEND_PORT MAXCONN [BE_APP_PORT] -> the config on stdout
    local map b
    map=$(rules_map)
    cat <<EOF
global
    maxconn $3
    nbthread 1

defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s

frontend fe
    bind 127.0.0.1:$1
    acl a01_api        path_beg /api/ /v1/ /v2/
    acl a02_admin      path_beg /admin
    acl a03_static     path_beg /static/ /assets/ /img/
    acl a04_script     path_end .php .asp .jsp
    acl a05_img        path_end .png .jpg .gif .webp
    acl a06_css        path_end .css .js
    acl a07_host_api   hdr(host) -i api.example.com
    acl a08_host_adm   hdr(host) -i admin.example.com admin.example.net
    acl a09_host_cdn   hdr(host) -i cdn.example.com static.example.com
    acl a10_host_app   hdr_end(host) -i .example.com
    acl a11_ua_curl    hdr_sub(user-agent) -i curl
    acl a12_ua_bot     hdr_sub(user-agent) -i bot crawler spider
    acl a13_ua_mobile  hdr_sub(user-agent) Mobile Android iPhone
    acl a14_ua_bench   hdr_sub(user-agent) wrk-bench
    acl a15_src_lan    src 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16
    acl a16_src_local  src 127.0.0.0/8 ::1
    acl a17_src_bad    src 203.0.113.0/24 198.51.100.7
    acl a18_meth_write method POST PUT PATCH
    acl a19_meth_del   method DELETE
    acl a20_meth_get   method GET HEAD
    acl a21_xff        req.hdr(x-forwarded-for) -m found
    acl a22_xdebug     req.hdr(x-debug) -m found
    acl a23_xtenant    req.hdr(x-tenant) -m found
    acl a24_xapikey    req.hdr(x-api-key) -m found
    acl a25_auth       req.hdr(authorization) -m found
    acl a26_p_debug    url_param(debug) -m found
    acl a27_p_lang     url_param(lang) fr de es
    acl a28_p_id_big   url_param(id) -m int gt 100000
    acl a29_p_token    url_param(token) -m found
    acl a30_ver11      req.ver 1.1
    acl a31_path_long  path_len gt 200
    acl a32_path_reg   path_reg ^/users/[0-9]+/profile\$
    acl a33_path_dir   path_dir images
    acl a34_path_sub   path_sub /internal/
    acl a35_url_sub    url_sub sessionid=
    acl a36_cookie     req.cook(SESSIONID) -m found
    acl a37_json       req.hdr(content-type) -m beg application/json
    acl a38_html       req.hdr(accept) -m sub text/html
    acl a39_lang_hdr   req.hdr(accept-language) -m beg fr de
    acl a40_dst_tls    dst_port 443 8443
    acl a41_xff_many   req.hdr_cnt(x-forwarded-for) gt 3
    acl a42_host_org   req.hdr(host) -m str -i www.example.org
    acl a43_health     path /health /ready /metrics
    acl a44_path_100b  path /100b
    acl a45_upgrade    hdr(upgrade) -i websocket
    acl a46_conn_upg   hdr_sub(connection) -i upgrade
    acl a47_origin     req.hdr(origin) -m found
    acl a48_referer    hdr_beg(referer) -i https://evil.
    acl a49_body       req.hdr_val(content-length) gt 0
    acl a50_beta       hdr(host) -i beta.example.com
    http-request set-header X-Map %[req.hdr(host),lower,map($map,none)]
    use_backend be_api     if a01_api a07_host_api
    use_backend be_api     if a07_host_api a24_xapikey || a07_host_api a25_auth
    use_backend be_admin   if a02_admin a16_src_local !a17_src_bad
    use_backend be_admin   if a08_host_adm a15_src_lan || a08_host_adm a16_src_local
    use_backend be_static  if a03_static || a05_img || a06_css
    use_backend be_static  if a09_host_cdn
    use_backend be_legacy  if a04_script
    use_backend be_bots    if a12_ua_bot || a11_ua_curl a20_meth_get
    use_backend be_mobile  if a13_ua_mobile a20_meth_get
    use_backend be_write   if a18_meth_write a37_json || a19_meth_del a25_auth
    use_backend be_debug   if a22_xdebug a16_src_local || a26_p_debug a16_src_local
    use_backend be_tenant  if a23_xtenant a21_xff || a41_xff_many
    use_backend be_i18n    if a27_p_lang || a39_lang_hdr
    use_backend be_users   if a32_path_reg || a33_path_dir || a34_path_sub
    use_backend be_session if a35_url_sub || a36_cookie || a29_p_token
    use_backend be_health  if a43_health
    use_backend be_ws      if a45_upgrade a46_conn_upg
    use_backend be_tls     if a40_dst_tls || a31_path_long
    use_backend be_beta    if a50_beta || a42_host_org || a48_referer || a47_origin a38_html
    use_backend be_app     if a10_host_app a14_ua_bench a16_src_local a20_meth_get a30_ver11 a44_path_100b !a28_p_id_big !a49_body
    default_backend be_default
EOF
    for b in be_api be_admin be_static be_legacy be_bots be_mobile be_write be_debug be_tenant be_i18n be_users be_session be_health be_ws be_tls be_beta be_app be_default; do
        printf '\nbackend %s\n    server s1 127.0.0.1:%s\n' "$b" "$([[ $b == be_app ]] && echo "${4:-$2}" || echo "$2")"
    done
}

# Before measuring http_rules: both proxies must accept the config ("-c"),
# route the bench request to be_app with the map's value in X-Map, forward
# the same request head, and give the same answer.  One proxy at a time on
# P_PROXY: (1) with be_app pointing at lib/echo_server.py, which answers
# with the head it received; (2) with the measured config (nginx), compared
# by status and body.  A difference stops the script (exit 5).
check_rules() {
    local who cfg pid epid body w c
    CONC_NOW=0; layout pinned
    "${ON_LOAD_CPU[@]}" python3 "$LIB/echo_server.py" "$P_ECHO" 60 > "$WORK/logs/echo-server.log" 2>&1 < /dev/null &
    epid=$!; PIDS+=("$epid")
    wait_listen "$P_ECHO" "$epid" 10 || { cat "$WORK/logs/echo-server.log" >&2; die 3 "echo backend failed to start"; }
    for who in haproxy rs; do
        for w in echo nginx; do
            cfg=$WORK/cfg/http_rules-check-$w-$who.cfg
            if [[ $w == echo ]]; then rules_cfg "$P_PROXY" "$(nginx_port "$who")" "$MAXCONN_PLAIN" "$P_ECHO" > "$cfg"
            else cfg=$(gen_cfg http_rules "$who"); fi
            c=$("${BIN[$who]}" -c -f "$cfg" 2>&1) || die 5 "${NAME[$who]} refuses the http_rules config $cfg: $c"
            start_proxy "$who" "$cfg" "$WORK/logs/http_rules-check-$w-$who.proxy.log"
            body=$WORK/logs/http_rules-check-$w-$who.body
            c=$(curl -s -m 5 -o "$body" -w '%{http_code}' -H "Host: $RULES_HOST" -A "$RULES_UA" -H 'Accept:' \
                "http://127.0.0.1:$P_PROXY$RULES_PATH")
            echo "$c" > "$body.status"
            check_proxy "$who" "$cfg" "$WORK/logs/http_rules-check-$w-$who.proxy.log"
            stop_proxy "$who"
            [[ $c == 200 ]] || die 5 "http_rules check: ${NAME[$who]} answered '$c' (expected 200) through $cfg (body: $(head -c 300 "$body"))"
        done
        grep -qix "x-map: $RULES_MAP_VAL"$'\r' "$WORK/logs/http_rules-check-echo-$who.body" ||
            die 5 "http_rules check: ${NAME[$who]} did not route to be_app with 'x-map: $RULES_MAP_VAL'; its server got: $(tr -d '\r' < "$WORK/logs/http_rules-check-echo-$who.body" | tr '\n' '|')"
    done
    stop_pid "$epid"
    for w in echo nginx; do
        cmp -s "$WORK/logs/http_rules-check-$w-haproxy.body" "$WORK/logs/http_rules-check-$w-rs.body" ||
            die 5 "http_rules check: the two proxies differ ($w): HAProxy: $(tr -d '\r' < "$WORK/logs/http_rules-check-$w-haproxy.body" | tr '\n' '|' | head -c 400) haproxy-rs: $(tr -d '\r' < "$WORK/logs/http_rules-check-$w-rs.body" | tr '\n' '|' | head -c 400)"
    done
    log "  check: both proxies accept the config, route to be_app with x-map: $RULES_MAP_VAL, and forward and answer the same ($(wc -c < "$WORK/logs/http_rules-check-nginx-rs.body")-byte body)"
}

declare -A PROXY_PID=()
PROXY_WRAP=()                   # command the proxy runs under (valgrind in the allocs scenario)
start_proxy() {                 # WHO CFG LOGFILE [START_TIMEOUT_S]
    local who=$1 port rc t=${4:-10}
    port=$(proxy_port "$who")
    wait_port_free "$port" || die 3 "proxy port $port still busy"
    "${ON_PROXY_CPU[@]}" "${PROXY_WRAP[@]}" "${BIN[$who]}" -f "$2" -db > "$3" 2>&1 < /dev/null &
    PROXY_PID[$who]=$!; PIDS+=("$!")
    wait_listen "$port" "${PROXY_PID[$who]}" "$t"; rc=$?
    ((rc == 0)) && return 0
    local why="not listening on 127.0.0.1:$port after $t s"
    if ((rc == 1)); then reap "${PROXY_PID[$who]}"; why="it exited with status $?"; fi
    log "${NAME[$who]} (${BIN[$who]}) FAILED TO START: $why"
    show_log "$who" "$2" "$3"
    abort 2
}
check_proxy() {                 # WHO CFG LOGFILE: the proxy must have survived the load
    kill -0 "${PROXY_PID[$1]}" 2>/dev/null && return 0
    reap "${PROXY_PID[$1]}"
    log "${NAME[$1]} (${BIN[$1]}) DIED during the run (exit status $?)"
    show_log "$1" "$2" "$3"
    abort 2
}
stop_proxy() { stop_pid "${PROXY_PID[$1]}"; PROXY_PID[$1]=""; }
show_log() {                    # WHO CFG LOGFILE
    log "command: ${ON_PROXY_CPU[*]} ${PROXY_WRAP[*]} ${BIN[$1]} -f $2 -db ; its stdout+stderr ($3):"
    if [[ -s $3 ]]; then tail -n 30 "$3" | sed 's/^/    | /' >&2; else echo "    | (no output)" >&2; fi
}
abort() { flush; cleanup; summarize; exit "$1"; }

# ----------------------------------------------------------- load generators
LOAD_ERRORS=0
target_port() {                 # LABEL: where its load generator connects
    case $1 in
        direct) echo "$P_IPERF" ;;
        direct_b) echo "$P_IPERF_RS" ;;
        *) proxy_port "$1" ;;
    esac
}
iperf_server_of() {             # LABEL: which iperf3 -s its traffic ends at
    if [[ $1 == direct_b || ($1 == rs && $CONC_NOW == 1) ]]; then echo rs; else echo haproxy; fi
}
declare -A IPERF_BPS=() IPERF_BYTES=()
run_iperf() {                   # TAG STREAMS LABEL...: one iperf3 client per label, all at once
    local tag=$1 streams=$2 try l res bad out; shift 2
    local labels=("$@") pids=() times=() meas=()
    for l in "${labels[@]}"; do [[ $l == direct* ]] || meas+=("$l"); done
    for try in 1 2; do
        pids=(); times=(); bad=()
        meas_begin "${meas[@]}"
        for l in "${labels[@]}"; do
            out=$WORK/logs/$tag-$l.json
            { time timeout $((DUR + 20)) "${ON_LOAD_CPU[@]}" iperf3 -c 127.0.0.1 -p "$(target_port "$l")" -t "$DUR" \
                -P "$streams" -J --connect-timeout 3000 > "$out" 2> "$out.err" < /dev/null; } 2> "$out.time" &
            pids+=("$!"); times+=("$out.time")
        done
        wait "${pids[@]}" 2>/dev/null
        meas_end "$(loadgen_cpu "${times[@]}")"
        for l in "${labels[@]}"; do
            out=$WORK/logs/$tag-$l.json
            res=$(python3 -c '
import json, sys
try:
    e = json.load(open(sys.argv[1]))["end"]["sum_received"]
    if e["bytes"] > 0: print(e["bits_per_second"], e["bytes"])
except Exception:
    pass' "$out")
            if [[ -n $res ]]; then IPERF_BPS[$l]=${res% *}; IPERF_BYTES[$l]=${res#* }; continue; fi
            bad+=("$l")
            log "iperf3 produced no result ($tag $l, try $try): $(grep -o '"error":[^}]*' "$out" | head -n 1; tail -n 2 "$out.err")"
        done
        ((${#bad[@]} == 0)) && return 0
        for l in "${bad[@]}"; do restart_iperf_server "$(iperf_server_of "$l")"; done
    done
    return 1
}
rec_iperf() {                   # SCENARIO WHO ROUND: figures of the last run_iperf for that proxy
    rec "$1" Gbit_s "$2" "$3" "$(awk -v b="${IPERF_BPS[$2]}" 'BEGIN { printf "%.3f", b / 1e9 }')"
    rec "$1" cpu_ms_per_GB "$2" "$3" "$(awk -v c="${M_CPU[$2]}" -v b="${IPERF_BYTES[$2]}" 'BEGIN { printf "%.2f", (c / 1e6) / (b / 1e9) }')"
    rec "$1" proxy_cpu_pct "$2" "$3" "$(awk -v c="${M_CPU[$2]}" -v w="$M_WALL" 'BEGIN { printf "%.1f", 100 * c / w }')"
}

run_direct() {                  # ROUND STREAMS [shared]: iperf3 straight to the backend
    local r=$1 p=$2 sfx=${3:+_$3} labels=(direct)
    # in concurrent mode, two flows at once (one per iperf3 server), as when
    # both proxies run: the figure is then the mean per flow
    [[ $MODE == concurrent ]] && labels+=(direct_b)
    layout "${3:-pinned}"
    run_iperf "direct-p$p$sfx-r$r" "$p" "${labels[@]}" || { LOAD_ERRORS=1; return; }
    local sum=0 l
    for l in "${labels[@]}"; do sum=$(awk -v s="$sum" -v b="${IPERF_BPS[$l]}" 'BEGIN { printf "%.0f", s + b }'); done
    rec direct "Gbit_s_$p$sfx" direct "$r" "$(awk -v b="$sum" -v n=${#labels[@]} 'BEGIN { printf "%.3f", b / n / 1e9 }')"
}

streams_of() { if [[ $1 == *_p10* ]]; then echo 10; else echo 1; fi; }

run_proxied() {                 # SCENARIO WHO ROUND: one proxy alone
    local scen=$1 who=$2 r=$3 cfg plog
    CONC_NOW=0
    if [[ $scen == *_shared ]]; then layout shared; else layout pinned; fi
    cfg=$(gen_cfg "$scen" "$who")
    plog=$WORK/logs/$scen-$who-r$r.proxy.log
    start_proxy "$who" "$cfg" "$plog"
    case $scen in
        tcp_bulk*|tcp_splice*)
            if run_iperf "$scen-r$r" "$(streams_of "$scen")" "$who"; then rec_iperf "$scen" "$who" "$r"; else LOAD_ERRORS=1; fi ;;
        http_tls_hs_*) run_stime "$scen" "$r" "$who" ;;
        tcp_connrate|http_ka_*|http_close_*|http_rules|http_tls_*) run_wrk "$scen" "$r" "$who" ;;
        mem_idle) run_mem "$scen" "$who" "$r" ;;
        http_mem_*) run_http_mem "$scen" "$who" "$r" ;;
    esac
    check_proxy "$who" "$cfg" "$plog"
    stop_proxy "$who"
}

run_pair() {                    # SCENARIO ROUND WHO WHO: both proxies at once, same proxy CPU
    local scen=$1 r=$2 who; shift 2
    local whos=("$@"); local -A cfg=() plog=()
    CONC_NOW=1
    if [[ $scen == *_shared ]]; then layout shared; else layout pinned; fi
    for who in "${whos[@]}"; do     # started in the round's order
        cfg[$who]=$(gen_cfg "$scen" "$who")
        plog[$who]=$WORK/logs/$scen-$who-r$r.proxy.log
        start_proxy "$who" "${cfg[$who]}" "${plog[$who]}"
    done
    case $scen in
        tcp_bulk*|tcp_splice*)
            if run_iperf "$scen-r$r" "$(streams_of "$scen")" "${whos[@]}"; then
                for who in "${whos[@]}"; do rec_iperf "$scen" "$who" "$r"; done
            else
                LOAD_ERRORS=1
            fi ;;
        http_tls_hs_*) run_stime "$scen" "$r" "${whos[@]}" ;;
        tcp_connrate|http_ka_*|http_close_*|http_rules|http_tls_*) run_wrk "$scen" "$r" "${whos[@]}" ;;
    esac
    for who in "${whos[@]}"; do check_proxy "$who" "${cfg[$who]}" "${plog[$who]}"; done
    for who in "${whos[@]}"; do stop_proxy "$who"; done
    CONC_NOW=0
}

# tcp_connrate and http_close_*: "Connection: close", one new client
# connection per request; http_ka_*: keep-alive, WRK_CONNS connections;
# http_rules: keep-alive, the request its rules are written for
STIME_PROCS=${STIME_PROCS:-4}
run_stime() {                   # SCENARIO ROUND WHO...: full handshakes, STIME_PROCS s_time per proxy, all at once
    local scen=$1 r=$2 w i out pids=() times=(); shift 2
    local whos=("$@")
    meas_begin "${whos[@]}"
    for w in "${whos[@]}"; do
        for ((i = 0; i < STIME_PROCS; i++)); do
            out=$WORK/logs/$scen-$w-r$r-$i.stime
            { time timeout $((CONN_DUR + 15)) "${ON_LOAD_CPU[@]}" openssl s_time -connect "127.0.0.1:$(proxy_port "$w")" \
                -new -time "$CONN_DUR" -www /100b > "$out" 2>&1 < /dev/null; } 2> "$out.time" &
            pids+=("$!"); times+=("$out.time")
        done
    done
    wait "${pids[@]}" 2>/dev/null
    meas_end "$(loadgen_cpu "${times[@]}")"
    for w in "${whos[@]}"; do
        local n=0 c
        for ((i = 0; i < STIME_PROCS; i++)); do
            c=$(awk '/connections in .* real seconds/ { print $1; exit }' "$WORK/logs/$scen-$w-r$r-$i.stime")
            n=$((n + ${c:-0}))
        done
        if ((n == 0)); then
            log "s_time made no connection ($scen ${NAME[$w]} round $r): $(tail -n 3 "$WORK/logs/$scen-$w-r$r-0.stime" | tr '\n' ' ')"
            LOAD_ERRORS=1; continue
        fi
        rec "$scen" req_s "$w" "$r" "$(awk -v n="$n" -v d="$M_WALL" 'BEGIN { printf "%.1f", n / (d / 1e9) }')"
        rec "$scen" cpu_us_per_req "$w" "$r" "$(awk -v c="${M_CPU[$w]}" -v n="$n" 'BEGIN { printf "%.2f", c / 1e3 / n }')"
        rec "$scen" proxy_cpu_pct "$w" "$r" "$(awk -v c="${M_CPU[$w]}" -v w="$M_WALL" 'BEGIN { printf "%.1f", 100 * c / w }')"
    done
}

wrk_cmd() {                     # SCENARIO WHO SECONDS -> WRK
    local path=/100b hdr=(-H "Connection: close") scheme=http
    [[ $1 == *_64k ]] && path=/64k
    [[ $1 == http_ka_* || $1 == http_tls_ka ]] && hdr=()
    [[ $1 == http_tls_* ]] && scheme=https
    [[ $1 == http_rules ]] && { path=$RULES_PATH; hdr=(-H "Host: $RULES_HOST" -H "User-Agent: $RULES_UA"); }
    WRK=(timeout $(($3 + 15)) "${ON_LOAD_CPU[@]}" wrk -t1 -c"$WRK_CONNS" -d"${3}s" "${hdr[@]}"
         -s "$LIB/wrk_report.lua" "$scheme://127.0.0.1:$(proxy_port "$2")$path")
}
run_wrk() {                     # SCENARIO ROUND WHO...: one wrk per proxy, all at once
    local scen=$1 r=$2 w out res pids=() times=(); shift 2
    local whos=("$@"); local -A ng0=() ng1=()
    if ((WARMUP > 0)); then
        for w in "${whos[@]}"; do wrk_cmd "$scen" "$w" "$WARMUP"; "${WRK[@]}" > /dev/null 2>&1 < /dev/null & pids+=("$!"); done
        wait "${pids[@]}" 2>/dev/null; pids=()
    fi
    # the connections and requests the proxies' nginx saw (http_*: one nginx per proxy)
    if [[ $scen == http_* ]]; then for w in "${whos[@]}"; do ng0[$w]=$(nginx_status "$(nginx_of "$w")"); done; fi
    meas_begin "${whos[@]}"
    for w in "${whos[@]}"; do
        out=$WORK/logs/$scen-$w-r$r.wrk; wrk_cmd "$scen" "$w" "$CONN_DUR"
        { time "${WRK[@]}" > "$out" 2>&1 < /dev/null; } 2> "$out.time" &
        pids+=("$!"); times+=("$out.time")
    done
    wait "${pids[@]}" 2>/dev/null
    meas_end "$(loadgen_cpu "${times[@]}")"
    if [[ $scen == http_* ]]; then for w in "${whos[@]}"; do ng1[$w]=$(nginx_status "$(nginx_of "$w")"); done; fi
    for w in "${whos[@]}"; do
        out=$WORK/logs/$scen-$w-r$r.wrk
        res=$(grep '^WRK_RESULT' "$out" | tail -n 1)
        local _ req dur_us serr herr bytes p50 p99 _rest
        read -r _ req dur_us serr herr bytes p50 p99 _rest <<< "$res"
        if [[ -z $res || ${req:-0} == 0 ]]; then
            log "wrk produced no result ($scen ${NAME[$w]} round $r): $(tail -n 3 "$out" | tr '\n' ' ')"
            LOAD_ERRORS=1; continue
        fi
        ((serr + herr > req / 100)) && log "WARNING: $scen ${NAME[$w]}: $((serr + herr)) errors for $req requests: $(grep -E 'Socket errors|Non-2xx' "$out" | tr '\n' ' ') (see $out)"
        if [[ $scen == tcp_connrate ]]; then
            rec "$scen" conn_s "$w" "$r" "$(awk -v n="$req" -v d="$dur_us" 'BEGIN { printf "%.1f", n / (d / 1e6) }')"
            rec "$scen" cpu_us_per_conn "$w" "$r" "$(awk -v c="${M_CPU[$w]}" -v n="$req" 'BEGIN { printf "%.2f", c / 1e3 / n }')"
        else
            rec "$scen" req_s "$w" "$r" "$(awk -v n="$req" -v d="$dur_us" 'BEGIN { printf "%.1f", n / (d / 1e6) }')"
            rec "$scen" cpu_us_per_req "$w" "$r" "$(awk -v c="${M_CPU[$w]}" -v n="$req" 'BEGIN { printf "%.2f", c / 1e3 / n }')"
            rec "$scen" sys_us_per_req "$w" "$r" "$(awk -v c="${M_SYS[$w]}" -v n="$req" 'BEGIN { printf "%.2f", c / 1e3 / n }')"
            rec "$scen" p50_ms "$w" "$r" "$(awk -v x="$p50" 'BEGIN { printf "%.3f", x / 1e3 }')"
            rec "$scen" p99_ms "$w" "$r" "$(awk -v x="$p99" 'BEGIN { printf "%.3f", x / 1e3 }')"
            [[ $scen == *_64k ]] && rec "$scen" MB_s "$w" "$r" "$(awk -v b="$bytes" -v d="$dur_us" 'BEGIN { printf "%.1f", b / d }')"
            # server side: new nginx connections per request (the status query itself is one)
            local a0 c0 q0 a1 c1 q1
            read -r a0 c0 q0 <<< "${ng0[$w]}"; read -r a1 c1 q1 <<< "${ng1[$w]}"
            if [[ -n $c0 && -n $c1 ]]; then
                rec "$scen" srv_conns_per_req "$w" "$r" "$(awk -v a="$c0" -v b="$c1" -v n="$req" 'BEGIN { printf "%.3f", (b - a - 1) / n }')"
            fi
        fi
        rec "$scen" proxy_cpu_pct "$w" "$r" "$(awk -v c="${M_CPU[$w]}" -v w="$M_WALL" 'BEGIN { printf "%.1f", 100 * c / w }')"
        rec "$scen" errors "$w" "$r" $((serr + herr))
    done
}

run_mem() {                     # SCENARIO WHO ROUND: RSS idle and with MEM_CONNS idle proxied conns
    local scen=$1 who=$2 r=$3 out=$WORK/logs/$1-$2-r$3.client i rss0 rss1 hold0 held last=-1 stable=0 cpid
    M_BG=0; M_STEAL=0           # not a timed load: no disturbance check
    hold0=$(nfds "$HOLD_PID")
    sleep 0.5
    rss0=$(rss_kib "${PROXY_PID[$who]}")
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
    rss1=$(rss_kib "${PROXY_PID[$who]}"); held=$(($(nfds "$HOLD_PID") - hold0))
    check_proxy "$who" "$WORK/cfg/$scen.cfg" "$WORK/logs/$scen-$who-r$r.proxy.log"
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

# http_mem_idle / http_mem_partial: RSS of the proxy idle, then with
# HTTP_MEM_CONNS client connections that each got one complete response and
# stay idle (keep-alive), or that each sent a request head without its final
# empty line.  Bytes per connection = RSS delta / connections still open on
# the client side at the end (the client checks them on SIGUSR1).
run_http_mem() {                # SCENARIO WHO ROUND
    local scen=$1 who=$2 r=$3 mode=idle base=$WORK/logs/$1-$2-r$3 i cpid pid
    local rss0 rss1 fds0 fds1 fds last=-1 stable=0 ng0 ng1 a0 a1 alive ready
    [[ $scen == http_mem_partial ]] && mode=partial
    [[ $scen == http_mem_tls_idle ]] && mode=tls_idle
    M_BG=0; M_STEAL=0           # not a timed load: no disturbance check
    pid=${PROXY_PID[$who]}
    sleep 0.5
    rss0=$(rss_kib "$pid"); fds0=$(nfds "$pid"); ng0=$(nginx_status haproxy)
    "${ON_LOAD_CPU[@]}" python3 "$LIB/http_idle_client.py" 127.0.0.1 "$P_PROXY" "$HTTP_MEM_CONNS" "$mode" 180 \
        > "$base.client" 2>&1 < /dev/null &
    cpid=$!; PIDS+=("$cpid")
    for ((i = 0; i < 1300; i++)); do   # the client stops opening after 60 s
        grep -q '^READY' "$base.client" 2>/dev/null && break
        kill -0 "$cpid" 2>/dev/null || break
        sleep 0.05
    done
    # until the proxy's fd count is stable for 1 s (max 20 s)
    for ((i = 0; i < 200; i++)); do
        fds=$(nfds "$pid")
        if ((fds == last)); then ((++stable >= 10)) && break; else stable=0; fi
        last=$fds; sleep 0.1
    done
    sleep 0.5
    rss1=$(rss_kib "$pid"); fds1=$(nfds "$pid"); ng1=$(nginx_status haproxy)
    kill -USR1 "$cpid" 2>/dev/null
    for ((i = 0; i < 100; i++)); do grep -q '^ALIVE' "$base.client" 2>/dev/null && break; sleep 0.05; done
    check_proxy "$who" "$WORK/cfg/$scen.cfg" "$base.proxy.log"
    stop_pid "$cpid"
    ready=$(grep '^READY' "$base.client" | head -n 1)
    alive=$(awk '/^ALIVE/ { print $2; exit }' "$base.client")
    if [[ -z $ready || -z $alive || $alive == 0 || -z $rss0 || -z $rss1 ]]; then
        log "$scen: no connection held through ${NAME[$who]}: $(head -c 300 "$base.client")"
        LOAD_ERRORS=1
    else
        read -r _ a0 a1 _ <<< "$ready"
        ((a0 < HTTP_MEM_CONNS || alive < a0)) &&
            log "WARNING: $scen ${NAME[$who]}: $a0 of $HTTP_MEM_CONNS connections set up ($a1 failed), $alive still open at the end: $(grep -E '^(READY|ALIVE)' "$base.client" | tr '\n' ' ')"
        rec "$scen" rss_idle_KiB "$who" "$r" "$rss0"
        rec "$scen" rss_conns_KiB "$who" "$r" "$rss1"
        rec "$scen" bytes_per_conn "$who" "$r" "$(awk -v a="$rss0" -v b="$rss1" -v n="$alive" 'BEGIN { printf "%.0f", (b - a) * 1024 / n }')"
        rec "$scen" conns "$who" "$r" "$alive"
        rec "$scen" proxy_fds_per_conn "$who" "$r" "$(awk -v a="$fds0" -v b="$fds1" -v n="$alive" 'BEGIN { printf "%.3f", (b - a) / n }')"
        read -r a0 _ <<< "$ng0"; read -r a1 _ <<< "$ng1"
        [[ -n $a0 && -n $a1 ]] &&
            rec "$scen" srv_conns_per_conn "$who" "$r" "$(awk -v a="$a0" -v b="$a1" -v n="$alive" 'BEGIN { printf "%.3f", (b - a) / n }')"
    fi
}

# reload_storm: the proxy in master-worker mode (BIN -W -S DIR/master.sock -f
# CFG), "mode http" in front of nginx, under wrk keep-alive load (as
# http_ka_100; STORM_CLOSE=1: a new connection per request) for STORM_DUR s,
# reloaded by SIGUSR2 every STORM_INTERVAL s.  lib/reload_storm.py sends the
# signals and times each reload: SIGUSR2 -> the new worker listed by "show
# proc" on the master CLI -> the first probe request on the frontend port
# answered by that new worker (every response carries "x-pid: <worker pid>").
# Figures: req/s, failed requests (wrk's socket errors and statuses above 399,
# plus the probes that failed), reload latency median and max.  At the end the
# master gets SIGTERM and must exit, and no worker it ever had may be left.
PROXY_DIED=0
nginx_to_cpu() {                # CPU: pins the nginx backend (master and workers) there
    local m p
    m=$(cat "$WORK/nginx-haproxy/nginx.pid" 2>/dev/null) || return 0
    for p in $m $(pgrep -P "$m"); do taskset -a -p -c "$1" "$p" > /dev/null 2>&1; done
}
tree_cpu_ms() {                 # MASTER_PID: CPU ms of the master, its reaped children and its live ones
    local p t
    t=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
    for p in $(pgrep -P "$1"); do
        t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)))
    done
    echo $((t * 1000 / $(getconf CLK_TCK)))
}
run_storm() {                   # WHO ROUND
    local who=$1 r=$2 cfg dir base=$WORK/logs/reload_storm-$1-r$2 mpid wpid spid i rc hdr=() left
    M_BG=0; M_STEAL=0           # a storm of reloads is its own disturbance: no redo
    CONC_NOW=0; layout pinned
    cfg=$(gen_cfg reload_storm "$who")
    [[ $PINNED == 1 && $STORM_LAYOUT == proxy ]] && nginx_to_cpu "$PROXY_CPU"
    dir=$WORK/storm-$who; mkdir -p "$dir"; rm -f "$dir/master.sock"
    STORM_PIDS_FILE=$base.workers; STORM_BIN=${BIN[$who]}; : > "$STORM_PIDS_FILE"
    wait_port_free "$P_PROXY" || die 3 "proxy port $P_PROXY still busy"
    "${ON_PROXY_CPU[@]}" "${BIN[$who]}" -W -S "$dir/master.sock" -f "$cfg" > "$base.proxy.log" 2>&1 < /dev/null &
    mpid=$!; PROXY_PID[$who]=$mpid; PIDS+=("$mpid")
    wait_listen "$P_PROXY" "$mpid" 10; rc=$?
    if ((rc != 0)); then
        log "${NAME[$who]} (${BIN[$who]} -W -S $dir/master.sock -f $cfg) FAILED TO START in master-worker mode (wait_listen: $rc); its output:"
        tail -n 30 "$base.proxy.log" | sed 's/^/    | /' >&2
        abort 2
    fi
    [[ $STORM_CLOSE == 1 ]] && hdr=(-H "Connection: close")
    local cpu0 cpu1; cpu0=$(tree_cpu_ms "$mpid")
    timeout $((STORM_DUR + 15)) "${ON_LOAD_CPU[@]}" wrk -t1 -c"$WRK_CONNS" -d"${STORM_DUR}s" "${hdr[@]}" \
        -s "$LIB/wrk_report.lua" "http://127.0.0.1:$P_PROXY/100b" > "$base.wrk" 2>&1 < /dev/null &
    wpid=$!; PIDS+=("$wpid")
    timeout $((STORM_DUR + 60)) "${ON_LOAD_CPU[@]}" python3 "$LIB/reload_storm.py" "$mpid" "$dir/master.sock" \
        "$P_PROXY" "$STORM_DUR" "$STORM_INTERVAL" "$STORM_PIDS_FILE" > "$base.storm" 2>&1 < /dev/null &
    spid=$!; PIDS+=("$spid")
    reap "$wpid"; reap "$spid"
    local died=0
    if ! kill -0 "$mpid" 2>/dev/null; then
        reap "$mpid"; rc=$?
        log "${NAME[$who]}'s master (pid $mpid) DIED during the reload storm (exit status $rc); its output:"
        tail -n 30 "$base.proxy.log" | sed 's/^/    | /' >&2
        died=1; PROXY_DIED=1
    else
        cpu1=$(tree_cpu_ms "$mpid")
        # stop: SIGTERM to the master, which stops its workers and exits (10 s max)
        kill -TERM "$mpid" 2>/dev/null
        for ((i = 0; i < 100; i++)); do kill -0 "$mpid" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$mpid" 2>/dev/null; then
            log "WARNING: ${NAME[$who]}'s master (pid $mpid) still running 10 s after SIGTERM: SIGKILL"
            kill -KILL "$mpid" 2>/dev/null
        fi
        reap "$mpid"; rc=$?
        ((rc == 0)) || log "WARNING: ${NAME[$who]}'s master exited with status $rc after SIGTERM"
    fi
    PROXY_PID[$who]=""
    # no worker may outlive its master (2 s for the last ones to be reaped)
    for ((i = 0; i < 20; i++)); do [[ -z $(storm_leftovers) ]] && break; sleep 0.1; done
    left=$(storm_leftovers | tr '\n' ' ')
    if [[ -n $left ]]; then
        log "WARNING: ${NAME[$who]}: worker(s) $left still running after their master exited: SIGKILL"
        for i in $left; do kill -KILL "$i" 2>/dev/null; done
    fi
    [[ $PINNED == 1 && $STORM_LAYOUT == proxy ]] && nginx_to_cpu "$LOAD_CPU"
    local nworkers; nworkers=$(sort -un "$STORM_PIDS_FILE" | wc -l)
    STORM_PIDS_FILE=""

    local res sres _ req dur_us serr herr bytes p50 p99 ce re we te ok nfail perr s50 smax p50p maxp
    res=$(grep '^WRK_RESULT' "$base.wrk" | tail -n 1)
    sres=$(grep '^STORM_RESULT' "$base.storm" | tail -n 1)
    read -r _ req dur_us serr herr bytes p50 p99 ce re we te <<< "$res"
    read -r _ ok nfail perr s50 smax p50p maxp <<< "$sres"
    if [[ -z $res || ${req:-0} == 0 || -z $sres ]]; then
        log "reload_storm ${NAME[$who]} round $r: no result (wrk: $(tail -n 2 "$base.wrk" | tr '\n' ' '); storm: $(tail -n 3 "$base.storm" | tr '\n' ' '))"
        LOAD_ERRORS=1; return
    fi
    rec reload_storm req_s "$who" "$r" "$(awk -v n="$req" -v d="$dur_us" 'BEGIN { printf "%.1f", n / (d / 1e6) }')"
    rec reload_storm failures "$who" "$r" $((serr + herr + perr))
    [[ -n ${cpu1:-} ]] &&
        rec reload_storm cpu_us_per_req "$who" "$r" "$(awk -v c="$((cpu1 - cpu0))" -v n="$req" 'BEGIN { printf "%.2f", c * 1e3 / n }')"
    rec reload_storm p99_ms "$who" "$r" "$(awk -v x="$p99" 'BEGIN { printf "%.3f", x / 1e3 }')"
    [[ $s50 != - ]] && rec reload_storm reload_ms_p50 "$who" "$r" "$s50"
    [[ $smax != - ]] && rec reload_storm reload_ms_max "$who" "$r" "$smax"
    [[ $p50p != - ]] && rec reload_storm reload_proc_ms_p50 "$who" "$r" "$p50p"
    rec reload_storm reloads "$who" "$r" "$ok"
    rec reload_storm reloads_failed "$who" "$r" "$((nfail + died))"
    log "  ${NAME[$who]}: $(awk -v n="$req" -v d="$dur_us" 'BEGIN { printf "%.0f", n / (d / 1e6) }') req/s;" \
        "failed: connect $ce, read $re, write $we, timeout $te, status>399 $herr, probes $perr;" \
        "reloads $ok ok, $nfail failed$( ((died)) && echo ', master died');" \
        "SIGUSR2 -> new worker serving: median $s50 ms, max $smax ms (in show proc: median $p50p ms, max $maxp ms);" \
        "$nworkers workers seen, none left${left:+ but $left}"
    grep -m 5 '^\(RELOAD_FAILED\|PROBE_ERROR\)' "$base.storm" | sed 's/^/    | /' >&2
    return 0
}

seq_load() {                    # WHO N OUTFILE MAX_SECONDS: N sequential short connections through the proxy
    "${ON_LOAD_CPU[@]}" python3 "$LIB/seq_client.py" 127.0.0.1 "$(proxy_port "$1")" "$2" "$4" > "$3" 2>&1 < /dev/null && return 0
    log "seq_client: not every connection through ${NAME[$1]} got its reply: $(head -c 300 "$3")"
    return 1
}

# syscalls: strace -c attached to the proxy only for the measured connections
run_syscalls() {                # WHO ROUND
    local who=$1 r=$2 cfg base=$WORK/logs/syscalls-$1-r$2 pid sp i ok=0
    M_BG=0; M_STEAL=0           # a count, not a timed load: no disturbance check
    CONC_NOW=0; layout pinned
    cfg=$(gen_cfg syscalls "$who")
    start_proxy "$who" "$cfg" "$base.proxy.log"
    pid=${PROXY_PID[$who]}
    if seq_load "$who" "$COUNT_WARMUP" "$base.warmup" 60; then
        strace -f -c -o "$base.strace" -p "$pid" > "$base.strace.err" 2>&1 < /dev/null &
        sp=$!; PIDS+=("$sp")
        for ((i = 0; i < 200; i++)); do     # until strace is the proxy's tracer (10 s max)
            [[ $(awk '/^TracerPid:/ { print $2 }' /proc/"$pid"/status 2>/dev/null) == "$sp" ]] && { ok=1; break; }
            kill -0 "$sp" 2>/dev/null || break
            sleep 0.05
        done
        if ((ok)); then
            seq_load "$who" "$SYSCALL_CONNS" "$base.client" 120 || ok=0
        else
            log "strace could not attach to ${NAME[$who]} (pid $pid): $(head -c 300 "$base.strace.err")"
        fi
        stop_pid "$sp"          # SIGTERM: strace detaches and writes its -c table
    fi
    check_proxy "$who" "$cfg" "$base.proxy.log"
    stop_proxy "$who"
    if ((ok)) && [[ -s $base.strace ]]; then
        # strace -c rows: % time, seconds, usecs/call, calls, [errors,] syscall
        awk -v w="$who" -v r="$r" -v n="$SYSCALL_CONNS" '
            $NF != "total" && $4 ~ /^[0-9]+$/ && (NF == 5 || NF == 6) {
                printf "%s\t%s\t%s\t%d\t%d\t%d\n", w, r, $NF, $4, (NF == 6 ? $5 : 0), n; t += $4 }
            END { printf "%.2f\n", t / n > "/dev/stderr" }' "$base.strace" >> "$WORK/syscalls.tsv" 2> "$base.total"
        rec syscalls syscalls_per_conn "$who" "$r" "$(cat "$base.total")"
    else
        LOAD_ERRORS=1
    fi
}

# allocs: valgrind memcheck's "total heap usage: N allocs" after a soft stop,
# for ALLOC_N1 then ALLOC_N2 connections: start-up allocations cancel out
run_allocs() {                  # WHO ROUND
    local who=$1 r=$2 cfg n i pid rc base res counts=()
    M_BG=0; M_STEAL=0
    CONC_NOW=0; layout pinned
    cfg=$(gen_cfg allocs "$who")
    for n in "$ALLOC_N1" "$ALLOC_N2"; do
        base=$WORK/logs/allocs-$who-r$r-n$n
        PROXY_WRAP=(valgrind --tool=memcheck --leak-check=no --log-file="$base.valgrind")
        start_proxy "$who" "$cfg" "$base.proxy.log" 60
        pid=${PROXY_PID[$who]}
        seq_load "$who" "$n" "$base.client" 120 || LOAD_ERRORS=1
        check_proxy "$who" "$cfg" "$base.proxy.log"
        kill -USR1 "$pid"       # soft stop: finish, exit 0; valgrind then prints its summary
        for ((i = 0; i < 300; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$pid" 2>/dev/null; then
            log "WARNING: ${NAME[$who]} under valgrind did not exit 30 s after SIGUSR1: stopping it"
            stop_proxy "$who"; rc=killed
        else
            reap "$pid"; rc=$?; PROXY_PID[$who]=""
        fi
        PROXY_WRAP=()
        res=$(sed -n 's/.*total heap usage: \([0-9,]*\) allocs, [0-9,]* frees, \([0-9,]*\) bytes allocated.*/\1 \2/p' \
              "$base.valgrind" 2>/dev/null | tr -d , | tail -n 1)
        if [[ -z $res ]]; then
            log "allocs: no valgrind heap summary for ${NAME[$who]} ($n connections, exit status $rc): $(tail -n 3 "$base.valgrind" "$base.proxy.log" 2>/dev/null | tr '\n' ' ')"
            LOAD_ERRORS=1; return
        fi
        counts+=("$res")
    done
    local a1 b1 a2 b2
    read -r a1 b1 <<< "${counts[0]}"; read -r a2 b2 <<< "${counts[1]}"
    rec allocs allocs_per_conn "$who" "$r" "$(awk -v a="$a1" -v b="$a2" -v n="$ALLOC_N1" -v m="$ALLOC_N2" 'BEGIN { printf "%.2f", (b - a) / (m - n) }')"
    rec allocs alloc_bytes_per_conn "$who" "$r" "$(awk -v a="$b1" -v b="$b2" -v n="$ALLOC_N1" -v m="$ALLOC_N2" 'BEGIN { printf "%.1f", (b - a) / (m - n) }')"
    rec allocs allocs_startup "$who" "$r" "$(awk -v a="$a1" -v b="$a2" -v n="$ALLOC_N1" -v m="$ALLOC_N2" 'BEGIN { printf "%.0f", a - n * (b - a) / (m - n) }')"
}

# -------------------------------------------------------------------- main
CONC_LIST=""
for scen in "${SCEN_LIST[@]}"; do concurrent_scen "$scen" && CONC_LIST+=${CONC_LIST:+,}$scen; done
summarize() {
    python3 "$LIB/summary.py" "$RESULTS" "$WORK/summary.tsv" "$MODE" "$CONC_LIST" "$WORK/syscalls.tsv"
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
log "mode $MODE${CONC_LIST:+ (both proxies at once in $CONC_LIST)}; scenarios $SCENARIOS; rounds ${CONC_LIST:+$CONC_ROUNDS at once, }$ALONE_ROUNDS alone, $COUNT_ROUNDS for syscalls and allocs; bulk ${DUR}s; connrate and http wrk ${CONN_DUR}s (+${WARMUP}s warm-up, wrk -c$WRK_CONNS); syscalls $SYSCALL_CONNS conns; allocs $ALLOC_N1 and $ALLOC_N2 conns; maxconn $MAXCONN_PLAIN (splice $MAXCONN_SPLICE); idle conns $MEM_CONNS (http $HTTP_MEM_CONNS); reload_storm $STORM_ROUNDS round(s) of ${STORM_DUR}s, SIGUSR2 every ${STORM_INTERVAL}s, nginx on the $STORM_LAYOUT core$( [[ $STORM_CLOSE == 1 ]] && echo ", Connection: close"); proxy CPU ${ON_PROXY_CPU[*]:-none}, load+backends ${ON_LOAD_CPU[*]:-none}; nofile $NOFILE"
start_backends
for scen in "${SCEN_LIST[@]}"; do
    log "$scen$(concurrent_scen "$scen" && echo ': both proxies at once')"
    [[ $scen == http_rules ]] && check_rules
    redos=0; nr=$ALONE_ROUNDS
    concurrent_scen "$scen" && nr=$CONC_ROUNDS
    [[ $scen == syscalls || $scen == allocs ]] && nr=$COUNT_ROUNDS
    [[ $scen == reload_storm ]] && nr=$STORM_ROUNDS
    for ((r = 1; r <= nr; r++)); do
        if [[ $scen == direct ]]; then
            order=(direct:1 direct:10)
            [[ ,$SCENARIOS, == *_shared,* && $PINNED == 1 ]] && order+=(direct:1:shared direct:10:shared)
        elif ((r % 2)); then order=(haproxy rs)
        else order=(rs haproxy); fi
        if concurrent_scen "$scen"; then
            while :; do
                run_pair "$scen" "$r" "${order[@]}"
                if disturbed "$scen" both "$r" "$redos"; then PENDING=(); redos=$((redos + 1)); continue; fi
                flush; break
            done
            continue
        fi
        for who in "${order[@]}"; do
            while :; do
                case $scen:$who in
                    direct:*) IFS=: read -r _d streams share <<< "$who"; run_direct "$r" "$streams" "$share" ;;
                    syscalls:*) run_syscalls "$who" "$r" ;;
                    allocs:*) run_allocs "$who" "$r" ;;
                    reload_storm:*) run_storm "$who" "$r" ;;
                    *) run_proxied "$scen" "$who" "$r" ;;
                esac
                if disturbed "$scen" "$who" "$r" "$redos"; then PENDING=(); redos=$((redos + 1)); continue; fi
                flush; break
            done
        done
    done
done
cleanup
summarize
log "total $(($(date +%s) - T0)) s"
((PROXY_DIED)) && { log "a proxy's master died during reload_storm (see messages above)"; exit 2; }
((LOAD_ERRORS)) && { log "a load generator produced no result (see messages above)"; exit 4; }
exit 0
