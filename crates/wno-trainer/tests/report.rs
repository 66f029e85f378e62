//! Tests of the report module: metrics.jsonl, grids, curves PNG, progress bar.

use candle_core::{DType, Device, Tensor};
use serde_json::json;
use wno_trainer::report::{
    grid_image, plot_curves, read_metrics, render_panels, save_grid, scale_rows,
    truncate_metrics_after, MetricsLog, Panel, Progress, Series, PALETTE,
};
use wno_trainer::TrainerError;

fn steps(records: &[serde_json::Value]) -> Vec<u64> {
    records
        .iter()
        .map(|r| r["step"].as_u64().unwrap())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// metrics

#[test]
fn metrics_round_trip_and_append() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run").join("metrics.jsonl");
    {
        let mut log = MetricsLog::open(&path, false).unwrap();
        assert_eq!(log.path(), path);
        for s in 1..=3u64 {
            log.write(&json!({"kind": "train", "step": s, "loss": 1.0 / s as f64}))
                .unwrap();
        }
        // flushed after each write: readable while the log is still open
        assert_eq!(read_metrics(&path).unwrap().len(), 3);
    }
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count(), 3);
    assert!(text.ends_with('\n'));

    // append keeps, a fresh open truncates
    MetricsLog::open(&path, true)
        .unwrap()
        .write(&json!({"kind": "eval", "step": 4, "free_psnr": 20.5}))
        .unwrap();
    let records = read_metrics(&path).unwrap();
    assert_eq!(steps(&records), [1, 2, 3, 4]);
    assert_eq!(records[1]["loss"], 0.5);
    assert_eq!(records[3]["free_psnr"], 20.5);
    assert_eq!(records[3]["kind"], "eval");

    MetricsLog::open(&path, false).unwrap();
    assert!(read_metrics(&path).unwrap().is_empty());
}

#[test]
fn metrics_write_rejects_non_objects() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.jsonl");
    let mut log = MetricsLog::open(&path, false).unwrap();
    for bad in [json!(1), json!("x"), json!([1]), json!(null)] {
        assert!(matches!(
            log.write(&bad),
            Err(TrainerError::InvalidArgument { .. })
        ));
    }
    assert_eq!(std::fs::read(&path).unwrap(), b"");
}

#[test]
fn truncated_last_line_is_skipped_and_repaired_on_append() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("metrics.jsonl");
    std::fs::write(
        &path,
        "{\"step\":1,\"loss\":0.5}\n\n{\"step\":2,\"loss\":0.4}\n{\"step\":3,\"lo",
    )
    .unwrap();
    assert_eq!(steps(&read_metrics(&path).unwrap()), [1, 2]);

    // appending after a crash starts a fresh line: the partial record is dropped
    MetricsLog::open(&path, true)
        .unwrap()
        .write(&json!({"step": 3, "loss": 0.3}))
        .unwrap();
    assert_eq!(steps(&read_metrics(&path).unwrap()), [1, 2, 3]);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains("\"lo\n"), "{text}");

    // a complete last record without its newline is kept on append
    std::fs::write(&path, "{\"step\":1}\n{\"step\":2}").unwrap();
    MetricsLog::open(&path, true)
        .unwrap()
        .write(&json!({"step": 3}))
        .unwrap();
    assert_eq!(steps(&read_metrics(&path).unwrap()), [1, 2, 3]);
}

#[test]
fn bad_line_in_the_middle_is_an_error_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("metrics.jsonl");
    std::fs::write(&path, "{\"step\":1}\n{\"step\":2}\n{oops\n{\"step\":4}\n").unwrap();
    let err = read_metrics(&path).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("line 3"), "{msg}");
    assert!(msg.contains("metrics.jsonl"), "{msg}");

    // a terminated but broken last line is not a crash artefact either
    std::fs::write(&path, "{\"step\":1}\n{oops\n").unwrap();
    assert!(read_metrics(&path)
        .unwrap_err()
        .to_string()
        .contains("line 2"));

    // valid JSON that is not an object
    std::fs::write(&path, "{\"step\":1}\n[1,2]\n").unwrap();
    assert!(read_metrics(&path)
        .unwrap_err()
        .to_string()
        .contains("line 2"));

    // missing file: an I/O error naming the file
    let missing = dir.path().join("none.jsonl");
    assert!(matches!(
        read_metrics(&missing),
        Err(TrainerError::Io { .. })
    ));
}

#[test]
fn truncate_metrics_after_keeps_earlier_steps_verbatim() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("metrics.jsonl");
    let lines = [
        "{\"step\":10,\"kind\":\"train\",\"loss\":0.5}",
        "{\"note\":\"no step\"}",
        "{\"step\":20,\"kind\":\"eval\",\"free_psnr\":19.25}",
        "{\"step\":30,\"kind\":\"train\",\"loss\":0.25}",
        "{\"step\":25.5,\"kind\":\"train\",\"loss\":0.3}",
    ];
    std::fs::write(&path, lines.join("\n") + "\n{\"step\":40,").unwrap();
    truncate_metrics_after(&path, 20).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    // kept lines byte for byte (key order preserved), in order, the rest dropped
    assert_eq!(text, format!("{}\n{}\n{}\n", lines[0], lines[1], lines[2]));
    // no temp file left
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

    truncate_metrics_after(&path, 5).unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        format!("{}\n", lines[1])
    );

    // then appending continues from there
    MetricsLog::open(&path, true)
        .unwrap()
        .write(&json!({"step": 6}))
        .unwrap();
    assert_eq!(read_metrics(&path).unwrap().len(), 2);

    // a missing file is fine; a corrupt one is an error and is left untouched
    truncate_metrics_after(&dir.path().join("absent.jsonl"), 3).unwrap();
    std::fs::write(&path, "{\"step\":1}\nbad\n{\"step\":9}\n").unwrap();
    assert!(truncate_metrics_after(&path, 3).is_err());
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "{\"step\":1}\nbad\n{\"step\":9}\n"
    );
}

// ---------------------------------------------------------------------------------------------
// grid

/// A 2x2 image: top-left red, top-right green, bottom-left blue, bottom-right (0.5, 0.25, 1.5
/// clamped to 1).
fn two_by_two(dtype: DType) -> Tensor {
    let data: [f32; 12] = [
        1.0, 0.0, 0.0, 0.5, // R plane
        0.0, 1.0, 0.0, 0.25, // G plane
        0.0, 0.0, 1.0, 1.5, // B plane
    ];
    Tensor::from_vec(data.to_vec(), (3, 2, 2), &Device::Cpu)
        .unwrap()
        .to_dtype(dtype)
        .unwrap()
}

#[test]
fn grid_pixels_at_known_positions() {
    let a = two_by_two(DType::F32);
    let b = Tensor::full(-3.0f32, (1, 3, 1, 1), &Device::Cpu).unwrap(); // clamps to black
    let img = grid_image(&[vec![a.clone(), b], vec![a]], 4).unwrap();
    // 2 columns, 2 rows of 4-pixel cells with a 2-pixel gap
    assert_eq!(img.dimensions(), (4 + 2 + 4, 4 + 2 + 4));
    let px = |x: u32, y: u32| img.get_pixel(x, y).0;
    // cell (0, 0): each source pixel becomes a 2x2 block
    for (x, y) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
        assert_eq!(px(x, y), [255, 0, 0]);
    }
    for (x, y) in [(2, 0), (3, 1)] {
        assert_eq!(px(x, y), [0, 255, 0]);
    }
    for (x, y) in [(0, 2), (1, 3)] {
        assert_eq!(px(x, y), [0, 0, 255]);
    }
    assert_eq!(px(3, 3), [128, 64, 255]);
    // the gaps are white
    for y in 0..10 {
        assert_eq!(px(4, y), [255, 255, 255]);
        assert_eq!(px(5, y), [255, 255, 255]);
    }
    for x in 0..10 {
        assert_eq!(px(x, 4), [255, 255, 255]);
        assert_eq!(px(x, 5), [255, 255, 255]);
    }
    // cell (0, 1): the 1x1 image, clamped to black, fills the whole cell
    for y in 0..4 {
        for x in 6..10 {
            assert_eq!(px(x, y), [0, 0, 0]);
        }
    }
    // cell (1, 0) again the 2x2 image
    assert_eq!(px(0, 6), [255, 0, 0]);
    assert_eq!(px(3, 9), [128, 64, 255]);
    // cell (1, 1) is padding: white background
    for y in 6..10 {
        for x in 6..10 {
            assert_eq!(px(x, y), [255, 255, 255]);
        }
    }
}

#[test]
fn grid_accepts_other_float_dtypes_and_non_integer_factors() {
    for dtype in [DType::F64, DType::F16, DType::BF16] {
        let img = grid_image(&[vec![two_by_two(dtype)]], 2).unwrap();
        assert_eq!(img.get_pixel(0, 0).0, [255, 0, 0], "{dtype:?}");
        assert_eq!(img.get_pixel(1, 1).0, [128, 64, 255], "{dtype:?}");
    }
    // 2x2 -> 3x3: nearest, source index floor(y * 2 / 3) = 0, 0, 1
    let img = grid_image(&[vec![two_by_two(DType::F32)]], 3).unwrap();
    assert_eq!(img.dimensions(), (3, 3));
    assert_eq!(img.get_pixel(1, 1).0, [255, 0, 0]);
    assert_eq!(img.get_pixel(2, 1).0, [0, 255, 0]);
    assert_eq!(img.get_pixel(1, 2).0, [0, 0, 255]);
    // downscaling 2x2 -> 1x1 samples the top-left pixel
    let img = grid_image(&[vec![two_by_two(DType::F32)]], 1).unwrap();
    assert_eq!(img.get_pixel(0, 0).0, [255, 0, 0]);
    // NaN is drawn black
    let nan = Tensor::full(f32::NAN, (3, 1, 1), &Device::Cpu).unwrap();
    assert_eq!(
        grid_image(&[vec![nan]], 1).unwrap().get_pixel(0, 0).0,
        [0, 0, 0]
    );
}

#[test]
fn grid_errors_instead_of_panics() {
    let ok = two_by_two(DType::F32);
    let dev = Device::Cpu;
    assert!(matches!(
        grid_image(&[], 4),
        Err(TrainerError::InvalidArgument { .. })
    ));
    assert!(matches!(
        grid_image(&[vec![], vec![]], 4),
        Err(TrainerError::InvalidArgument { .. })
    ));
    assert!(matches!(
        grid_image(&[vec![ok.clone()]], 0),
        Err(TrainerError::InvalidArgument { .. })
    ));
    let bad = [
        Tensor::zeros((2, 2), DType::F32, &dev).unwrap(),
        Tensor::zeros((4, 2, 2), DType::F32, &dev).unwrap(),
        Tensor::zeros((1, 1, 2, 2), DType::F32, &dev).unwrap(),
        Tensor::zeros((2, 3, 2, 2), DType::F32, &dev).unwrap(),
        Tensor::zeros((3, 0, 2), DType::F32, &dev).unwrap(),
        Tensor::zeros((3, 2, 2), DType::U8, &dev).unwrap(),
    ];
    for t in bad {
        let err = grid_image(&[vec![ok.clone(), t.clone()]], 4).unwrap_err();
        assert!(
            matches!(err, TrainerError::Shape { .. }),
            "{:?}: {err}",
            t.dims()
        );
    }
    // absurd sizes are refused, not allocated
    assert!(grid_image(&[vec![ok]], usize::MAX / 2).is_err());
}

#[test]
fn save_grid_writes_png_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("samples").join("grid.png");
    save_grid(&path, &[vec![two_by_two(DType::F32); 3]], 8).unwrap();
    let img = image::open(&path).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (3 * 8 + 2 * 2, 8));
    assert_eq!(img.get_pixel(10 + 7, 7).0, [128, 64, 255]);
    assert_eq!(
        std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
        1
    );
    // an error leaves no file behind
    let other = dir.path().join("x").join("bad.png");
    assert!(save_grid(&other, &[], 8).is_err());
    assert!(!other.exists());
}

#[test]
fn scale_rows_shapes_and_errors() {
    let dev = Device::Cpu;
    let b = 3;
    let scales: Vec<Tensor> = [4usize, 8, 16]
        .iter()
        .enumerate()
        .map(|(k, &s)| {
            // image i of scale k is filled with (i * 10 + k) / 100
            let imgs: Vec<Tensor> = (0..b)
                .map(|i| Tensor::full((i * 10 + k) as f32 / 100.0, (1, 3, s, s), &dev).unwrap())
                .collect();
            Tensor::cat(&imgs, 0).unwrap()
        })
        .collect();
    let truth = Tensor::full(0.9f32, (b, 3, 16, 16), &dev).unwrap();

    let rows = scale_rows(&scales, Some(&truth)).unwrap();
    assert_eq!(rows.len(), b);
    for (i, row) in rows.iter().enumerate() {
        let dims: Vec<Vec<usize>> = row.iter().map(|t| t.dims().to_vec()).collect();
        assert_eq!(
            dims,
            [
                vec![3, 4, 4],
                vec![3, 8, 8],
                vec![3, 16, 16],
                vec![3, 16, 16]
            ]
        );
        for (k, t) in row.iter().take(3).enumerate() {
            let v = t.flatten_all().unwrap().to_vec1::<f32>().unwrap()[0];
            assert!(
                (v - (i * 10 + k) as f32 / 100.0).abs() < 1e-6,
                "row {i} col {k}: {v}"
            );
        }
    }
    let rows = scale_rows(&scales, None).unwrap();
    assert_eq!(rows[0].len(), 3);
    // the rows feed grid_image: 4 columns of 16-pixel cells
    let img = grid_image(&scale_rows(&scales, Some(&truth)).unwrap(), 16).unwrap();
    assert_eq!(img.dimensions(), (4 * 16 + 3 * 2, 3 * 16 + 2 * 2));

    // batch mismatch between scales, and with the truth
    let short = Tensor::zeros((2, 3, 32, 32), DType::F32, &dev).unwrap();
    let mut mixed = scales.clone();
    mixed.push(short.clone());
    let err = scale_rows(&mixed, None).unwrap_err();
    assert!(matches!(err, TrainerError::InvalidArgument { .. }), "{err}");
    assert!(err.to_string().contains("scales[3]"), "{err}");
    let err = scale_rows(&scales, Some(&short)).unwrap_err();
    assert!(err.to_string().contains("truth"), "{err}");
    // wrong rank or channels
    let flat = Tensor::zeros((3, 4, 4), DType::F32, &dev).unwrap();
    assert!(matches!(
        scale_rows(&[flat], None),
        Err(TrainerError::Shape { .. })
    ));
    let gray = Tensor::zeros((3, 1, 4, 4), DType::F32, &dev).unwrap();
    assert!(matches!(
        scale_rows(&[gray], None),
        Err(TrainerError::Shape { .. })
    ));
    // nothing at all
    assert!(scale_rows(&[], None).is_err());
}

// ---------------------------------------------------------------------------------------------
// plots

fn count_colour(img: &image::RgbImage, c: [u8; 3]) -> usize {
    img.pixels().filter(|p| p.0 == c).count()
}

fn sample_records() -> Vec<serde_json::Value> {
    let mut r = Vec::new();
    for s in 1..=200u64 {
        r.push(json!({"kind": "train", "step": s, "loss": 1.0 / (s as f64).sqrt(), "lr": 1e-3}));
        if s % 20 == 0 {
            r.push(json!({
                "kind": "eval", "step": s,
                "teacher_psnr_mean": 20.0 + s as f64 / 20.0,
                "free_psnr": 15.0 + s as f64 / 40.0,
                "bicubic_psnr": 22.0,
            }));
        }
    }
    r.push(json!({"kind": "train", "step": 201, "loss": null})); // serde_json's NaN: skipped
    r.push(json!({"kind": "other", "step": 5}));
    r
}

#[test]
fn plot_curves_writes_png_with_series_colours() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plots").join("curves.png");
    plot_curves(&sample_records(), &path).unwrap();
    let img = image::open(&path).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (960, 720));
    // no temp file left beside it
    assert_eq!(
        std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
        1
    );

    let top = image::imageops::crop_imm(&img, 0, 0, 960, 360).to_image();
    let bottom = image::imageops::crop_imm(&img, 0, 360, 960, 360).to_image();
    // the loss line (palette 0) is in the top panel, long enough to be a curve not a swatch
    assert!(
        count_colour(&top, PALETTE[0]) > 500,
        "{}",
        count_colour(&top, PALETTE[0])
    );
    assert_eq!(count_colour(&top, PALETTE[1]), 0);
    // three PSNR series in the bottom panel, in the palette order
    for (i, c) in PALETTE.iter().take(3).enumerate() {
        let n = count_colour(&bottom, *c);
        assert!(n > 300, "series {i}: {n} pixels");
    }
    assert_eq!(count_colour(&bottom, PALETTE[3]), 0);
    // text (black) and white background are both there
    assert!(count_colour(&img, [0, 0, 0]) > 500);
    assert!(count_colour(&img, [255, 255, 255]) > 960 * 720 / 2);
}

#[test]
fn plot_curves_only_present_psnr_series() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.png");
    let records = vec![
        json!({"kind": "eval", "step": 1, "free_psnr": 12.0}),
        json!({"kind": "eval", "step": 2, "free_psnr": 13.0, "bicubic_psnr": "n/a"}),
    ];
    plot_curves(&records, &path).unwrap();
    let img = image::open(&path).unwrap().to_rgb8();
    let bottom = image::imageops::crop_imm(&img, 0, 360, 960, 360).to_image();
    assert!(count_colour(&bottom, PALETTE[0]) > 50);
    assert_eq!(count_colour(&bottom, PALETTE[1]), 0);
    // top panel has no data: no series colour at all
    let top = image::imageops::crop_imm(&img, 0, 0, 960, 360).to_image();
    assert_eq!(count_colour(&top, PALETTE[0]), 0);
}

#[test]
fn empty_and_odd_records_do_not_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.png");
    plot_curves(&[], &path).unwrap();
    let img = image::open(&path).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (960, 720));
    for c in PALETTE {
        assert_eq!(count_colour(&img, c), 0);
    }
    // the "no data" notes are drawn (grey text)
    assert!(count_colour(&img, [150, 150, 150]) > 20);

    let odd = vec![
        json!(null),
        json!([1, 2]),
        json!({"kind": "train"}),
        json!({"kind": "train", "step": "x", "loss": 1.0}),
        json!({"kind": "train", "step": 3, "loss": 0.0}), // not drawable on a log axis
        json!({"kind": "train", "step": 4, "loss": -1.0}), // neither
        json!({"kind": "train", "step": 5, "loss": 0.5}), // single point
        json!({"kind": "eval", "step": 5, "free_psnr": 1e300}),
        json!({"kind": "eval", "step": 6, "free_psnr": -1e300}),
    ];
    plot_curves(&odd, &path).unwrap();
    assert_eq!(
        image::open(&path).unwrap().to_rgb8().dimensions(),
        (960, 720)
    );
}

#[test]
fn render_panels_generic() {
    let panel = |log_y: bool, pts: Vec<(f64, f64)>| Panel {
        title: "t".into(),
        y_label: "y".into(),
        log_y,
        series: vec![
            Series {
                name: "a".into(),
                points: pts.clone(),
            },
            Series {
                name: "b".into(),
                points: pts.iter().map(|&(x, y)| (x, y * 2.0)).collect(),
            },
        ],
    };
    let pts: Vec<(f64, f64)> = (0..100).map(|i| (i as f64, 1.0 + i as f64)).collect();
    let img = render_panels(
        &[panel(false, pts.clone()), panel(true, pts.clone())],
        500,
        250,
    );
    assert_eq!(img.dimensions(), (500, 500));
    for half in [0, 250] {
        let p = image::imageops::crop_imm(&img, 0, half, 500, 250).to_image();
        assert!(count_colour(&p, PALETTE[0]) > 100);
        assert!(count_colour(&p, PALETTE[1]) > 100);
    }
    // NaN, infinities and identical points
    let weird = vec![
        (f64::NAN, 1.0),
        (1.0, f64::NAN),
        (2.0, f64::INFINITY),
        (3.0, 3.0),
        (3.0, 3.0),
    ];
    let img = render_panels(&[panel(false, weird.clone()), panel(true, weird)], 300, 150);
    assert_eq!(img.dimensions(), (300, 300));
    assert!(count_colour(&img, PALETTE[0]) > 0);
    // zero sizes and no panels
    assert_eq!(render_panels(&[], 0, 0).dimensions(), (1, 1));
}

// ---------------------------------------------------------------------------------------------
// progress

#[test]
fn progress_hidden_does_not_panic() {
    let p = Progress::new(10, 3, true);
    for s in 4..=12 {
        p.update(s, 1.0 / s as f64, 100.0 * s as f64); // past the total too
    }
    p.update(5, f64::NAN, f64::INFINITY);
    p.println("a message");
    p.finish();
    let q = Progress::new(0, 5, false); // start beyond total, not a terminal under the test harness
    q.update(1, 0.1, 1.0);
    q.finish();
}
