//! Bad input gives typed errors that name the op, the shape and the dtype; nothing panics.
use candle_core::{DType, Device, Tensor};
use wavelet_ops::{dwt2d, idwt2d, wavedec2, waverec2, Dwt2d, WaveletError, WaveletPyramid};

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
