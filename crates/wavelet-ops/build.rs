//! Compiles `kernels/*.cu` to PTX with nvcc, only when the `cuda` feature is on.
//! Nothing is downloaded: nvcc must be on PATH (or in $CUDA_HOME/bin).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=kernels");
    println!("cargo:rerun-if-env-changed=CUDA_HOME");
    println!("cargo:rerun-if-env-changed=CUDA_COMPUTE_CAP");
    println!("cargo:rerun-if-env-changed=NVCC");
    if std::env::var_os("CARGO_FEATURE_CUDA").is_some() {
        if let Err(e) = cuda::compile_kernels() {
            panic!("wavelet-ops: compiling CUDA kernels failed: {e}");
        }
    }
}

mod cuda {
    use std::path::PathBuf;
    use std::process::Command;

    fn nvcc() -> PathBuf {
        if let Some(n) = std::env::var_os("NVCC") {
            return n.into();
        }
        if let Some(home) = std::env::var_os("CUDA_HOME") {
            let p = PathBuf::from(home).join("bin").join("nvcc");
            if p.exists() {
                return p;
            }
        }
        "nvcc".into()
    }

    pub fn compile_kernels() -> Result<(), String> {
        let out_dir = PathBuf::from(std::env::var("OUT_DIR").map_err(|e| e.to_string())?);
        let cap = std::env::var("CUDA_COMPUTE_CAP").unwrap_or_else(|_| "90".into());
        let cap = cap.trim().replace('.', "");
        let dir = PathBuf::from("kernels");
        let entries =
            std::fs::read_dir(&dir).map_err(|e| format!("reading {}: {e}", dir.display()))?;
        for entry in entries {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.extension().and_then(|e| e.to_str()) != Some("cu") {
                continue;
            }
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .ok_or("bad kernel file name")?;
            let ptx = out_dir.join(format!("{stem}.ptx"));
            let status = Command::new(nvcc())
                .args([
                    "--ptx",
                    "-O3",
                    "-std=c++17",
                    &format!("-arch=compute_{cap}"),
                    "-o",
                ])
                .arg(&ptx)
                .arg(&path)
                .status()
                .map_err(|e| {
                    format!(
                        "running nvcc ({}): {e}; install the CUDA toolkit or set CUDA_HOME/NVCC",
                        nvcc().display()
                    )
                })?;
            if !status.success() {
                return Err(format!("nvcc failed on {} with {status}", path.display()));
            }
        }
        Ok(())
    }
}
