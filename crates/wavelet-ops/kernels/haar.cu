// One-level 2-D Haar DWT / inverse DWT (mode "zero"), the CUDA twins of src/cpu.rs.
//
// Layouts: the forward reads a strided (B, C, H, W) view and writes a contiguous
// (B, C, 4, ceil(H/2), ceil(W/2)) with bands LL, LH, HL, HH on dim 2. The inverse reads a strided
// (B, C, 4, h2, w2) view and writes a contiguous (B, C, out_h, out_w), out_h in {2*h2-1, 2*h2}.
// One thread per 2x2 block. Half types accumulate in float; double in double.
#include <cuda_fp16.h>
#include <cuda_bf16.h>
#include <stdint.h>

template <typename T> struct Acc { typedef float type; };
template <> struct Acc<double> { typedef double type; };

__device__ __forceinline__ float up(float v) { return v; }
__device__ __forceinline__ double up(double v) { return v; }
__device__ __forceinline__ float up(__half v) { return __half2float(v); }
__device__ __forceinline__ float up(__nv_bfloat16 v) { return __bfloat162float(v); }

template <typename T> __device__ __forceinline__ T down(typename Acc<T>::type v);
template <> __device__ __forceinline__ float down<float>(float v) { return v; }
template <> __device__ __forceinline__ double down<double>(double v) { return v; }
template <> __device__ __forceinline__ __half down<__half>(float v) { return __float2half(v); }
template <> __device__ __forceinline__ __nv_bfloat16 down<__nv_bfloat16>(float v) { return __float2bfloat16(v); }

// [a, b, c, d] -> [LL, LH, HL, HH]; the same matrix maps [LL, LH, HL, HH] -> [a, b, c, d].
template <typename A>
__device__ __forceinline__ void quad(A a, A b, A c, A d, A q[4]) {
    const A h = A(0.5);
    A s0 = a + b, d0 = a - b, s1 = c + d, d1 = c - d;
    q[0] = (s0 + s1) * h;
    q[1] = (s0 - s1) * h;
    q[2] = (d0 + d1) * h;
    q[3] = (d0 - d1) * h;
}

template <typename T>
__device__ void dwt(const T* x, T* out, uint64_t B, uint64_t C, uint64_t H, uint64_t W,
                    uint64_t sb, uint64_t sc, uint64_t sh, uint64_t sw) {
    typedef typename Acc<T>::type A;
    const uint64_t h2 = (H + 1) / 2, w2 = (W + 1) / 2, band = h2 * w2;
    const uint64_t n = B * C * band;
    for (uint64_t idx = blockIdx.x * (uint64_t)blockDim.x + threadIdx.x; idx < n;
         idx += (uint64_t)gridDim.x * blockDim.x) {
        const uint64_t j = idx % w2, i = (idx / w2) % h2, plane = idx / band;
        const uint64_t b = plane / C, c = plane % C;
        const T* p = x + b * sb + c * sc;
        const uint64_t r0 = 2 * i, r1 = 2 * i + 1, c0 = 2 * j, c1 = 2 * j + 1;
        const A z = A(0);
        A va = up(p[r0 * sh + c0 * sw]);
        A vb = c1 < W ? up(p[r0 * sh + c1 * sw]) : z;
        A vc = r1 < H ? up(p[r1 * sh + c0 * sw]) : z;
        A vd = (r1 < H && c1 < W) ? up(p[r1 * sh + c1 * sw]) : z;
        A q[4];
        quad(va, vb, vc, vd, q);
        T* o = out + plane * 4 * band + i * w2 + j;
        for (int k = 0; k < 4; ++k) o[k * band] = down<T>(q[k]);
    }
}

template <typename T>
__device__ void idwt(const T* bands, T* out, uint64_t B, uint64_t C, uint64_t h2, uint64_t w2,
                     uint64_t out_h, uint64_t out_w,
                     uint64_t sb, uint64_t sc, uint64_t sk, uint64_t sh, uint64_t sw) {
    typedef typename Acc<T>::type A;
    const uint64_t band = h2 * w2, n = B * C * band;
    for (uint64_t idx = blockIdx.x * (uint64_t)blockDim.x + threadIdx.x; idx < n;
         idx += (uint64_t)gridDim.x * blockDim.x) {
        const uint64_t j = idx % w2, i = (idx / w2) % h2, plane = idx / band;
        const uint64_t b = plane / C, c = plane % C;
        const T* p = bands + b * sb + c * sc + i * sh + j * sw;
        A q[4];
        quad(up(p[0]), up(p[sk]), up(p[2 * sk]), up(p[3 * sk]), q);
        T* o = out + plane * out_h * out_w;
        const uint64_t r0 = 2 * i, r1 = 2 * i + 1, c0 = 2 * j, c1 = 2 * j + 1;
        o[r0 * out_w + c0] = down<T>(q[0]);
        if (c1 < out_w) o[r0 * out_w + c1] = down<T>(q[1]);
        if (r1 < out_h) {
            o[r1 * out_w + c0] = down<T>(q[2]);
            if (c1 < out_w) o[r1 * out_w + c1] = down<T>(q[3]);
        }
    }
}

#define HAAR_OPS(T, SUFFIX)                                                                        \
    extern "C" __global__ void haar_dwt_##SUFFIX(const T* x, T* out, uint64_t B, uint64_t C,      \
                                                 uint64_t H, uint64_t W, uint64_t sb,             \
                                                 uint64_t sc, uint64_t sh, uint64_t sw) {         \
        dwt<T>(x, out, B, C, H, W, sb, sc, sh, sw);                                               \
    }                                                                                              \
    extern "C" __global__ void haar_idwt_##SUFFIX(const T* bands, T* out, uint64_t B, uint64_t C, \
                                                  uint64_t h2, uint64_t w2, uint64_t out_h,        \
                                                  uint64_t out_w, uint64_t sb, uint64_t sc,        \
                                                  uint64_t sk, uint64_t sh, uint64_t sw) {         \
        idwt<T>(bands, out, B, C, h2, w2, out_h, out_w, sb, sc, sk, sh, sw);                      \
    }

HAAR_OPS(float, f32)
HAAR_OPS(double, f64)
HAAR_OPS(__half, f16)
HAAR_OPS(__nv_bfloat16, bf16)
