//! Sends the same HTTP/1.1 GET to several servers in turn, over one keep-alive connection per
//! server, and prints each server's latency distribution. `benches/scim-gate` runs it against
//! the gated, plain and pass Envoys, whose requests then alternate one by one. A drift of the
//! machine's speed during the run (other load, the upstream's state) so falls on all of them
//! alike, where separate runs of several seconds each catch it at different times.
//!
//! Usage: `interleave SECONDS WARMUP_SECONDS PATH HEADER BODY_TEXT LABEL=PORT...`, for example
//! `cargo bench --no-default-features --bench interleave -- 10 3 /scim/v2/Users
//! "Authorization: Bearer TOKEN" ListResponse gated=10000 plain=10001` (`--no-default-features`
//! leaves out the command line, which Cargo would otherwise build and link beside it).
//!
//! Each cycle sends one request to every server, in an order shuffled per cycle (fixed seed),
//! and waits for each whole response before the next request. Every response must be a 200 whose
//! body contains BODY_TEXT. Requests during the first WARMUP_SECONDS are sent but not counted.
//! Prints one line per server, in the order given:
//! `label=.. requests=.. sent=.. min_ms=.. p50_ms=.. p90_ms=.. p99_ms=..` (`requests` counted,
//! `sent` with the warm-up), then `cycles=..`.
//! Latency runs from the first byte written to the last byte of the body read, as wrk measures it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// The largest response body this client reads. A SCIM list of the benchmark's users is a few KiB.
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// The time any one request may take before the run fails.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

fn main() -> ExitCode {
    // `cargo bench` passes `--bench` to every bench target. Without servers there is nothing
    // to measure, so a plain `cargo bench` leaves this one out instead of failing.
    let args: Vec<String> = std::env::args().skip(1).filter(|arg| arg != "--bench").collect();
    if args.is_empty() && std::env::args().any(|arg| arg == "--bench") {
        eprintln!("interleave: no servers given, so nothing to measure. benches/scim-gate runs it with its Envoys.");
        return ExitCode::SUCCESS;
    }
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("interleave: {message}");
            ExitCode::FAILURE
        }
    }
}

/// One server under test and the latencies measured against it, in microseconds.
struct Target {
    label: String,
    port: u16,
    connection: BufReader<TcpStream>,
    latencies_us: Vec<u64>,
    sent: u64,
}

fn run(args: Vec<String>) -> Result<(), String> {
    let usage = "usage: interleave SECONDS WARMUP_SECONDS PATH HEADER BODY_TEXT LABEL=PORT...";
    let [seconds, warmup, path, header, body_text, servers @ ..] = args.as_slice() else {
        return Err(usage.to_owned());
    };
    let seconds: u64 = seconds.parse().map_err(|_| format!("SECONDS must be a whole number, not {seconds:?}. {usage}"))?;
    let warmup: u64 =
        warmup.parse().map_err(|_| format!("WARMUP_SECONDS must be a whole number, not {warmup:?}. {usage}"))?;
    if servers.is_empty() {
        return Err(format!("no LABEL=PORT given. {usage}"));
    }
    let mut targets = servers.iter().map(|server| connect(server)).collect::<Result<Vec<_>, _>>()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{header}\r\n\r\n").into_bytes();

    let start = Instant::now();
    let (warmup, end) = (Duration::from_secs(warmup), Duration::from_secs(warmup + seconds));
    let mut order: Vec<usize> = (0..targets.len()).collect();
    let mut random = 0x9e37_79b9_7f4a_7c15u64;
    let mut cycles = 0u64;
    while start.elapsed() < end {
        shuffle(&mut order, &mut random);
        let counted = start.elapsed() >= warmup;
        for &index in &order {
            let target = &mut targets[index];
            let began = Instant::now();
            let body = exchange(&mut target.connection, &request)
                .map_err(|e| format!("{} (127.0.0.1:{}): {e}", target.label, target.port))?;
            let elapsed = began.elapsed();
            target.sent += 1;
            if !body.contains(body_text.as_str()) {
                return Err(format!(
                    "{} (127.0.0.1:{}): the response body does not contain {body_text:?}",
                    target.label, target.port
                ));
            }
            if counted {
                target.latencies_us.push(u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX));
            }
        }
        cycles += u64::from(counted);
    }

    for target in &mut targets {
        target.latencies_us.sort_unstable();
        let quantile = |q: f64| percentile_ms(&target.latencies_us, q);
        println!(
            "label={} requests={} sent={} min_ms={:.3} p50_ms={:.3} p90_ms={:.3} p99_ms={:.3}",
            target.label,
            target.latencies_us.len(),
            target.sent,
            quantile(0.0),
            quantile(0.5),
            quantile(0.9),
            quantile(0.99)
        );
    }
    println!("cycles={cycles}");
    Ok(())
}

/// Opens the keep-alive connection for `LABEL=PORT` on loopback.
fn connect(server: &str) -> Result<Target, String> {
    let (label, port) =
        server.split_once('=').ok_or_else(|| format!("{server:?} is not LABEL=PORT, such as gated=10000"))?;
    let port: u16 = port.parse().map_err(|_| format!("{server:?}: the port must be a number from 1 to 65535"))?;
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let stream = TcpStream::connect_timeout(&address, REQUEST_TIMEOUT)
        .map_err(|e| format!("{label}: cannot connect to {address}: {e}. Is the server running?"))?;
    stream.set_nodelay(true).map_err(|e| format!("{label}: cannot set TCP_NODELAY: {e}"))?;
    stream.set_read_timeout(Some(REQUEST_TIMEOUT)).map_err(|e| format!("{label}: cannot set a read timeout: {e}"))?;
    Ok(Target { label: label.to_owned(), port, connection: BufReader::new(stream), latencies_us: Vec::new(), sent: 0 })
}

/// Sends `request` and reads one whole response, which must be a 200 with a `Content-Length`
/// or chunked body, and returns the body.
fn exchange(connection: &mut BufReader<TcpStream>, request: &[u8]) -> Result<String, String> {
    connection.get_mut().write_all(request).map_err(|e| format!("sending the request failed: {e}"))?;
    let mut line = String::new();
    read_line(connection, &mut line)?;
    let status = line.split_whitespace().nth(1).unwrap_or("");
    if status != "200" {
        return Err(format!("expected status 200, got the status line {:?}", line.trim_end()));
    }
    let (mut length, mut chunked) = (None, false);
    loop {
        line.clear();
        read_line(connection, &mut line)?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':').unwrap_or((header, ""));
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(value.trim().parse::<usize>().map_err(|_| format!("invalid Content-Length {value:?}"))?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") && value.trim().eq_ignore_ascii_case("chunked") {
            chunked = true;
        }
    }
    let body = match (length, chunked) {
        (Some(length), false) => read_exact(connection, length)?,
        (None, true) => read_chunked(connection)?,
        _ => return Err("the response has neither a Content-Length nor a chunked body".to_owned()),
    };
    String::from_utf8(body).map_err(|_| "the response body is not UTF-8".to_owned())
}

fn read_line(connection: &mut BufReader<TcpStream>, line: &mut String) -> Result<(), String> {
    match connection.read_line(line) {
        Ok(0) => Err("the server closed the connection".to_owned()),
        Ok(_) => Ok(()),
        Err(e) => Err(format!("reading the response failed: {e}")),
    }
}

fn read_exact(connection: &mut BufReader<TcpStream>, length: usize) -> Result<Vec<u8>, String> {
    if length > MAX_BODY_BYTES {
        return Err(format!("the body has {length} bytes, more than the {MAX_BODY_BYTES} this client reads"));
    }
    let mut body = vec![0; length];
    connection.read_exact(&mut body).map_err(|e| format!("reading the body failed: {e}"))?;
    Ok(body)
}

fn read_chunked(connection: &mut BufReader<TcpStream>) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        read_line(connection, &mut line)?;
        let size = line.trim_end().split(';').next().unwrap_or("");
        let size = usize::from_str_radix(size, 16).map_err(|_| format!("invalid chunk size line {:?}", line.trim_end()))?;
        if size == 0 {
            // The last chunk, then optional trailers up to an empty line.
            loop {
                line.clear();
                read_line(connection, &mut line)?;
                if line.trim_end().is_empty() {
                    return Ok(body);
                }
            }
        }
        if body.len() + size > MAX_BODY_BYTES {
            return Err(format!("the body has more than the {MAX_BODY_BYTES} bytes this client reads"));
        }
        body.extend(read_exact(connection, size)?);
        line.clear();
        read_line(connection, &mut line)?;
    }
}

/// Shuffles `order` in place (Fisher-Yates) with a xorshift generator: the order only needs to
/// vary from cycle to cycle, not to be unpredictable.
fn shuffle(order: &mut [usize], state: &mut u64) {
    for i in (1..order.len()).rev() {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        let j = (*state % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
}

/// Returns the nearest-rank percentile `q` (0 to 1) of sorted microseconds, in milliseconds.
fn percentile_ms(sorted_us: &[u64], q: f64) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted_us.len() as f64).ceil() as usize).clamp(1, sorted_us.len());
    sorted_us[rank - 1] as f64 / 1000.0
}
