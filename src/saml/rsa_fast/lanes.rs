//! Two lanes of limb arithmetic: lane 0 computes modulo p, lane 1 modulo q.
//!
//! The two halves of an RSA-CRT private-key operation have the same shape (same limb count,
//! same number of squarings and multiplications), so one instruction stream can carry both.
//! On `wasm32` with `simd128` every operation here is one or a few 128-bit instructions.
//! The multiply is `u64x2.extmul_low_u32x4`, WebAssembly's 32×32→64-bit product, applied to
//! both lanes at once. Elsewhere a portable two-element version computes the same values.
//!
//! [`Limb2`] holds one 28-bit limb per lane; [`LimbPair`] holds two consecutive limbs per
//! lane, which is how numbers are stored; [`Wide2`] holds one 64-bit accumulator per lane.
//! A product of two limbs is below 2^56, so an accumulator takes 255 products before it can
//! overflow, which lets the Montgomery code defer carries to the end of each column.
//!
//! Numbers are stored in pairs because LLVM compiles a lone `u64x2.extmul_low_u32x4` of a
//! value loaded from memory into a zero-extending load and `i64x2.mul`, which V8 and
//! Cranelift emulate with several multiplies; a vector whose low and high halves are both
//! multiplied keeps the two `extmul` instructions.
//!
//! Nothing here branches on or indexes by a lane's value.

/// Bits per limb.
pub(super) const LIMB_BITS: u32 = 28;
/// The mask of one limb.
pub(super) const LIMB_MASK: u32 = (1 << LIMB_BITS) - 1;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub(super) use simd::{Limb2, LimbPair, Wide2};

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
pub(super) use portable::{Limb2, LimbPair, Wide2};

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use core::arch::wasm32::{
        i32x4_eq, i32x4_mul, i32x4_shuffle, i64x2_add, i64x2_shl, i64x2_shr, i64x2_sub, u32x4, u32x4_extract_lane,
        u64x2, u64x2_extend_low_u32x4, u64x2_extmul_high_u32x4, u64x2_extmul_low_u32x4, u64x2_shr,
        v128, v128_and, v128_bitselect, v128_or, v128_xor,
    };

    #[cfg(test)]
    use core::arch::wasm32::u64x2_extract_lane;

    use super::{LIMB_BITS, LIMB_MASK};

    /// One limb per lane, in 32-bit lanes 0 and 1; lanes 2 and 3 are ignored by every reader.
    #[derive(Clone, Copy)]
    pub(in crate::saml::rsa_fast) struct Limb2(v128);

    /// Two limbs per lane: 32-bit lanes 0 and 1 hold the lower limb of lane 0 and lane 1,
    /// 32-bit lanes 2 and 3 the higher one.
    #[derive(Clone, Copy)]
    pub(in crate::saml::rsa_fast) struct LimbPair(v128);

    impl LimbPair {
        pub(in crate::saml::rsa_fast) const ZERO: Self = Self(u32x4(0, 0, 0, 0));

        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn new(low: Limb2, high: Limb2) -> Self {
            Self(i32x4_shuffle::<0, 1, 4, 5>(low.0, high.0))
        }

        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn low(self) -> Limb2 {
            Limb2(self.0)
        }

        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn high(self) -> Limb2 {
            Limb2(i32x4_shuffle::<2, 3, 2, 3>(self.0, self.0))
        }

        /// The pair with its two limbs exchanged.
        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn swap(self) -> Self {
            Self(i32x4_shuffle::<2, 3, 0, 1>(self.0, self.0))
        }

        /// The low limb of `low` below the high limb of `high`.
        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn join(low: Self, high: Self) -> Self {
            Self(i32x4_shuffle::<0, 1, 6, 7>(low.0, high.0))
        }

        /// `self.low * other.low + self.high * other.high` per lane.
        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn dot(self, other: Self) -> Wide2 {
            Wide2(i64x2_add(u64x2_extmul_low_u32x4(self.0, other.0), u64x2_extmul_high_u32x4(self.0, other.0)))
        }

        /// The products `self.low * other.low` and `self.high * other.high` per lane.
        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn products(self, other: Self) -> [Wide2; 2] {
            [Wide2(u64x2_extmul_low_u32x4(self.0, other.0)), Wide2(u64x2_extmul_high_u32x4(self.0, other.0))]
        }

        /// `self` where the limb mask `mask` is all ones, zero where it is zero, in both limbs.
        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn and(self, mask: Limb2) -> Self {
            Self(v128_and(self.0, i32x4_shuffle::<0, 1, 0, 1>(mask.0, mask.0)))
        }

        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn or(self, other: Self) -> Self {
            Self(v128_or(self.0, other.0))
        }

        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn xor(self, other: Self) -> Self {
            Self(v128_xor(self.0, other.0))
        }

        /// `if_set` in the lanes where the limb mask `mask` is all ones, `if_clear` elsewhere.
        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn select(mask: Limb2, if_set: Self, if_clear: Self) -> Self {
            Self(v128_bitselect(if_set.0, if_clear.0, i32x4_shuffle::<0, 1, 0, 1>(mask.0, mask.0)))
        }
    }

    /// One 64-bit value per lane.
    #[derive(Clone, Copy)]
    pub(in crate::saml::rsa_fast) struct Wide2(v128);

    impl Limb2 {
        pub(in crate::saml::rsa_fast) const ZERO: Self = Self(u32x4(0, 0, 0, 0));

        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn new(p: u32, q: u32) -> Self {
            Self(u32x4(p, q, 0, 0))
        }

        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn lanes(self) -> [u32; 2] {
            [u32x4_extract_lane::<0>(self.0), u32x4_extract_lane::<1>(self.0)]
        }

        /// The full 64-bit product of the two limbs in each lane.
        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn mul(self, other: Self) -> Wide2 {
            Wide2(u64x2_extmul_low_u32x4(self.0, other.0))
        }

        /// The product modulo 2^28 in each lane.
        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn mul_low(self, other: Self) -> Self {
            Self(v128_and(i32x4_mul(self.0, other.0), u32x4(LIMB_MASK, LIMB_MASK, 0, 0)))
        }

        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn widen(self) -> Wide2 {
            Wide2(u64x2_extend_low_u32x4(self.0))
        }

        /// All ones in each lane whose limb equals `other`'s, zero elsewhere.
        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn eq_mask(self, other: Self) -> Self {
            Self(i32x4_eq(self.0, other.0))
        }

        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn or(self, other: Self) -> Self {
            Self(v128_or(self.0, other.0))
        }

        /// `if_set` in the lanes where `mask` is all ones, `if_clear` where it is zero.
        #[cfg(test)]
        pub(in crate::saml::rsa_fast) fn select(mask: Self, if_set: Self, if_clear: Self) -> Self {
            Self(v128_bitselect(if_set.0, if_clear.0, mask.0))
        }
    }

    impl Wide2 {
        pub(in crate::saml::rsa_fast) const ZERO: Self = Self(u64x2(0, 0));

        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn add(self, other: Self) -> Self {
            Self(i64x2_add(self.0, other.0))
        }

        /// Wrapping difference; read it back with [`Self::shr_signed`] to get the borrow.
        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn sub(self, other: Self) -> Self {
            Self(i64x2_sub(self.0, other.0))
        }

        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn double(self) -> Self {
            Self(i64x2_shl(self.0, 1))
        }

        /// The carry out of the low limb: the value shifted right by one limb.
        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn carry(self) -> Self {
            Self(u64x2_shr(self.0, LIMB_BITS))
        }

        /// The value, read as signed, shifted right by one limb: the borrow (0 or -1) of a
        /// limb difference.
        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn shr_signed(self) -> Self {
            Self(i64x2_shr(self.0, LIMB_BITS))
        }

        /// The low 28 bits of each lane as a limb.
        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn low_limb(self) -> Limb2 {
            let masked = v128_and(self.0, u64x2(LIMB_MASK as u64, LIMB_MASK as u64));
            Limb2(i32x4_shuffle::<0, 2, 4, 4>(masked, u64x2(0, 0)))
        }

        /// All ones in the lanes whose value is negative when read as signed, zero elsewhere,
        /// as a limb mask.
        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn sign_mask(self) -> Limb2 {
            let signs = i64x2_shr(self.0, 63);
            Limb2(i32x4_shuffle::<0, 2, 4, 4>(signs, u64x2(0, 0)))
        }

        #[cfg(test)]
        pub(in crate::saml::rsa_fast) fn lanes(self) -> [u64; 2] {
            [u64x2_extract_lane::<0>(self.0), u64x2_extract_lane::<1>(self.0)]
        }
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod portable {
    use super::{LIMB_BITS, LIMB_MASK};

    /// One limb per lane.
    #[derive(Clone, Copy)]
    pub(in crate::saml::rsa_fast) struct Limb2([u32; 2]);

    /// Two limbs per lane: the lower limb of lane 0 and lane 1, then the higher one.
    #[derive(Clone, Copy)]
    pub(in crate::saml::rsa_fast) struct LimbPair([u32; 4]);

    impl LimbPair {
        pub(in crate::saml::rsa_fast) const ZERO: Self = Self([0; 4]);

        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn new(low: Limb2, high: Limb2) -> Self {
            Self([low.0[0], low.0[1], high.0[0], high.0[1]])
        }

        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn low(self) -> Limb2 {
            Limb2([self.0[0], self.0[1]])
        }

        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn high(self) -> Limb2 {
            Limb2([self.0[2], self.0[3]])
        }

        /// The pair with its two limbs exchanged.
        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn swap(self) -> Self {
            Self([self.0[2], self.0[3], self.0[0], self.0[1]])
        }

        /// The low limb of `low` below the high limb of `high`.
        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn join(low: Self, high: Self) -> Self {
            Self([low.0[0], low.0[1], high.0[2], high.0[3]])
        }

        /// `self.low * other.low + self.high * other.high` per lane.
        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn dot(self, other: Self) -> Wide2 {
            let [low, high] = self.products(other);
            low.add(high)
        }

        /// The products `self.low * other.low` and `self.high * other.high` per lane.
        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn products(self, other: Self) -> [Wide2; 2] {
            [self.low().mul(other.low()), self.high().mul(other.high())]
        }

        /// `self` where the limb mask `mask` is all ones, zero where it is zero, in both limbs.
        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn and(self, mask: Limb2) -> Self {
            let [m0, m1] = mask.0;
            Self([self.0[0] & m0, self.0[1] & m1, self.0[2] & m0, self.0[3] & m1])
        }

        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn or(self, other: Self) -> Self {
            Self([self.0[0] | other.0[0], self.0[1] | other.0[1], self.0[2] | other.0[2], self.0[3] | other.0[3]])
        }

        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn xor(self, other: Self) -> Self {
            Self([self.0[0] ^ other.0[0], self.0[1] ^ other.0[1], self.0[2] ^ other.0[2], self.0[3] ^ other.0[3]])
        }

        /// `if_set` in the lanes where the limb mask `mask` is all ones, `if_clear` elsewhere.
        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn select(mask: Limb2, if_set: Self, if_clear: Self) -> Self {
            Self::new(
                Limb2::select(mask, if_set.low(), if_clear.low()),
                Limb2::select(mask, if_set.high(), if_clear.high()),
            )
        }
    }

    /// One 64-bit value per lane.
    #[derive(Clone, Copy)]
    pub(in crate::saml::rsa_fast) struct Wide2([u64; 2]);

    impl Limb2 {
        pub(in crate::saml::rsa_fast) const ZERO: Self = Self([0, 0]);

        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn new(p: u32, q: u32) -> Self {
            Self([p, q])
        }

        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn lanes(self) -> [u32; 2] {
            self.0
        }

        /// The full 64-bit product of the two limbs in each lane.
        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn mul(self, other: Self) -> Wide2 {
            let [a0, a1] = self.0;
            let [b0, b1] = other.0;
            Wide2([u64::from(a0) * u64::from(b0), u64::from(a1) * u64::from(b1)])
        }

        /// The product modulo 2^28 in each lane.
        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn mul_low(self, other: Self) -> Self {
            let [a0, a1] = self.0;
            let [b0, b1] = other.0;
            Self([a0.wrapping_mul(b0) & LIMB_MASK, a1.wrapping_mul(b1) & LIMB_MASK])
        }

        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn widen(self) -> Wide2 {
            Wide2([u64::from(self.0[0]), u64::from(self.0[1])])
        }

        /// All ones in each lane whose limb equals `other`'s, zero elsewhere.
        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn eq_mask(self, other: Self) -> Self {
            Self([eq_mask(self.0[0], other.0[0]), eq_mask(self.0[1], other.0[1])])
        }

        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn or(self, other: Self) -> Self {
            Self([self.0[0] | other.0[0], self.0[1] | other.0[1]])
        }

        /// `if_set` in the lanes where `mask` is all ones, `if_clear` where it is zero.
        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn select(mask: Self, if_set: Self, if_clear: Self) -> Self {
            let pick = |m: u32, a: u32, b: u32| (a & m) | (b & !m);
            Self([pick(mask.0[0], if_set.0[0], if_clear.0[0]), pick(mask.0[1], if_set.0[1], if_clear.0[1])])
        }
    }

    /// All ones when `a == b`, computed without a branch: `a ^ b` is zero exactly then, and
    /// `(x | -x) >> 31` is 1 for every non-zero `x`. The optimization barrier keeps the
    /// compiler from turning the mask back into a comparison and branch.
    #[inline(always)]
    fn eq_mask(a: u32, b: u32) -> u32 {
        let x = core::hint::black_box(a ^ b);
        let nonzero = (x | x.wrapping_neg()) >> 31;
        nonzero.wrapping_sub(1)
    }

    impl Wide2 {
        pub(in crate::saml::rsa_fast) const ZERO: Self = Self([0, 0]);

        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn add(self, other: Self) -> Self {
            Self([self.0[0].wrapping_add(other.0[0]), self.0[1].wrapping_add(other.0[1])])
        }

        /// Wrapping difference; read it back with [`Self::shr_signed`] to get the borrow.
        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn sub(self, other: Self) -> Self {
            Self([self.0[0].wrapping_sub(other.0[0]), self.0[1].wrapping_sub(other.0[1])])
        }

        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn double(self) -> Self {
            Self([self.0[0] << 1, self.0[1] << 1])
        }

        /// The carry out of the low limb: the value shifted right by one limb.
        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn carry(self) -> Self {
            Self([self.0[0] >> LIMB_BITS, self.0[1] >> LIMB_BITS])
        }

        /// The value, read as signed, shifted right by one limb: the borrow (0 or -1) of a
        /// limb difference.
        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn shr_signed(self) -> Self {
            let shift = |x: u64| ((x as i64) >> LIMB_BITS) as u64;
            Self([shift(self.0[0]), shift(self.0[1])])
        }

        /// The low 28 bits of each lane as a limb.
        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn low_limb(self) -> Limb2 {
            Limb2([self.0[0] as u32 & LIMB_MASK, self.0[1] as u32 & LIMB_MASK])
        }

        /// All ones in the lanes whose value is negative when read as signed, zero elsewhere,
        /// as a limb mask.
        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn sign_mask(self) -> Limb2 {
            let sign = |x: u64| ((x as i64) >> 63) as u32;
            Limb2([sign(self.0[0]), sign(self.0[1])])
        }

        #[cfg(test)]
        pub(in crate::saml::rsa_fast) fn lanes(self) -> [u64; 2] {
            self.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limb_mul_is_full_product() {
        let a = Limb2::new(LIMB_MASK, 3);
        let b = Limb2::new(LIMB_MASK, 5);
        let expected = [u64::from(LIMB_MASK) * u64::from(LIMB_MASK), 15];
        assert_eq!(a.mul(b).lanes(), expected, "each lane holds its own 56-bit product");
    }

    #[test]
    fn limb_mul_low_keeps_low_bits() {
        let a = Limb2::new(LIMB_MASK, 1 << 20);
        let b = Limb2::new(3, 1 << 10);
        let expected = [LIMB_MASK.wrapping_mul(3) & LIMB_MASK, 0];
        assert_eq!(a.mul_low(b).lanes(), expected, "products are reduced modulo 2^28 per lane");
    }

    #[test]
    fn limb_select_by_mask() {
        let mask = Limb2::new(7, 8).eq_mask(Limb2::new(7, 7));
        let chosen = Limb2::select(mask, Limb2::new(1, 2), Limb2::new(3, 4));
        assert_eq!(chosen.lanes(), [1, 4], "lane 0 matched and takes if_set, lane 1 takes if_clear");
    }

    #[test]
    fn wide_low_limb_and_carry() {
        let value = Limb2::new(LIMB_MASK, 2).mul(Limb2::new(LIMB_MASK, 3)).add(Limb2::new(5, 1 << 27).widen());
        let [v0, v1] = value.lanes();
        assert_eq!(value.low_limb().lanes(), [(v0 as u32) & LIMB_MASK, (v1 as u32) & LIMB_MASK], "low limb per lane");
        assert_eq!(value.carry().lanes(), [v0 >> LIMB_BITS, v1 >> LIMB_BITS], "carry per lane");
    }

    #[test]
    fn pair_dot_and_products() {
        let a = LimbPair::new(Limb2::new(2, 3), Limb2::new(5, 7));
        let b = LimbPair::new(Limb2::new(11, 13), Limb2::new(17, 19));
        assert_eq!(a.dot(b).lanes(), [2 * 11 + 5 * 17, 3 * 13 + 7 * 19], "dot sums low and high products per lane");
        let [low, high] = a.products(b);
        assert_eq!(low.lanes(), [22, 39], "low products");
        assert_eq!(high.lanes(), [85, 133], "high products");
    }

    #[test]
    fn pair_swap_and_join() {
        let a = LimbPair::new(Limb2::new(1, 2), Limb2::new(3, 4));
        let b = LimbPair::new(Limb2::new(5, 6), Limb2::new(7, 8));
        assert_eq!(a.swap().low().lanes(), [3, 4], "swap moves the high limb down");
        assert_eq!(a.swap().high().lanes(), [1, 2], "swap moves the low limb up");
        let joined = LimbPair::join(a, b);
        assert_eq!([joined.low().lanes(), joined.high().lanes()], [[1, 2], [7, 8]], "join takes a's low and b's high");
    }

    #[test]
    fn wide_borrow_from_signed_shift() {
        let difference = Limb2::new(1, 9).widen().sub(Limb2::new(2, 4).widen());
        assert_eq!(difference.low_limb().lanes(), [LIMB_MASK, 5], "low limb of 1-2 wraps to the limb mask");
        assert_eq!(difference.shr_signed().lanes(), [u64::MAX, 0], "borrow is -1 in lane 0 and 0 in lane 1");
        assert_eq!(difference.sign_mask().lanes(), [u32::MAX, 0], "only lane 0 is negative");
    }
}
