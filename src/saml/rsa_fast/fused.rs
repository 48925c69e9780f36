//! Montgomery exponentiation modulo p (lane 0) and q (lane 1) on 52-bit limbs, multiplied
//! exactly with double-precision fused multiply-add: the fast path of [`super::crt`] on
//! WebAssembly engines with relaxed SIMD.
//!
//! # Exact products from floating point
//!
//! A limb is an integer below 2^52 held in an `f64`, which represents it exactly. For two
//! limbs a and b, with `C = 2^104`:
//!
//! - `h = fma(a, b, C)` lies in `[2^104, 2^105]`, where consecutive doubles are 2^52 apart,
//!   so `h = C + k * 2^52` with `k = round(a * b / 2^52)`. Doubles of one sign are ordered
//!   like their bit patterns, so `bits(h) - bits(C) = k`: the high part as an integer.
//! - `l = fma(a, b, C - h) = a * b - k * 2^52` is exact (an integer of magnitude at most
//!   2^51), and `l + M` with `M = 1.5 * 2^52` lies in `[2^52, 2^53]`, where doubles are
//!   integers one apart, so `bits(l + M) - bits(M) = l`: the low part as a signed integer.
//!
//! Hence `a * b = l + k * 2^52` from two fused multiply-adds, one subtraction and one
//! addition, without a shuffle. Sums of the bit patterns accumulate in 64-bit integer lanes.
//! The offsets are subtracted once per column, as `count * bits(C)` and `count * bits(M)` in
//! wrapping arithmetic, which leaves the exact sum.
//!
//! # Montgomery multiplication
//!
//! Product scanning with the reduction interleaved, as in [`super::montgomery`], with
//! `R = 2^(52 * limbs) > 4 * max(p, q)` so that inputs below 2m give a product below 2m and
//! no conditional subtraction is needed. Column sums stay far below 2^63: a column has at
//! most `2 * MAX_LIMBS` low and as many high parts.
//!
//! Loop bounds depend only on the limb count and the exponent length, which are public;
//! the exponent's window digits select table entries under masks.

use rsa::BigUint;

use super::float_lanes::V2;
use super::lanes::Limb2;
use super::limbs;
use super::montgomery::{WINDOW_BITS, TABLE_SIZE};

/// Bits per limb.
const LIMB_BITS: u32 = 52;
const LIMB_MASK: u64 = (1 << LIMB_BITS) - 1;
/// Limbs per number: primes of up to `52 * 40 - 2 = 2078` bits, so keys of up to 4096 bits.
pub(super) const MAX_LIMBS: usize = 40;

/// 2^52 and its bit pattern: `bits(2^52) | x` is the double `2^52 + x` for `x < 2^52`.
const TWO_52: f64 = 4_503_599_627_370_496.0;
const TWO_52_BITS: u64 = 0x4330_0000_0000_0000;
/// `C = 2^104`, the offset that rounds a product to its high part.
const HIGH_OFFSET: f64 = 20_282_409_603_651_670_423_947_251_286_016.0;
const HIGH_OFFSET_BITS: u64 = 0x4670_0000_0000_0000;
/// `M = 1.5 * 2^52`, the offset that turns a signed low part into an integer bit pattern.
const LOW_OFFSET: f64 = 6_755_399_441_055_744.0;
const LOW_OFFSET_BITS: u64 = 0x4338_0000_0000_0000;

/// A number in both lanes, one limb per element as an `f64`, least significant first.
pub(super) type Num = [V2; MAX_LIMBS];

/// Two adjacent columns, k and k + 1, summed in one pass over shared operands.
///
/// The fields are plain vectors rather than two [`Column`]s so that the compiler keeps them
/// in registers: with an array of columns, LLVM stored them to memory in every iteration.
#[derive(Clone, Copy)]
struct ColumnPair {
    low: V2,
    high: V2,
    next_low: V2,
    next_high: V2,
    count: u64,
}

impl ColumnPair {
    const EMPTY: Self = Self { low: V2::ZERO, high: V2::ZERO, next_low: V2::ZERO, next_high: V2::ZERO, count: 0 };

    /// Adds `x[t] * y[n - t]` to column k and `x[t] * y[n - t + 1]` to column k + 1 for each
    /// t, where `y` has `x.len() + 1` elements (`n = x.len() - 1`): `y` runs downwards as `x`
    /// runs upwards, and each element of `y` meets two elements of `x`.
    #[inline(always)]
    fn add_products(&mut self, x: &[V2], y: &[V2], constants: &Constants) {
        let Some((&top, rest)) = y.split_last() else {
            return;
        };
        let (mut low, mut high, mut next_low, mut next_high) = (self.low, self.high, self.next_low, self.next_high);
        let mut upper = top;
        for (a, lower) in x.iter().zip(rest.iter().rev()) {
            let (product_low, product_high) = constants.product(*a, *lower);
            low = low.add(product_low);
            high = high.add(product_high);
            let (product_low, product_high) = constants.product(*a, upper);
            next_low = next_low.add(product_low);
            next_high = next_high.add(product_high);
            upper = *lower;
        }
        let count = self.count + x.len().min(rest.len()) as u64;
        *self = Self { low, high, next_low, next_high, count };
    }

    /// Returns the exact sums of both columns (see [`Column::exact`]).
    #[inline(always)]
    fn exact(self) -> [(V2, V2); 2] {
        let low_offsets = V2::splat_u64(self.count.wrapping_mul(LOW_OFFSET_BITS));
        let high_offsets = V2::splat_u64(self.count.wrapping_mul(HIGH_OFFSET_BITS));
        [
            (self.low.sub(low_offsets), self.high.sub(high_offsets)),
            (self.next_low.sub(low_offsets), self.next_high.sub(high_offsets)),
        ]
    }
}

/// The kernel's constants as vectors.
///
/// They live in [`FusedMontgomery`] and are read from it by each operation, rather than
/// written as constants, because V8 rebuilds a 128-bit constant from immediates at every
/// use inside a loop, while a value read once stays in a register.
#[derive(Clone, Copy)]
struct Constants {
    high_offset: V2,
    low_offset: V2,
    two_52: V2,
    two_52_bits: V2,
    limb_mask: V2,
}

impl Constants {
    fn new() -> Self {
        Self {
            high_offset: V2::splat_f64(HIGH_OFFSET),
            low_offset: V2::splat_f64(LOW_OFFSET),
            two_52: V2::splat_f64(TWO_52),
            two_52_bits: V2::splat_u64(TWO_52_BITS),
            limb_mask: V2::splat_u64(LIMB_MASK),
        }
    }

    /// Returns the `f64` of an integer limb below 2^52, per lane.
    #[inline(always)]
    fn float_of(&self, limb: V2) -> V2 {
        limb.or(self.two_52_bits).fsub(self.two_52)
    }

    /// Returns the low and high parts of `a * b` per lane, as offset bit patterns (see the module
    /// documentation).
    #[inline(always)]
    fn product(&self, a: V2, b: V2) -> (V2, V2) {
        let high = a.mul_add(b, self.high_offset);
        let low = a.mul_add(b, self.high_offset.fsub(high)).fadd(self.low_offset);
        (low, high)
    }

    /// Returns the low 52 bits of each lane.
    #[inline(always)]
    fn low_limb(&self, value: V2) -> V2 {
        value.and(self.limb_mask)
    }
}

/// Sums of products' low and high parts, with the number of products summed.
#[derive(Clone, Copy)]
struct Column {
    low: V2,
    high: V2,
    count: u64,
}

impl Column {
    const EMPTY: Self = Self { low: V2::ZERO, high: V2::ZERO, count: 0 };

    /// Adds the low and high parts of `a * b` per lane, as offset bit patterns.
    #[inline(always)]
    fn add_product(&mut self, a: V2, b: V2, constants: &Constants) {
        let (low, high) = constants.product(a, b);
        self.low = self.low.add(low);
        self.high = self.high.add(high);
        self.count += 1;
    }

    /// Returns the exact integer sums of the low parts and of the high parts.
    #[inline(always)]
    fn exact(self) -> (V2, V2) {
        let low = self.low.sub(V2::splat_u64(self.count.wrapping_mul(LOW_OFFSET_BITS)));
        let high = self.high.sub(V2::splat_u64(self.count.wrapping_mul(HIGH_OFFSET_BITS)));
        (low, high)
    }
}

/// The moduli and the constants that Montgomery arithmetic needs, computed once per key.
pub(super) struct FusedMontgomery {
    limbs: usize,
    /// The moduli between zero limbs (see [`padded`]).
    modulus_padded: Padded,
    /// `-m^-1 mod 2^52` per lane, as `f64`.
    m_prime: V2,
    /// `R mod m`: one in Montgomery form.
    one: Num,
    /// `R^2 mod m`.
    r2: Num,
    constants: Constants,
}

impl FusedMontgomery {
    /// Precomputes the constants for `moduli[0]` (lane 0) and `moduli[1]` (lane 1), or
    /// returns `None` when a modulus is even or needs more than [`MAX_LIMBS`] limbs.
    ///
    /// Like [`super::montgomery::Montgomery::new`] this runs once per key, with
    /// variable-time arithmetic on the primes.
    pub(super) fn new(moduli: [&BigUint; 2]) -> Option<Self> {
        let bits = moduli[0].bits().max(moduli[1].bits());
        let limbs = (bits + 2).div_ceil(LIMB_BITS as usize);
        if limbs > MAX_LIMBS || moduli.iter().any(|m| m.to_bytes_le().first().is_none_or(|low| low & 1 == 0)) {
            return None;
        }
        let r = BigUint::from(1u8) << (LIMB_BITS as usize * limbs);
        let constants = |m: &BigUint| {
            let one = &r % m;
            let r2 = (&one * &one) % m;
            [m.clone(), one, r2].map(|value| to_limbs(&value))
        };
        let [m0, one0, r2_0] = constants(moduli[0]);
        let [m1, one1, r2_1] = constants(moduli[1]);
        let constants = Constants::new();
        let m_prime = constants.float_of(V2::from_u64(negated_inverse(m0[0]), negated_inverse(m1[0])));
        Some(Self {
            constants,
            limbs,
            modulus_padded: padded(&pack(&m0, &m1), limbs),
            m_prime,
            one: pack(&one0, &one1),
            r2: pack(&r2_0, &r2_1),
        })
    }

    /// Returns `a * b * R^-1 mod m`, below 2m when `a` and `b` are.
    pub(super) fn mul(&self, a: &Num, b: &Num) -> Num {
        let l = self.limbs;
        let constants = self.constants;
        let b = padded(b, l);
        self.reduce_columns(|k| {
            // Columns k and k + 1 take a[i] for i in first..=last; a term outside a column's
            // own range meets a zero of the padding.
            let (first, last) = (k.saturating_sub(l - 1), (k + 1).min(l - 1));
            let mut pair = ColumnPair::EMPTY;
            pair.add_products(&a[first..=last], &b[k + 1 - last..=k + 2 - first], &constants);
            pair.exact()
        })
    }

    /// Returns `a^2 * R^-1 mod m`: [`Self::mul`] with each cross product computed once.
    pub(super) fn square(&self, a: &Num) -> Num {
        let l = self.limbs;
        let constants = self.constants;
        let padded_a = padded(a, l);
        self.reduce_columns(|k| {
            // For even k, the cross products a[i] * a[k - i] with i < k - i of column k and
            // a[i] * a[k + 1 - i] with i < k + 1 - i of column k + 1 both have i <= k / 2 - 1,
            // except column k + 1's a[k / 2] * a[k / 2 + 1]. The square a[k / 2]^2 belongs
            // to column k once.
            let middle = k / 2;
            let first = k.saturating_sub(l - 1);
            let mut cross = ColumnPair::EMPTY;
            if first < middle {
                let last = middle - 1;
                cross.add_products(&a[first..=last], &padded_a[k + 1 - last..=k + 2 - first], &constants);
            }
            let mut extra = ColumnPair::EMPTY;
            let half = padded_a[middle + 1];
            extra.add_products(&[half], &padded_a[middle + 1..=middle + 2], &constants);
            let [(cross_low, cross_high), (next_low, next_high)] = cross.exact();
            let [(square_low, square_high), (last_low, last_high)] = extra.exact();
            [
                (cross_low.shl(1).add(square_low), cross_high.shl(1).add(square_high)),
                (next_low.add(last_low).shl(1), next_high.add(last_high).shl(1)),
            ]
        })
    }

    /// Reduces the product whose columns k and k + 1 (k even) have the exact low-part and
    /// high-part sums `columns(k)`. A column's high parts belong to the next column.
    #[inline(always)]
    fn reduce_columns(&self, columns: impl Fn(usize) -> [(V2, V2); 2]) -> Num {
        let l = self.limbs;
        let constants = self.constants;
        let modulus = &self.modulus_padded;
        // Quotient digits, zero until chosen: a digit not yet chosen adds nothing.
        let mut quotient = [V2::ZERO; MAX_LIMBS];
        let mut out = [V2::ZERO; MAX_LIMBS];
        let mut carry = V2::ZERO;
        for k in (0..2 * l).step_by(2) {
            let [(low, high), (next_low, next_high)] = columns(k);
            let (first, last) = (k.saturating_sub(l - 1), k.min(l - 1));
            let mut reduction = ColumnPair::EMPTY;
            reduction.add_products(&quotient[first..=last], &modulus[k + 1 - last..=k + 2 - first], &constants);
            let [(reduction_low, reduction_high), (reduction_next_low, reduction_next_high)] = reduction.exact();

            let mut acc = carry.add(low).add(reduction_low);
            let mut next = high.add(reduction_high);
            let mut acc_next = next_low.add(reduction_next_low);
            let mut next_next = next_high.add(reduction_next_high);
            if k < l {
                let digit = self.quotient_digit(acc, &constants);
                // The new digit's products with m[0] (column k) and m[1] (column k + 1).
                let mut last_products = ColumnPair::EMPTY;
                last_products.add_products(&[digit], &modulus[1..=2], &constants);
                let [(low0, high0), (low1, high1)] = last_products.exact();
                acc = acc.add(low0);
                next = next.add(high0);
                acc_next = acc_next.add(low1);
                next_next = next_next.add(high1);
                quotient[k] = digit;
            } else {
                out[k - l] = constants.float_of(constants.low_limb(acc));
            }
            carry = acc.shr_signed(LIMB_BITS).add(next);

            let mut acc = carry.add(acc_next);
            let mut next = next_next;
            if k + 1 < l {
                let digit = self.quotient_digit(acc, &constants);
                let mut last_product = ColumnPair::EMPTY;
                last_product.add_products(&[digit], &modulus[1..=2], &constants);
                let [(low0, high0), _] = last_product.exact();
                acc = acc.add(low0);
                next = next.add(high0);
                quotient[k + 1] = digit;
            } else {
                out[k + 1 - l] = constants.float_of(constants.low_limb(acc));
            }
            carry = acc.shr_signed(LIMB_BITS).add(next);
        }
        out
    }

    /// `(acc * m') mod 2^52` per lane as `f64`: the low part of the product is congruent to
    /// it modulo 2^52.
    #[inline(always)]
    fn quotient_digit(&self, acc: V2, constants: &Constants) -> V2 {
        let mut product = Column::EMPTY;
        product.add_product(constants.float_of(constants.low_limb(acc)), self.m_prime, constants);
        let (low, _) = product.exact();
        constants.float_of(constants.low_limb(low))
    }

    /// Returns `base^d` in Montgomery form, lane by lane, for a secret exponent given as
    /// [`WINDOW_BITS`]-bit digits per lane, most significant first, with the same schedule
    /// as [`super::montgomery::Montgomery::pow_secret`]: every digit costs the same squarings,
    /// one table scan and one multiplication.
    pub(super) fn pow_secret(&self, base: &Num, digits: &[V2]) -> Num {
        let mut table = [[V2::ZERO; MAX_LIMBS]; TABLE_SIZE];
        table[0] = self.one;
        table[1] = *base;
        for i in 2..TABLE_SIZE {
            table[i] = if i % 2 == 0 { self.square(&table[i / 2]) } else { self.mul(&table[i - 1], base) };
        }
        let Some((first, rest)) = digits.split_first() else {
            return self.one;
        };
        let mut acc = self.select(&table, *first);
        for digit in rest {
            for _ in 0..WINDOW_BITS {
                acc = self.square(&acc);
            }
            acc = self.mul(&acc, &self.select(&table, *digit));
        }
        acc
    }

    /// Returns `table[digit]` per lane, reading every entry under a mask.
    fn select(&self, table: &[Num; TABLE_SIZE], digit: V2) -> Num {
        let mut out = [V2::ZERO; MAX_LIMBS];
        for (index, entry) in (0u64..).zip(table.iter()) {
            let mask = digit.eq_mask(V2::splat_u64(index));
            for (o, e) in out[..self.limbs].iter_mut().zip(&entry[..self.limbs]) {
                *o = V2::select(mask, *e, *o);
            }
        }
        out
    }

    /// Converts canonical values (below m), one per lane as 52-bit limbs, into Montgomery form.
    pub(super) fn to_montgomery(&self, lanes: &[[u64; MAX_LIMBS]; 2]) -> Num {
        self.mul(&pack(&lanes[0], &lanes[1]), &self.r2)
    }

    /// Converts out of Montgomery form: `a * R^-1 mod m` for `a` below 2m, as 52-bit limbs per
    /// lane, at most m (equal to m only for a multiple of m).
    pub(super) fn out_of_montgomery(&self, a: &Num) -> [[u64; MAX_LIMBS]; 2] {
        let mut unit = [V2::ZERO; MAX_LIMBS];
        unit[0] = V2::splat_f64(1.0);
        let value = self.mul(a, &unit);
        let mut out = [[0u64; MAX_LIMBS]; 2];
        for (k, limb) in value.iter().enumerate() {
            // An f64 limb plus 2^52 lies in [2^52, 2^53): its low 52 bits are the limb.
            let [lane0, lane1] = limb.fadd(V2::splat_f64(TWO_52)).and(V2::splat_u64(LIMB_MASK)).lanes_u64();
            out[0][k] = lane0;
            out[1][k] = lane1;
        }
        out
    }
}

/// Window digits in this kernel's lanes.
pub(super) fn digits_of(digits: &[Limb2]) -> Vec<V2> {
    digits
        .iter()
        .map(|digit| {
            let [lane0, lane1] = digit.lanes();
            V2::from_u64(u64::from(lane0), u64::from(lane1))
        })
        .collect()
}

/// `a`'s first `limbs` limbs between two zero limbs: element `j + 1` is limb j, so that
/// limb indices -1 and `limbs` read zero.
#[inline(always)]
fn padded(a: &Num, limbs: usize) -> Padded {
    let mut out = [V2::ZERO; MAX_LIMBS + 2];
    out[1..=limbs].copy_from_slice(&a[..limbs]);
    out
}

/// A number with a zero limb below and above (see [`padded`]).
type Padded = [V2; MAX_LIMBS + 2];

/// Builds a two-lane number from 52-bit limbs per lane.
fn pack(lane0: &[u64; MAX_LIMBS], lane1: &[u64; MAX_LIMBS]) -> Num {
    let constants = Constants::new();
    let mut out = [V2::ZERO; MAX_LIMBS];
    for ((o, a), b) in out.iter_mut().zip(lane0).zip(lane1) {
        *o = constants.float_of(V2::from_u64(*a, *b));
    }
    out
}

/// Splits a value below `2^(52 * MAX_LIMBS)` into 52-bit limbs.
fn to_limbs(value: &BigUint) -> [u64; MAX_LIMBS] {
    let mut out = [0u64; MAX_LIMBS];
    from_bytes(&value.to_bytes_be(), &mut out);
    out
}

/// Reads a big-endian byte string into 52-bit limbs, least significant first; bits beyond
/// `out`'s capacity are dropped. The loop runs over the length only.
pub(super) fn from_bytes(bytes: &[u8], out: &mut [u64; MAX_LIMBS]) {
    limbs::read_limbs(bytes, LIMB_BITS, MAX_LIMBS, |k, limb| out[k] = limb);
}

/// Writes 52-bit limbs as a big-endian byte string filling `out`; bits beyond `out`'s length
/// are dropped. The loop runs over the length only.
pub(super) fn to_bytes(value: &[u64; MAX_LIMBS], out: &mut [u8]) {
    limbs::write_limbs(value.iter().copied(), LIMB_BITS, out);
}

/// Returns `-m^-1 mod 2^52` for an odd `m` by Newton's iteration, as in
/// [`super::montgomery`]: five steps take the 3 correct bits of `x = m` past 52.
fn negated_inverse(m: u64) -> u64 {
    let mut x = m;
    for _ in 0..5 {
        x = x.wrapping_mul(2u64.wrapping_sub(m.wrapping_mul(x)));
    }
    x.wrapping_neg() & LIMB_MASK
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::saml::rsa_fast::montgomery::tests::{moduli, sample};

    fn value(limbs: &[u64; MAX_LIMBS]) -> BigUint {
        limbs.iter().rev().fold(BigUint::from(0u8), |acc, &limb| (acc << LIMB_BITS as usize) + BigUint::from(limb))
    }

    /// Canonical results per lane of a Montgomery-form number.
    fn canonical(context: &FusedMontgomery, a: &Num, moduli: &[BigUint; 2]) -> [BigUint; 2] {
        let [lane0, lane1] = context.out_of_montgomery(a);
        [value(&lane0) % &moduli[0], value(&lane1) % &moduli[1]]
    }

    #[test]
    fn negated_inverse_is_inverse() {
        for m in [1u64, 3, LIMB_MASK, 0x000f_1234_5678_9abd] {
            assert_eq!(m.wrapping_mul(negated_inverse(m)) & LIMB_MASK, LIMB_MASK, "m * (-m^-1) is -1 mod 2^52, m = {m:#x}");
        }
    }

    #[test]
    fn product_parts_are_exact() {
        let cases = [(0u64, 0u64), (1, 1), (LIMB_MASK, LIMB_MASK), (LIMB_MASK, 1), (1 << 51, 1 << 51), (0x000a_bcde_f012_3457, 0x0009_8765_4321_0fed)];
        for (a, b) in cases {
            let mut column = Column::EMPTY;
            let constants = Constants::new();
            column.add_product(constants.float_of(V2::splat_u64(a)), constants.float_of(V2::splat_u64(b)), &constants);
            let (low, high) = column.exact();
            let [low, _] = low.lanes_u64();
            let [high, _] = high.lanes_u64();
            let rebuilt = i128::from(low as i64) + (i128::from(high as i64) << LIMB_BITS);
            assert_eq!(rebuilt, i128::from(a) * i128::from(b), "low + high * 2^52 is a * b for {a:#x} * {b:#x}");
        }
    }

    #[test]
    fn mul_and_square_match_bigint() {
        let moduli = moduli();
        let context = FusedMontgomery::new([&moduli[0], &moduli[1]]).unwrap();
        for seed in 0..20 {
            let a = [sample(seed, &moduli[0]), sample(seed + 7, &moduli[1])];
            let b = [sample(seed + 100, &moduli[0]), sample(seed + 9, &moduli[1])];
            let a_mont = context.to_montgomery(&[to_limbs(&a[0]), to_limbs(&a[1])]);
            let b_mont = context.to_montgomery(&[to_limbs(&b[0]), to_limbs(&b[1])]);
            let product = canonical(&context, &context.mul(&a_mont, &b_mont), &moduli);
            let squared = canonical(&context, &context.square(&a_mont), &moduli);
            for lane in 0..2 {
                let m = &moduli[lane];
                assert_eq!(product[lane], (&a[lane] * &b[lane]) % m, "lane {lane} product, seed {seed}");
                assert_eq!(squared[lane], (&a[lane] * &a[lane]) % m, "lane {lane} square, seed {seed}");
            }
        }
    }

    #[test]
    fn mul_of_largest_inputs() {
        // Inputs just below 2m in every limb pattern the bound allows: 2m - 1.
        let moduli = moduli();
        let context = FusedMontgomery::new([&moduli[0], &moduli[1]]).unwrap();
        let big = [&moduli[0] * 2u8 - 1u8, &moduli[1] * 2u8 - 1u8];
        let x = pack(&to_limbs(&big[0]), &to_limbs(&big[1]));
        let r = BigUint::from(1u8) << (LIMB_BITS as usize * context.limbs);
        for (name, result) in [("mul", context.mul(&x, &x)), ("square", context.square(&x))] {
            // mul(mul(x, x), R^2) is x^2 (mod m) in Montgomery form, so canonical() returns
            // x^2 * R^-1, and multiplying that by R gives x^2.
            let got = canonical(&context, &context.mul(&result, &context.r2), &moduli);
            for lane in 0..2 {
                let m = &moduli[lane];
                assert_eq!(&got[lane] * &r % m, &big[lane] * &big[lane] % m, "{name} of 2m - 1, lane {lane}");
            }
        }
    }

    #[test]
    fn pow_secret_matches_modpow() {
        let moduli = moduli();
        let context = FusedMontgomery::new([&moduli[0], &moduli[1]]).unwrap();
        let bases = [sample(11, &moduli[0]), sample(12, &moduli[1])];
        let exponents = [sample(13, &moduli[0]), sample(14, &moduli[1])];
        let digits = digits_of(&super::super::montgomery::window_digits([&exponents[0], &exponents[1]], 1024));
        let base = context.to_montgomery(&[to_limbs(&bases[0]), to_limbs(&bases[1])]);
        let result = canonical(&context, &context.pow_secret(&base, &digits), &moduli);
        for lane in 0..2 {
            assert_eq!(result[lane], bases[lane].modpow(&exponents[lane], &moduli[lane]), "lane {lane} power");
        }
    }

    #[test]
    fn bytes_round_trip() {
        let bytes: Vec<u8> = (1..=130u8).map(|b| b.wrapping_mul(97)).collect();
        let mut limbs = [0u64; MAX_LIMBS];
        from_bytes(&bytes, &mut limbs);
        let mut back = vec![0u8; bytes.len()];
        to_bytes(&limbs, &mut back);
        assert_eq!(back, bytes, "bytes -> limbs -> bytes returns the input");
    }

    #[test]
    fn new_rejects_unusable_moduli() {
        let even = BigUint::from(1u8) << 1000usize;
        let odd = BigUint::from(3u8);
        assert!(FusedMontgomery::new([&even, &odd]).is_none(), "an even modulus is refused");
        let large = (BigUint::from(1u8) << 2100usize) + 1u8;
        assert!(FusedMontgomery::new([&large, &odd]).is_none(), "a modulus beyond MAX_LIMBS limbs is refused");
    }

    /// Compares the time of this kernel's `pow_secret` for special secrets (base one, every
    /// window digit zero) and random ones, interleaved at random, with Welch's t-test, as the
    /// lane kernel's test does. |t| > 4.5 is evidence of a leak.
    ///
    /// The kernel runs fused natively and on wasm with relaxed SIMD (under Node.js):
    ///
    /// ```text
    /// cargo test --release --lib rsa_fast::fused::tests::timing -- --ignored --nocapture
    /// cargo test --release --target wasm32-wasip1 --no-default-features --lib rsa_fast::fused::tests::timing -- --ignored --nocapture
    /// ```
    #[test]
    #[ignore = "statistical timing test, about a minute; see the doc comment for the command"]
    fn timing_independent_of_secrets() {
        use crate::saml::rsa_fast::montgomery::tests::{assert_no_timing_leak, time_two_classes};
        use rand_core::RngCore;

        let moduli = moduli();
        let context = FusedMontgomery::new([&moduli[0], &moduli[1]]).unwrap();
        let windows = 1024 / WINDOW_BITS as usize + 1;
        let zero_digits = vec![V2::ZERO; windows];
        let times = time_two_classes(
            |class, rng| {
                if class == 0 {
                    return (context.one, zero_digits.clone());
                }
                let values = [sample(rng.next_u32(), &moduli[0]), sample(rng.next_u32(), &moduli[1])];
                let digits = (0..windows).map(|_| V2::from_u64(rng.next_u64() & 31, rng.next_u64() & 31)).collect();
                (context.to_montgomery(&[to_limbs(&values[0]), to_limbs(&values[1])]), digits)
            },
            |(base, digits)| context.pow_secret(base, digits),
        );
        assert_no_timing_leak("fused pow_secret", &times);
    }
}
