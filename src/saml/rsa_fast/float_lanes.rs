//! Two 64-bit lanes read either as `f64` or as integers, for the fused multiply-add kernel
//! in [`super::fused`]: lane 0 computes modulo p, lane 1 modulo q, as in [`super::lanes`].
//!
//! On `wasm32` with `relaxed-simd` every operation is one 128-bit instruction; the multiply
//! is `f64x2.relaxed_madd`. WebAssembly lets an engine compute that either fused (one
//! rounding) or as a multiply and an add (two roundings). The kernel is exact only when it
//! is fused, so [`fused_multiply_add_available`] checks the engine's choice before the kernel
//! is used. Elsewhere a portable two-element version computes the same values
//! with [`f64::mul_add`], which is always fused (in software where the CPU has no FMA), so
//! that the kernel's tests run natively too.
//!
//! Nothing here branches on or indexes by a lane's value.

#[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
pub(super) use simd::V2;

#[cfg(not(all(target_arch = "wasm32", target_feature = "relaxed-simd")))]
pub(super) use portable::V2;

#[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
mod simd {
    use core::arch::wasm32::{
        f64x2_add, f64x2_relaxed_madd, f64x2_splat, f64x2_sub, i64x2_add, i64x2_eq, i64x2_shl, i64x2_shr, i64x2_sub,
        u64x2, u64x2_extract_lane, u64x2_splat, v128, v128_and, v128_or,
    };

    /// Two lanes of 64 bits.
    #[derive(Clone, Copy)]
    pub(in crate::saml::rsa_fast) struct V2(v128);

    impl V2 {
        pub(in crate::saml::rsa_fast) const ZERO: Self = Self(u64x2(0, 0));

        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn from_u64(lane0: u64, lane1: u64) -> Self {
            Self(u64x2(lane0, lane1))
        }

        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn splat_u64(value: u64) -> Self {
            Self(u64x2_splat(value))
        }

        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn splat_f64(value: f64) -> Self {
            Self(f64x2_splat(value))
        }

        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn lanes_u64(self) -> [u64; 2] {
            [u64x2_extract_lane::<0>(self.0), u64x2_extract_lane::<1>(self.0)]
        }

        /// `self * b + c` per lane as `f64`; fused where the engine fuses it.
        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn mul_add(self, b: Self, c: Self) -> Self {
            Self(f64x2_relaxed_madd(self.0, b.0, c.0))
        }

        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn fadd(self, other: Self) -> Self {
            Self(f64x2_add(self.0, other.0))
        }

        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn fsub(self, other: Self) -> Self {
            Self(f64x2_sub(self.0, other.0))
        }

        /// Wrapping integer sum per lane.
        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn add(self, other: Self) -> Self {
            Self(i64x2_add(self.0, other.0))
        }

        /// Wrapping integer difference per lane.
        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn sub(self, other: Self) -> Self {
            Self(i64x2_sub(self.0, other.0))
        }

        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn and(self, other: Self) -> Self {
            Self(v128_and(self.0, other.0))
        }

        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn or(self, other: Self) -> Self {
            Self(v128_or(self.0, other.0))
        }

        /// Arithmetic (sign-extending) right shift of each lane read as `i64`.
        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn shr_signed(self, bits: u32) -> Self {
            Self(i64x2_shr(self.0, bits))
        }

        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn shl(self, bits: u32) -> Self {
            Self(i64x2_shl(self.0, bits))
        }

        /// All ones in each lane equal to `other`'s, zero elsewhere.
        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn eq_mask(self, other: Self) -> Self {
            Self(i64x2_eq(self.0, other.0))
        }
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "relaxed-simd")))]
mod portable {
    /// Two lanes of 64 bits.
    #[derive(Clone, Copy)]
    pub(in crate::saml::rsa_fast) struct V2([u64; 2]);

    impl V2 {
        pub(in crate::saml::rsa_fast) const ZERO: Self = Self([0, 0]);

        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn from_u64(lane0: u64, lane1: u64) -> Self {
            Self([lane0, lane1])
        }

        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn splat_u64(value: u64) -> Self {
            Self([value, value])
        }

        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn splat_f64(value: f64) -> Self {
            Self::splat_u64(value.to_bits())
        }

        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn lanes_u64(self) -> [u64; 2] {
            self.0
        }

        #[inline(always)]
        fn float(self, other: Self, op: impl Fn(f64, f64) -> f64) -> Self {
            let lane = |i: usize| op(f64::from_bits(self.0[i]), f64::from_bits(other.0[i])).to_bits();
            Self([lane(0), lane(1)])
        }

        #[inline(always)]
        fn integer(self, other: Self, op: impl Fn(u64, u64) -> u64) -> Self {
            Self([op(self.0[0], other.0[0]), op(self.0[1], other.0[1])])
        }

        /// `self * b + c` per lane as `f64`, fused.
        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn mul_add(self, b: Self, c: Self) -> Self {
            let lane = |i: usize| {
                f64::from_bits(self.0[i]).mul_add(f64::from_bits(b.0[i]), f64::from_bits(c.0[i])).to_bits()
            };
            Self([lane(0), lane(1)])
        }

        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn fadd(self, other: Self) -> Self {
            self.float(other, |a, b| a + b)
        }

        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn fsub(self, other: Self) -> Self {
            self.float(other, |a, b| a - b)
        }

        /// Wrapping integer sum per lane.
        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn add(self, other: Self) -> Self {
            self.integer(other, u64::wrapping_add)
        }

        /// Wrapping integer difference per lane.
        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn sub(self, other: Self) -> Self {
            self.integer(other, u64::wrapping_sub)
        }

        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn and(self, other: Self) -> Self {
            self.integer(other, |a, b| a & b)
        }

        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn or(self, other: Self) -> Self {
            self.integer(other, |a, b| a | b)
        }

        /// Arithmetic (sign-extending) right shift of each lane read as `i64`.
        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn shr_signed(self, bits: u32) -> Self {
            Self(self.0.map(|x| ((x as i64) >> bits) as u64))
        }

        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn shl(self, bits: u32) -> Self {
            Self(self.0.map(|x| x << bits))
        }

        /// All ones in each lane equal to `other`'s, zero elsewhere, without a branch: `a ^ b`
        /// is zero exactly then, and `(x | -x) >> 63` is 1 for every non-zero `x`.
        #[inline(always)]
        pub(in crate::saml::rsa_fast) fn eq_mask(self, other: Self) -> Self {
            self.integer(other, |a, b| {
                let x = core::hint::black_box(a ^ b);
                ((x | x.wrapping_neg()) >> 63).wrapping_sub(1)
            })
        }
    }
}

/// Returns whether [`V2::mul_add`] rounds once, which the kernel in [`super::fused`] needs.
///
/// `(1 + 2^-30)^2 - 1` is `2^-29 + 2^-60` exactly; a separate multiply rounds the square to
/// `1 + 2^-29` first and loses the `2^-60`. The inputs pass through `black_box` so that the
/// compiler cannot fold the expression with its own choice of rounding.
pub(super) fn fused_multiply_add_available() -> bool {
    let x = V2::splat_f64(core::hint::black_box(1.0 + f64::powi(2.0, -30)));
    let minus_one = V2::splat_f64(core::hint::black_box(-1.0));
    let expected = (f64::powi(2.0, -29) + f64::powi(2.0, -60)).to_bits();
    x.mul_add(x, minus_one).lanes_u64() == [expected, expected]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fused_multiply_add_detected() {
        // Natively f64::mul_add is always fused; under wasm it depends on the engine, and
        // V8 and wasmtime fuse on CPUs with FMA.
        assert!(fused_multiply_add_available(), "this engine computes f64x2.relaxed_madd without fusing");
    }

    #[test]
    fn eq_mask_selects() {
        let mask = V2::from_u64(7, 8).eq_mask(V2::from_u64(7, 7));
        let chosen = V2::from_u64(1, 2).and(mask);
        assert_eq!(chosen.lanes_u64(), [1, 0], "lane 0 matched and keeps its value, lane 1 is cleared");
    }

    #[test]
    fn shr_signed_extends_sign() {
        let shifted = V2::from_u64(u64::MAX << 60, 1 << 60).shr_signed(52);
        assert_eq!(shifted.lanes_u64(), [u64::MAX << 8, 1 << 8], "lane 0 is negative and stays negative");
    }
}
