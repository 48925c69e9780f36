# Shell functions shared by the load benchmarks under benches/. Source it from a bash script
# that runs with `set -euo pipefail`; it sets an EXIT trap that stops every process started
# with bench_start, by its PID.

bench_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bench_pids=()
bench_cleanups=()

bench_log() { printf 'bench: %s\n' "$*" >&2; }

# bench_fail MESSAGE [DETAIL...]: prints the message and each detail on its own line, and exits.
bench_fail() {
    printf 'bench: FAILED: %s\n' "$1" >&2
    shift
    [ $# -eq 0 ] || printf '%s\n' "$@" >&2
    exit 1
}

bench_on_exit() {
    local pid cleanup
    for pid in "${bench_pids[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            # Envoy and Apache stop within a second or two; give them up to 10 s, then KILL.
            for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -KILL "$pid" 2>/dev/null || true
        fi
        wait "$pid" 2>/dev/null || true
    done
    for cleanup in "${bench_cleanups[@]}"; do
        eval "$cleanup" || true
    done
}
trap bench_on_exit EXIT

# bench_cleanup COMMAND: runs COMMAND on exit, after the processes are stopped.
bench_cleanup() { bench_cleanups+=("$1"); }

# bench_build_bench NAME CARGO_ARGS...: builds the bench target NAME in release mode with the
# extra cargo arguments (features, target), its output on stderr, and prints its executable.
bench_build_bench() {
    local name=$1 executable
    shift
    cargo build --release --bench "$name" "$@" >&2
    executable=$(cargo build --release --bench "$name" "$@" --message-format=json 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == sys.argv[1] and m.get("executable"):
        print(m["executable"])' "$name")
    [ -n "$executable" ] || bench_fail "building the bench target $name gave no executable"
    printf '%s\n' "$executable"
}

# bench_start LOG PROGRAM ARGS...: starts PROGRAM in the background, in a session of its own,
# with its output in LOG, and sets bench_pid to its PID. The EXIT trap stops it; bench_stop
# stops it earlier. The own session matters: Apache stops by signalling its whole process
# group, which would otherwise include this script.
bench_start() {
    local log=$1
    shift
    setsid "$@" </dev/null >>"$log" 2>&1 &
    bench_pid=$!
    bench_pids+=("$bench_pid")
}

# bench_stop PID: stops one process started by bench_start and waits for it.
bench_stop() {
    local pid=$1
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# bench_free_port: prints a loopback TCP port that was free a moment ago.
bench_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# bench_wait_url PID URL [SECONDS]: waits until URL responds at all (any HTTP status), or fails
# when the process PID exits first or the time (default 60 s) runs out.
bench_wait_url() {
    local pid=$1 url=$2 seconds=${3:-60}
    local tries=$((seconds * 10))
    for _ in $(seq 1 "$tries"); do
        kill -0 "$pid" 2>/dev/null || return 1
        curl -s -o /dev/null --max-time 2 "$url" && return 0
        sleep 0.1
    done
    return 1
}

# bench_ensure_apt PACKAGE...: installs the Debian packages that are missing. Services that a
# package would start are kept stopped with a policy-rc.d that denies every start, added only
# when the machine has none and removed afterwards.
bench_ensure_apt() {
    local missing=() package
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    bench_log "installing ${missing[*]} with apt-get"
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    local policy=/usr/sbin/policy-rc.d added_policy=
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
        "${sudo[@]}" chmod 755 "$policy"
        added_policy=1
    fi
    local status=0
    if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2; then
        "${sudo[@]}" apt-get update >&2 || true
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2 || status=$?
    fi
    [ -z "$added_policy" ] || "${sudo[@]}" rm -f "$policy"
    return "$status"
}

# bench_wrk LABEL CONNECTIONS SECONDS URL STATUS EXPECT [HEADER...]: a warm-up of 3 s
# (bench_warm), then a measured run (bench_measure). After each, it runs the command in
# $bench_settle when the caller set one, to wait until the server has closed the connections.
bench_wrk() {
    bench_warm "$2" "$4" "$5" "$6" "${@:7}"
    ${bench_settle:-:}
    bench_measure "$@"
    ${bench_settle:-:}
}

# bench_warm CONNECTIONS URL STATUS EXPECT [HEADER...]: 3 s of load, not reported.
bench_warm() {
    local connections=$1 url=$2 status=$3 expect=$4
    shift 4
    local headers=() header
    for header in "$@"; do headers+=(-H "$header"); done
    bench_log "warm-up: $connections connection(s), $url"
    wrk -t "$connections" -c "$connections" -d 3s --timeout 10s "${headers[@]}" \
        -s "$bench_root/benches/wrk-report.lua" "$url" -- "$status" "$expect" >/dev/null
}

# bench_measure LABEL CONNECTIONS SECONDS URL STATUS EXPECT [HEADER...]: SECONDS of load with
# CONNECTIONS connections on as many wrk threads. Prints one result line
# "load label=LABEL connections=N seconds=S requests=N min_ms=... p50_ms=... ..." to stdout.
# Fails when any answer did not have status STATUS and EXPECT in its body, or when wrk saw a
# socket error.
bench_measure() {
    local label=$1 connections=$2 seconds=$3 url=$4 status=$5 expect=$6
    shift 6
    local headers=() header
    for header in "$@"; do headers+=(-H "$header"); done
    bench_log "$label: $seconds s, $connections connection(s)"
    local output line
    output=$(wrk -t "$connections" -c "$connections" -d "${seconds}s" --timeout 10s "${headers[@]}" \
        -s "$bench_root/benches/wrk-report.lua" "$url" -- "$status" "$expect")
    line=$(grep '^wrk-report ' <<<"$output") || bench_fail "$label: wrk printed no report" "$output"
    local unexpected errors
    unexpected=$(sed -n 's/.* unexpected=\([0-9]*\).*/\1/p' <<<"$line")
    errors=$(sed -n 's/.* socket_errors=\([0-9]*\).*/\1/p' <<<"$line")
    [ "$unexpected" = 0 ] || bench_fail "$label: $unexpected answers were not $status with '$expect' in the body" "$line"
    [ "$errors" = 0 ] || bench_fail "$label: wrk saw $errors socket errors" "$line"
    echo "load label=$label connections=$connections seconds=$seconds ${line#wrk-report }"
}

# bench_rss_kib PID: prints the resident set size of process PID in KiB.
bench_rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# bench_start_envoy ENVOY CONFIG CONCURRENCY ADMIN_PORT LOG: starts Envoy with --concurrency
# CONCURRENCY, sets bench_pid, and waits until its admin port reports it ready.
bench_start_envoy() {
    local envoy=$1 config=$2 concurrency=$3 admin_port=$4 log=$5
    bench_start "$log.out" "$envoy" --config-path "$config" --log-path "$log" --log-level info \
        --concurrency "$concurrency" --disable-hot-restart
    local tries
    for tries in $(seq 1 600); do
        kill -0 "$bench_pid" 2>/dev/null || bench_fail "Envoy exited before it was ready" "$(tail -n 20 "$log")"
        [ "$(curl -s --max-time 2 "http://127.0.0.1:$admin_port/ready" 2>/dev/null)" = LIVE ] && return 0
        sleep 0.1
    done
    bench_fail "Envoy was not ready within 60 s" "$(tail -n 20 "$log")"
}

# bench_envoy_stat ADMIN_PORT NAME: prints the value of one Envoy stat (0 when it is absent).
bench_envoy_stat() {
    local value
    value=$(curl -s --max-time 5 "http://127.0.0.1:$1/stats?filter=^$2\$" | sed -n "s/^$2: //p")
    echo "${value:-0}"
}
