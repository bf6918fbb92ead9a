// gemm_u8.h: uint8 GEMM with zero-point offsets over gemmlowp, with the weights packed once at load.
//
// Words (gemmlowp's, see qlinear.h): the weights are gemmlowp's lhs (rows = n output channels), the
// activations its rhs (columns = m tokens), depth = k. The product for token i and channel j is
//   acc(i, j) = sum_d (x(i, d) + x_offset[i]) * (w(j, d) + w_offset)      exact in int32
// with x (m, k) and w (n, k) row-major uint8. Results are written as out (m, n) row-major, which is
// gemmlowp's (n x m) column-major result, so no transposition happens anywhere.
//
// How it runs: gemmlowp packs the weights once (PackedWeightsU8::Pack) and the activations per call
// with its own packing code; a gemmlowp kernel (gemmlowp::KernelBase) computes raw uint8 products
// per block; the offsets are applied afterwards from the packed sums of each slice, fused with the
// output stage (int32 out, or fp32 dequantization with per-token and per-channel scales and a bias)
// in one pass over the int32 block while it is hot in cache. The kernel is chosen at compile time:
// in wasm builds our SIMD128 kernel WasmSimd128_Kernel2x4Depth8WideRhs (kernel_wasmsimd.h; the
// driver widens the packed activations to int16 for it), elsewhere gemmlowp's default kernel
// (SSE4_64_Kernel12x4Depth2 on x86-64).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

namespace edgebert {

class ThreadPool;

// Name of the kernel GemmU8* runs now (for benchmarks and logs).
const char* GemmU8KernelName();

// The relaxed-SIMD kernel (wasm builds; src/gemm/relaxed/kernel.wat): an import that
// worker/wasm_loader.mjs (and, in the pthreads build, each worker thread) fills in after probing
// that i32x4.relaxed_dot_i8x16_i7x16_add_s gives exact unsigned-by-signed sums on this machine. Turning it on first runs a GEMM through it
// against the scalar reference (extreme values, ragged shapes) and stays off on any difference.
// Weights packed while it is on use its layout (PackedWeightsU8 remembers which); products are
// exact either way, so results do not depend on the kernel. Returns whether it is on afterwards.
bool GemmU8SetRelaxedKernel(bool on);
bool GemmU8RelaxedKernel();

// For tests in engines the native suite cannot reach (the relaxed kernel runs in browsers): `cases`
// random GEMMs (1..13 tokens, 1..11 rows, depth 1..70 or 768..770, random or extreme values) through
// the kernel in use against GemmU8ToInt32Reference. Returns how many differ.
int GemmU8CheckAgainstReference(uint32_t seed, int cases);

// Weights w (n, k) row-major uint8, packed in gemmlowp's layout for this build's kernel: the packed
// bytes (rows rounded up to the kernel's width, depth to 16, zero-padded) followed by one int32 sum
// per padded row, PackedBytes(n, k) in all, in storage the object owns or in the caller's.
class PackedWeightsU8 {
 public:
  // Packs w into storage of its own; the source may be freed afterwards. n, k > 0 (asserted:
  // callers validate shapes).
  static std::unique_ptr<PackedWeightsU8> Pack(const uint8_t* w, int n, int k);
  // Packs w into `dst` (PackedBytes(n, k) bytes, 4-byte aligned, not overlapping w), which must
  // outlive the result.
  static std::unique_ptr<PackedWeightsU8> PackInto(const uint8_t* w, int n, int k, uint8_t* dst);
  // Bytes of the packed layout of an (n, k) matrix for this build's kernel (data + sums).
  static size_t PackedBytes(int n, int k);
  ~PackedWeightsU8();

  int n() const;
  int k() const;

  // out[r] = scale[r] * float(w(r, col) + offset) for r in [0, n): one column read back from the
  // packed layout (the values Pack was given, exactly).
  void DequantizeColumn(int col, int32_t offset, const float* scale, float* out) const;
  // The same for r in [begin, end) only (out[r] for those r; the rest of out untouched).
  void DequantizeColumnRows(int col, int begin, int end, int32_t offset, const float* scale, float* out) const;
  // out[d] = scale * float(w(row, d) + offset) for d in [0, k): one row read back.
  void DequantizeRow(int row, int32_t offset, float scale, float* out) const;

  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  explicit PackedWeightsU8(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Per-call working memory (packed activations, one int32 block per thread) and the thread pool,
// reused between calls so that the hot path does not allocate once it has seen the largest m.
// Not thread-safe: one per calling thread.
class GemmU8Scratch {
 public:
  GemmU8Scratch();
  ~GemmU8Scratch();
  // Threads a GEMM may use (the caller's thread included), default 1. Without thread support in the
  // build (EDGEBERT_THREADS=0, the single-threaded wasm build) the GEMM always uses one.
  void set_max_threads(int n);
  int max_threads() const;
  // The threads of the GEMMs and of GemmU8ParallelFor (mark a forward pass with ScopedPoolBusy).
  ThreadPool* pool();
  struct Impl;
  Impl* impl() { return impl_.get(); }

 private:
  std::unique_ptr<Impl> impl_;
};

// Runs fn(thread, begin, end) over [0, items) in contiguous ranges on the scratch's thread pool
// (the calling thread takes ranges too) and returns when all are done. The threads used: at most
// scratch->max_threads(), at most `items`, and only as many as have min_work_per_thread of `work`
// (the caller's estimate of the whole job, in any unit it also uses for min_work_per_thread), so
// that small jobs stay on the calling thread. `thread` (< the threads used) is distinct among the
// ranges running at the same time, for per-thread scratch; which ranges a thread gets is up to
// timing (util/thread_pool.h), so fn's result must not depend on it.
void GemmU8ParallelFor(GemmU8Scratch* scratch, int items, int64_t work, int64_t min_work_per_thread,
                       const std::function<void(int thread, int begin, int end)>& fn);

// Tests only: on, every GEMM and every GemmU8ParallelFor splits as far as its items and the
// scratch's thread limit allow, whatever the work (so that small test models take the threaded
// paths). Not thread-safe; set it between runs.
void GemmU8SplitAnyWorkForTest(bool on);
bool GemmU8SplitsAnyWorkForTest();

// out (m, n) row-major int32 = sum_d (x(i, d) + x_offset[i]) * (w(j, d) + w_offset).
// x (m, k) row-major; x_offset (m).
void GemmU8ToInt32(const uint8_t* x, const int32_t* x_offset, int m, const PackedWeightsU8& w,
                   int32_t w_offset, int32_t* out, GemmU8Scratch* scratch);

// out (m, n) row-major fp32 = (x_scale[i] * w_scale[j]) * float(acc(i, j)) + bias[j], where acc is
// the int32 product above; bias may be null (then + 0.f). Evaluated in exactly this order, in fp32.
void GemmU8Dequantize(const uint8_t* x, const int32_t* x_offset, const float* x_scale, int m,
                      const PackedWeightsU8& w, int32_t w_offset, const float* w_scale,
                      const float* bias, float* out, GemmU8Scratch* scratch);

// GemmU8Dequantize of the same activations by up to four weights of the same depth (q, k and v of
// one input): with the relaxed kernel, the activations packed once and the products' row chunks
// one parallel loop (one wait for the threads instead of one per product). Each output is the bits
// GemmU8Dequantize gives it alone.
// `done`, if given, is called as the products come in: done(participant, begin, end) once columns
// [begin, end) of `out` hold their values for all m tokens, on the thread that computed them, before
// that thread takes other work; the calls cover [0, n) once. `participant` (< the scratch's
// max_threads) is distinct among calls running at the same time, for per-thread scratch. Work on
// those columns done there (outlier products, an activation) saves a parallel loop of its own.
using GemmU8ColumnsDone = std::function<void(int participant, int begin, int end)>;
struct GemmU8DequantizeOutput {
  const PackedWeightsU8* w;
  int32_t w_offset;
  const float* w_scale;
  const float* bias;  // or null
  float* out;
  const GemmU8ColumnsDone* done = nullptr;
};
void GemmU8DequantizeMany(const uint8_t* x, const int32_t* x_offset, const float* x_scale, int m,
                          const GemmU8DequantizeOutput* outs, int count, GemmU8Scratch* scratch);

// For tests: whether PackedWeightsU8 packs w (n, k) byte for byte as gemmlowp's own PackLhs does
// (data and sums) for this build's kernel format.
bool PackingMatchesGemmlowpForTest(const uint8_t* w, int n, int k);

// Scalar reference of GemmU8ToInt32 on unpacked weights w (n, k): plain loops, for tests.
void GemmU8ToInt32Reference(const uint8_t* x, const int32_t* x_offset, int m, const uint8_t* w,
                            int n, int k, int32_t w_offset, int32_t* out);

}  // namespace edgebert
