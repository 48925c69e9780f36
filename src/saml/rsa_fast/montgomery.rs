//! Montgomery arithmetic modulo p (lane 0) and q (lane 1) at once.
//!
//! Numbers are fixed-size arrays of [`LimbPair`], least significant limb first. A key uses
//! the first `limbs` limbs (an even number), with `R = 2^(28 * limbs) > 4 * max(p, q)`. For
//! inputs below 2m the Montgomery product `(a * b + q * m) / R` is below
//! `(4m^2 + R * m) / R < 2m`, so the multiplication needs no conditional subtraction at all.
//! Values become canonical (below m) only where a caller requests it, through
//! [`Montgomery::reduce_once`].
//!
//! Multiplication is product scanning with the reduction interleaved column by column: each
//! column sums its limb products in 64-bit lanes and carries once, which the 28-bit limbs
//! allow (see [`super::lanes`]).
//!
//! Loop bounds depend only on the limb count and the exponent length, which are public.
//! The secret exponent enters only through window digits, and a window's table entry is
//! selected by reading every entry under a mask.

use rsa::BigUint;

use super::lanes::{Limb2, LimbPair, Wide2, LIMB_BITS, LIMB_MASK};
use super::limbs;

/// Limbs per number: room for primes of up to `28 * 76 - 2 = 2126` bits, so for keys of up to
/// 4096 bits with two primes of equal size. Column sums stay below 2^64 for up to 126 limbs.
pub(super) const MAX_LIMBS: usize = 76;
/// Limb pairs per number.
pub(super) const MAX_PAIRS: usize = MAX_LIMBS / 2;

/// Window width of the fixed-window exponentiation, in bits.
pub(super) const WINDOW_BITS: u32 = 5;
/// Entries in the exponentiation's window table.
pub(super) const TABLE_SIZE: usize = 1 << WINDOW_BITS;

/// A number in both lanes, two limbs per element.
pub(super) type Num = [LimbPair; MAX_PAIRS];
/// A double-length number in both lanes, such as a value modulo n.
pub(super) type WideNum = [LimbPair; MAX_LIMBS];

/// A number rearranged so that a column of a product, `sum a[i] * b[k - i]`, reads both
/// operands pair by pair in step: for odd k the pairs `(b[2t + 1], b[2t])`, for even k the
/// pairs `(b[2t], b[2t - 1])`, with `b[-1]` and `b[limbs]` zero.
struct Reversed {
    swapped: [LimbPair; MAX_PAIRS],
    shifted: [LimbPair; MAX_PAIRS + 1],
}

impl Reversed {
    #[inline(always)]
    fn new(b: &Num, pairs: usize) -> Self {
        let mut swapped = [LimbPair::ZERO; MAX_PAIRS];
        let mut shifted = [LimbPair::ZERO; MAX_PAIRS + 1];
        let mut previous = LimbPair::ZERO;
        for ((swap, shift), pair) in swapped.iter_mut().zip(shifted.iter_mut()).zip(&b[..pairs]) {
            *swap = pair.swap();
            *shift = LimbPair::join(*pair, previous);
            previous = *pair;
        }
        shifted[pairs] = LimbPair::join(LimbPair::ZERO, previous);
        Self { swapped, shifted }
    }
}

/// The moduli and the constants that Montgomery arithmetic needs, computed once per key.
pub(super) struct Montgomery {
    /// Limbs in use, an even number.
    limbs: usize,
    modulus: Num,
    modulus_reversed: Reversed,
    /// The lowest limb of each modulus.
    modulus_low: Limb2,
    /// `-m^-1 mod 2^28` per lane.
    m_prime: Limb2,
    /// `R mod m`: one in Montgomery form.
    one: Num,
    /// `R^2 mod m`.
    r2: Num,
    /// `R^3 mod m`: turns `x * R^-1` into `x * R` in one product.
    r3: Num,
}

/// A modulus that the arithmetic cannot use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ModulusError {
    /// A modulus is even (so it is not an RSA prime).
    Even,
    /// A modulus needs more limbs than [`MAX_LIMBS`] allows.
    TooLarge { bits: usize },
}

impl Montgomery {
    /// Precomputes the constants for `moduli[0]` (lane 0) and `moduli[1]` (lane 1).
    ///
    /// This runs once, when the key is loaded, with `num-bigint-dig`'s variable-time
    /// arithmetic on the secret primes: one run is not enough for a timing attack, and the
    /// per-signature code never calls it.
    pub(super) fn new(moduli: [&BigUint; 2]) -> Result<Self, ModulusError> {
        let bits = moduli[0].bits().max(moduli[1].bits());
        let limbs = (bits + 2).div_ceil(LIMB_BITS as usize).next_multiple_of(2);
        if limbs > MAX_LIMBS {
            return Err(ModulusError::TooLarge { bits });
        }
        if moduli.iter().any(|m| m.to_bytes_le().first().is_none_or(|low| low & 1 == 0)) {
            return Err(ModulusError::Even);
        }

        let r = BigUint::from(1u8) << (LIMB_BITS as usize * limbs);
        let lane_constants = |m: &BigUint| {
            let one = &r % m;
            let r2 = (&one * &one) % m;
            let r3 = (&r2 * &one) % m;
            [m.clone(), one, r2, r3].map(|value| to_limb_array(&value))
        };
        let [m0, one0, r2_0, r3_0] = lane_constants(moduli[0]);
        let [m1, one1, r2_1, r3_1] = lane_constants(moduli[1]);

        let modulus = limbs::pack(&m0, &m1);
        Ok(Self {
            limbs,
            modulus_reversed: Reversed::new(&modulus, limbs / 2),
            modulus,
            modulus_low: Limb2::new(m0[0], m1[0]),
            m_prime: Limb2::new(negated_inverse(m0[0]), negated_inverse(m1[0])),
            one: limbs::pack(&one0, &one1),
            r2: limbs::pack(&r2_0, &r2_1),
            r3: limbs::pack(&r3_0, &r3_1),
        })
    }

    /// The number of limbs in use.
    pub(super) fn limbs(&self) -> usize {
        self.limbs
    }

    /// `R^2 mod m`, per lane.
    pub(super) fn r2(&self) -> &Num {
        &self.r2
    }

    /// Returns `a * b * R^-1 mod m`, below 2m when `a` and `b` are.
    pub(super) fn mul(&self, a: &Num, b: &Num) -> Num {
        let l = self.limbs;
        let b = Reversed::new(b, l / 2);
        self.reduce_columns(|k| product_column(a, &b, k, l))
    }

    /// Returns `a^2 * R^-1 mod m`: [`Self::mul`] with each cross product computed once.
    pub(super) fn square(&self, a: &Num) -> Num {
        let l = self.limbs;
        let reversed = Reversed::new(a, l / 2);
        self.reduce_columns(|k| square_column(a, &reversed, k, l))
    }

    /// Returns `t * R^-1 mod m` for a double-length `t < R * m`, below 2m.
    pub(super) fn reduce_wide(&self, t: &WideNum) -> Num {
        self.reduce_columns(|k| {
            let pair = t[k / 2];
            let limb = if k % 2 == 0 { pair.low() } else { pair.high() };
            limb.widen()
        })
    }

    /// Returns `t * R mod m` (Montgomery form) for a double-length `t < R * m`, below 2m.
    pub(super) fn to_montgomery(&self, t: &WideNum) -> Num {
        self.mul(&self.reduce_wide(t), &self.r3)
    }

    /// Returns `a * R^-1 mod m` in canonical form (below m), for `a` below 2m.
    pub(super) fn to_canonical(&self, a: &Num) -> Num {
        let mut unit = [LimbPair::ZERO; MAX_PAIRS];
        unit[0] = LimbPair::new(Limb2::new(1, 1), Limb2::ZERO);
        self.reduce_once(&self.mul(a, &unit))
    }

    /// Montgomery reduction of the column sums that `column(k)` returns for the product's
    /// columns `k = 0 .. 2 * limbs`. Column sums must stay below `(limbs + 1) * 2^56` so
    /// that, with the reduction's own products, nothing overflows 64 bits.
    #[inline(always)]
    fn reduce_columns(&self, column: impl Fn(usize) -> Wide2) -> Num {
        let l = self.limbs;
        let mut quotient = [LimbPair::ZERO; MAX_PAIRS];
        let mut out = [LimbPair::ZERO; MAX_PAIRS];
        let mut carry = Wide2::ZERO;
        let mut pending = Limb2::ZERO;
        for k in 0..2 * l {
            // The quotient digit k is still zero here, so it adds nothing to column k.
            let reduction = product_column(&quotient, &self.modulus_reversed, k, l);
            let mut acc = carry.add(column(k)).add(reduction);
            if k < l {
                // Choose quotient digit k so that column k becomes divisible by 2^28.
                let digit = acc.low_limb().mul_low(self.m_prime);
                acc = acc.add(digit.mul(self.modulus_low));
                let slot = &mut quotient[k / 2];
                *slot = if k % 2 == 0 { LimbPair::new(digit, Limb2::ZERO) } else { LimbPair::new(slot.low(), digit) };
            } else if (k - l) % 2 == 0 {
                pending = acc.low_limb();
            } else {
                out[(k - l) / 2] = LimbPair::new(pending, acc.low_limb());
            }
            carry = acc.carry();
        }
        out
    }

    /// Returns `a - m` if that is not negative, else `a`, per lane: the canonical form of an
    /// `a` below 2m.
    pub(super) fn reduce_once(&self, a: &Num) -> Num {
        let (difference, negative) = self.subtract(a, &self.modulus);
        let mut out = [LimbPair::ZERO; MAX_PAIRS];
        for ((o, x), d) in out.iter_mut().zip(&a[..self.limbs / 2]).zip(&difference) {
            *o = LimbPair::select(negative, *x, *d);
        }
        out
    }

    /// Returns `(a - b) mod m` per lane, in canonical form, for canonical `a` and `b`.
    pub(super) fn sub_mod(&self, a: &Num, b: &Num) -> Num {
        let (difference, negative) = self.subtract(a, b);
        let mut out = [LimbPair::ZERO; MAX_PAIRS];
        let mut carry = Wide2::ZERO;
        for ((o, d), m) in out.iter_mut().zip(&difference[..self.limbs / 2]).zip(&self.modulus) {
            let m = m.and(negative);
            let low = d.low().widen().add(m.low().widen()).add(carry);
            carry = low.carry();
            let high = d.high().widen().add(m.high().widen()).add(carry);
            carry = high.carry();
            *o = LimbPair::new(low.low_limb(), high.low_limb());
        }
        out
    }

    /// Returns `a - b` modulo `R` and the mask of the lanes where it borrowed (`a < b`).
    fn subtract(&self, a: &Num, b: &Num) -> (Num, Limb2) {
        let pairs = self.limbs / 2;
        let mut out = [LimbPair::ZERO; MAX_PAIRS];
        let mut borrow = Wide2::ZERO;
        for ((o, x), y) in out.iter_mut().zip(&a[..pairs]).zip(&b[..pairs]) {
            let low = x.low().widen().sub(y.low().widen()).add(borrow);
            borrow = low.shr_signed();
            let high = x.high().widen().sub(y.high().widen()).add(borrow);
            borrow = high.shr_signed();
            *o = LimbPair::new(low.low_limb(), high.low_limb());
        }
        (out, borrow.sign_mask())
    }

    /// Returns `base^e` in Montgomery form for a public exponent `e >= 1`, by left-to-right
    /// square-and-multiply. It branches on the bits of `e`, which is why `e` must be public.
    pub(super) fn pow_public(&self, base: &Num, e: u64) -> Num {
        let mut acc = *base;
        let top_bit = 63 - e.max(1).leading_zeros();
        for bit in (0..top_bit).rev() {
            acc = self.square(&acc);
            if (e >> bit) & 1 == 1 {
                acc = self.mul(&acc, base);
            }
        }
        acc
    }

    /// Returns `base^d` in Montgomery form, lane by lane, for a secret exponent given as
    /// [`WINDOW_BITS`]-bit digits per lane, most significant first (see [`window_digits`]).
    ///
    /// Every digit costs the same squarings, one table scan and one multiplication, a zero
    /// digit included, so the time depends only on the number of digits.
    pub(super) fn pow_secret(&self, base: &Num, digits: &[Limb2]) -> Num {
        let mut table = [[LimbPair::ZERO; MAX_PAIRS]; TABLE_SIZE];
        table[0] = self.one;
        table[1] = *base;
        for i in 2..TABLE_SIZE {
            let entry = if i % 2 == 0 { self.square(&table[i / 2]) } else { self.mul(&table[i - 1], base) };
            table[i] = entry;
        }

        let Some((first, rest)) = digits.split_first() else {
            return self.one;
        };
        let mut acc = self.select(&table, *first);
        for digit in rest {
            for _ in 0..WINDOW_BITS {
                acc = self.square(&acc);
            }
            let entry = self.select(&table, *digit);
            acc = self.mul(&acc, &entry);
        }
        acc
    }

    /// Returns `table[digit]` per lane by reading every entry and keeping the one whose index
    /// matches under a mask, so the memory accesses do not depend on the digit.
    fn select(&self, table: &[Num; TABLE_SIZE], digit: Limb2) -> Num {
        let pairs = self.limbs / 2;
        let mut out = [LimbPair::ZERO; MAX_PAIRS];
        for (index, entry) in (0u32..).zip(table.iter()) {
            let mask = digit.eq_mask(Limb2::new(index, index));
            for (o, e) in out[..pairs].iter_mut().zip(&entry[..pairs]) {
                *o = o.or(e.and(mask));
            }
        }
        out
    }

    /// Returns whether two numbers are equal in both lanes, reading every limb.
    pub(super) fn equal(&self, a: &Num, b: &Num) -> bool {
        let pairs = self.limbs / 2;
        let mut difference = LimbPair::ZERO;
        for (x, y) in a[..pairs].iter().zip(&b[..pairs]) {
            difference = difference.or(x.xor(*y));
        }
        difference.low().or(difference.high()).lanes() == [0, 0]
    }
}

/// Column k of the product of `a` and the number that `b` rearranges, `l` limbs each:
/// `sum a[i] * b[k - i]` over `max(0, k - l + 1) <= i <= min(k, l - 1)`, two terms per step.
/// Where the range starts or ends inside a pair, the extra term meets a zero limb of `b`.
#[inline(always)]
fn product_column(a: &Num, b: &Reversed, k: usize, l: usize) -> Wide2 {
    let mut sum = Wide2::ZERO;
    if k > 2 * l - 2 {
        return sum;
    }
    let first = k.saturating_sub(l - 1) / 2;
    let last = k.min(l - 1) / 2;
    let half = k / 2;
    let reversed: &[LimbPair] = if k % 2 == 1 { &b.swapped } else { &b.shifted };
    for (x, y) in a[first..=last].iter().zip(reversed[half - last..=half - first].iter().rev()) {
        sum = sum.add(x.dot(*y));
    }
    sum
}

/// Column k of `a^2`, where `reversed` rearranges `a` itself: the cross products
/// `a[i] * a[k - i]` with `i < k - i` counted twice, plus `a[k / 2]^2` when k is even.
///
/// Pair t holds `a[2t]` and `a[2t + 1]`; the pairs wholly below the middle of the column
/// contribute both terms, and the pair at the middle, if the middle splits it, contributes
/// only the terms that are a cross product with `i < k - i` or the square.
#[inline(always)]
fn square_column(a: &Num, reversed: &Reversed, k: usize, l: usize) -> Wide2 {
    if k > 2 * l - 2 {
        return Wide2::ZERO;
    }
    let first = k.saturating_sub(l - 1) / 2;
    let middle = k / 2;
    let odd_column = k % 2 == 1;
    let vectors: &[LimbPair] = if odd_column { &reversed.swapped } else { &reversed.shifted };
    // Pairs first..full_end have both terms below the middle.
    let full_end = match (odd_column, middle % 2 == 1) {
        (true, true) => middle.div_ceil(2),
        (false, true) => (middle - 1) / 2,
        (_, false) => middle / 2,
    };

    let mut cross = Wide2::ZERO;
    if first < full_end {
        for (x, y) in a[first..full_end].iter().zip(vectors[middle + 1 - full_end..=middle - first].iter().rev()) {
            cross = cross.add(x.dot(*y));
        }
    }

    let mut square = Wide2::ZERO;
    match (odd_column, middle % 2 == 1) {
        // The pair (middle, middle + 1): a[middle] * a[middle + 1] is the last cross product.
        (true, false) => {
            let [low, _] = a[middle / 2].products(vectors[middle - middle / 2]);
            cross = cross.add(low);
        }
        // The pair (middle, middle + 1): a[middle]^2 is the square.
        (false, false) => {
            let [low, _] = a[middle / 2].products(vectors[middle - middle / 2]);
            square = low;
        }
        // The pair (middle - 1, middle): a cross product, then the square.
        (false, true) => {
            let t = (middle - 1) / 2;
            let [low, high] = a[t].products(vectors[middle - t]);
            cross = cross.add(low);
            square = high;
        }
        (true, true) => {}
    }
    cross.double().add(square)
}

/// Splits two secret exponents into [`WINDOW_BITS`]-bit digits, lane 0 from `exponents[0]`
/// and lane 1 from `exponents[1]`, most significant first, over `bits` bits: the same count
/// for both, so neither exponent's own length shows in the time of [`Montgomery::pow_secret`].
pub(super) fn window_digits(exponents: [&BigUint; 2], bits: usize) -> Vec<Limb2> {
    let windows = bits.div_ceil(WINDOW_BITS as usize);
    let bytes = exponents.map(|e| e.to_bytes_le());
    let digit = |bytes: &[u8], window: usize| {
        (0..WINDOW_BITS as usize).fold(0u32, |acc, offset| {
            let bit = window * WINDOW_BITS as usize + offset;
            let byte = bytes.get(bit / 8).copied().unwrap_or(0);
            acc | (u32::from((byte >> (bit % 8)) & 1) << offset)
        })
    };
    (0..windows).rev().map(|window| Limb2::new(digit(&bytes[0], window), digit(&bytes[1], window))).collect()
}

/// Converts a value below `2^(28 * MAX_LIMBS)` to limbs.
fn to_limb_array(value: &BigUint) -> [u32; MAX_LIMBS] {
    let mut out = [0u32; MAX_LIMBS];
    limbs::from_bytes(&value.to_bytes_be(), &mut out);
    out
}

/// Returns `-m^-1 mod 2^28` for an odd limb `m`, by Newton's iteration: `x = m` is an inverse
/// modulo 2^3, and each step `x = x * (2 - m * x)` doubles the number of correct bits.
fn negated_inverse(m: u32) -> u32 {
    let mut x = m;
    for _ in 0..4 {
        x = x.wrapping_mul(2u32.wrapping_sub(m.wrapping_mul(x)));
    }
    x.wrapping_neg() & LIMB_MASK
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use rsa::BigUint;

    /// Two odd moduli of different sizes (1000 and 1024 bits), neither needing to be prime
    /// for Montgomery arithmetic.
    pub(in crate::saml::rsa_fast) fn moduli() -> [BigUint; 2] {
        let a = (BigUint::from(1u8) << 1000usize) - BigUint::from(1234567u32);
        let b = (BigUint::from(1u8) << 1023usize) + BigUint::from(987654321u32);
        [a, b]
    }

    fn num_of(values: [&BigUint; 2]) -> Num {
        limbs::pack(&to_limb_array(values[0]), &to_limb_array(values[1]))
    }

    fn lanes_of(num: &Num) -> [BigUint; 2] {
        limbs::unpack(num).map(|lane| {
            lane.iter().rev().fold(BigUint::from(0u8), |acc, &limb| (acc << LIMB_BITS as usize) + BigUint::from(limb))
        })
    }

    pub(in crate::saml::rsa_fast) fn sample(seed: u32, modulus: &BigUint) -> BigUint {
        let bytes: Vec<u8> = (0..200u32).map(|i| (i.wrapping_mul(2654435761).wrapping_add(seed) >> 13) as u8).collect();
        BigUint::from_bytes_be(&bytes) % modulus
    }

    #[test]
    fn negated_inverse_is_inverse() {
        for m in [1u32, 3, 0x0fff_ffff, 0x0123_4567, 0x0fed_cba9] {
            let product = m.wrapping_mul(negated_inverse(m)) & LIMB_MASK;
            assert_eq!(product, LIMB_MASK, "m * (-m^-1) must be -1 mod 2^28 for m = {m:#x}");
        }
    }

    #[test]
    fn montgomery_mul_matches_bigint() {
        let [m0, m1] = moduli();
        let context = Montgomery::new([&m0, &m1]).unwrap();
        let r = BigUint::from(1u8) << (LIMB_BITS as usize * context.limbs());
        for seed in 0..20 {
            let (a0, b0, a1, b1) = (sample(seed, &m0), sample(seed + 100, &m0), sample(seed + 7, &m1), sample(seed + 9, &m1));
            let product = context.to_canonical(&context.mul(&num_of([&a0, &a1]), &num_of([&b0, &b1])));
            let [p0, p1] = lanes_of(&product);
            // to_canonical(mul(a, b)) is a * b * R^-2, so multiplying back by R^2 gives a * b.
            assert_eq!((p0 * &r % &m0 * &r) % &m0, (&a0 * &b0) % &m0, "lane 0 product, seed {seed}");
            assert_eq!((p1 * &r % &m1 * &r) % &m1, (&a1 * &b1) % &m1, "lane 1 product, seed {seed}");
        }
    }

    #[test]
    fn montgomery_square_matches_mul() {
        let [m0, m1] = moduli();
        let context = Montgomery::new([&m0, &m1]).unwrap();
        for seed in 0..20 {
            let a = num_of([&sample(seed, &m0), &sample(seed + 3, &m1)]);
            let squared = lanes_of(&context.reduce_once(&context.square(&a)));
            let multiplied = lanes_of(&context.reduce_once(&context.mul(&a, &a)));
            assert_eq!(squared, multiplied, "square and mul agree, seed {seed}");
        }
    }

    #[test]
    fn montgomery_round_trip() {
        let [m0, m1] = moduli();
        let context = Montgomery::new([&m0, &m1]).unwrap();
        let x = sample(5, &m0) * sample(6, &m1);
        let mut wide = [0u32; 2 * MAX_LIMBS];
        limbs::from_bytes(&x.to_bytes_be(), &mut wide);
        let back = lanes_of(&context.to_canonical(&context.to_montgomery(&limbs::broadcast(&wide))));
        assert_eq!(back[0], &x % &m0, "lane 0 holds x mod m0");
        assert_eq!(back[1], &x % &m1, "lane 1 holds x mod m1");
    }

    #[test]
    fn pow_secret_matches_modpow() {
        let [m0, m1] = moduli();
        let context = Montgomery::new([&m0, &m1]).unwrap();
        let (base0, base1) = (sample(11, &m0), sample(12, &m1));
        let (e0, e1) = (sample(13, &m0), BigUint::from(0u8));
        let digits = window_digits([&e0, &e1], 1024);
        let bases = context.mul(&num_of([&base0, &base1]), context.r2());
        let result = lanes_of(&context.to_canonical(&context.pow_secret(&bases, &digits)));
        assert_eq!(result[0], base0.modpow(&e0, &m0), "lane 0 power");
        assert_eq!(result[1], BigUint::from(1u8), "lane 1 power with a zero exponent is one");
    }

    #[test]
    fn pow_public_matches_modpow() {
        let [m0, m1] = moduli();
        let context = Montgomery::new([&m0, &m1]).unwrap();
        let (base0, base1) = (sample(21, &m0), sample(22, &m1));
        let bases = context.mul(&num_of([&base0, &base1]), context.r2());
        for e in [1u64, 3, 65537, (1 << 33) - 1] {
            let result = lanes_of(&context.to_canonical(&context.pow_public(&bases, e)));
            assert_eq!(result[0], base0.modpow(&BigUint::from(e), &m0), "lane 0, e = {e}");
            assert_eq!(result[1], base1.modpow(&BigUint::from(e), &m1), "lane 1, e = {e}");
        }
    }

    #[test]
    fn sub_mod_wraps_negative() {
        let [m0, m1] = moduli();
        let context = Montgomery::new([&m0, &m1]).unwrap();
        let (a0, b0, a1, b1) = (sample(31, &m0), sample(32, &m0), sample(33, &m1), sample(34, &m1));
        let result = lanes_of(&context.sub_mod(&num_of([&a0, &a1]), &num_of([&b0, &b1])));
        assert_eq!(result[0], (&a0 + &m0 - &b0) % &m0, "lane 0 difference");
        assert_eq!(result[1], (&a1 + &m1 - &b1) % &m1, "lane 1 difference");
    }

    #[test]
    fn new_rejects_even_modulus() {
        let even = BigUint::from(1u8) << 1000usize;
        let odd = BigUint::from(3u8);
        assert_eq!(Montgomery::new([&even, &odd]).err(), Some(ModulusError::Even), "an even modulus is rejected");
    }

    #[test]
    fn new_rejects_oversized_modulus() {
        let large = (BigUint::from(1u8) << 2200usize) + BigUint::from(1u8);
        let odd = BigUint::from(3u8);
        assert_eq!(Montgomery::new([&large, &odd]).err(), Some(ModulusError::TooLarge { bits: 2201 }), "too many limbs");
    }

    /// Returns both samples without the values above the pooled 90th percentile: interrupts
    /// and preemption only ever add time.
    fn below_pooled_cutoff(times: &[Vec<f64>; 2]) -> [Vec<f64>; 2] {
        let mut pooled: Vec<f64> = times.iter().flatten().copied().collect();
        pooled.sort_by(f64::total_cmp);
        let cutoff = pooled[pooled.len() * 9 / 10];
        times.clone().map(|sample| sample.into_iter().filter(|&x| x <= cutoff).collect())
    }

    /// Returns Welch's t statistic of two samples.
    fn welch_t(first: &[f64], second: &[f64]) -> f64 {
        let stats = |sample: &[f64]| {
            let n = sample.len() as f64;
            let mean = sample.iter().sum::<f64>() / n;
            let variance = sample.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
            (mean, variance, n)
        };
        let (m0, v0, n0) = stats(first);
        let (m1, v1, n1) = stats(second);
        (m0 - m1) / (v0 / n0 + v1 / n1).sqrt()
    }

    /// A statistical timing test in the style of dudect (two classes of inputs, Welch's t-test
    /// on their times) for the secret-exponent power, the one place where secrets meet the
    /// arithmetic: class 0 uses the most special secrets (base one,
    /// every window digit zero, so every table read hits entry 0 and every product is by
    /// one), class 1 fresh random bases and digits. The classes are interleaved at random
    /// so that drift in machine load affects both alike. A constant-time implementation keeps
    /// |t| small; dudect treats |t| > 4.5 as evidence of a leak.
    ///
    /// Run natively and on the wasm SIMD path (under Node.js) with:
    ///
    /// ```text
    /// cargo test --release --lib rsa_fast::montgomery::tests::timing -- --ignored --nocapture
    /// cargo test --release --target wasm32-wasip1 --no-default-features --lib rsa_fast::montgomery::tests::timing -- --ignored --nocapture
    /// ```
    #[test]
    #[ignore = "statistical timing test, about a minute; see the doc comment for the command"]
    fn timing_independent_of_secrets() {
        use rand_core::RngCore;

        let [m0, m1] = moduli();
        let context = Montgomery::new([&m0, &m1]).unwrap();
        let zero_digits = vec![Limb2::ZERO; 1024 / WINDOW_BITS as usize + 1];
        let times = time_two_classes(
            |class, rng| {
                if class == 0 {
                    return (context.one, zero_digits.clone());
                }
                let base = num_of([&sample(rng.next_u32(), &m0), &sample(rng.next_u32(), &m1)]);
                let digits = (0..zero_digits.len()).map(|_| Limb2::new(rng.next_u32() & 31, rng.next_u32() & 31)).collect();
                (context.mul(&base, context.r2()), digits)
            },
            |(base, digits)| context.pow_secret(base, digits),
        );
        assert_no_timing_leak("pow_secret", &times);
    }

    /// Times `run` on `2 * EDGEIDP_TIMING_SAMPLES` inputs (3000 by default), each of class 0 or
    /// 1 at random from a fixed seed, and returns the times in seconds by class. `prepare`
    /// builds an input of the given class; only `run` is timed.
    pub(in crate::saml::rsa_fast) fn time_two_classes<I, O>(
        mut prepare: impl FnMut(usize, &mut rand_chacha::ChaCha20Rng) -> I,
        mut run: impl FnMut(&I) -> O,
    ) -> [Vec<f64>; 2] {
        use rand_core::{RngCore, SeedableRng};

        let mut rng = rand_chacha::ChaCha20Rng::from_seed([42; 32]);
        let samples: usize = std::env::var("EDGEIDP_TIMING_SAMPLES").ok().and_then(|v| v.parse().ok()).unwrap_or(3000);
        let mut times: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
        for _ in 0..2 * samples {
            let class = (rng.next_u32() & 1) as usize;
            let input = prepare(class, &mut rng);
            let start = std::time::Instant::now();
            let result = run(&input);
            times[class].push(start.elapsed().as_secs_f64());
            std::hint::black_box(result);
        }
        times
    }

    /// Prints the two classes' mean times and Welch's t, both over the samples below the pooled
    /// 90th percentile, and fails when |t| reaches 4.5: `times[0]` contains the runs with
    /// special secrets, `times[1]` those with random ones.
    pub(in crate::saml::rsa_fast) fn assert_no_timing_leak(what: &str, times: &[Vec<f64>; 2]) {
        let [special, random] = below_pooled_cutoff(times);
        let t = welch_t(&special, &random);
        let mean = |sample: &[f64]| sample.iter().sum::<f64>() / sample.len() as f64 * 1e6;
        eprintln!(
            "{what} timing, below the pooled 90th percentile: special secrets {:.1} us, random secrets {:.1} us, \
             Welch t = {t:.2} ({} and {} samples)",
            mean(&special),
            mean(&random),
            special.len(),
            random.len()
        );
        assert!(t.abs() < 4.5, "the time of {what} depends on the secret inputs: Welch t = {t:.2}");
    }
}
