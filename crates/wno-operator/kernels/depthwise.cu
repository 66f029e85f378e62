// Depthwise 3x3 convolution (padding 1, one filter per channel) and its parameter gradient.
// Packed parameters wb: (C, 10) = 9 taps in row-major [ki][kj] order, then the bias.
// Compiled to PTX by build.rs only with the `cuda` feature; launched from src/ops/depthwise_cuda.rs.
#include <stdint.h>

template <typename T>
__device__ void depthwise_fwd(const T* x, const T* wb, T* out, uint64_t b, uint64_t c, uint64_t h, uint64_t w,
                              uint64_t flip) {
    const uint64_t n = b * c * h * w;
    for (uint64_t idx = blockIdx.x * (uint64_t)blockDim.x + threadIdx.x; idx < n;
         idx += (uint64_t)gridDim.x * blockDim.x) {
        const uint64_t j = idx % w;
        const uint64_t i = (idx / w) % h;
        const uint64_t plane = idx / (h * w);
        const uint64_t ch = plane % c;
        const T* taps = wb + ch * 10;
        const T* xp = x + plane * h * w;
        T acc = flip ? T(0) : taps[9];
        for (int di = 0; di < 3; ++di) {
            const int64_t ii = (int64_t)i + di - 1;
            if (ii < 0 || ii >= (int64_t)h) continue;
            for (int dj = 0; dj < 3; ++dj) {
                const int64_t jj = (int64_t)j + dj - 1;
                if (jj < 0 || jj >= (int64_t)w) continue;
                const int k = di * 3 + dj;
                acc += (flip ? taps[8 - k] : taps[k]) * xp[ii * w + jj];
            }
        }
        out[idx] = acc;
    }
}

// One block per channel; each thread accumulates the 10 partial sums over its share of the
// (batch, row, column) positions, then the block reduces them in shared memory.
template <typename T, int THREADS>
__device__ void depthwise_wgrad(const T* x, const T* g, T* out, uint64_t b, uint64_t c, uint64_t h, uint64_t w) {
    __shared__ T partial[10][THREADS];
    const uint64_t ch = blockIdx.x;
    const uint64_t hw = h * w;
    T acc[10];
    for (int k = 0; k < 10; ++k) acc[k] = T(0);
    for (uint64_t e = threadIdx.x; e < b * hw; e += THREADS) {
        const uint64_t bb = e / hw;
        const uint64_t p = e % hw;
        const int64_t i = p / w, j = p % w;
        const uint64_t base = (bb * c + ch) * hw;
        const T gv = g[base + p];
        acc[9] += gv;
        for (int di = 0; di < 3; ++di) {
            const int64_t ii = i + di - 1;
            if (ii < 0 || ii >= (int64_t)h) continue;
            for (int dj = 0; dj < 3; ++dj) {
                const int64_t jj = j + dj - 1;
                if (jj < 0 || jj >= (int64_t)w) continue;
                acc[di * 3 + dj] += gv * x[base + ii * w + jj];
            }
        }
    }
    for (int k = 0; k < 10; ++k) partial[k][threadIdx.x] = acc[k];
    __syncthreads();
    for (int s = THREADS / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) {
            for (int k = 0; k < 10; ++k) partial[k][threadIdx.x] += partial[k][threadIdx.x + s];
        }
        __syncthreads();
    }
    if (threadIdx.x < 10) out[ch * 10 + threadIdx.x] = partial[threadIdx.x][0];
}

#define DEPTHWISE_KERNELS(T, SUFFIX)                                                                          \
    extern "C" __global__ void depthwise_fwd_##SUFFIX(const T* x, const T* wb, T* out, uint64_t b, uint64_t c, \
                                                      uint64_t h, uint64_t w, uint64_t flip) {                 \
        depthwise_fwd<T>(x, wb, out, b, c, h, w, flip);                                                       \
    }                                                                                                          \
    extern "C" __global__ void depthwise_wgrad_##SUFFIX(const T* x, const T* g, T* out, uint64_t b, uint64_t c, \
                                                        uint64_t h, uint64_t w) {                              \
        depthwise_wgrad<T, 256>(x, g, out, b, c, h, w);                                                       \
    }

DEPTHWISE_KERNELS(float, f32)
DEPTHWISE_KERNELS(double, f64)
