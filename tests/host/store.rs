//! What every VM of one host shares, as Envoy's workers share it: the clock, the random
//! source, the shared-data store and the stats.

use std::collections::BTreeMap;

use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use time::OffsetDateTime;

/// The seed of the random source until a test sets its own.
pub const DEFAULT_SEED: [u8; 32] = [0x5e; 32];

/// Host-wide state behind the [`super::Host`] handle.
pub struct Shared {
    pub clock: OffsetDateTime,
    pub random: RandomSource,
    pub data: SharedData,
    pub metrics: Metrics,
    /// The environment of VMs started from now on.
    pub environment: Vec<(String, String)>,
}

impl Shared {
    pub fn new(clock: OffsetDateTime) -> Self {
        Self {
            clock,
            random: RandomSource::new(DEFAULT_SEED),
            data: SharedData::default(),
            metrics: Metrics::default(),
            environment: Vec::new(),
        }
    }

    /// The clock in nanoseconds since the Unix epoch, as `proxy_get_current_time_nanoseconds`
    /// returns it. Times before the epoch read as 0.
    pub fn clock_nanos(&self) -> u64 {
        u64::try_from(self.clock.unix_timestamp_nanos()).unwrap_or(0)
    }
}

/// WASI `random_get`: a ChaCha20 stream from a seed, with a record of each draw.
///
/// Each `random_get` call of n bytes is one `fill_bytes` of n bytes. That gives the same
/// bytes as [`edgeidp::platform::FixedPlatform`]'s generator for the same seed, provided the
/// filter draws randomness with the same calls as the native core does. It does, because
/// rand_core's `OsRng` turns each `next_u32`, `next_u64` and `fill_bytes` into one
/// `random_get`, and ChaCha20's `next_u32` and `next_u64` consume the stream as 4- and
/// 8-byte fills do.
pub struct RandomSource {
    rng: ChaCha20Rng,
    /// The length of every `random_get` since the last seed.
    pub draws: Vec<usize>,
}

impl RandomSource {
    pub fn new(seed: [u8; 32]) -> Self {
        Self { rng: ChaCha20Rng::from_seed(seed), draws: Vec::new() }
    }

    pub fn fill(&mut self, buffer: &mut [u8]) {
        self.draws.push(buffer.len());
        self.rng.fill_bytes(buffer);
    }
}

/// Envoy's shared data for one VM id: values with a compare-and-swap version.
///
/// Follows proxy-wasm-cpp-host's `SharedData`. Versions come from one counter that starts
/// at 1 and skips 0. A set with CAS 0 always succeeds. A set with a non-zero CAS fails with
/// `CasMismatch` when the key exists with another version, and succeeds when the key is
/// absent.
#[derive(Default)]
pub struct SharedData {
    entries: BTreeMap<String, (Vec<u8>, u32)>,
    last_cas: u32,
}

impl SharedData {
    pub fn get(&self, key: &str) -> Option<(Vec<u8>, u32)> {
        self.entries.get(key).cloned()
    }

    /// Stores `value`; `Err(())` is a CAS mismatch.
    pub fn set(&mut self, key: &str, value: Vec<u8>, cas: u32) -> Result<(), ()> {
        if let Some((_, current)) = self.entries.get(key) {
            if cas != 0 && cas != *current {
                return Err(());
            }
        }
        let version = self.next_cas();
        self.entries.insert(key.to_owned(), (value, version));
        Ok(())
    }

    /// Returns every key and value, for assertions.
    pub fn snapshot(&self) -> BTreeMap<String, Vec<u8>> {
        self.entries.iter().map(|(key, (value, _))| (key.clone(), value.clone())).collect()
    }

    fn next_cas(&mut self) -> u32 {
        self.last_cas = self.last_cas.wrapping_add(1);
        if self.last_cas == 0 {
            self.last_cas = 1;
        }
        self.last_cas
    }
}

/// The kinds of metric that `proxy_define_metric` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    Counter,
    Gauge,
    Histogram,
}

impl MetricKind {
    pub fn from_abi(value: i32) -> Option<Self> {
        match value {
            0 => Some(Self::Counter),
            1 => Some(Self::Gauge),
            2 => Some(Self::Histogram),
            _ => None,
        }
    }
}

/// One metric's value: the sum for counters and gauges, every recorded value for histograms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metric {
    pub kind: MetricKind,
    pub value: i64,
    pub recorded: Vec<u64>,
}

/// Stats by name. As in Envoy, the same name defined by several VMs is one stat.
#[derive(Default)]
pub struct Metrics {
    by_name: BTreeMap<String, Metric>,
    names: Vec<String>,
}

impl Metrics {
    /// Returns the id of `name`, defining it on first use. Ids are host-wide.
    pub fn define(&mut self, kind: MetricKind, name: &str) -> Result<u32, String> {
        if let Some(existing) = self.by_name.get(name) {
            if existing.kind != kind {
                return Err(format!("metric {name:?} is already defined as a {:?}", existing.kind));
            }
        } else {
            self.by_name.insert(name.to_owned(), Metric { kind, value: 0, recorded: Vec::new() });
        }
        let index = match self.names.iter().position(|known| known == name) {
            Some(index) => index,
            None => {
                self.names.push(name.to_owned());
                self.names.len() - 1
            }
        };
        Ok(index as u32 + 1)
    }

    pub fn get_mut(&mut self, id: u32) -> Option<&mut Metric> {
        let name = self.names.get((id as usize).checked_sub(1)?)?;
        self.by_name.get_mut(name)
    }

    pub fn get(&self, name: &str) -> Option<&Metric> {
        self.by_name.get(name)
    }

    pub fn all(&self) -> &BTreeMap<String, Metric> {
        &self.by_name
    }
}
