//! The JSON-lines metrics file (`metrics.jsonl`): [`MetricsLog`] appends one JSON object per
//! line, [`read_metrics`] reads them back, [`truncate_metrics_after`] rewinds the file when a
//! run resumes from an older checkpoint.

use crate::checkpoint::write_atomic;
use crate::error::{Result, TrainerError};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// JSON-lines metrics file (`metrics.jsonl`): one JSON object per line, flushed after each write.
///
/// Every record is serialised to one line and handed to the operating system in a single
/// write, so that a crash leaves at most a truncated last line, which [`read_metrics`] skips
/// and [`MetricsLog::open`] with `append = true` removes.
///
/// ```
/// use wno_trainer::report::{read_metrics, MetricsLog};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("metrics.jsonl");
/// let mut log = MetricsLog::open(&path, false).unwrap();
/// log.write(&serde_json::json!({"kind": "train", "step": 1, "loss": 0.5})).unwrap();
/// assert_eq!(read_metrics(&path).unwrap()[0]["loss"], 0.5);
/// ```
#[derive(Debug)]
pub struct MetricsLog {
    path: PathBuf,
    file: File,
}

impl MetricsLog {
    /// Opens `path` for writing; `append = true` keeps existing lines (resume), false truncates.
    ///
    /// Creates the parent folder and the file if needed. When appending to a file whose last
    /// line is incomplete (the previous run stopped in the middle of a write), that partial
    /// line is cut off first so that the next record starts on a line of its own.
    ///
    /// ```
    /// use wno_trainer::report::{read_metrics, MetricsLog};
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("run").join("metrics.jsonl");
    /// MetricsLog::open(&path, false).unwrap().write(&serde_json::json!({"step": 1})).unwrap();
    /// MetricsLog::open(&path, true).unwrap().write(&serde_json::json!({"step": 2})).unwrap();
    /// assert_eq!(read_metrics(&path).unwrap().len(), 2);
    /// MetricsLog::open(&path, false).unwrap(); // truncates
    /// assert!(read_metrics(&path).unwrap().is_empty());
    /// ```
    ///
    /// # Errors
    /// [`TrainerError::Io`] when the folder or file cannot be created, opened or repaired.
    pub fn open(path: &Path, append: bool) -> Result<Self> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| TrainerError::io("metrics: create folder", parent, e))?;
        }
        let file = if append {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(path)
                .map_err(|e| TrainerError::io("metrics: open for append", path, e))?;
            drop_partial_last_line(&mut file, path)?;
            file.seek(SeekFrom::End(0))
                .map_err(|e| TrainerError::io("metrics: seek to end", path, e))?;
            file
        } else {
            File::create(path).map_err(|e| TrainerError::io("metrics: create", path, e))?
        };
        Ok(Self {
            path: path.to_path_buf(),
            file,
        })
    }

    /// Appends one record (must be a JSON object) as one line and flushes.
    ///
    /// ```
    /// use wno_trainer::report::MetricsLog;
    /// let dir = tempfile::tempdir().unwrap();
    /// let mut log = MetricsLog::open(&dir.path().join("m.jsonl"), false).unwrap();
    /// log.write(&serde_json::json!({"kind": "eval", "step": 10, "free_psnr": 21.5})).unwrap();
    /// assert!(log.write(&serde_json::json!([1, 2])).is_err()); // not an object
    /// ```
    ///
    /// # Errors
    /// [`TrainerError::InvalidArgument`] when `record` is not a JSON object,
    /// [`TrainerError::Json`] when it cannot be serialised, [`TrainerError::Io`] when the
    /// write or flush fails.
    pub fn write(&mut self, record: &serde_json::Value) -> Result<()> {
        if !record.is_object() {
            return Err(TrainerError::invalid(
                "metrics: write",
                format!(
                    "a metrics record must be a JSON object, got `{}`",
                    abbreviate(&record.to_string())
                ),
            ));
        }
        let mut line = serde_json::to_vec(record).map_err(|e| TrainerError::Json {
            op: "metrics: serialise record",
            path: self.path.clone(),
            source: e,
        })?;
        line.push(b'\n');
        self.file
            .write_all(&line)
            .map_err(|e| TrainerError::io("metrics: write", &self.path, e))?;
        self.file
            .flush()
            .map_err(|e| TrainerError::io("metrics: flush", &self.path, e))
    }

    /// The file this log writes to.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let p = dir.path().join("m.jsonl");
    /// assert_eq!(wno_trainer::report::MetricsLog::open(&p, true).unwrap().path(), p);
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Shortens `s` for an error message.
fn abbreviate(s: &str) -> String {
    const MAX: usize = 80;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let head: String = s.chars().take(MAX).collect();
        format!("{head}...")
    }
}

/// Cuts everything after the last newline of `file` (an interrupted write).
fn drop_partial_last_line(file: &mut File, path: &Path) -> Result<()> {
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(|e| TrainerError::io("metrics: read before append", path, e))?;
    if bytes.is_empty() || bytes.ends_with(b"\n") {
        return Ok(());
    }
    let keep = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    // A last line without newline that is nonetheless a complete record (e.g. a hand-edited
    // file) is kept: only a newline is missing.
    let last = &bytes[keep..];
    let complete = serde_json::from_slice::<serde_json::Value>(last).is_ok_and(|v| v.is_object());
    if complete {
        file.seek(SeekFrom::End(0))
            .map_err(|e| TrainerError::io("metrics: seek to end", path, e))?;
        file.write_all(b"\n")
            .map_err(|e| TrainerError::io("metrics: terminate last line", path, e))
    } else {
        file.set_len(keep as u64)
            .map_err(|e| TrainerError::io("metrics: drop truncated last line", path, e))
    }
}

/// One line of a metrics file that holds a record.
struct Line<'a> {
    text: &'a [u8],
    value: serde_json::Value,
}

/// Parses the bytes of a metrics file; blank lines are ignored, a truncated last line (no
/// final newline, not valid JSON) is skipped.
fn parse_lines<'a>(bytes: &'a [u8], path: &Path) -> Result<Vec<Line<'a>>> {
    let mut out = Vec::new();
    let ends_with_newline = bytes.ends_with(b"\n");
    let pieces: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    let n = pieces.len();
    for (i, raw) in pieces.into_iter().enumerate() {
        let text = raw.strip_suffix(b"\r").unwrap_or(raw);
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let is_unterminated_last = i + 1 == n && !ends_with_newline;
        match serde_json::from_slice::<serde_json::Value>(text) {
            Ok(value) if value.is_object() => out.push(Line { text, value }),
            Ok(_) => {
                return Err(TrainerError::invalid(
                    "read_metrics",
                    format!(
                        "`{}` line {}: not a JSON object: `{}`",
                        path.display(),
                        i + 1,
                        abbreviate(&String::from_utf8_lossy(text))
                    ),
                ))
            }
            Err(_) if is_unterminated_last => {} // interrupted write: skip
            Err(e) => {
                return Err(TrainerError::invalid(
                    "read_metrics",
                    format!("`{}` line {}: invalid JSON: {e}", path.display(), i + 1),
                ))
            }
        }
    }
    Ok(out)
}

/// Reads every record of a metrics file (a truncated last line, e.g. after a crash, is skipped; any other bad line is an error naming the line number).
///
/// Blank lines are ignored.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("metrics.jsonl");
/// std::fs::write(&p, "{\"step\":1}\n{\"step\":2}\n{\"st").unwrap(); // crashed mid-line
/// let records = wno_trainer::report::read_metrics(&p).unwrap();
/// assert_eq!(records.len(), 2);
/// std::fs::write(&p, "{\"step\":1}\nnot json\n{\"step\":3}\n").unwrap();
/// let err = wno_trainer::report::read_metrics(&p).unwrap_err();
/// assert!(err.to_string().contains("line 2"), "{err}");
/// ```
///
/// # Errors
/// [`TrainerError::Io`] when the file cannot be read, [`TrainerError::InvalidArgument`]
/// naming the file and line number for a line (other than a truncated last one) that is not a
/// JSON object.
pub fn read_metrics(path: &Path) -> Result<Vec<serde_json::Value>> {
    let bytes = std::fs::read(path).map_err(|e| TrainerError::io("read_metrics", path, e))?;
    Ok(parse_lines(&bytes, path)?
        .into_iter()
        .map(|l| l.value)
        .collect())
}

/// Drops the records whose "step" is greater than `step` (used when resuming from an older checkpoint) and rewrites the file atomically (temp file + rename).
///
/// Records without a numeric `"step"` are kept, the kept lines are written back byte for
/// byte (key order and number formatting are preserved), and a truncated last line is
/// dropped. A file that does not exist is left alone (nothing to rewind). Call this before
/// [`MetricsLog::open`]: a log opened earlier keeps writing to the replaced file.
///
/// ```
/// use wno_trainer::report::{read_metrics, truncate_metrics_after};
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("metrics.jsonl");
/// std::fs::write(&p, "{\"step\":1}\n{\"step\":2}\n{\"step\":3}\n").unwrap();
/// truncate_metrics_after(&p, 2).unwrap();
/// let steps: Vec<u64> = read_metrics(&p).unwrap().iter()
///     .map(|r| r["step"].as_u64().unwrap()).collect();
/// assert_eq!(steps, [1, 2]);
/// ```
///
/// # Errors
/// The errors of [`read_metrics`] (a corrupt file is not rewritten), and
/// [`TrainerError::Io`] when the new file cannot be written.
pub fn truncate_metrics_after(path: &Path, step: u64) -> Result<()> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(TrainerError::io("truncate_metrics_after: read", path, e)),
    };
    let lines = parse_lines(&bytes, path)?;
    let mut out = Vec::with_capacity(bytes.len());
    for line in &lines {
        let later = match line.value.get("step") {
            Some(v) => match (v.as_u64(), v.as_f64()) {
                (Some(s), _) => s > step,
                (None, Some(s)) => s > step as f64,
                (None, None) => false,
            },
            None => false,
        };
        if !later {
            out.extend_from_slice(line.text);
            out.push(b'\n');
        }
    }
    write_atomic(path, &out)
}
