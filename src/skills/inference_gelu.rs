//! GELU for inference as one vectorisable loop, without a backward pass.
//!
//! Why: candle's `gelu_erf` calls libm's `erff` once per element, a branchy function the
//! compiler cannot vectorise; it was 8–14 % of an encoder's forward pass (BENCHMARKS.md,
//! "serve: first start"). Here erf is Abramowitz & Stegun 7.1.26 with exp as a polynomial, both
//! straight-line code that the compiler can vectorise. The largest difference from GELU
//! with an exact erf is below 1e-6 (the test below measures it against f64). Training keeps
//! candle's differentiable `gelu_erf`: this op has no gradient.

use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, CustomOp1, Layout, Result, Shape, bail};

/// GELU (erf form) of an f32 tensor, as a candle op for `Tensor::apply_op1_no_bwd`.
pub struct InferenceGelu;

impl CustomOp1 for InferenceGelu {
    fn name(&self) -> &'static str {
        "inference-gelu"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let CpuStorage::F32(values) = storage else {
            bail!("inference-gelu takes f32, not {:?}", storage.dtype())
        };
        let Some((start, end)) = layout.contiguous_offsets() else {
            bail!("inference-gelu takes a contiguous tensor")
        };
        let values = &values[start..end];
        let mut gelus = vec![0.0; values.len()];
        for (g, &x) in gelus.iter_mut().zip(values) {
            *g = gelu(x);
        }
        Ok((CpuStorage::F32(gelus), layout.shape().clone()))
    }
}

/// x · Φ(x) = x/2 · (1 + erf(x/√2)).
#[inline]
fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

/// erf by Abramowitz & Stegun 7.1.26 (absolute error at most 1.5e-7).
#[inline]
fn erf(x: f32) -> f32 {
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let poly = t * (0.254_829_6 + t * (-0.284_496_74 + t * (1.421_413_7 + t * (-1.453_152_1 + t * 1.061_405_4))));
    (1.0 - poly * exp_of_non_positive(-a * a)).copysign(x)
}

/// Adding and subtracting 1.5 · 2^23 rounds an f32 to the nearest integer without a branch.
const ROUND: f32 = 12_582_912.0;

/// e^x for x ≤ 0 as 2^n · e^r with |r| ≤ ln 2 / 2 and e^r by its Taylor polynomial to r^6
/// (relative error about 1e-7). Below -87, where f32 would go subnormal, it gives e^-87.
#[inline]
fn exp_of_non_positive(x: f32) -> f32 {
    let x = x.max(-87.0);
    let n = (x * std::f32::consts::LOG2_E + ROUND) - ROUND;
    // x − n·ln 2, with ln 2 split in two so the product loses no precision.
    let r = x - n * 0.693_145_75 - n * 1.428_606_8e-6;
    let e_r = 1.0 + r * (1.0 + r * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    // 2^n by writing n + 127 into the exponent bits (n ≥ -126 here).
    e_r * f32::from_bits(((n as i32 + 127) as u32) << 23)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device, Tensor};

    #[test]
    fn inference_gelu_is_within_1e_6_of_gelu_with_an_exact_erf() {
        let inputs: Vec<f32> = (-20_000..=20_000).map(|i| i as f32 / 1_000.0).collect();
        let x = Tensor::new(inputs.as_slice(), &Device::Cpu).expect("tensor");
        let fast: Vec<f32> = x.apply_op1_no_bwd(&InferenceGelu).expect("runs").to_vec1().expect("vec");
        // candle's f64 GELU calls libm's f64 erf: the reference.
        let exact: Vec<f64> = x
            .to_dtype(DType::F64)
            .and_then(|x| x.gelu_erf())
            .and_then(|g| g.to_vec1())
            .expect("reference");
        let worst = fast.iter().zip(&exact).map(|(f, e)| (f64::from(*f) - e).abs()).fold(0.0, f64::max);
        assert!(worst < 1e-6, "largest difference {worst}");
    }

    #[test]
    fn exp_of_non_positive_follows_exp_down_to_where_f32_stays_normal() {
        for i in 0..=8_700 {
            let x = -(i as f32) / 100.0;
            let relative = (f64::from(exp_of_non_positive(x)) / f64::from(x).exp() - 1.0).abs();
            assert!(relative < 1e-6, "e^{x}: relative error {relative}");
        }
        assert!(exp_of_non_positive(-1e9) > 0.0);
    }

    #[test]
    fn other_types_and_strided_tensors_are_errors_not_panics() {
        let f64s = Tensor::new(&[1.0f64, 2.0], &Device::Cpu).expect("tensor");
        assert!(f64s.apply_op1_no_bwd(&InferenceGelu).is_err());
        let strided = Tensor::new(&[[1.0f32, 2.0], [3.0, 4.0]], &Device::Cpu)
            .and_then(|t| t.t())
            .expect("tensor");
        assert!(strided.apply_op1_no_bwd(&InferenceGelu).is_err());
    }
}
