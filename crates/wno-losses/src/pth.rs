//! PyTorch `.pth` state dicts, both formats of `torch.save`: the zip archive (PyTorch >= 1.6,
//! read with candle's `pickle` module) and the legacy format written before it (and still by
//! `_use_new_zipfile_serialization=False`), in which pytorch-fid's
//! `pt_inception-2015-12-05-6726825d.pth` is stored.
//!
//! The legacy format is a sequence of pickles followed by raw storages (PyTorch's
//! `torch/serialization.py`, `_legacy_save`): the magic number, the protocol version (1001), a
//! `sys_info` dict (byte order, C type sizes), the object itself (tensors refer to their storage
//! through the persistent id `('storage', torch.FloatStorage, key, location, numel, None)`), the
//! list of storage keys, then for each key in that order its element count as a little-endian
//! `i64` and its raw little-endian bytes. The pickles are parsed with candle's `pickle::Stack`;
//! tensors are `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ..)` and may be
//! any strided view of their storage.

use std::collections::HashMap;
use std::io::Cursor;
use std::path::Path;

use candle_core::pickle::{Object, Stack};
use candle_core::{DType, Device, Tensor};

use crate::error::{LossError, Result};

/// `pickle.dumps(0x1950a86a20f9469cfc6c, protocol=2)`: the legacy format's magic number.
const LEGACY_MAGIC: [u8; 15] = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e];
/// The protocol version the legacy format writes after the magic number.
const LEGACY_PROTOCOL: i64 = 1001;
/// A zip archive's local file header signature.
const ZIP_MAGIC: [u8; 4] = *b"PK\x03\x04";

/// The two `torch.save` formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PthFormat {
    /// A zip archive (`archive/data.pkl` + `archive/data/<key>`).
    Zip,
    /// Pickles followed by raw storages.
    Legacy,
}

impl PthFormat {
    /// The format of a file that starts with `head`, `None` for anything else.
    pub(crate) fn sniff(head: &[u8]) -> Option<Self> {
        if head.starts_with(&ZIP_MAGIC) {
            Some(Self::Zip)
        } else if head.starts_with(&LEGACY_MAGIC) {
            Some(Self::Legacy)
        } else {
            None
        }
    }
}

/// `bytes` as space-separated hex pairs.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")
}

/// What the two formats start with, in words, for error messages.
fn expected_magic() -> String {
    format!(
        "a PyTorch .pth file starts with `{}` (zip archive, PyTorch >= 1.6) or `{}` (the {}-byte magic number of the \
         legacy torch.save format)",
        hex(&ZIP_MAGIC),
        hex(&LEGACY_MAGIC),
        LEGACY_MAGIC.len()
    )
}

/// `Some(reason)` when `data`, too short for [`PthFormat::sniff`], is the start of one of the
/// magic numbers: a `.pth` file cut short (no valid safetensors file is that short and starts
/// like that).
pub(crate) fn truncated_magic(data: &[u8]) -> Option<String> {
    let formats = [(&LEGACY_MAGIC[..], "legacy torch.save"), (&ZIP_MAGIC[..], "zip (torch.save)")];
    formats.into_iter().find(|(magic, _)| !data.is_empty() && data.len() < magic.len() && magic.starts_with(data)).map(|(magic, what)| {
        format!(
            "truncated: the file is only {} bytes long, the start of the {}-byte magic number `{}` of a {what} file",
            data.len(),
            magic.len(),
            hex(magic)
        )
    })
}

/// Whether `path` is named like a PyTorch checkpoint (`.pth`, `.pt`).
pub(crate) fn pth_named(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| e.eq_ignore_ascii_case("pth") || e.eq_ignore_ascii_case("pt"))
}

/// Why `data`, named like a `.pth` file but with neither magic number, was not read: its
/// length and first bytes against what was expected.
pub(crate) fn unknown_magic(data: &[u8]) -> String {
    if data.is_empty() {
        return format!("the file is empty; {}", expected_magic());
    }
    let head = &data[..data.len().min(LEGACY_MAGIC.len())];
    format!("unknown format: {} bytes starting with `{}`; {}", data.len(), hex(head), expected_magic())
}

/// Every tensor of the state dict stored in `data` (the bytes of `path`, a file of the given
/// format), on the CPU in its stored dtype. Entries that are not tensors are skipped.
pub(crate) fn read_state_dict(path: &Path, data: &[u8], format: PthFormat) -> Result<HashMap<String, Tensor>> {
    match format {
        PthFormat::Zip => {
            let bad = |e: candle_core::Error| bad_file(path, e.to_string());
            Ok(candle_core::pickle::read_all(path).map_err(bad)?.into_iter().collect())
        }
        PthFormat::Legacy => read_legacy(path, data),
    }
}

fn bad_file(path: &Path, reason: String) -> LossError {
    LossError::BadWeightFile { path: path.to_path_buf(), format: "PyTorch .pth", reason }
}

/// One pickle from the cursor.
fn unpickle(path: &Path, cur: &mut Cursor<&[u8]>, what: &str) -> Result<Object> {
    let mut stack = Stack::empty();
    stack
        .read_loop(cur)
        .and_then(|()| stack.finalize())
        .map_err(|e| bad_file(path, format!("cannot parse the {what} pickle: {e}")))
}

/// A storage referred to by a persistent id: dtype and element count.
#[derive(Debug, Clone, Copy, PartialEq)]
struct StorageInfo {
    dtype: DType,
    numel: usize,
}

/// A tensor entry before its storage is read.
struct TensorRef {
    key: String,
    offset: usize,
    size: Vec<usize>,
    stride: Vec<usize>,
}

fn storage_dtype(class_name: &str) -> Option<DType> {
    Some(match class_name {
        "FloatStorage" => DType::F32,
        "DoubleStorage" => DType::F64,
        "HalfStorage" => DType::F16,
        "BFloat16Storage" => DType::BF16,
        "LongStorage" => DType::I64,
        "ByteStorage" => DType::U8,
        _ => return None,
    })
}

fn read_legacy(path: &Path, data: &[u8]) -> Result<HashMap<String, Tensor>> {
    let bad = |reason: String| bad_file(path, reason);
    let mut cur = Cursor::new(data);
    cur.set_position(LEGACY_MAGIC.len() as u64);
    match unpickle(path, &mut cur, "protocol version")? {
        Object::Int(v) if i64::from(v) == LEGACY_PROTOCOL => {}
        other => return Err(bad(format!("expected protocol version {LEGACY_PROTOCOL}, found {other:?}"))),
    }
    let sys_info = unpickle(path, &mut cur, "sys_info")?;
    let little_endian = match &sys_info {
        Object::Dict(items) => items.iter().find_map(|(k, v)| match (k, v) {
            (Object::Unicode(k), Object::Bool(b)) if k == "little_endian" => Some(*b),
            _ => None,
        }),
        _ => None,
    };
    if little_endian != Some(true) {
        return Err(bad(format!("only little-endian files are supported, sys_info is {sys_info:?}")));
    }
    let root = unpickle(path, &mut cur, "state dict")?;
    let Object::Dict(entries) = root else {
        return Err(bad("the file does not hold a state dict (a dict of tensors)".into()));
    };
    let mut storages: HashMap<String, StorageInfo> = HashMap::new();
    let mut refs: Vec<(String, TensorRef)> = Vec::new();
    for (name, value) in entries {
        let Object::Unicode(name) = name else { continue };
        if let Some(r) = tensor_ref(&name, value, &mut storages).map_err(bad)? {
            refs.push((name, r));
        }
    }
    let keys = match unpickle(path, &mut cur, "storage key list")? {
        Object::List(keys) => keys,
        other => return Err(bad(format!("expected the list of storage keys, found {other:?}"))),
    };
    // The storages follow the key list, in its order: i64 element count, then the raw bytes.
    let mut pos = usize::try_from(cur.position()).map_err(|e| bad(e.to_string()))?;
    let mut loaded: HashMap<String, Tensor> = HashMap::new();
    for key in keys {
        let Object::Unicode(key) = key else {
            return Err(bad(format!("storage key {key:?} is not a string")));
        };
        let info = storages.get(&key).copied().ok_or_else(|| bad(format!("storage `{key}` is listed but no tensor uses it")))?;
        let header = pos.checked_add(8).and_then(|end| data.get(pos..end)).ok_or_else(|| bad(format!("truncated before storage `{key}`")))?;
        let mut count = [0u8; 8];
        count.copy_from_slice(header);
        let count = u64::from_le_bytes(count);
        if count != info.numel as u64 {
            return Err(bad(format!("storage `{key}` holds {count} elements, its tensors say {}", info.numel)));
        }
        pos += 8;
        let len = info.numel.checked_mul(info.dtype.size_in_bytes()).ok_or_else(|| bad(format!("storage `{key}` is too large")))?;
        let end = pos.checked_add(len).filter(|end| *end <= data.len());
        let bytes = end.map(|end| &data[pos..end]).ok_or_else(|| bad(format!("truncated in storage `{key}` ({len} bytes expected)")))?;
        pos += len; // `pos + len` is `end`, checked above
        let storage = Tensor::from_raw_buffer(bytes, info.dtype, &[info.numel], &Device::Cpu)?;
        loaded.insert(key, storage);
    }
    let mut out = HashMap::with_capacity(refs.len());
    for (name, r) in refs {
        let storage = loaded.get(&r.key).ok_or_else(|| bad(format!("tensor `{name}`: storage `{}` is not in the file", r.key)))?;
        out.insert(name.clone(), strided_view(storage, &r).map_err(|reason| bad(format!("tensor `{name}`: {reason}")))?);
    }
    Ok(out)
}

/// The storage reference of a `_rebuild_tensor_v2` entry (`None` for anything that is not a
/// tensor), recording its storage in `storages`.
fn tensor_ref(name: &str, value: Object, storages: &mut HashMap<String, StorageInfo>) -> std::result::Result<Option<TensorRef>, String> {
    let Object::Reduce { callable, args } = value else { return Ok(None) };
    let (callable, args) = match *callable {
        // nn.Parameter: `_rebuild_parameter(tensor, requires_grad, hooks)`.
        Object::Class { module_name, class_name } if module_name == "torch._utils" && class_name == "_rebuild_parameter" => {
            match *args {
                Object::Tuple(mut a) if !a.is_empty() => match a.swap_remove(0) {
                    Object::Reduce { callable, args } => (*callable, *args),
                    _ => return Ok(None),
                },
                _ => return Ok(None),
            }
        }
        other => (other, *args),
    };
    match &callable {
        Object::Class { module_name, class_name } if module_name == "torch._utils" && class_name == "_rebuild_tensor_v2" => {}
        _ => return Ok(None),
    }
    let Object::Tuple(args) = args else { return Err(format!("`{name}`: malformed tensor arguments")) };
    let mut args = args.into_iter();
    let (Some(Object::PersistentLoad(pid)), Some(offset), Some(size), Some(stride)) = (args.next(), args.next(), args.next(), args.next()) else {
        return Err(format!("`{name}`: malformed tensor arguments"));
    };
    let Object::Tuple(pid) = *pid else { return Err(format!("`{name}`: malformed storage id")) };
    let (dtype, key, numel) = match pid.as_slice() {
        [Object::Unicode(tag), Object::Class { class_name, .. }, Object::Unicode(key), _location, numel, ..] if tag == "storage" => {
            let dtype = storage_dtype(class_name).ok_or_else(|| format!("`{name}`: unsupported storage type {class_name}"))?;
            let numel = usize_of(numel).ok_or_else(|| format!("`{name}`: bad storage size {numel:?}"))?;
            (dtype, key.clone(), numel)
        }
        other => return Err(format!("`{name}`: malformed storage id {other:?}")),
    };
    if let Some(view) = pid.get(5) {
        if *view != Object::None {
            return Err(format!("`{name}`: storage views (view_metadata {view:?}) are not supported"));
        }
    }
    let info = StorageInfo { dtype, numel };
    if storages.insert(key.clone(), info).is_some_and(|prev| prev != info) {
        return Err(format!("`{name}`: storage `{key}` is used with two types or sizes"));
    }
    let offset = usize_of(&offset).ok_or_else(|| format!("`{name}`: bad storage offset {offset:?}"))?;
    let dims = |o: Object, what: &str| -> std::result::Result<Vec<usize>, String> {
        match o {
            Object::Tuple(v) => v.iter().map(|d| usize_of(d).ok_or_else(|| format!("`{name}`: bad {what} {d:?}"))).collect(),
            other => Err(format!("`{name}`: bad {what} {other:?}")),
        }
    };
    let size = dims(size, "size")?;
    let stride = dims(stride, "stride")?;
    if size.len() != stride.len() {
        return Err(format!("`{name}`: size {size:?} and stride {stride:?} differ in rank"));
    }
    Ok(Some(TensorRef { key, offset, size, stride }))
}

fn usize_of(o: &Object) -> Option<usize> {
    match o {
        Object::Int(v) => usize::try_from(*v).ok(),
        Object::Long(v) => usize::try_from(*v).ok(),
        _ => None,
    }
}

/// The tensor `storage.as_strided(size, stride, offset)`, as a new contiguous tensor. Every
/// index computation is checked: sizes, strides and offsets come from the file, and a crafted
/// one must not wrap around to an index inside the storage.
fn strided_view(storage: &Tensor, r: &TensorRef) -> std::result::Result<Tensor, String> {
    let overflow = |what: &str| format!("size {:?}, stride {:?} and offset {}: {what} overflows usize", r.size, r.stride, r.offset);
    let numel = r.size.iter().try_fold(1usize, |acc, n| acc.checked_mul(*n)).ok_or_else(|| overflow("the element count"))?;
    let storage_len = storage.dim(0).map_err(|e| e.to_string())?;
    if numel == 0 {
        return Tensor::zeros(r.size.as_slice(), storage.dtype(), &Device::Cpu).map_err(|e| e.to_string());
    }
    // The furthest element, offset + sum (size - 1) * stride (every size is >= 1 here).
    let span = r.size.iter().zip(&r.stride).try_fold(0usize, |acc, (n, s)| (n - 1).checked_mul(*s).and_then(|x| acc.checked_add(x)));
    let last = span.and_then(|s| s.checked_add(r.offset)).ok_or_else(|| overflow("the index of the last element"))?;
    if last >= storage_len {
        return Err(format!(
            "size {:?}, stride {:?} and offset {} reach element {last} of a storage of {storage_len}",
            r.size, r.stride, r.offset
        ));
    }
    // Row-major strides of `size` (each at most `numel`, checked all the same).
    let row_major = (0..r.size.len())
        .map(|d| r.size[d + 1..].iter().try_fold(1usize, |acc, n| acc.checked_mul(*n)))
        .collect::<Option<Vec<usize>>>()
        .ok_or_else(|| overflow("a row-major stride"))?;
    let contiguous = r.size.iter().zip(r.stride.iter().zip(&row_major)).all(|(n, (s, c))| *n == 1 || s == c);
    let view = if contiguous {
        storage.narrow(0, r.offset, numel)
    } else {
        // Gather the elements in row-major order of `size`; every index is at most `last`.
        let mut ids = Vec::with_capacity(numel);
        let mut index = vec![0usize; r.size.len()];
        for _ in 0..numel {
            let at = index
                .iter()
                .zip(&r.stride)
                .try_fold(r.offset, |acc, (i, s)| i.checked_mul(*s).and_then(|x| acc.checked_add(x)))
                .and_then(|at| i64::try_from(at).ok())
                .ok_or_else(|| overflow("an element index"))?;
            ids.push(at);
            for d in (0..index.len()).rev() {
                index[d] += 1;
                if index[d] < r.size[d] {
                    break;
                }
                index[d] = 0;
            }
        }
        Tensor::new(ids.as_slice(), &Device::Cpu).and_then(|ids| storage.index_select(&ids, 0))
    };
    view.and_then(|v| v.reshape(r.size.as_slice())).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// `tests/fixtures/pth_*.pth` (written by `gen_fid_inception.py`): `base = arange(24) / 4 -
    /// 2.5` as `(4, 6)`, its transpose, its `[1:3, 2:5]` view (legacy file only), an int64
    /// scalar 7, `arange(3) / 4` in f64, and a non-tensor entry.
    fn read(name: &str) -> HashMap<String, Tensor> {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
        let data = std::fs::read(&path).unwrap();
        let format = PthFormat::sniff(&data).unwrap();
        read_state_dict(&path, &data, format).unwrap()
    }

    fn base() -> Vec<Vec<f32>> {
        (0..4).map(|r| (0..6).map(|c| (r * 6 + c) as f32 * 0.25 - 2.5).collect()).collect()
    }

    fn check_common(t: &HashMap<String, Tensor>) {
        assert_eq!(t["conv.weight"].to_vec2::<f32>().unwrap(), base());
        let b = base();
        let tr: Vec<Vec<f32>> = (0..6).map(|c| (0..4).map(|r| b[r][c]).collect()).collect();
        assert_eq!(t["conv.t"].to_vec2::<f32>().unwrap(), tr);
        assert_eq!(t["bn.num_batches_tracked"].dtype(), DType::I64);
        assert_eq!(t["bn.num_batches_tracked"].to_scalar::<i64>().unwrap(), 7);
        assert_eq!(t["bn.running_var"].to_vec1::<f64>().unwrap(), vec![0.0, 0.25, 0.5]);
        assert!(!t.contains_key("meta"));
    }

    #[test]
    fn reads_both_torch_save_formats() {
        let legacy = read("pth_legacy.pth");
        check_common(&legacy);
        let b = base();
        let view: Vec<Vec<f32>> = (1..3).map(|r| b[r][2..5].to_vec()).collect();
        assert_eq!(legacy["conv.view"].to_vec2::<f32>().unwrap(), view);
        assert_eq!(legacy.len(), 5);
        let zip = read("pth_zip.pth");
        check_common(&zip);
        assert_eq!(zip.len(), 4);
    }

    #[test]
    fn recognises_formats_and_rejects_damaged_files() {
        assert_eq!(PthFormat::sniff(b"PK\x03\x04rest"), Some(PthFormat::Zip));
        assert_eq!(PthFormat::sniff(&LEGACY_MAGIC), Some(PthFormat::Legacy));
        assert_eq!(PthFormat::sniff(b"\x80\x02}q\x00"), None);
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pth_legacy.pth");
        let data = std::fs::read(&path).unwrap();
        // Every truncation is an error, never a panic.
        for len in LEGACY_MAGIC.len()..data.len() {
            assert!(read_legacy(&path, &data[..len]).is_err(), "truncated at {len}");
        }
        // A storage whose element count disagrees with its tensors: the data section holds an
        // i64 count plus the bytes of each storage (24 f32, 3 f64, 1 i64), in key order, so the
        // first count starts 152 bytes before the end whatever that order is.
        let mut bad = data.clone();
        let first_count = bad.len() - (8 + 24 * 4) - (8 + 3 * 8) - (8 + 8);
        bad[first_count] ^= 1;
        let err = read_legacy(&path, &bad).unwrap_err().to_string();
        assert!(err.contains("elements"), "{err}");
    }

    /// A legacy `torch.save` file written byte by byte: one f32 tensor `w` with the given size,
    /// stride and storage offset over a storage of `numel` elements `0, 1, 2, ...` (integers as
    /// 8-byte `LONG1`, so any value up to `i64::MAX` can be written).
    fn crafted_legacy(size: &[u64], stride: &[u64], offset: u64, numel: u64) -> Vec<u8> {
        fn int(f: &mut Vec<u8>, v: u64) {
            f.extend_from_slice(&[0x8a, 8]);
            f.extend_from_slice(&v.to_le_bytes());
        }
        fn text(f: &mut Vec<u8>, s: &str) {
            f.push(b'X');
            f.extend_from_slice(&(s.len() as u32).to_le_bytes());
            f.extend_from_slice(s.as_bytes());
        }
        fn tuple(f: &mut Vec<u8>, values: &[u64]) {
            f.push(b'(');
            values.iter().for_each(|v| int(f, *v));
            f.push(b't');
        }
        let mut f = LEGACY_MAGIC.to_vec();
        f.extend_from_slice(b"\x80\x02M\xe9\x03.");
        f.extend_from_slice(b"\x80\x02}(");
        text(&mut f, "little_endian");
        f.extend_from_slice(b"\x88u.");
        // {'w': _rebuild_tensor_v2(('storage', FloatStorage, '0', 'cpu', numel, None), offset,
        // size, stride, False, None)}
        f.extend_from_slice(b"\x80\x02}(");
        text(&mut f, "w");
        f.extend_from_slice(b"ctorch._utils\n_rebuild_tensor_v2\n((");
        text(&mut f, "storage");
        f.extend_from_slice(b"ctorch\nFloatStorage\n");
        text(&mut f, "0");
        text(&mut f, "cpu");
        int(&mut f, numel);
        f.extend_from_slice(b"NtQ");
        int(&mut f, offset);
        tuple(&mut f, size);
        tuple(&mut f, stride);
        f.extend_from_slice(b"\x89NtRu.");
        // The storage keys, then the storage.
        f.extend_from_slice(b"\x80\x02]");
        text(&mut f, "0");
        f.extend_from_slice(b"a.");
        f.extend_from_slice(&numel.to_le_bytes());
        (0..numel).for_each(|k| f.extend_from_slice(&(k as f32).to_le_bytes()));
        f
    }

    #[test]
    fn crafted_views_that_overflow_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let read = |bytes: Vec<u8>| {
            let path = dir.path().join("crafted.pth");
            std::fs::write(&path, &bytes).unwrap();
            let data = std::fs::read(&path).unwrap();
            assert_eq!(PthFormat::sniff(&data), Some(PthFormat::Legacy));
            read_state_dict(&path, &data, PthFormat::Legacy)
        };
        // The writer is right: a contiguous (2, 3) and its transposed view.
        let t = read(crafted_legacy(&[2, 3], &[3, 1], 0, 6)).unwrap();
        assert_eq!(t["w"].to_vec2::<f32>().unwrap(), vec![vec![0.0, 1.0, 2.0], vec![3.0, 4.0, 5.0]]);
        let t = read(crafted_legacy(&[3, 2], &[1, 3], 0, 6)).unwrap();
        assert_eq!(t["w"].to_vec2::<f32>().unwrap(), vec![vec![0.0, 3.0], vec![1.0, 4.0], vec![2.0, 5.0]]);
        let max = i64::MAX as u64;
        for (size, stride, offset, what) in [
            // 4 * 2^62 = 2^64 wraps to 0: the view would read element 0 over and over.
            (&[5u64][..], &[1u64 << 62][..], 0, "the index of the last element"),
            // 2 (2^63 - 1) + 2 = 2^64 wraps to 0.
            (&[2, 2], &[max, max], 2, "the index of the last element"),
            // 2^32 * 2^32 elements.
            (&[1 << 32, 1 << 32], &[1, 1], 0, "the element count"),
        ] {
            let err = read(crafted_legacy(size, stride, offset, 6)).unwrap_err();
            assert!(matches!(err, LossError::BadWeightFile { format: "PyTorch .pth", .. }), "{err:?}");
            let msg = err.to_string();
            assert!(msg.contains("crafted.pth") && msg.contains("tensor `w`") && msg.contains(&format!("{what} overflows")), "{msg}");
            assert!(msg.contains(&format!("{size:?}")) && msg.contains(&format!("{stride:?}")), "{msg}");
        }
    }
}
