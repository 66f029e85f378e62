//! The output policy (huge pages for fresh outputs, streaming stores for reused ones) changes
//! speed only: every combination gives bit-identical transforms, on outputs of 33.5 MB (huge
//! pages from 4 MiB; streaming stores from the last-level cache, at least 32 MiB, so they apply
//! here only where that cache is at most 33.5 MB: the streaming kernels themselves are checked
//! bit for bit with streaming forced on, in `src/cpu.rs`). Its own test binary, because the
//! policy is process-wide.

use candle_core::{Device, Tensor};
use wavelet_ops::{cpu_output_policy, dwt2d, idwt2d, set_cpu_output_policy, CpuOutputPolicy};

fn values(t: &Tensor) -> Vec<f32> {
    t.flatten_all().unwrap().to_vec1::<f32>().unwrap()
}

#[test]
fn every_policy_gives_the_same_bits() {
    // glibc serves blocks this large with a fresh mmap each time (the huge-page case); with
    // mmap turned off, freed blocks are reused (the streaming-store case). Cover both.
    #[cfg(target_os = "linux")]
    let regimes = [false, true];
    #[cfg(not(target_os = "linux"))]
    let regimes = [false];
    // (2, 64, 256, 256) f32 is 33.5 MB (see above); 256 columns take the SIMD rows.
    let x = Tensor::randn(0f32, 1., (2, 64, 256, 256), &Device::Cpu).unwrap();
    set_cpu_output_policy(CpuOutputPolicy {
        huge_pages: false,
        streaming_stores: false,
    });
    let plain = dwt2d(&x).unwrap();
    let plain_back = values(&idwt2d(&plain, 256, 256).unwrap());
    let plain = values(&plain);
    for reuse in regimes {
        if reuse {
            #[cfg(target_os = "linux")]
            // SAFETY: mallopt only changes glibc's allocation strategy for later calls.
            unsafe {
                libc::mallopt(libc::M_MMAP_MAX, 0);
            }
        }
        for huge_pages in [false, true] {
            for streaming_stores in [false, true] {
                let policy = CpuOutputPolicy {
                    huge_pages,
                    streaming_stores,
                };
                set_cpu_output_policy(policy);
                assert_eq!(cpu_output_policy(), policy);
                // Twice, so that the second call may land in the memory the first freed.
                for _ in 0..2 {
                    let bands = dwt2d(&x).unwrap();
                    assert!(
                        values(&bands) == plain,
                        "forward, {policy:?}, reuse {reuse}"
                    );
                    let back = values(&idwt2d(&bands, 256, 256).unwrap());
                    assert!(back == plain_back, "inverse, {policy:?}, reuse {reuse}");
                }
            }
        }
    }
}
