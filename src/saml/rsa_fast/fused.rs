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
//! Each column starts from minus the offsets, `bits(C)` and `bits(M)` once per part, that the
//! operation will add to it ([`OffsetTables`], wrapping arithmetic), so that it contains the
//! exact sum when it is read.
//!
//! # Montgomery multiplication
//!
//! Operand scanning: the product's rows `a[i] * b` are added to an array of column sums, two
//! rows per pass, and then the reduction adds one row `x * m` per quotient digit x. Every row
//! has a length fixed by the limb count, so loop exits are easy to predict, and each column is
//! read and written once per pair of products. Squaring adds each cross product once and
//! doubles the columns.
//!
//! The reduction works modulo a multiple `m` of each prime that is -1 modulo 2^52
//! ([`friendly_multiple`]). A quotient digit is then a column's low limb, with no
//! multiplication, so the chain of dependent operations from one digit to the next stays
//! short (see [`FusedMontgomery::reduce`]). `R = 2^(52 * limbs) > 4m`, so that inputs below 2m
//! give a product below 2m and no conditional subtraction is needed. Column sums stay far below
//! 2^63: a column receives at most `4 * MAX_LIMBS` parts, each below 2^52 in magnitude.
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
/// Limbs per number: working moduli of up to `52 * 41 - 2 = 2130` bits, so primes of up to
/// 2078 bits (see [`friendly_multiple`]) and keys of up to 4096 bits.
pub(super) const MAX_LIMBS: usize = 41;

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

/// Column sums of a double-length product: column c, one 64-bit integer per lane, has weight
/// `2^(52 * c)`. The two spare columns take the last high parts of rows that end at the top.
type Columns = [V2; 2 * MAX_LIMBS + 2];

/// Adds `x * y[j]` for each j to the columns starting at `t[0]`: the low part to column j and
/// the high part to column j + 1. `carry` (exact) goes to column 0.
///
/// Column 0 receives one low part's offset, columns 1 to `y.len() - 1` a low and a high
/// part's, and column `y.len()` a high part's. [`OffsetTables`] counts them per operation.
#[inline(always)]
fn add_row(t: &mut [V2], x: V2, y: &[V2], carry: V2, constants: &Constants) {
    let mut high = carry;
    for (column, b) in t.iter_mut().zip(y) {
        let (product_low, product_high) = constants.product(x, *b);
        *column = column.add(product_low).add(high);
        high = product_high;
    }
    if let Some(column) = t.get_mut(y.len()) {
        *column = column.add(high);
    }
}

/// Adds two rows at once, as [`add_row`] adds one: `x0` and `x1` times `y`, with `x1`'s row
/// one column further. `x0 * y[j]` goes to columns j and j + 1, and `x1 * y[j]` to columns
/// j + 1 and j + 2, for j from 1, or from 0 when `X1_MEETS_FIRST`. Each column is then read
/// and written once for two products, and receives the offsets of both rows.
#[inline(always)]
fn add_two_rows<const X1_MEETS_FIRST: bool>(t: &mut [V2], x0: V2, x1: V2, y: &[V2], constants: &Constants) {
    let (Some((&first, rest)), Some(t_first)) = (y.split_first(), t.first_mut()) else {
        return;
    };
    // `pending` is what column j still receives, and `high` is x1's high part for column j + 1.
    let (low, mut pending) = constants.product(x0, first);
    *t_first = t_first.add(low);
    let mut high = V2::ZERO;
    if X1_MEETS_FIRST {
        let (low, next_high) = constants.product(x1, first);
        pending = pending.add(low);
        high = next_high;
    }
    for (column, b) in t[1..].iter_mut().zip(rest) {
        let (low0, high0) = constants.product(x0, *b);
        let (low1, high1) = constants.product(x1, *b);
        *column = column.add(low0).add(pending);
        pending = high0.add(low1).add(high);
        high = high1;
    }
    if let Some(column) = t.get_mut(y.len()) {
        *column = column.add(pending);
    }
    if let Some(column) = t.get_mut(y.len() + 1) {
        *column = column.add(high);
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

/// Per column, minus the offsets `bits(C)` and `bits(M)` (see the module documentation) that
/// an operation's products leave in it, so that a column sum that starts from it ends exact.
struct OffsetTables {
    /// `mul`: the product rows and the reduction.
    mul: Columns,
    /// `square`: the rows of cross products, which are then doubled.
    square_cross: Columns,
    /// `square`: the squares and the reduction, added after the doubling.
    square_rest: Columns,
}

impl OffsetTables {
    fn new(l: usize) -> Self {
        // Offsets per column of a row of n products starting at column `start` (see add_row).
        let row = |counts: &mut [u64; 2 * MAX_LIMBS + 2], start: usize, n: usize| {
            for column in start..start + n {
                counts[column] = counts[column].wrapping_add(LOW_OFFSET_BITS);
                counts[column + 1] = counts[column + 1].wrapping_add(HIGH_OFFSET_BITS);
            }
        };
        let mut reduction = [0u64; 2 * MAX_LIMBS + 2];
        for i in 0..l {
            // The head product q[i] * m[1] is made exact where it is used. Its high part enters
            // the row of the others as the carry.
            reduction[i + 2] = reduction[i + 2].wrapping_add(HIGH_OFFSET_BITS);
            row(&mut reduction, i + 2, l - 2);
        }
        let mut mul = reduction;
        for i in 0..l {
            row(&mut mul, i, l);
        }
        let mut cross = [0u64; 2 * MAX_LIMBS + 2];
        for i in 0..l - 1 {
            row(&mut cross, 2 * i + 1, l - 1 - i);
        }
        let mut rest = reduction;
        for i in 0..l {
            row(&mut rest, 2 * i, 1);
        }
        let negated = |counts: [u64; 2 * MAX_LIMBS + 2]| counts.map(|count| V2::splat_u64(count.wrapping_neg()));
        Self { mul: negated(mul), square_cross: negated(cross), square_rest: negated(rest) }
    }
}

/// The moduli and the constants that Montgomery arithmetic needs, computed once per key.
pub(super) struct FusedMontgomery {
    limbs: usize,
    /// The working moduli.
    modulus: Num,
    /// `R mod m`: one in Montgomery form.
    one: Num,
    /// `R^2 mod m`.
    r2: Num,
    offsets: OffsetTables,
    constants: Constants,
}

impl FusedMontgomery {
    /// Precomputes the constants for `moduli[0]` (lane 0) and `moduli[1]` (lane 1), or
    /// returns `None` when a modulus is even or its multiple (see [`friendly_multiple`]) needs
    /// more than [`MAX_LIMBS`] limbs.
    ///
    /// Like [`super::montgomery::Montgomery::new`] this runs once per key, with
    /// variable-time arithmetic on the primes.
    pub(super) fn new(moduli: [&BigUint; 2]) -> Option<Self> {
        if moduli.iter().any(|m| m.to_bytes_le().first().is_none_or(|low| low & 1 == 0)) {
            return None;
        }
        let multiples = moduli.map(friendly_multiple);
        let bits = multiples[0].bits().max(multiples[1].bits());
        // A working modulus is -1 mod 2^52, so at least 2^52 - 1: two limbs or more, as the
        // reduction needs, since it reads m[1].
        let limbs = (bits + 2).div_ceil(LIMB_BITS as usize);
        if limbs > MAX_LIMBS {
            return None;
        }
        let r = BigUint::from(1u8) << (LIMB_BITS as usize * limbs);
        let constants = |m: &BigUint| {
            let one = &r % m;
            let r2 = (&one * &one) % m;
            [m.clone(), one, r2].map(|value| to_limbs(&value))
        };
        let [m0, one0, r2_0] = constants(&multiples[0]);
        let [m1, one1, r2_1] = constants(&multiples[1]);
        Some(Self {
            constants: Constants::new(),
            limbs,
            modulus: pack(&m0, &m1),
            one: pack(&one0, &one1),
            r2: pack(&r2_0, &r2_1),
            offsets: OffsetTables::new(limbs),
        })
    }

    /// Returns `a * b * R^-1 mod m`, below 2m when `a` and `b` are.
    pub(super) fn mul(&self, a: &Num, b: &Num) -> Num {
        let l = self.limbs;
        let mut t = self.offsets.mul;
        for i in (0..l).step_by(2) {
            if i + 1 < l {
                add_two_rows::<true>(&mut t[i..], a[i], a[i + 1], &b[..l], &self.constants);
            } else {
                add_row(&mut t[i..], a[i], &b[..l], V2::ZERO, &self.constants);
            }
        }
        self.reduce(&mut t)
    }

    /// Returns `a^2 * R^-1 mod m`: [`Self::mul`] with each cross product computed once.
    pub(super) fn square(&self, a: &Num) -> Num {
        let l = self.limbs;
        let mut t = self.offsets.square_cross;
        // Rows i and i + 1 of the cross products a[i] * a[j], j > i, at column i + j: row
        // i + 1 meets the same limbs but the first.
        for i in (0..l - 1).step_by(2) {
            let row = &mut t[2 * i + 1..];
            if i + 2 < l {
                add_two_rows::<false>(row, a[i], a[i + 1], &a[i + 1..l], &self.constants);
            } else {
                add_row(row, a[i], &a[i + 1..l], V2::ZERO, &self.constants);
            }
        }
        for (column, offset) in t.iter_mut().zip(&self.offsets.square_rest) {
            *column = column.shl(1).add(*offset);
        }
        for (i, x) in a[..l].iter().enumerate() {
            add_row(&mut t[2 * i..], *x, &[*x], V2::ZERO, &self.constants);
        }
        self.reduce(&mut t)
    }

    /// Montgomery reduction of exact column sums `t` of a product below `4m^2`: returns
    /// `t * R^-1 mod m`, below 2m, as limbs.
    ///
    /// The working modulus is -1 modulo 2^52 (see [`friendly_multiple`]), so the quotient
    /// digit of a column is its own low limb `x`, and adding `x * m[0] = x * 2^52 - x` clears
    /// that limb and carries `x` into the next column. Neither needs a multiplication, so the
    /// chain from one column's digit to the next is one product, `x * m[1]`, and additions.
    /// The digit's other products (its row) are added one column later, when they no longer
    /// hold up that chain.
    #[inline(always)]
    fn reduce(&self, t: &mut Columns) -> Num {
        let l = self.limbs;
        let constants = &self.constants;
        let modulus = &self.modulus[..l];
        let low_offset = V2::splat_u64(LOW_OFFSET_BITS);
        // Column i's additions that are still in registers: the head product's low part
        // and the carry.
        let mut pending = V2::ZERO;
        // The previous digit and its head product's high part, for its row.
        let mut previous: Option<(V2, V2)> = None;
        for i in 0..l {
            let value = t[i].add(pending);
            let digit = constants.low_limb(value);
            let float_digit = constants.float_of(digit);
            let (head_low, head_high) = constants.product(float_digit, modulus[1]);
            pending = head_low.sub(low_offset).add(value.shr_signed(LIMB_BITS)).add(digit);
            if let Some((digit, carry)) = previous {
                add_row(&mut t[i + 1..], digit, &modulus[2..], carry, constants);
            }
            previous = Some((float_digit, head_high));
        }
        if let Some((digit, carry)) = previous {
            add_row(&mut t[l + 1..], digit, &modulus[2..], carry, constants);
        }
        let mut out = [V2::ZERO; MAX_LIMBS];
        let mut carry = pending;
        for (o, column) in out.iter_mut().zip(&t[l..2 * l]) {
            let value = column.add(carry);
            *o = constants.float_of(constants.low_limb(value));
            carry = value.shr_signed(LIMB_BITS);
        }
        out
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
    ///
    /// Exactly one entry's mask is all ones per lane, so OR-ing every masked entry gives that
    /// entry: two instructions per limb, where a bit select takes three on x86.
    fn select(&self, table: &[Num; TABLE_SIZE], digit: V2) -> Num {
        let mut out = [V2::ZERO; MAX_LIMBS];
        for (index, entry) in (0u64..).zip(table.iter()) {
            let mask = digit.eq_mask(V2::splat_u64(index));
            for (o, e) in out[..self.limbs].iter_mut().zip(&entry[..self.limbs]) {
                *o = o.or(e.and(mask));
            }
        }
        out
    }

    /// Converts values below the working modulus, one per lane as 52-bit limbs, into
    /// Montgomery form.
    pub(super) fn to_montgomery(&self, lanes: &[[u64; MAX_LIMBS]; 2]) -> Num {
        self.mul(&pack(&lanes[0], &lanes[1]), &self.r2)
    }

    /// Converts out of Montgomery form: `a * R^-1` modulo the working modulus for `a` below
    /// twice that modulus, as 52-bit limbs per lane, at most the working modulus. The caller
    /// reduces it modulo the prime.
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

/// Returns the multiple `m * (-m^-1 mod 2^52)` of an odd `m`, which is -1 modulo 2^52: the
/// modulus the kernel works with. Its Montgomery reduction needs no multiplication to find a
/// quotient digit (see [`FusedMontgomery::reduce`]), at the price of up to 52 more
/// bits, one limb for RSA-2048. A result modulo the multiple is congruent modulo `m` too, so
/// callers reduce modulo `m` once at the end.
fn friendly_multiple(m: &BigUint) -> BigUint {
    let low = m.to_bytes_le().iter().take(8).rev().fold(0u64, |acc, &byte| (acc << 8) | u64::from(byte));
    m * BigUint::from(negated_inverse(low & LIMB_MASK))
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
        let constants = Constants::new();
        for (a, b) in cases {
            let (low, high) = constants.product(constants.float_of(V2::splat_u64(a)), constants.float_of(V2::splat_u64(b)));
            let [low, _] = low.sub(V2::splat_u64(LOW_OFFSET_BITS)).lanes_u64();
            let [high, _] = high.sub(V2::splat_u64(HIGH_OFFSET_BITS)).lanes_u64();
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
    fn friendly_multiple_is_minus_one_modulo_limb() {
        let limb = BigUint::from(1u8) << LIMB_BITS as usize;
        let [p, q] = moduli();
        for m in [p, q, BigUint::from(3u8), (BigUint::from(1u8) << 2078usize) - 3u8] {
            let multiple = friendly_multiple(&m);
            assert_eq!(&multiple % &m, BigUint::from(0u8), "the working modulus is a multiple of m = {m:x}");
            assert_eq!((&multiple + 1u8) % &limb, BigUint::from(0u8), "the working modulus of m = {m:x} is -1 mod 2^52");
            assert!(multiple.bits() <= m.bits() + LIMB_BITS as usize, "the multiple of m = {m:x} is at most 52 bits longer");
        }
    }

    #[test]
    fn largest_prime_fits() {
        // -m^-1 mod 2^52 is 3^-1, which has 52 bits, so the working modulus has 2130.
        let m = (BigUint::from(1u8) << 2078usize) - 3u8;
        let context = FusedMontgomery::new([&m, &m]).expect("a 2078-bit odd modulus fits MAX_LIMBS");
        assert_eq!(context.limbs, MAX_LIMBS, "the multiple of a 2078-bit modulus takes every limb");
    }

    #[test]
    fn mul_of_largest_inputs() {
        // Inputs just below twice the working modulus: 2m - 1, the largest the bound allows.
        let multiples = moduli().map(|m| friendly_multiple(&m));
        let context = FusedMontgomery::new([&moduli()[0], &moduli()[1]]).unwrap();
        let big = [&multiples[0] * 2u8 - 1u8, &multiples[1] * 2u8 - 1u8];
        let x = pack(&to_limbs(&big[0]), &to_limbs(&big[1]));
        let r = BigUint::from(1u8) << (LIMB_BITS as usize * context.limbs);
        for (name, result) in [("mul", context.mul(&x, &x)), ("square", context.square(&x))] {
            // mul(mul(x, x), R^2) is x^2 (mod m) in Montgomery form, so canonical() returns
            // x^2 * R^-1, and multiplying that by R gives x^2.
            let got = canonical(&context, &context.mul(&result, &context.r2), &multiples);
            for lane in 0..2 {
                let m = &multiples[lane];
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
