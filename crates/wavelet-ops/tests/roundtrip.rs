//! inverse(forward(x)) == x for every size (odd included), every dtype and any layout.
mod common;

use candle_core::{DType, Device, Tensor};
use common::{max_abs_diff, pseudo_random, to_f64_vec};
use wavelet_ops::{dwt2d, idwt2d, wavedec2, waverec2};

const SIZES: [(usize, usize); 6] = [(1, 1), (2, 2), (3, 3), (29, 29), (25, 31), (64, 64)];

fn tolerance(dtype: DType) -> f64 {
    match dtype {
        DType::F64 => 1e-13,
        DType::F32 => 1e-6,
        // One rounding of the bands and one of the output, values in [-1, 1].
        DType::F16 => 2e-3,
        DType::BF16 => 1.6e-2,
        other => unreachable!("{other:?}"),
    }
}

#[test]
fn one_level_round_trip_every_size_and_dtype() {
    for dtype in [DType::F64, DType::F32, DType::F16, DType::BF16] {
        for (i, &(h, w)) in SIZES.iter().enumerate() {
            let x = pseudo_random(&[2, 3, h, w], i as u64, dtype, &Device::Cpu);
            let bands = dwt2d(&x).unwrap();
            assert_eq!(bands.dims(), &[2, 3, 4, h.div_ceil(2), w.div_ceil(2)]);
            assert_eq!(bands.dtype(), dtype);
            let back = idwt2d(&bands, h, w).unwrap();
            assert_eq!(back.dtype(), dtype);
            let err = max_abs_diff(&to_f64_vec(&back), &to_f64_vec(&x));
            assert!(err <= tolerance(dtype), "{dtype:?} {h}x{w}: {err}");
        }
    }
}

#[test]
fn multi_level_round_trip_every_size() {
    for (i, &(h, w)) in SIZES.iter().enumerate() {
        for levels in 1..=4 {
            let x = pseudo_random(&[1, 2, h, w], 100 + i as u64, DType::F64, &Device::Cpu);
            let pyr = wavedec2(&x, levels).unwrap();
            assert_eq!(pyr.levels(), levels);
            let err = max_abs_diff(&to_f64_vec(&waverec2(&pyr).unwrap()), &to_f64_vec(&x));
            assert!(err < 1e-12, "{h}x{w} J={levels}: {err}");
        }
    }
}

#[test]
fn non_contiguous_inputs_give_the_same_result_as_contiguous_copies() {
    let base = pseudo_random(&[3, 2, 11, 9], 7, DType::F32, &Device::Cpu);
    // Transposed spatial axes: width stride != 1.
    let t = base.transpose(2, 3).unwrap();
    assert!(!t.is_contiguous());
    let a = to_f64_vec(&dwt2d(&t).unwrap());
    let b = to_f64_vec(&dwt2d(&t.contiguous().unwrap()).unwrap());
    assert_eq!(a, b);
    // Batch/channel swapped and a narrowed window with a start offset.
    let n = base
        .transpose(0, 1)
        .unwrap()
        .narrow(2, 2, 7)
        .unwrap()
        .narrow(3, 1, 6)
        .unwrap();
    assert!(!n.is_contiguous());
    let a = dwt2d(&n).unwrap();
    assert_eq!(
        to_f64_vec(&a),
        to_f64_vec(&dwt2d(&n.contiguous().unwrap()).unwrap())
    );
    // Strided bands for the inverse: permute the band axis into place from a different layout.
    let bands = dwt2d(&base).unwrap();
    let strided = bands
        .permute((0, 1, 3, 4, 2))
        .unwrap()
        .contiguous()
        .unwrap()
        .permute((0, 1, 4, 2, 3))
        .unwrap();
    assert!(!strided.is_contiguous());
    assert_eq!(
        to_f64_vec(&idwt2d(&strided, 11, 9).unwrap()),
        to_f64_vec(&idwt2d(&bands, 11, 9).unwrap())
    );
}

#[test]
fn odd_sizes_pad_with_zeros_at_the_end() {
    // A 1x1 image: LL = LH = HL = HH = x/2 (the three padded samples are zero).
    let x = Tensor::new(&[[[[3f32]]]], &Device::Cpu).unwrap();
    let bands = to_f64_vec(&dwt2d(&x).unwrap());
    assert_eq!(bands, vec![1.5; 4]);
    // The inverse without cropping returns the padded even size, whose padding is zero.
    let full = idwt2d(&dwt2d(&x).unwrap(), 2, 2).unwrap();
    assert_eq!(to_f64_vec(&full), vec![3.0, 0.0, 0.0, 0.0]);
}
