//! Rate limits shared by every Envoy worker: a token bucket per bearer token, and a window
//! of failed authentications per client address.
//!
//! Every failed authentication also moves a single marker, the end of the latest failure
//! window ([`failures_recent`]). While no window is open, no client can be throttled, so
//! the gate skips reading the client's address and counter, up to four crossings between
//! Envoy and the VM that an accepted request would otherwise make.
//!
//! Each worker runs its own VM, so the state lives in the host's shared data, reached
//! through [`SharedStore`]. Updates are read-modify-write with compare-and-swap: a worker
//! that loses a race reads the new value and tries again, at most [`MAX_CAS_ATTEMPTS`]
//! times.
//!
//! A worker takes requests from a token's bucket a few at a time, as a [`Lease`] that it
//! spends in its own memory. A busy token's bucket is then read and written (three
//! crossings) once per lease instead of once per request. [`RateLimit::lease_permits`]
//! gives the size and what it changes in the limit.

use std::net::{IpAddr, SocketAddr};

use sha2::{Digest, Sha256};

/// Key-value storage shared by all workers, with compare-and-swap. In Envoy this is
/// proxy-wasm's `get_shared_data` and `set_shared_data`.
pub trait SharedStore {
    /// Returns the value stored under `key` and its version number (CAS).
    fn get(&self, key: &str) -> Option<(Vec<u8>, u32)>;

    /// Stores `value` under `key`. With `Some(cas)`, fails with [`StoreError::CasMismatch`]
    /// when the stored version is no longer `cas`.
    fn set(&mut self, key: &str, value: &[u8], cas: Option<u32>) -> Result<(), StoreError>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreError {
    /// Another worker changed the value since it was read.
    CasMismatch,
    /// The host refused the write for another reason.
    Unavailable,
}

/// Compare-and-swap attempts before giving up. Sixteen workers updating the same token's
/// bucket at the same instant is already far beyond what one Envoy host runs.
pub const MAX_CAS_ATTEMPTS: usize = 16;

/// A token bucket: `burst` requests at once, refilled at `requests_per_second`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub requests_per_second: u32,
    pub burst: u32,
}

impl Default for RateLimit {
    /// 100 requests per second with a burst of 2000. An estimate sized for a "force sync"
    /// of several thousand users, which costs a lookup and a create or update per user:
    /// 5000 users take about 80 seconds. Okta and Entra ID retry a 429 after `Retry-After`.
    fn default() -> Self {
        Self { requests_per_second: 100, burst: 2000 }
    }
}

impl RateLimit {
    /// Returns how many requests one [`Lease`] takes from the bucket: what the bucket refills
    /// in [`LEASE_MILLIS`], at most a sixteenth of the burst and [`MAX_LEASE_PERMITS`], and at
    /// least one. A token with a small limit therefore takes one request at a time, exactly
    /// as without leases.
    ///
    /// What a lease changes:
    /// - A worker keeps at most `lease_permits() - 1` requests that the other workers no
    ///   longer see in the bucket, so a client close to its limit may get a 429 that many
    ///   requests early per worker. Leftovers that expire are dropped, never given back.
    /// - Requests taken from the bucket are spent up to [`LEASE_MILLIS`] later. Over any
    ///   interval, a client therefore gets at most `LEASE_MILLIS` worth of refill more than
    ///   an exact bucket allows, which is at most `lease_permits()` requests for a single
    ///   worker.
    pub fn lease_permits(self) -> u32 {
        let refill = u64::from(self.requests_per_second) * LEASE_MILLIS / 1000;
        let share = u64::from(self.burst) / 16;
        let permits = refill.min(share).min(u64::from(MAX_LEASE_PERMITS)).max(1);
        u32::try_from(permits).unwrap_or(1)
    }
}

/// How long the requests of a [`Lease`] stay usable after they were taken.
pub const LEASE_MILLIS: u64 = 100;

/// Maximum number of requests that one [`Lease`] takes.
pub const MAX_LEASE_PERMITS: u32 = 64;

/// Requests that one worker has taken from a token's shared bucket and not yet spent.
/// It lives in the worker's VM, one per token, and starts empty.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Lease {
    permits: u32,
    taken_millis: u64,
}

impl Lease {
    /// Spends one request if the lease has one left and is still fresh at `now_millis`. A
    /// clock that went back before the lease was taken also ends it.
    fn spend(&mut self, now_millis: u64) -> bool {
        let fresh = now_millis >= self.taken_millis && now_millis - self.taken_millis < LEASE_MILLIS;
        if self.permits == 0 || !fresh {
            *self = Self::default();
            return false;
        }
        self.permits -= 1;
        true
    }

    /// Returns the requests left, for tests and logs.
    pub fn permits(&self) -> u32 {
        self.permits
    }
}

/// At most `max_failures` failed authentications per client address within
/// `window_seconds`, after which every request from the address gets 429 until the
/// window ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureLimit {
    pub max_failures: u32,
    pub window_seconds: u32,
}

impl Default for FailureLimit {
    /// 20 failures per minute: a client with a wrong token fails a few times per sync, while
    /// guessing gets nowhere.
    fn default() -> Self {
        Self { max_failures: 20, window_seconds: 60 }
    }
}

/// The outcome of taking one request from a bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Allowed,
    Limited {
        retry_after_seconds: u64,
    },
    /// Every compare-and-swap attempt lost.
    Contended,
    Unavailable,
}

/// Milli-requests per request: bucket levels are kept in thousandths so that refills at
/// any rate are exact to the millisecond.
const MILLI: u64 = 1000;
const STATE_VERSION: u8 = 1;

/// Returns the shared-data key of a token's bucket. Token ids are limited to
/// `[A-Za-z0-9._-]` by configuration validation.
pub fn bucket_key(token_id: &str) -> String {
    format!("edgeidp.scim.rate.{token_id}")
}

/// Takes one request for the token whose bucket is under `key`: from the worker's `lease`
/// while it lasts, otherwise from the bucket, along with a new lease of up to
/// [`RateLimit::lease_permits`] requests. A lease takes no more than the bucket contains. A key
/// with no (or unreadable) state starts full.
pub fn take(store: &mut dyn SharedStore, key: &str, limit: RateLimit, now_millis: u64, lease: &mut Lease) -> Admission {
    if lease.spend(now_millis) {
        return Admission::Allowed;
    }
    let capacity = u64::from(limit.burst) * MILLI;
    let refill_per_milli = u64::from(limit.requests_per_second);

    for _ in 0..MAX_CAS_ATTEMPTS {
        let stored = store.get(key);
        let cas = stored.as_ref().map(|(_, cas)| *cas);
        let (updated, level) = stored.and_then(|(bytes, _)| decode_bucket(&bytes)).unwrap_or((now_millis, capacity));

        let elapsed = now_millis.saturating_sub(updated);
        let level = level.saturating_add(elapsed.saturating_mul(refill_per_milli)).min(capacity);
        if level < MILLI {
            let wait_millis = (MILLI - level).div_ceil(refill_per_milli.max(1));
            return Admission::Limited { retry_after_seconds: wait_millis.div_ceil(1000).max(1) };
        }

        let permits = (level / MILLI).min(u64::from(limit.lease_permits()));
        let state = encode_bucket(updated.max(now_millis), level - permits * MILLI);
        match store.set(key, &state, cas) {
            Ok(()) => {
                // `permits` is at least one, because `level` is at least `MILLI`, and at most
                // `MAX_LEASE_PERMITS`.
                let spare = u32::try_from(permits - 1).unwrap_or(0);
                *lease = Lease { permits: spare, taken_millis: now_millis };
                return Admission::Allowed;
            }
            Err(StoreError::CasMismatch) => continue,
            Err(StoreError::Unavailable) => return Admission::Unavailable,
        }
    }
    Admission::Contended
}

fn encode_bucket(updated_millis: u64, level: u64) -> Vec<u8> {
    let mut bytes = vec![STATE_VERSION];
    bytes.extend_from_slice(&updated_millis.to_le_bytes());
    bytes.extend_from_slice(&level.to_le_bytes());
    bytes
}

fn decode_bucket(bytes: &[u8]) -> Option<(u64, u64)> {
    let (&version, rest) = bytes.split_first()?;
    if version != STATE_VERSION || rest.len() != 16 {
        return None;
    }
    let (updated, level) = rest.split_at(8);
    Some((u64::from_le_bytes(updated.try_into().ok()?), u64::from_le_bytes(level.try_into().ok()?)))
}

/// Client addresses share this many failure counters. The proxy-wasm ABI cannot delete
/// shared data, so one counter per address would let a client with many addresses grow
/// the store without bound. A collision only makes two addresses share a limit.
pub const FAILURE_SLOTS: u32 = 4096;

/// Returns the shared-data key of the failure counter for `address` (Envoy's
/// `source.address`, `ip:port` or `[ipv6]:port`). IPv6 addresses count per /64, the
/// smallest network a host is usually given. `secret` keys the slot choice, so that a
/// client cannot pick addresses that share a slot with someone else's.
pub fn failure_key(secret: &[u8; 32], address: Option<&str>) -> String {
    let normalized = address.map(normalize_address).unwrap_or_default();
    let mut hasher = Sha256::new();
    hasher.update(secret);
    hasher.update(normalized.as_bytes());
    let [a, b, c, d, ..] = <[u8; 32]>::from(hasher.finalize());
    let slot = u32::from_be_bytes([a, b, c, d]) % FAILURE_SLOTS;
    format!("edgeidp.scim.failures.{slot}")
}

fn normalize_address(address: &str) -> String {
    let ip = address
        .parse::<SocketAddr>()
        .map(|socket| socket.ip())
        .or_else(|_| address.trim_matches(['[', ']']).parse::<IpAddr>());
    match ip {
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let network = u128::from(v6) & !((1u128 << 64) - 1);
                format!("{}/64", std::net::Ipv6Addr::from(network))
            }
        },
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Err(_) => address.to_owned(),
    }
}

/// The shared-data key of the marker: the end, in seconds since the epoch, of the latest
/// failure window of any client.
pub const RECENT_FAILURES_KEY: &str = "edgeidp.scim.failures.recent";

/// Returns whether a failure window may be open at `now_seconds`, for some client. A
/// marker that does not decode counts as open.
pub fn failures_recent(store: &dyn SharedStore, now_seconds: u64) -> bool {
    match store.get(RECENT_FAILURES_KEY) {
        None => false,
        Some((bytes, _)) => decode_marker(&bytes).is_none_or(|end| now_seconds < end),
    }
}

/// Moves the marker to `end_seconds` unless it is already later.
fn mark_recent_failure(store: &mut dyn SharedStore, end_seconds: u64) -> Result<(), StoreError> {
    for _ in 0..MAX_CAS_ATTEMPTS {
        let stored = store.get(RECENT_FAILURES_KEY);
        let cas = stored.as_ref().map(|(_, cas)| *cas);
        if stored.and_then(|(bytes, _)| decode_marker(&bytes)).is_some_and(|end| end >= end_seconds) {
            return Ok(());
        }
        let mut bytes = vec![STATE_VERSION];
        bytes.extend_from_slice(&end_seconds.to_le_bytes());
        match store.set(RECENT_FAILURES_KEY, &bytes, cas) {
            Ok(()) => return Ok(()),
            Err(StoreError::CasMismatch) => continue,
            Err(error) => return Err(error),
        }
    }
    Err(StoreError::CasMismatch)
}

fn decode_marker(bytes: &[u8]) -> Option<u64> {
    match bytes.split_first()? {
        (&STATE_VERSION, end) => Some(u64::from_le_bytes(end.try_into().ok()?)),
        _ => None,
    }
}

/// Returns the seconds until the window ends if the counter under `key` has reached the
/// limit.
pub fn throttled(store: &dyn SharedStore, key: &str, limit: FailureLimit, now_seconds: u64) -> Option<u64> {
    let (start, count) = store.get(key).and_then(|(bytes, _)| decode_window(&bytes))?;
    let end = start.saturating_add(u64::from(limit.window_seconds));
    (now_seconds < end && count >= limit.max_failures).then(|| end - now_seconds)
}

/// Counts one failed authentication under `key`, starting a new window when the last one
/// has ended. The marker moves first, so a worker that reads the new count also reads the
/// new marker. A window ends at most `window_seconds` after its last failure, so the marker
/// covers every open window. If the marker cannot move, the count is still recorded and
/// the error returned.
pub fn record_failure(
    store: &mut dyn SharedStore,
    key: &str,
    limit: FailureLimit,
    now_seconds: u64,
) -> Result<(), StoreError> {
    let marked = mark_recent_failure(store, now_seconds.saturating_add(u64::from(limit.window_seconds)));
    for _ in 0..MAX_CAS_ATTEMPTS {
        let stored = store.get(key);
        let cas = stored.as_ref().map(|(_, cas)| *cas);
        let window = stored.and_then(|(bytes, _)| decode_window(&bytes));
        let (start, count) = match window {
            Some((start, count)) if now_seconds < start.saturating_add(u64::from(limit.window_seconds)) => {
                (start, count.saturating_add(1))
            }
            _ => (now_seconds, 1),
        };
        match store.set(key, &encode_window(start, count), cas) {
            Ok(()) => return marked,
            Err(StoreError::CasMismatch) => continue,
            Err(error) => return Err(error),
        }
    }
    Err(StoreError::CasMismatch)
}

fn encode_window(start_seconds: u64, count: u32) -> Vec<u8> {
    let mut bytes = vec![STATE_VERSION];
    bytes.extend_from_slice(&start_seconds.to_le_bytes());
    bytes.extend_from_slice(&count.to_le_bytes());
    bytes
}

fn decode_window(bytes: &[u8]) -> Option<(u64, u32)> {
    let (&version, rest) = bytes.split_first()?;
    if version != STATE_VERSION || rest.len() != 12 {
        return None;
    }
    let (start, count) = rest.split_at(8);
    Some((u64::from_le_bytes(start.try_into().ok()?), u32::from_le_bytes(count.try_into().ok()?)))
}

/// An in-memory [`SharedStore`] with the host's CAS semantics, for tests and native tools.
#[derive(Debug, Default)]
pub struct MemoryStore {
    entries: std::collections::HashMap<String, (Vec<u8>, u32)>,
}

impl SharedStore for MemoryStore {
    fn get(&self, key: &str) -> Option<(Vec<u8>, u32)> {
        self.entries.get(key).cloned()
    }

    fn set(&mut self, key: &str, value: &[u8], cas: Option<u32>) -> Result<(), StoreError> {
        let current = self.entries.get(key).map(|(_, version)| *version);
        if let (Some(expected), Some(current)) = (cas, current) {
            if expected != current {
                return Err(StoreError::CasMismatch);
            }
        }
        let next = current.unwrap_or(0).wrapping_add(1).max(1);
        self.entries.insert(key.to_owned(), (value.to_vec(), next));
        Ok(())
    }
}

impl MemoryStore {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: RateLimit = RateLimit { requests_per_second: 2, burst: 3 };

    #[test]
    fn bucket_allows_burst() {
        let mut store = MemoryStore::default();
        for i in 0..3 {
            assert_eq!(take(&mut store, "k", LIMIT, 1_000, &mut Lease::default()), Admission::Allowed, "request {i} of the burst");
        }
        assert_eq!(take(&mut store, "k", LIMIT, 1_000, &mut Lease::default()), Admission::Limited { retry_after_seconds: 1 });
    }

    #[test]
    fn bucket_refills() {
        let mut store = MemoryStore::default();
        for _ in 0..3 {
            take(&mut store, "k", LIMIT, 1_000, &mut Lease::default());
        }
        assert_eq!(take(&mut store, "k", LIMIT, 1_499, &mut Lease::default()), Admission::Limited { retry_after_seconds: 1 });
        assert_eq!(take(&mut store, "k", LIMIT, 1_500, &mut Lease::default()), Admission::Allowed, "2 per second refill one in 500 ms");
    }

    #[test]
    fn bucket_retry_after_rounds_up() {
        let slow = RateLimit { requests_per_second: 1, burst: 1 };
        let mut store = MemoryStore::default();
        take(&mut store, "k", slow, 10_000, &mut Lease::default());
        assert_eq!(take(&mut store, "k", slow, 10_100, &mut Lease::default()), Admission::Limited { retry_after_seconds: 1 });
    }

    #[test]
    fn bucket_clock_backwards() {
        let mut store = MemoryStore::default();
        take(&mut store, "k", LIMIT, 5_000, &mut Lease::default());
        assert_eq!(take(&mut store, "k", LIMIT, 4_000, &mut Lease::default()), Admission::Allowed, "an earlier clock must not underflow");
    }

    #[test]
    fn bucket_unreadable_state_resets() {
        let mut store = MemoryStore::default();
        store.set("k", b"garbage", None).ok();
        assert_eq!(take(&mut store, "k", LIMIT, 1_000, &mut Lease::default()), Admission::Allowed);
    }

    /// A store whose value changes under the reader `conflicts` times, as when other
    /// workers write between this worker's get and set.
    struct RacingStore {
        inner: MemoryStore,
        conflicts: usize,
    }

    impl SharedStore for RacingStore {
        fn get(&self, key: &str) -> Option<(Vec<u8>, u32)> {
            self.inner.get(key)
        }

        fn set(&mut self, key: &str, value: &[u8], cas: Option<u32>) -> Result<(), StoreError> {
            if self.conflicts > 0 {
                self.conflicts -= 1;
                let current = self.inner.get(key).map(|(bytes, _)| bytes).unwrap_or_default();
                self.inner.set(key, &current, None)?;
            }
            self.inner.set(key, value, cas)
        }
    }

    #[test]
    fn bucket_retries_cas() {
        let mut store = RacingStore { inner: MemoryStore::default(), conflicts: 3 };
        store.inner.set("k", &encode_bucket(1_000, 3 * MILLI), None).ok();
        assert_eq!(take(&mut store, "k", LIMIT, 1_000, &mut Lease::default()), Admission::Allowed);
        let level = store.inner.get("k").and_then(|(bytes, _)| decode_bucket(&bytes)).map(|(_, level)| level);
        assert_eq!(level, Some(2 * MILLI), "exactly one request taken after the retries");
    }

    #[test]
    fn bucket_gives_up_on_contention() {
        let mut store = RacingStore { inner: MemoryStore::default(), conflicts: MAX_CAS_ATTEMPTS };
        store.inner.set("k", &encode_bucket(1_000, 3 * MILLI), None).ok();
        assert_eq!(take(&mut store, "k", LIMIT, 1_000, &mut Lease::default()), Admission::Contended);
    }

    #[test]
    fn force_sync_burst_fits_default() {
        let mut store = MemoryStore::default();
        let limit = RateLimit::default();
        let mut lease = Lease::default();
        let mut limited = 0;
        // 10,000 requests (5000 users) spread evenly over 100 seconds.
        for i in 0..10_000u64 {
            if take(&mut store, "k", limit, i * 10, &mut lease) != Admission::Allowed {
                limited += 1;
            }
        }
        assert_eq!(limited, 0, "a force sync at 100 requests per second must pass");
    }

    #[test]
    fn lease_size() {
        assert_eq!(RateLimit::default().lease_permits(), 10, "100 per second refill 10 in 100 ms");
        assert_eq!(LIMIT.lease_permits(), 1, "a small limit takes one request at a time");
        let largest = RateLimit { requests_per_second: 100_000, burst: 1_000_000 };
        assert_eq!(largest.lease_permits(), MAX_LEASE_PERMITS);
        let small_burst = RateLimit { requests_per_second: 10_000, burst: 40 };
        assert_eq!(small_burst.lease_permits(), 2, "at most a sixteenth of the burst");
    }

    /// A [`MemoryStore`] that counts its reads and writes.
    #[derive(Default)]
    struct CountingStore {
        inner: MemoryStore,
        calls: std::cell::Cell<usize>,
    }

    impl SharedStore for CountingStore {
        fn get(&self, key: &str) -> Option<(Vec<u8>, u32)> {
            self.calls.set(self.calls.get() + 1);
            self.inner.get(key)
        }

        fn set(&mut self, key: &str, value: &[u8], cas: Option<u32>) -> Result<(), StoreError> {
            self.calls.set(self.calls.get() + 1);
            self.inner.set(key, value, cas)
        }
    }

    fn level(store: &MemoryStore) -> Option<u64> {
        store.get("k").and_then(|(bytes, _)| decode_bucket(&bytes)).map(|(_, level)| level)
    }

    #[test]
    fn lease_spends_without_store() {
        let limit = RateLimit::default();
        let mut store = CountingStore::default();
        let mut lease = Lease::default();
        assert_eq!(take(&mut store, "k", limit, 1_000, &mut lease), Admission::Allowed);
        assert_eq!(store.calls.get(), 2, "the first request reads and writes the bucket");
        assert_eq!(level(&store.inner), Some(1990 * MILLI), "the lease took 10 of 2000");
        for i in 1..10 {
            assert_eq!(take(&mut store, "k", limit, 1_000 + i * 10, &mut lease), Admission::Allowed, "request {i}");
        }
        assert_eq!(store.calls.get(), 2, "nine more requests come from the lease");
        take(&mut store, "k", limit, 1_095, &mut lease);
        assert_eq!(store.calls.get(), 4, "the eleventh request takes a new lease");
        assert_eq!(level(&store.inner), Some(1980 * MILLI + 95 * 100), "10 more taken, 95 ms of refill added");
    }

    #[test]
    fn lease_expires() {
        let limit = RateLimit::default();
        let mut store = CountingStore::default();
        let mut lease = Lease::default();
        take(&mut store, "k", limit, 1_000, &mut lease);
        take(&mut store, "k", limit, 1_099, &mut lease);
        assert_eq!((store.calls.get(), lease.permits()), (2, 8), "still fresh 99 ms later");
        take(&mut store, "k", limit, 1_100, &mut lease);
        assert_eq!(store.calls.get(), 4, "after 100 ms the leftovers are dropped and a new lease is taken");
        assert_eq!(lease.permits(), 9);
    }

    #[test]
    fn lease_clock_backwards() {
        let limit = RateLimit::default();
        let mut store = CountingStore::default();
        let mut lease = Lease::default();
        take(&mut store, "k", limit, 5_000, &mut lease);
        assert_eq!(take(&mut store, "k", limit, 4_000, &mut lease), Admission::Allowed);
        assert_eq!(store.calls.get(), 4, "a clock before the lease ends it");
    }

    #[test]
    fn lease_takes_only_what_bucket_holds() {
        let limit = RateLimit::default();
        let mut store = MemoryStore::default();
        store.set("k", &encode_bucket(1_000, 3 * MILLI + 500), None).ok();
        let mut lease = Lease::default();
        assert_eq!(take(&mut store, "k", limit, 1_000, &mut lease), Admission::Allowed);
        assert_eq!((lease.permits(), level(&store)), (2, Some(500)), "three whole requests were in the bucket");
        take(&mut store, "k", limit, 1_000, &mut lease);
        take(&mut store, "k", limit, 1_000, &mut lease);
        assert_eq!(take(&mut store, "k", limit, 1_000, &mut lease), Admission::Limited { retry_after_seconds: 1 });
    }

    /// The worst case for leases: three workers each hold nine leftover requests while the
    /// bucket refills to its burst. Expired leftovers are dropped, so the workers get the
    /// burst and nothing more.
    #[test]
    fn lease_leftovers_expire_before_refill() {
        let limit = RateLimit { requests_per_second: 100, burst: 200 };
        let mut store = MemoryStore::default();
        let mut leases = [Lease::default(); 3];
        for lease in &mut leases {
            take(&mut store, "k", limit, 1_000, lease);
        }
        assert_eq!(level(&store), Some(170 * MILLI), "three leases of 10");
        let mut admitted = 0;
        for i in 0..300 {
            if take(&mut store, "k", limit, 1_900, &mut leases[i % 3]) == Admission::Allowed {
                admitted += 1;
            }
        }
        assert_eq!(admitted, 200, "900 ms later the bucket is full again and the leftovers are gone");
    }

    proptest::proptest! {
        /// Several workers, each with its own lease, take from one bucket at random times.
        /// Over any interval of `t` ms they are admitted at most what an exact bucket allows
        /// plus [`LEASE_MILLIS`] of refill: `burst + rate * (t + LEASE_MILLIS) / 1000`.
        #[test]
        fn leases_bound_admissions(
            rate in 1u32..400,
            burst in 1u32..200,
            // Up to 600 requests: bursts at the same millisecond, which drain the bucket,
            // and pauses long enough to refill it while workers hold leases.
            requests in proptest::collection::vec(
                (0usize..3, proptest::prop_oneof![10 => proptest::strategy::Just(0u64), 10 => 0u64..8, 1 => 0u64..2_000]),
                1..600,
            ),
        ) {
            let limit = RateLimit { requests_per_second: rate, burst };
            let mut store = MemoryStore::default();
            let mut leases = [Lease::default(); 3];
            let mut now = 10_000;
            let mut admitted = Vec::new();
            for (worker, step) in requests {
                now += step;
                if take(&mut store, "k", limit, now, &mut leases[worker]) == Admission::Allowed {
                    admitted.push(now);
                }
            }
            for (i, start) in admitted.iter().enumerate() {
                for (j, end) in admitted.iter().enumerate().skip(i) {
                    let count = u64::try_from(j - i + 1).unwrap_or(u64::MAX);
                    let allowed = u64::from(burst) * 1000 + u64::from(rate) * (end - start + LEASE_MILLIS);
                    proptest::prop_assert!(
                        count * 1000 <= allowed,
                        "{count} admitted from {start} to {end} ms with rate {rate}, burst {burst}"
                    );
                }
            }
        }
    }

    const FAILURES: FailureLimit = FailureLimit { max_failures: 3, window_seconds: 60 };

    #[test]
    fn failures_throttle_then_expire() {
        let mut store = MemoryStore::default();
        for _ in 0..3 {
            assert_eq!(throttled(&store, "f", FAILURES, 100), None);
            record_failure(&mut store, "f", FAILURES, 100).ok();
        }
        assert_eq!(throttled(&store, "f", FAILURES, 110), Some(50));
        assert_eq!(throttled(&store, "f", FAILURES, 160), None, "the window ends after 60 seconds");
    }

    #[test]
    fn failures_new_window() {
        let mut store = MemoryStore::default();
        for _ in 0..3 {
            record_failure(&mut store, "f", FAILURES, 100).ok();
        }
        record_failure(&mut store, "f", FAILURES, 200).ok();
        assert_eq!(throttled(&store, "f", FAILURES, 200), None, "one failure in the new window");
    }

    #[test]
    fn marker_covers_open_windows() {
        let mut store = MemoryStore::default();
        assert!(!failures_recent(&store, 100), "no failure recorded yet");
        for time in [100, 130, 150] {
            record_failure(&mut store, "f", FAILURES, time).ok();
        }
        assert!(throttled(&store, "f", FAILURES, 159).is_some(), "the window opened at 100 ends at 160");
        assert!(failures_recent(&store, 159), "the marker covers it");
        assert!(failures_recent(&store, 209), "the marker follows the last failure, at 150");
        assert!(!failures_recent(&store, 210), "no window is open after 210");
    }

    #[test]
    fn marker_never_moves_back() {
        let mut store = MemoryStore::default();
        record_failure(&mut store, "a", FAILURES, 200).ok();
        record_failure(&mut store, "b", FailureLimit { max_failures: 3, window_seconds: 10 }, 205).ok();
        assert!(failures_recent(&store, 259), "a shorter window recorded later keeps the end at 260");
    }

    #[test]
    fn marker_unreadable_counts_as_recent() {
        let mut store = MemoryStore::default();
        store.set(RECENT_FAILURES_KEY, b"garbage", None).ok();
        assert!(failures_recent(&store, 100), "fail closed: the gate reads the client's counter");
        record_failure(&mut store, "f", FAILURES, 100).ok();
        assert!(failures_recent(&store, 159), "a failure replaces the unreadable marker");
        assert!(!failures_recent(&store, 160));
    }

    #[test]
    fn marker_retries_cas() {
        let mut store = RacingStore { inner: MemoryStore::default(), conflicts: 3 };
        assert_eq!(record_failure(&mut store, "f", FAILURES, 100), Ok(()));
        assert!(failures_recent(&store, 159), "the marker is written despite three lost races");
    }

    #[test]
    fn failure_key_ignores_port() {
        let secret = [1; 32];
        assert_eq!(failure_key(&secret, Some("192.0.2.1:1234")), failure_key(&secret, Some("192.0.2.1:5678")));
    }

    #[test]
    fn failure_key_ipv6_network() {
        let secret = [1; 32];
        let first = failure_key(&secret, Some("[2001:db8::1]:443"));
        assert_eq!(first, failure_key(&secret, Some("[2001:db8::ffff:2]:443")), "same /64");
        assert_eq!(normalize_address("[::ffff:192.0.2.1]:80"), "192.0.2.1");
    }

    #[test]
    fn failure_key_bounded() {
        let secret = [1; 32];
        let keys: std::collections::HashSet<_> =
            (0..20_000u32).map(|i| failure_key(&secret, Some(&format!("10.{}.{}.1:1", i / 256, i % 256)))).collect();
        assert!(keys.len() <= FAILURE_SLOTS as usize, "{} keys", keys.len());
    }
}
