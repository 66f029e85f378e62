//! Bad input gives typed errors that name the op, the shape and the dtype; nothing panics.
use candle_core::{DType, Device, Tensor};
use wavelet_ops::{
    dwt2d, idwt2d, wavedec2, waverec2, Dwt2d, WaveletError, WaveletPyramid, MAX_LEVELS,
};

fn zeros(shape: &[usize], dtype: DType) -> Tensor {
    Tensor::zeros(shape, dtype, &Device::Cpu).unwrap()
}

#[test]
fn wrong_rank_is_rejected_with_shape_and_dtype() {
    for shape in [&[4, 4][..], &[1, 4, 4], &[1, 1, 1, 4, 4]] {
        let err = dwt2d(&zeros(shape, DType::F32)).unwrap_err();
        assert!(
            matches!(
                err,
                WaveletError::Rank {
                    op: "dwt2d",
                    expected: 4,
                    ..
                }
            ),
            "{err}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains("dwt2d") && msg.contains(&format!("{shape:?}")) && msg.contains("F32"),
            "{msg}"
        );
    }
    let err = idwt2d(&zeros(&[1, 4, 2, 2], DType::F32), 4, 4).unwrap_err();
    assert!(
        matches!(
            err,
            WaveletError::Rank {
                op: "idwt2d",
                expected: 5,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn integer_dtypes_are_rejected() {
    for dtype in [DType::U8, DType::U32, DType::I64] {
        let err = dwt2d(&zeros(&[1, 1, 2, 2], dtype)).unwrap_err();
        assert!(matches!(err, WaveletError::DType { .. }), "{err}");
        assert!(err.to_string().contains(&format!("{dtype:?}")), "{err}");
        let err = idwt2d(&zeros(&[1, 1, 4, 1, 1], dtype), 2, 2).unwrap_err();
        assert!(
            matches!(err, WaveletError::DType { op: "idwt2d", .. }),
            "{err}"
        );
    }
}

#[test]
fn empty_tensors_are_rejected() {
    for shape in [[0, 1, 2, 2], [1, 0, 2, 2], [1, 1, 0, 2], [1, 1, 2, 0]] {
        let err = dwt2d(&zeros(&shape, DType::F64)).unwrap_err();
        assert!(
            matches!(err, WaveletError::Empty { .. }),
            "{shape:?}: {err}"
        );
    }
    let err = idwt2d(&zeros(&[1, 1, 4, 0, 2], DType::F32), 1, 4).unwrap_err();
    assert!(matches!(err, WaveletError::Empty { .. }), "{err}");
}

#[test]
fn inverse_checks_bands_and_output_size() {
    let err = idwt2d(&zeros(&[1, 2, 3, 4, 4], DType::F32), 8, 8).unwrap_err();
    assert!(
        matches!(err, WaveletError::Bands { expected: 4, .. }),
        "{err}"
    );
    for (h, w) in [(9, 8), (6, 8), (8, 10), (0, 8)] {
        let err = idwt2d(&zeros(&[1, 2, 4, 4, 4], DType::F32), h, w).unwrap_err();
        assert!(
            matches!(
                err,
                WaveletError::OutputSize {
                    min_h: 7,
                    max_h: 8,
                    ..
                }
            ),
            "{h}x{w}: {err}"
        );
        assert!(err.to_string().contains(&format!("{h}x{w}")), "{err}");
    }
    assert!(idwt2d(&zeros(&[1, 2, 4, 4, 4], DType::F32), 7, 8).is_ok());
}

#[test]
fn multi_level_checks() {
    let x = zeros(&[1, 1, 8, 8], DType::F32);
    assert!(matches!(
        wavedec2(&x, 0).unwrap_err(),
        WaveletError::Pyramid { .. }
    ));
    assert!(matches!(
        Dwt2d::new(0).unwrap_err(),
        WaveletError::Pyramid { .. }
    ));
    let mut pyr = wavedec2(&x, 2).unwrap();
    pyr.details.swap(0, 1);
    let err = waverec2(&pyr).unwrap_err();
    assert!(
        matches!(err, WaveletError::Pyramid { op: "waverec2", .. }),
        "{err}"
    );
    let bad = WaveletPyramid {
        approx: x.clone(),
        details: vec![],
        sizes: vec![],
    };
    assert!(matches!(
        waverec2(&bad).unwrap_err(),
        WaveletError::Pyramid { .. }
    ));
    let p = wavedec2(&x, 1).unwrap();
    let wrong_bands = WaveletPyramid {
        details: vec![zeros(&[1, 1, 4, 4, 4], DType::F32)],
        ..p
    };
    assert!(matches!(
        waverec2(&wrong_bands).unwrap_err(),
        WaveletError::Bands { expected: 3, .. }
    ));
}

#[test]
fn errors_convert_into_candle_errors() {
    fn inside_candle_code(x: &Tensor) -> candle_core::Result<Tensor> {
        Ok(dwt2d(x)?)
    }
    let err = inside_candle_code(&zeros(&[2, 2], DType::F32)).unwrap_err();
    assert!(err.to_string().contains("dwt2d"), "{err}");
}

/// A `Pyramid` error from `waverec2` whose message holds every one of `parts`.
fn pyramid_error(pyr: &WaveletPyramid, parts: &[&str]) {
    let err = waverec2(pyr).unwrap_err();
    assert!(
        matches!(err, WaveletError::Pyramid { op: "waverec2", .. }),
        "{err}"
    );
    let msg = err.to_string();
    for part in parts {
        assert!(msg.contains(part), "{part:?} missing from: {msg}");
    }
}

#[test]
fn level_counts_out_of_range_are_errors_not_allocations() {
    let x = zeros(&[1, 2, 4, 4], DType::F32);
    for levels in [0, MAX_LEVELS + 1, 1 << 40, usize::MAX] {
        let err = wavedec2(&x, levels).unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(err, WaveletError::Pyramid { op: "wavedec2", .. }),
            "{msg}"
        );
        for part in [&levels.to_string(), "1..=64", "[1, 2, 4, 4]", "F32"] {
            assert!(msg.contains(part), "{part:?} missing from: {msg}");
        }
        assert!(Dwt2d::new(levels).is_err());
    }
    // Past 1x1 is allowed up to the limit, and still inverts.
    let pyr = wavedec2(&x, MAX_LEVELS).unwrap();
    assert_eq!(pyr.levels(), MAX_LEVELS);
    assert_eq!(waverec2(&pyr).unwrap().dims(), x.dims());
    let too_many = WaveletPyramid {
        approx: zeros(&[1, 1, 1, 1], DType::F32),
        details: vec![zeros(&[1, 1, 3, 1, 1], DType::F32); MAX_LEVELS + 1],
        sizes: vec![(1, 1); MAX_LEVELS + 1],
    };
    pyramid_error(&too_many, &["65", "[1, 1, 1, 1]", "F32"]);
}

#[test]
fn pyramids_that_do_not_fit_name_the_level_shape_and_dtype() {
    let x = Tensor::randn(0f32, 1., (1, 2, 8, 8), &Device::Cpu).unwrap();
    let good = wavedec2(&x, 2).unwrap();
    // A recorded size the bands cannot reconstruct (also one that would overflow `n + 1`).
    for (size, shown) in [
        ((100, 100), "100x100"),
        ((usize::MAX, 3), "x3"),
        ((0, 8), "0x8"),
    ] {
        let mut pyr = good.clone();
        pyr.sizes[0] = size;
        pyramid_error(&pyr, &["level 0", shown, "[1, 2, 3, 4, 4]", "F32"]);
    }
    // Sizes in the wrong order: level 1's bands (2x2) cannot make 8x8.
    let mut swapped = good.clone();
    swapped.sizes.swap(0, 1);
    pyramid_error(&swapped, &["level 1", "8x8", "[1, 2, 3, 2, 2]"]);
    // Mixed dtypes are named before candle's `cat` sees them.
    let mut mixed = good.clone();
    mixed.approx = mixed.approx.to_dtype(DType::F64).unwrap();
    pyramid_error(&mixed, &["level 1", "F32", "F64", "dtype"]);
    // Counts that differ say what the approximation is.
    let mut short = good.clone();
    short.sizes.pop();
    pyramid_error(&short, &["2 details and 1 sizes", "[1, 2, 2, 2]", "F32"]);
    // Nothing was wrong with the original.
    assert!(waverec2(&good).is_ok());
}

#[test]
fn output_sizes_at_the_extremes_are_errors() {
    let bands = zeros(&[1, 1, 4, 3, 3], DType::F32);
    for (h, w) in [(usize::MAX, 6), (6, usize::MAX), (0, 0), (0, 6)] {
        assert!(
            matches!(
                idwt2d(&bands, h, w).unwrap_err(),
                WaveletError::OutputSize { .. }
            ),
            "{h}x{w}"
        );
    }
}
