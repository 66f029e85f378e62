//! Data sources, augmentation, pyramid and loader, on fixtures written to temp dirs.

use std::path::Path;
use std::sync::Arc;

use candle_core::{Device, Tensor};
use wno_trainer::data::{
    area_pyramid, bicubic_weights, open_source, read_parquet_images, resize_bicubic, Affine,
    DataLoader, FolderOptions, ImageSource, LoaderConfig, MemorySource, Pipeline, PlanarImage,
    SourceOptions, Split,
};
use wno_trainer::TrainerError;

/// A 32x32 CIFAR record: pixel (y, x) of channel c is `(c * 80 + y * 2 + x) % 256`.
fn cifar_record(label: u8) -> Vec<u8> {
    let mut r = vec![label];
    for c in 0..3usize {
        for y in 0..32usize {
            for x in 0..32usize {
                r.push(((c * 80 + y * 2 + x + label as usize) % 256) as u8);
            }
        }
    }
    r
}

#[test]
fn cifar_binary_reads_planes_and_labels() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = Vec::new();
    for label in [3u8, 7, 0] {
        bytes.extend(cifar_record(label));
    }
    std::fs::write(dir.path().join("test_batch.bin"), &bytes).unwrap();
    std::fs::write(dir.path().join("data_batch_2.bin"), cifar_record(9)).unwrap();

    let test = open_source(dir.path(), &SourceOptions::new(Split::Test)).unwrap();
    assert_eq!(test.len(), 3);
    assert_eq!(test.class_names()[3], "cat");
    let s = test.get(1).unwrap();
    assert_eq!(s.label, Some(7));
    let img = &s.image;
    assert_eq!((img.height(), img.width()), (32, 32));
    // channel 1, row 5, column 9
    let v = img.plane(1)[5 * 32 + 9];
    assert!((v - ((80 + 10 + 9 + 7) as f32 / 255.0)).abs() < 1e-7);

    // Only the present training batches are read.
    let train = open_source(dir.path(), &SourceOptions::new(Split::Train)).unwrap();
    assert_eq!(train.len(), 1);
    assert_eq!(train.get(0).unwrap().label, Some(9));
}

#[test]
fn cifar_binary_truncated_and_bad_label_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("test_batch.bin");
    let mut bytes = cifar_record(1);
    bytes.extend(&cifar_record(2)[..100]);
    std::fs::write(&path, &bytes).unwrap();
    let err = open_source(dir.path(), &SourceOptions::new(Split::Test)).unwrap_err();
    assert!(
        matches!(err, TrainerError::TruncatedRecord { offset: 3073, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("test_batch.bin"), "{err}");

    let mut bad = cifar_record(1);
    bad[0] = 12;
    std::fs::write(&path, &bad).unwrap();
    let err = open_source(&path, &SourceOptions::new(Split::Test)).unwrap_err();
    assert!(
        matches!(err, TrainerError::BadLabel { label: 12, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("test_batch.bin"));
}

/// An RGB image whose red channel encodes the column and green the row.
fn gradient_image(w: u32, h: u32) -> image::RgbImage {
    image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x * 10) as u8, (y * 10) as u8, 77])
    })
}

#[test]
fn image_folder_with_classes_skips_one_corrupt_image() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for class in ["birds", "cars"] {
        std::fs::create_dir(root.join(class)).unwrap();
    }
    // Non-square PNG: 12 wide, 8 high -> centre crop columns 2..10.
    gradient_image(12, 8)
        .save(root.join("birds/a.png"))
        .unwrap();
    gradient_image(8, 8).save(root.join("cars/b.jpg")).unwrap();
    std::fs::write(root.join("cars/broken.png"), b"\x89PNG not really").unwrap();
    std::fs::write(root.join("cars/notes.txt"), b"ignored").unwrap();

    let src = open_source(root, &SourceOptions::new(Split::Train)).unwrap();
    assert_eq!(src.len(), 2);
    assert_eq!(
        src.class_names(),
        &["birds".to_string(), "cars".to_string()]
    );
    assert_eq!(src.warnings().len(), 1);
    assert!(
        src.warnings()[0].contains("broken.png"),
        "{:?}",
        src.warnings()
    );

    let a = src.get(0).unwrap();
    assert_eq!(a.label, Some(0));
    assert_eq!((a.image.height(), a.image.width()), (8, 8));
    // First column of the crop is source column 2: red = 20/255 (PNG is lossless).
    assert!((a.image.plane(0)[0] - 20.0 / 255.0).abs() < 1e-7);
    assert!((a.image.plane(1)[3 * 8] - 30.0 / 255.0).abs() < 1e-7);
    let b = src.get(1).unwrap();
    assert_eq!(b.label, Some(1));
    // JPEG is lossy: the blue channel stays near 77.
    assert!((b.image.plane(2)[27] - 77.0 / 255.0).abs() < 0.05);
}

#[test]
fn image_folder_split_subfolder_flat_and_downscale() {
    let dir = tempfile::tempdir().unwrap();
    let test = dir.path().join("test");
    std::fs::create_dir(&test).unwrap();
    for i in 0..3 {
        gradient_image(16, 20)
            .save(test.join(format!("{i}.png")))
            .unwrap();
    }
    let opts = SourceOptions {
        split: Split::Test,
        folder: FolderOptions { max_side: Some(8) },
    };
    let src = open_source(dir.path(), &opts).unwrap();
    assert_eq!(src.len(), 3);
    assert!(src.class_names().is_empty());
    assert_eq!(src.get(2).unwrap().label, None);
    assert_eq!(src.size_of(0), Some((8, 8)));
}

#[test]
fn bad_folders_give_named_errors() {
    let dir = tempfile::tempdir().unwrap();
    let err = open_source(dir.path(), &SourceOptions::new(Split::Train)).unwrap_err();
    assert!(matches!(err, TrainerError::EmptyFolder { .. }), "{err}");

    std::fs::write(dir.path().join("x.png"), b"garbage").unwrap();
    std::fs::write(dir.path().join("y.jpg"), b"garbage").unwrap();
    let err = open_source(dir.path(), &SourceOptions::new(Split::Train)).unwrap_err();
    match &err {
        TrainerError::AllImagesBad { count, first, .. } => {
            assert_eq!(*count, 2);
            assert!(first.contains("x.png"), "{first}");
        }
        other => panic!("unexpected {other}"),
    }

    let err = open_source(
        &dir.path().join("missing"),
        &SourceOptions::new(Split::Train),
    )
    .unwrap_err();
    assert!(err.to_string().contains("missing"), "{err}");
}

fn png_bytes(img: &image::RgbImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// Writes a parquet file laid out like the Hub's `cifar10` export: `img {bytes, path}`, `label`,
/// with the `huggingface` metadata naming the classes.
fn write_hf_parquet(path: &Path, images: &[Vec<u8>], labels: &[i64]) {
    use parquet::data_type::{ByteArray, ByteArrayType, Int64Type};
    use parquet::file::metadata::KeyValue;
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    let schema = "message schema {
        required group img { required binary bytes; required binary path (UTF8); }
        required int64 label;
    }";
    let schema = Arc::new(parquet::schema::parser::parse_message_type(schema).unwrap());
    let meta = r#"{"info":{"features":{"img":{"_type":"Image"},"label":{"names":["zero","one","two"],"_type":"ClassLabel"}}}}"#;
    let props = WriterProperties::builder()
        .set_key_value_metadata(Some(vec![KeyValue::new(
            "huggingface".into(),
            meta.to_string(),
        )]))
        .build();
    let file = std::fs::File::create(path).unwrap();
    let mut writer = SerializedFileWriter::new(file, schema, Arc::new(props)).unwrap();
    let mut rg = writer.next_row_group().unwrap();
    let bytes: Vec<ByteArray> = images.iter().map(|b| ByteArray::from(b.clone())).collect();
    let names: Vec<ByteArray> = (0..images.len())
        .map(|i| ByteArray::from(format!("{i}.png").as_str()))
        .collect();
    let mut col = 0;
    while let Some(mut w) = rg.next_column().unwrap() {
        match col {
            0 => {
                w.typed::<ByteArrayType>()
                    .write_batch(&bytes, None, None)
                    .unwrap();
            }
            1 => {
                w.typed::<ByteArrayType>()
                    .write_batch(&names, None, None)
                    .unwrap();
            }
            _ => {
                w.typed::<Int64Type>()
                    .write_batch(labels, None, None)
                    .unwrap();
            }
        }
        w.close().unwrap();
        col += 1;
    }
    rg.close().unwrap();
    writer.close().unwrap();
}

#[test]
fn parquet_hub_layout_is_not_transposed() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("plain_text").join("test");
    std::fs::create_dir_all(&sub).unwrap();
    let img = gradient_image(6, 6);
    let images = vec![
        png_bytes(&img),
        b"corrupt".to_vec(),
        png_bytes(&gradient_image(4, 4)),
    ];
    write_hf_parquet(&sub.join("0000.parquet"), &images, &[2, 0, 1]);

    let src = open_source(dir.path(), &SourceOptions::new(Split::Test)).unwrap();
    assert_eq!(src.len(), 2);
    assert_eq!(
        src.class_names(),
        &["zero".to_string(), "one".into(), "two".into()]
    );
    assert_eq!(src.warnings().len(), 1);
    assert!(src.warnings()[0].contains("row 1"), "{:?}", src.warnings());
    let s = src.get(0).unwrap();
    assert_eq!(s.label, Some(2));
    // red encodes the column: row 0, column 3 -> 30.
    assert!((s.image.plane(0)[3] - 30.0 / 255.0).abs() < 1e-7);
    assert!((s.image.plane(1)[3 * 6] - 30.0 / 255.0).abs() < 1e-7);
    assert_eq!(src.get(1).unwrap().label, Some(1));

    // No training files in that folder: a clear error, not the test split.
    let err = read_parquet_images(&[dir.path().join("nope.parquet")]).unwrap_err();
    assert!(err.to_string().contains("nope.parquet"), "{err}");
}

#[test]
fn bicubic_matches_pytorch_weights_and_reproduces_ramps() {
    // PyTorch's upsample_bicubic2d (A = -0.75) weights for a 2x upscale, offset 0.25.
    let w = bicubic_weights(0.25);
    let expect = [-0.10546875f32, 0.87890625, 0.26171875, -0.03515625];
    for (a, b) in w.iter().zip(expect) {
        assert!((a - b).abs() < 1e-7, "{w:?}");
    }
    // A horizontal ramp x * 0.1, upscaled 2x: output column 4 samples source 1.75 with
    // taps at columns 0..4 and the offset-0.75 weights (the mirror of those above). Keys'
    // kernel with A = -0.75 does not reproduce ramps, so this is not 0.175.
    let (h, wd) = (4, 8);
    let mut data = vec![0.0f32; 3 * h * wd];
    for c in 0..3 {
        for y in 0..h {
            for x in 0..wd {
                data[c * h * wd + y * wd + x] = x as f32 * 0.1;
            }
        }
    }
    let img = PlanarImage::new(h, wd, data).unwrap();
    let up = resize_bicubic(&img, 8, 16).unwrap();
    let w75 = [-0.03515625f32, 0.26171875, 0.87890625, -0.10546875];
    let want: f32 = (0..4).map(|k| w75[k] * k as f32 * 0.1).sum();
    assert!(
        (up.plane(1)[3 * 16 + 4] - want).abs() < 1e-6,
        "{} vs {want}",
        up.plane(1)[52]
    );
    assert!((want - 0.1703125).abs() < 1e-6);
    // Left border: output 0 samples -0.25 (floor -1, offset 0.75); taps -2..2 clamp to
    // columns 0, 0, 0, 1, so only the last weight sees a non-zero value (PyTorch undershoots).
    let want0 = w75[3] * 0.1;
    assert!((up.plane(0)[0] - want0).abs() < 1e-6);
    // Downscale by 2 without antialias: offset 0.5, symmetric weights, so ramps are exact.
    let down = resize_bicubic(&img, 2, 4).unwrap();
    assert!((down.plane(0)[1] - 0.25).abs() < 1e-6); // source column (1 + 0.5) * 2 - 0.5
}

#[test]
fn affine_rotation_and_identity() {
    let n = 5;
    let data: Vec<f32> = (0..3 * n * n).map(|i| i as f32).collect();
    let img = PlanarImage::new(n, n, data).unwrap();
    assert_eq!(Affine::default().apply(&img), img);
    // 90 degrees counter-clockwise on screen: the content at (x, y) moves to (y, n-1-x).
    let rot = Affine {
        angle_deg: 90.0,
        tx: 0.0,
        ty: 0.0,
    }
    .apply(&img);
    for y in 0..n {
        for x in 0..n {
            let got = rot.plane(0)[(n - 1 - x) * n + y];
            let want = img.plane(0)[y * n + x];
            assert!((got - want).abs() < 1e-4, "({x},{y}): {got} vs {want}");
        }
    }
}

#[test]
fn area_pyramid_is_block_mean() {
    let x: Vec<f32> = (0..2 * 3 * 8 * 8)
        .map(|i| ((i * 37) % 101) as f32 / 101.0)
        .collect();
    let t = Tensor::from_vec(x.clone(), (2, 3, 8, 8), &Device::Cpu).unwrap();
    let levels = area_pyramid(&t, 2).unwrap();
    let sides: Vec<usize> = levels.iter().map(|l| l.dim(2).unwrap()).collect();
    assert_eq!(sides, vec![2, 4, 8]);
    let coarse = levels[0].to_vec3::<f32>().err(); // rank 4: to_vec3 must fail
    assert!(coarse.is_some());
    let c = levels[0].flatten_all().unwrap().to_vec1::<f32>().unwrap();
    // batch 1, channel 2, block (1, 0): rows 4..8, columns 0..4.
    let mut s = 0.0;
    for y in 4..8 {
        for xx in 0..4 {
            s += x[((3 + 2) * 8 + y) * 8 + xx];
        }
    }
    assert!((c[(3 + 2) * 4 + 2] - s / 16.0).abs() < 1e-6);
    assert!(area_pyramid(&t, 3).is_err());
}

fn numbered_source(n: usize, side: usize) -> MemorySource {
    let mut src = MemorySource::new("numbered", vec![]);
    for i in 0..n {
        let px: Vec<u8> = (0..3 * side * side)
            .map(|k| ((i * 13 + k) % 256) as u8)
            .collect();
        src.push_planar(side, side, &px, Some(i as u32)).unwrap();
    }
    src
}

fn collect(loader: &DataLoader, epoch: u64, first: usize) -> Vec<(Vec<usize>, Vec<f32>)> {
    loader
        .epoch_from(epoch, first)
        .unwrap()
        .map(|b| {
            let b = b.unwrap();
            (
                b.indices,
                b.images.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
            )
        })
        .collect()
}

#[test]
fn loader_is_deterministic_across_workers_and_resumable() {
    let src: Arc<dyn ImageSource> = Arc::new(numbered_source(23, 6));
    let make = |workers, seed| {
        let cfg = LoaderConfig {
            batch_size: 4,
            seed,
            workers,
            prefetch: 3,
            ..Default::default()
        };
        DataLoader::new(src.clone(), Pipeline::train(8), cfg).unwrap()
    };
    let l0 = make(0, 5);
    assert_eq!(l0.batches_per_epoch(), 5); // drop_last
    let a = collect(&l0, 1, 0);
    let b = collect(&make(1, 5), 1, 0);
    let c = collect(&make(3, 5), 1, 0);
    assert_eq!(a, b);
    assert_eq!(a, c);
    // Each batch holds distinct indices; an epoch visits no index twice.
    let mut seen: Vec<usize> = a.iter().flat_map(|(i, _)| i.clone()).collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 20);
    // Resuming mid-epoch yields exactly the remaining batches.
    assert_eq!(collect(&make(2, 5), 1, 3), a[3..].to_vec());
    // Other epochs and seeds differ.
    assert_ne!(collect(&l0, 2, 0), a);
    assert_ne!(collect(&make(0, 6), 1, 0), a);
    // Dropping an iterator early stops its workers (no hang).
    let mut it = make(2, 5).epoch(0).unwrap();
    assert!(it.next().unwrap().is_ok());
    drop(it);
}

#[test]
fn loader_eval_pipeline_is_plain_resize() {
    let src = numbered_source(3, 4);
    let expect = resize_bicubic(&src.get(2).unwrap().image, 8, 8).unwrap();
    let cfg = LoaderConfig {
        batch_size: 3,
        shuffle: false,
        workers: 1,
        ..Default::default()
    };
    let loader = DataLoader::new(Arc::new(src), Pipeline::eval(8), cfg).unwrap();
    let batch = loader.epoch(0).unwrap().next().unwrap().unwrap();
    assert_eq!(batch.indices, vec![0, 1, 2]);
    assert_eq!(batch.labels, vec![Some(0), Some(1), Some(2)]);
    let got = batch
        .images
        .get(2)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    for (g, e) in got.iter().zip(expect.data()) {
        assert!((g - e.clamp(0.0, 1.0)).abs() < 1e-7);
    }
    // Too few images for one batch.
    let cfg = LoaderConfig {
        batch_size: 4,
        ..Default::default()
    };
    assert!(DataLoader::new(Arc::new(numbered_source(3, 4)), Pipeline::eval(8), cfg).is_err());
}
