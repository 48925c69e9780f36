//! Conversions between big-endian byte strings and 28-bit limbs, and the one plain
//! (non-modular) product that CRT recombination needs.
//!
//! All loops run over lengths only, never over values, so they take the same time for every
//! number of a given size.

use super::lanes::{Limb2, LimbPair, LIMB_BITS, LIMB_MASK};
use super::montgomery::{Num, WideNum, MAX_LIMBS, MAX_PAIRS};

/// A number of up to `2 * MAX_LIMBS` limbs, least significant first: a value modulo n.
pub(super) type Limbs = [u32; 2 * MAX_LIMBS];

/// Reads a big-endian byte string into 28-bit limbs, least significant limb first. Bits
/// beyond `out`'s capacity are dropped, so callers size `out` for the value.
pub(super) fn from_bytes(bytes: &[u8], out: &mut [u32]) {
    read_limbs(bytes, LIMB_BITS, out.len(), |k, limb| out[k] = limb as u32);
}

/// Writes 28-bit limbs (least significant first) as a big-endian byte string filling `out`;
/// bits beyond `out`'s length are dropped, so callers size `out` for the value.
pub(super) fn to_bytes(limbs: &[u32], out: &mut [u8]) {
    write_limbs(limbs.iter().map(|&limb| u64::from(limb)), LIMB_BITS, out);
}

/// Splits a big-endian byte string into `count` limbs of `bits` bits (at most 56), least
/// significant first, and passes each limb with its index to `store`. Bits beyond `count`
/// limbs are dropped. The loop runs over the length only.
pub(super) fn read_limbs(bytes: &[u8], bits: u32, count: usize, mut store: impl FnMut(usize, u64)) {
    let mask = (1u64 << bits) - 1;
    let mut buffer = 0u64;
    let mut buffered_bits = 0u32;
    let mut index = 0;
    for &byte in bytes.iter().rev() {
        buffer |= u64::from(byte) << buffered_bits;
        buffered_bits += 8;
        if buffered_bits >= bits {
            if index < count {
                store(index, buffer & mask);
                index += 1;
            }
            buffer >>= bits;
            buffered_bits -= bits;
        }
    }
    for k in index..count {
        store(k, buffer);
        buffer = 0;
    }
}

/// Writes limbs of `bits` bits (at most 56, least significant first) as a big-endian byte
/// string filling `out`. Bits beyond `out`'s length are dropped, and missing limbs are zero.
pub(super) fn write_limbs(limbs: impl Iterator<Item = u64>, bits: u32, out: &mut [u8]) {
    let mut buffer = 0u64;
    let mut buffered_bits = 0u32;
    let mut limbs = limbs.fuse();
    for byte in out.iter_mut().rev() {
        if buffered_bits < 8 {
            buffer |= limbs.next().unwrap_or(0) << buffered_bits;
            buffered_bits += bits;
        }
        *byte = buffer as u8;
        buffer >>= 8;
        buffered_bits -= 8;
    }
}

/// Puts the same wide number into both lanes.
pub(super) fn broadcast(value: &Limbs) -> WideNum {
    interleave(value, value)
}

/// Puts a wide number into lane 0 and zero into lane 1.
pub(super) fn into_first_lane(value: &[u32]) -> WideNum {
    interleave(value, &[])
}

/// Builds a two-lane number from one number per lane.
pub(super) fn pack(first: &[u32], second: &[u32]) -> Num {
    let wide = interleave(first, second);
    let mut out = [LimbPair::ZERO; MAX_PAIRS];
    out.copy_from_slice(&wide[..MAX_PAIRS]);
    out
}

/// Builds a two-lane wide number, two limbs per element, from one number per lane; limbs
/// missing from a shorter input are zero.
pub(super) fn interleave(first: &[u32], second: &[u32]) -> WideNum {
    let limb = |value: &[u32], k: usize| value.get(k).copied().unwrap_or(0);
    let mut out = [LimbPair::ZERO; MAX_LIMBS];
    for (t, pair) in out.iter_mut().enumerate() {
        let low = Limb2::new(limb(first, 2 * t), limb(second, 2 * t));
        let high = Limb2::new(limb(first, 2 * t + 1), limb(second, 2 * t + 1));
        *pair = LimbPair::new(low, high);
    }
    out
}

/// Splits a two-lane number into one number per lane.
pub(super) fn unpack(value: &Num) -> [[u32; MAX_LIMBS]; 2] {
    let mut out = [[0u32; MAX_LIMBS]; 2];
    for (t, pair) in value.iter().enumerate() {
        let [low0, low1] = pair.low().lanes();
        let [high0, high1] = pair.high().lanes();
        out[0][2 * t] = low0;
        out[1][2 * t] = low1;
        out[0][2 * t + 1] = high0;
        out[1][2 * t + 1] = high1;
    }
    out
}

/// Returns `a * b + addend` for numbers of `limbs` limbs; the result has `2 * limbs` limbs.
/// Used once per signature, for Garner's `s_q + q * h`.
pub(super) fn mul_add(a: &[u32], b: &[u32], addend: &[u32], limbs: usize) -> Limbs {
    let (a, b) = (&a[..limbs], &b[..limbs]);
    let mut out = [0u32; 2 * MAX_LIMBS];
    let mut carry = 0u64;
    for (k, digit) in out.iter_mut().enumerate().take(2 * limbs) {
        let mut acc = carry + u64::from(addend.get(k).copied().unwrap_or(0));
        let low = k.saturating_sub(limbs - 1);
        let high = k.min(limbs - 1);
        if low <= high {
            for (x, y) in a[low..=high].iter().zip(b[k - high..=k - low].iter().rev()) {
                acc += u64::from(*x) * u64::from(*y);
            }
        }
        *digit = acc as u32 & LIMB_MASK;
        carry = acc >> LIMB_BITS;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip() {
        let bytes: Vec<u8> = (1..=37u8).map(|b| b.wrapping_mul(97)).collect();
        let mut limbs = [0u32; 2 * MAX_LIMBS];
        from_bytes(&bytes, &mut limbs);
        let mut back = vec![0u8; bytes.len()];
        to_bytes(&limbs, &mut back);
        assert_eq!(back, bytes, "bytes -> limbs -> bytes returns the input");
    }

    #[test]
    fn bytes_limb_values() {
        let mut limbs = [0u32; 4];
        from_bytes(&[0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef], &mut limbs);
        let value: u64 = 0x0123_4567_89ab_cdef;
        assert_eq!(limbs[0], (value & u64::from(LIMB_MASK)) as u32, "limb 0 holds bits 0..28");
        assert_eq!(limbs[1], ((value >> 28) & u64::from(LIMB_MASK)) as u32, "limb 1 holds bits 28..56");
        assert_eq!(limbs[2], (value >> 56) as u32, "limb 2 holds bits 56..64");
    }

    #[test]
    fn mul_add_small_values() {
        let limbs = 3;
        let a = [LIMB_MASK, LIMB_MASK, 1];
        let b = [LIMB_MASK, 2, 0];
        let addend = [5, 0, 0];
        let to_u128 = |x: &[u32]| x.iter().rev().fold(0u128, |acc, &l| (acc << LIMB_BITS) | u128::from(l));
        let expected = to_u128(&a) * to_u128(&b) + 5;
        let product = mul_add(&a, &b, &addend, limbs);
        assert_eq!(to_u128(&product[..2 * limbs]), expected, "a * b + addend over 84-bit operands");
    }
}
