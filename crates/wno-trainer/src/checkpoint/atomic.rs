//! [`write_atomic`]: temp file in the same folder, fsync, rename.

use crate::error::{Result, TrainerError};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` so that readers see either the old file or the complete new one:
/// the data goes to a temporary file beside `path` (same file system), is flushed to disk, and
/// is renamed over `path`. Creates the parent folder if needed.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("a").join("x.bin");
/// wno_trainer::checkpoint::write_atomic(&p, b"one").unwrap();
/// wno_trainer::checkpoint::write_atomic(&p, b"two").unwrap();
/// assert_eq!(std::fs::read(&p).unwrap(), b"two");
/// assert_eq!(std::fs::read_dir(p.parent().unwrap()).unwrap().count(), 1); // no temp left
/// ```
///
/// # Errors
/// Any I/O failure, naming the file; the temporary file is removed on failure.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|e| TrainerError::io("create folder", &parent, e))?;
    let name = path.file_name().ok_or_else(|| {
        TrainerError::invalid(
            "write_atomic",
            format!("`{}` names no file", path.display()),
        )
    })?;
    let tmp = parent.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)
            .map_err(|e| TrainerError::io("create temp file", &tmp, e))?;
        f.write_all(bytes)
            .map_err(|e| TrainerError::io("write temp file", &tmp, e))?;
        f.sync_all()
            .map_err(|e| TrainerError::io("sync temp file", &tmp, e))?;
        drop(f);
        std::fs::rename(&tmp, path).map_err(|e| TrainerError::io("rename temp file", path, e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    } else if let Ok(dir) = std::fs::File::open(&parent) {
        // Persist the rename itself; not every platform supports syncing a folder.
        let _ = dir.sync_all();
    }
    result
}
