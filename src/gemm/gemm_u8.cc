// gemm_u8.cc: the gemmlowp driver behind GemmU8*: prepacked weights, per-call packed activations,
// kernel runs over cache-sized blocks, and a fused unpack that applies offsets and the output stage.
#include "gemm/gemm_u8.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <vector>

// map.h first: gemmlowp's internal headers use MapOrder without including it.
#include <gemmlowp/public/map.h>
#include <gemmlowp/internal/allocator.h>
#include <gemmlowp/internal/block_params.h>
#include <gemmlowp/internal/kernel_default.h>
#include <gemmlowp/internal/pack.h>
#include <gemmlowp/public/bit_depth.h>

#include "gemm/kernel_wasmsimd.h"
#include "gemm/quantize_row.h"
#include "util/thread_pool.h"
#include "util/tiering.h"

#if defined(__EMSCRIPTEN__)
#include <emscripten/emscripten.h>
#endif

// EDGEBERT_THREADS comes from CMake: 1 natively and in the wasm pthreads build, 0 in the
// single-threaded wasm build (which must not reference pthreads at all).
#if defined(EDGEBERT_THREADS) && EDGEBERT_THREADS
#define EB_GEMM_THREADS 1
#else
#define EB_GEMM_THREADS 0
#endif

// The relaxed-SIMD kernel: an import of the main module that worker/wasm_loader.mjs wires to a
// second module (src/gemm/relaxed/kernel.wat), and in the pthreads build each worker does the same
// when it instantiates the module (wasm/relaxed_pthread_prejs.js). Until the loader has wired and
// verified it (GemmU8SetRelaxedKernel), the import is a stub that is never called
// (wasm/relaxed_stub.js). Contract of one call, a 2 x 4 block over `blocks` depth blocks of 16:
//   dst[c * stride + r] = bias[c] + sum_d x(c, d) * w(r, d)    for r < 2, c < 4
// with lhs = 32 bytes per depth block (16 int8 of row 0, then row 1), rhs = 64 bytes per depth
// block (16 uint8 of each column).
#if defined(__wasm_simd128__)
#define EB_RELAXED 1
extern "C" void eb_relaxed_kernel(int32_t* dst, int stride, const int8_t* lhs, const uint8_t* rhs, int blocks,
                                  const int32_t* bias);
#else
#define EB_RELAXED 0
#endif

namespace edgebert {
namespace {

// Why the kernel is named here rather than through gemmlowp's DefaultKernel: kernel_default.h already
// specializes DefaultKernelImpl<false, true, false> (uint8 operands) as ReferenceKernel on every
// platform without a kernel, wasm included, so a second specialization would not compile. gemmlowp's
// lower-level entry points take the kernel as an argument instead, and so does this driver.
#if defined(__wasm_simd128__)
using Kernel = WasmSimd128_Kernel2x4Depth8WideRhs;
constexpr bool kWidenRhs = Kernel::kRhsWidenedToInt16;  // see kernel_wasmsimd.h
#else
using Kernel = gemmlowp::DefaultKernel<gemmlowp::DefaultL8R8BitDepthParams>;
constexpr bool kWidenRhs = false;
#endif
using Format = Kernel::Format;
using PackedLhs = gemmlowp::PackedSideBlock<Format::Lhs>;
using PackedRhs = gemmlowp::PackedSideBlock<Format::Rhs>;

const Kernel& TheKernel() {
  static const Kernel kernel;
  return kernel;
}

// Every kernel run is a separate, non-inlined call through gemmlowp's KernelBase interface, as in
// gemmlowp's own ComputeRun, for two reasons:
//  - gemmlowp's x86 asm kernels modify registers they declare as inputs (run_depth_cells in
//    SSE4_64_Kernel12x4Depth2), which is only harmless when Run() is not inlined into the caller;
//    inlined at -O3 it crashed here. noipa keeps GCC from cloning or devirtualizing this call.
//  - in wasm, V8 replaces its baseline code of a function by optimized code only when the function
//    is entered again; a short function entered once per block gets there within the first call.
#if defined(__GNUC__) && !defined(__clang__)
#define EB_KERNEL_CALL __attribute__((noinline, noipa))
#else
#define EB_KERNEL_CALL __attribute__((noinline))
#endif
EB_KERNEL_CALL void RunKernel(const gemmlowp::KernelBase& kernel, int32_t* dst, int dst_col_stride,
                              const uint8_t* lhs, const uint8_t* rhs, int start_depth, int depth) {
  kernel.Run(dst, 1, dst_col_stride, lhs, rhs, start_depth, depth);
}

// Depth per kernel run ("l1 depth"). Whole depth up to 1024, else equal blocks of at most 1024: a
// run then reads at most kRows x 1024 weight bytes and kCols x 1024 activation values, and the int32
// result is revisited only ceil(k / 1024) times.
int ChooseL1Depth(int k) {
  constexpr int kMaxL1Depth = 1024;
  const int blocks = gemmlowp::CeilQuotient(k, kMaxL1Depth);
  return gemmlowp::RoundUp<gemmlowp::kRegisterSize>(gemmlowp::CeilQuotient(k, blocks));
}

// Rows (channels) per pass of the driver: their weights, at one l1 depth, stay in L1 (<= 32 KB) while
// every token block streams past them.
int ChooseChunkRows(int l1_depth, int padded_rows) {
  constexpr int kL1BytesForLhs = 32 * 1024;
  int rows = gemmlowp::RoundDown<Format::kRows>(kL1BytesForLhs / l1_depth);
  rows = std::max(rows, static_cast<int>(Format::kRows));
  return std::min(rows, padded_rows);
}

}  // namespace

struct PackedWeightsU8::Impl {
  int n = 0;
  int k = 0;
  int chunk_rows = 0;
  bool relaxed = false;  // packed in the relaxed kernel's layout (RelaxedOffset), not gemmlowp's
  gemmlowp::BlockParams params{};
  std::unique_ptr<uint8_t[]> owned;  // storage when the object owns it (Pack), else null
  uint8_t* data = nullptr;           // (l2_rows * l2_depth) packed bytes: gemmlowp's layout, or RelaxedOffset's
  int32_t* sums = nullptr;           // (l2_rows) sums of each row over the depth
};

struct GemmU8Scratch::Impl {
  // Reserved and committed per call for the packed activations (gemmlowp's PackedSideBlock needs
  // it); keeps its storage between calls. It rounds its storage up to a power of two, so the
  // larger buffers below are plain vectors: exactly their size (at seq 512 x 3072 deep: 1.6 MB in
  // the allocator, 3.1 MB widened, instead of 8.4 MB all in the allocator).
  gemmlowp::Allocator allocator;
  std::vector<int32_t> acc;   // (threads * chunk_rows * cols) int32 result blocks
  std::vector<int16_t> wide;  // (cols * depth) packed activations widened for the wasm kernel
  std::vector<uint8_t> relaxed_x;     // (cols * depth) activations in the relaxed kernel's layout
  std::vector<int32_t> relaxed_sums;  // (cols) sum_d x(c, d)
  std::vector<int32_t> relaxed_bias;  // (cols) 128 * sum_d x(c, d), see RunGemmRelaxed
  int max_threads = 1;
  ThreadPool pool;  // the calling thread runs piece 0 itself (no threads in a build without them)
};

GemmU8Scratch::GemmU8Scratch() : impl_(new Impl) {}
GemmU8Scratch::~GemmU8Scratch() = default;
void GemmU8Scratch::set_max_threads(int n) { impl_->max_threads = std::max(1, n); }
ThreadPool* GemmU8Scratch::pool() { return &impl_->pool; }
int GemmU8Scratch::max_threads() const { return EB_GEMM_THREADS ? impl_->max_threads : 1; }

namespace {
bool g_relaxed = false;  // GemmU8SetRelaxedKernel
}  // namespace

const char* GemmU8KernelName() {
  return g_relaxed ? "WasmRelaxed_Kernel2x4Depth16 (relaxed_dot_i8x16_i7x16_add_s, int8 weights)" : TheKernel().Name();
}

bool GemmU8RelaxedKernel() { return g_relaxed; }

PackedWeightsU8::PackedWeightsU8(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PackedWeightsU8::~PackedWeightsU8() = default;
int PackedWeightsU8::n() const { return impl_->n; }
int PackedWeightsU8::k() const { return impl_->k; }

namespace {

void WarmUpTiering();

// gemmlowp's block parameters for packing the whole (n, k) matrix as one l2 block.
gemmlowp::BlockParams WeightBlockParams(int n, int k) {
  gemmlowp::BlockParams p{};
  p.l2_rows = gemmlowp::RoundUp<Format::kRows>(n);
  p.l2_depth = gemmlowp::RoundUp<gemmlowp::kRegisterSize>(k);
  p.l1_depth = ChooseL1Depth(k);
  p.l1_rows = p.l2_rows;  // packing order depends only on l2 width and l1 depth, not on l1 rows
  p.l2_cols = p.l1_cols = Format::kCols;  // set per call for the activations
  return p;
}

size_t PackedDataBytes(const gemmlowp::BlockParams& p) { return static_cast<size_t>(p.l2_rows) * p.l2_depth; }

// Where gemmlowp's PackSideBlockImpl puts w(r, d) in the packed lhs: runs of kKernelWidth rows by
// one l1 depth block, laid out depth block after depth block (a run starts at l2_rows * d1 +
// r0 * run_depth); inside a run, register blocks of 16 depth, each a sequence of cells (depth
// steps of the cell depth, then the kernel's cells across its width); inside a cell,
// gemmlowp::OffsetIntoCell. The same layout PackLhs writes (PackingMatchesGemmlowpForTest).
using LhsFormat = Format::Lhs;
using LhsCell = LhsFormat::Cell;
constexpr int kKernelWidth = LhsFormat::kWidth;
constexpr int kRegisterBlockBytes = kKernelWidth * gemmlowp::kRegisterSize;

// Offset of the start of column d's cell slot: everything but the row's contribution.
size_t ColumnBase(const gemmlowp::BlockParams& p, int d, int* run_depth) {
  const int d1 = d / p.l1_depth * p.l1_depth;
  *run_depth = std::min(p.l1_depth, p.l2_depth - d1);
  const int dr = d - d1;
  const int in_register = dr % gemmlowp::kRegisterSize;
  return static_cast<size_t>(p.l2_rows) * d1 + static_cast<size_t>(dr / gemmlowp::kRegisterSize) * kRegisterBlockBytes +
         static_cast<size_t>(in_register / LhsCell::kDepth) * LhsFormat::kCells * LhsCell::kSize;
}

// Offset of row r inside the slot ColumnBase gave for a depth d (cell depth index d % cell depth).
size_t RowOffset(int r, int d, int run_depth) {
  const int r0 = r / kKernelWidth * kKernelWidth;
  const int cell = (r - r0) / LhsCell::kWidth;
  return static_cast<size_t>(r0) * run_depth + static_cast<size_t>(cell) * LhsCell::kSize +
         gemmlowp::OffsetIntoCell<LhsCell>(r % LhsCell::kWidth, d % gemmlowp::kRegisterSize % LhsCell::kDepth);
}

// Packs w (n, k) row-major into data (l2_rows * l2_depth) and sums (l2_rows), writing both
// sequentially in gemmlowp's order; rows and depth beyond the matrix are zero.
void PackLhsLayout(const uint8_t* w, int n, int k, const gemmlowp::BlockParams& p, uint8_t* data, int32_t* sums) {
  std::fill(sums, sums + p.l2_rows, 0);
  uint8_t* dst = data;
  for (int d1 = 0; d1 < p.l2_depth; d1 += p.l1_depth) {
    const int run_depth = std::min(p.l1_depth, p.l2_depth - d1);
    for (int r0 = 0; r0 < p.l2_rows; r0 += kKernelWidth) {
      for (int dr = 0; dr < run_depth; dr += gemmlowp::kRegisterSize) {
        for (int cd = 0; cd < gemmlowp::kRegisterSize; cd += LhsCell::kDepth) {
          for (int c = 0; c < LhsFormat::kCells; ++c) {
            for (int cw = 0; cw < LhsCell::kWidth; ++cw) {
              const int r = r0 + c * LhsCell::kWidth + cw;
              int32_t sum = 0;
              for (int cdd = 0; cdd < LhsCell::kDepth; ++cdd) {
                const int d = d1 + dr + cd + cdd;
                const uint8_t v = (r < n && d < k) ? w[static_cast<size_t>(r) * k + d] : 0;
                dst[gemmlowp::OffsetIntoCell<LhsCell>(cw, cdd)] = v;
                sum += v;
              }
              sums[r] += sum;
            }
            dst += LhsCell::kSize;
          }
        }
      }
    }
  }
  assert(dst == data + PackedDataBytes(p));
}

// The relaxed kernel's weight layout: row pairs one after the other, each as depth blocks of 16
// (16 values of the even row, then 16 of the odd row), stored as int8 = uint8 - 128 (the instruction
// multiplies int8 by uint8); padding is int8 0. Same size as gemmlowp's layout (rows rounded to 2,
// depth to 16), so the room reserved in a model file fits either.
constexpr int kRelaxedDepth = 16;
static_assert(gemmlowp::kRegisterSize % kRelaxedDepth == 0, "l2_depth (rounded to kRegisterSize) must be whole depth blocks");
size_t RelaxedOffset(int r, int d, int padded_depth) {
  return static_cast<size_t>(r / 2) * 2 * padded_depth + static_cast<size_t>(d / kRelaxedDepth) * 2 * kRelaxedDepth +
         static_cast<size_t>(r % 2) * kRelaxedDepth + d % kRelaxedDepth;
}

void PackRelaxedLayout(const uint8_t* w, int n, int k, const gemmlowp::BlockParams& p, uint8_t* data, int32_t* sums) {
  std::fill(sums, sums + p.l2_rows, 0);
  // Padding is int8 0: the last row pair when n is odd, the tail of each row's last depth block
  // (written below); everything else is overwritten, so no pass over the whole buffer first.
  if (n % 2) std::memset(data + RelaxedOffset(n - 1, 0, p.l2_depth), 0, static_cast<size_t>(2) * p.l2_depth);
  // Runs of 16 values of one row are contiguous in both layouts (RelaxedOffset): copied a run at a
  // time, in loops the compiler vectorizes.
  for (int r = 0; r < n; ++r) {
    const uint8_t* __restrict src = w + static_cast<size_t>(r) * k;
    uint8_t* __restrict row = data + RelaxedOffset(r, 0, p.l2_depth);
    int32_t sum = 0;
    for (int d = 0; d < k; d += kRelaxedDepth) {
      const int len = std::min(kRelaxedDepth, k - d);
      uint8_t* __restrict dst = row + static_cast<size_t>(d / kRelaxedDepth) * 2 * kRelaxedDepth;
      for (int i = 0; i < len; ++i) {
        dst[i] = static_cast<uint8_t>(src[d + i] ^ 0x80);
        sum += src[d + i];
      }
      for (int i = len; i < kRelaxedDepth; ++i) dst[i] = 0;
    }
    sums[r] = sum;
  }
}

std::unique_ptr<PackedWeightsU8::Impl> PackWeights(const uint8_t* w, int n, int k, uint8_t* dst) {
  auto impl = std::make_unique<PackedWeightsU8::Impl>();
  impl->n = n;
  impl->k = k;
  impl->params = WeightBlockParams(n, k);
  const gemmlowp::BlockParams& p = impl->params;
  impl->chunk_rows = ChooseChunkRows(p.l1_depth, p.l2_rows);
  const size_t data_bytes = PackedDataBytes(p);
  if (!dst) {
    // Owned: 64-byte aligned like gemmlowp's allocator, but exactly the size needed (gemmlowp's
    // Allocator rounds its storage up to a power of two: up to 2x the weights).
    const size_t bytes = data_bytes + sizeof(int32_t) * p.l2_rows;
    impl->owned.reset(new uint8_t[bytes + 63]);
    const uintptr_t at = reinterpret_cast<uintptr_t>(impl->owned.get());
    dst = impl->owned.get() + (64 - at % 64) % 64;
  }
  impl->data = dst;
  impl->sums = reinterpret_cast<int32_t*>(dst + data_bytes);  // data_bytes is a multiple of 16
  if (g_relaxed) {
    // Whole depth per kernel call; as many row pairs as keep their weights within 32 KB of L1.
    impl->relaxed = true;
    impl->chunk_rows = std::min(p.l2_rows, std::max(2, (32 * 1024 / p.l2_depth) / 2 * 2));
    PackRelaxedLayout(w, n, k, p, impl->data, impl->sums);
  } else {
    PackLhsLayout(w, n, k, p, impl->data, impl->sums);
  }
  return impl;
}

}  // namespace

std::unique_ptr<PackedWeightsU8> PackedWeightsU8::Pack(const uint8_t* w, int n, int k) {
  assert(n > 0 && k > 0);
  WarmUpTiering();
  return std::unique_ptr<PackedWeightsU8>(new PackedWeightsU8(PackWeights(w, n, k, nullptr)));
}

std::unique_ptr<PackedWeightsU8> PackedWeightsU8::PackInto(const uint8_t* w, int n, int k, uint8_t* dst) {
  assert(n > 0 && k > 0 && dst && reinterpret_cast<uintptr_t>(dst) % 4 == 0);
  WarmUpTiering();
  return std::unique_ptr<PackedWeightsU8>(new PackedWeightsU8(PackWeights(w, n, k, dst)));
}

size_t PackedWeightsU8::PackedBytes(int n, int k) {
  const gemmlowp::BlockParams p = WeightBlockParams(n, k);
  return PackedDataBytes(p) + sizeof(int32_t) * p.l2_rows;
}

void PackedWeightsU8::DequantizeColumn(int col, int32_t offset, const float* scale, float* out) const {
  DequantizeColumnRows(col, 0, impl_->n, offset, scale, out);
}

void PackedWeightsU8::DequantizeColumnRows(int col, int begin, int end, int32_t offset, const float* scale,
                                           float* out) const {
  const Impl& w = *impl_;
  assert(col >= 0 && col < w.k && begin >= 0 && end <= w.n);
  if (w.relaxed) {
    for (int r = begin; r < end; ++r) {
      const int32_t v = static_cast<uint8_t>(w.data[RelaxedOffset(r, col, w.params.l2_depth)] ^ 0x80);
      out[r] = scale[r] * static_cast<float>(v + offset);
    }
    return;
  }
  int run_depth = 0;
  const uint8_t* base = w.data + ColumnBase(w.params, col, &run_depth);
  // Offsets of the kernel width's rows inside one run: the same for every run of this column.
  size_t in_run[kKernelWidth];
  for (int i = 0; i < kKernelWidth; ++i) in_run[i] = RowOffset(i, col, run_depth);
  const size_t run_stride = static_cast<size_t>(kKernelWidth) * run_depth;
  const int first_run = begin / kKernelWidth;
  base += run_stride * first_run;
  for (int r0 = first_run * kKernelWidth; r0 < end; r0 += kKernelWidth, base += run_stride) {
    const int from = std::max(begin, r0), to = std::min(end, r0 + kKernelWidth);
    for (int r = from; r < to; ++r) {
      out[r] = scale[r] * static_cast<float>(static_cast<int32_t>(base[in_run[r - r0]]) + offset);
    }
  }
}

void PackedWeightsU8::DequantizeRow(int row, int32_t offset, float scale, float* out) const {
  const Impl& w = *impl_;
  assert(row >= 0 && row < w.n);
  if (w.relaxed) {
    for (int d = 0; d < w.k; ++d) {
      const int32_t v = static_cast<uint8_t>(w.data[RelaxedOffset(row, d, w.params.l2_depth)] ^ 0x80);
      out[d] = scale * static_cast<float>(v + offset);
    }
    return;
  }
  const gemmlowp::BlockParams& p = w.params;
  const int r0 = row / kKernelWidth * kKernelWidth;
  const size_t in_cell = static_cast<size_t>((row - r0) / LhsCell::kWidth) * LhsCell::kSize;
  for (int d1 = 0; d1 < w.k; d1 += p.l1_depth) {
    const int run_depth = std::min(p.l1_depth, p.l2_depth - d1);
    const uint8_t* run = w.data + static_cast<size_t>(p.l2_rows) * d1 + static_cast<size_t>(r0) * run_depth + in_cell;
    const int depth = std::min(run_depth, w.k - d1);
    for (int dr = 0; dr < depth; ++dr) {
      const int in_register = dr % gemmlowp::kRegisterSize;
      const size_t at = static_cast<size_t>(dr / gemmlowp::kRegisterSize) * kRegisterBlockBytes +
                        static_cast<size_t>(in_register / LhsCell::kDepth) * LhsFormat::kCells * LhsCell::kSize +
                        gemmlowp::OffsetIntoCell<LhsCell>(row % LhsCell::kWidth, in_register % LhsCell::kDepth);
      out[d1 + dr] = scale * static_cast<float>(static_cast<int32_t>(run[at]) + offset);
    }
  }
}

bool PackingMatchesGemmlowpForTest(const uint8_t* w, int n, int k) {
  auto ours = PackedWeightsU8::Pack(w, n, k);
  const PackedWeightsU8::Impl& o = ours->impl();
  gemmlowp::Allocator allocator;
  PackedLhs theirs(gemmlowp::Side::Lhs, &allocator, o.params);
  allocator.Commit();
  gemmlowp::PackLhs(&theirs, gemmlowp::MatrixMap<const uint8_t, gemmlowp::MapOrder::RowMajor>(w, n, k));
  theirs.seek_run(0, 0);
  const bool same = std::memcmp(theirs.current_data(), o.data, PackedDataBytes(o.params)) == 0 &&
                    std::memcmp(theirs.sums_of_each_slice(), o.sums, sizeof(int32_t) * o.params.l2_rows) == 0;
  allocator.Decommit();
  return same;
}

namespace {

// Where the run starting at (width, depth) begins in a packed side block: the same formula as
// gemmlowp::PackedSideBlock::seek_run, without its mutable cursor, so that one PackedWeightsU8 can
// serve several threads at once.
size_t RunOffset(int l2_width, const gemmlowp::BlockParams& p, int start_width, int start_depth) {
  const int run_depth = std::min(p.l1_depth, p.l2_depth - start_depth);
  return static_cast<size_t>(l2_width) * start_depth + static_cast<size_t>(start_width) * run_depth;
}

// n elements of v's storage starting at a 64-byte boundary (as gemmlowp's allocator aligns), grown
// as needed; v keeps its storage between calls.
template <typename T>
T* Aligned64(std::vector<T>* v, size_t n) {
  constexpr size_t kSlack = 64 / sizeof(T);
  if (v->size() < n + kSlack) v->resize(n + kSlack);
  const uintptr_t at = reinterpret_cast<uintptr_t>(v->data());
  return v->data() + (64 - at % 64) % 64 / sizeof(T);
}

// Threads for one GEMM: at most one per row chunk and the scratch's limit, and only as many as have
// kMinMacsPerThread multiply-adds each. Waking a worker and waiting for it costs tens of
// microseconds on a quiet machine (much more on a busy one), so a small product (a 16-token
// sequence's projections) runs faster on the calling thread alone; a layer of a long sequence
// splits. 8M multiply-adds take ~0.3 ms in the relaxed kernel.
constexpr int64_t kMinMacsPerThread = int64_t{8} << 20;
bool g_split_any_work = false;  // GemmU8SplitAnyWorkForTest
int GemmThreads(const GemmU8Scratch::Impl& scratch, int chunks, int m, int n, int k) {
  if (!EB_GEMM_THREADS) return 1;
  const int64_t macs = int64_t{m} * n * k;
  const int64_t by_work = g_split_any_work ? chunks : std::max<int64_t>(1, macs / kMinMacsPerThread);
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>({scratch.max_threads, chunks, by_work})));
}

// Row chunks for a product on `threads` threads: the weights' own chunk (the rows whose weights stay
// in L1), cut smaller where that leaves a thread fewer than kChunksPerThread of them: a 384-wide
// model's q, k, v and output projections are 5 chunks of ~84 rows, which two threads split 3:2.
// `multiple`: the kernel's rows per call.
constexpr int kChunksPerThread = 4;
int ChunkRowsFor(int chunk_rows, int rows_total, int threads, int multiple) {
  if (threads <= 1) return chunk_rows;
  const int even = gemmlowp::CeilQuotient(gemmlowp::CeilQuotient(rows_total, threads * kChunksPerThread), multiple) * multiple;
  return std::max(multiple, std::min(chunk_rows, even));
}

// Runs run_chunks(first, last, block, participant) over [0, chunks) row chunks: on up to `threads`
// threads, each with its own int32 block of acc_size in acc, or all on the calling thread.
template <typename ChunkFn>
void RunChunks(GemmU8Scratch::Impl* scratch, int threads, int chunks, int32_t* acc, size_t acc_size,
               const ChunkFn& run_chunks) {
  if (threads <= 1) {
    run_chunks(0, chunks, acc, 0);
    return;
  }
  // One chunk a grain: a thread that arrives late (or never) leaves its chunks to the others.
  scratch->pool.ParallelFor(threads, chunks, 1, [&](int participant, int first, int last) {
    run_chunks(first, last, acc + acc_size * participant, participant);
  });
}

#if EB_RELAXED
// Activations x (m, k) in the relaxed kernel's layout: blocks of 4 tokens, each as depth blocks of
// 16 (16 values of each token), zero-padded to `cols` tokens and `depth`; sums[c] = sum_d x(c, d).
void PackActivationsRelaxed(const uint8_t* x, int m, int k, int depth, int cols, uint8_t* px, int32_t* sums) {
  for (int c = 0; c < cols; ++c) {
    uint8_t* dst = px + static_cast<size_t>(c / 4) * 4 * depth + static_cast<size_t>(c % 4) * kRelaxedDepth;
    if (c >= m) {
      for (int d = 0; d < depth; d += kRelaxedDepth) std::memset(dst + d * 4, 0, kRelaxedDepth);
      sums[c] = 0;
      continue;
    }
    const uint8_t* src = x + static_cast<size_t>(c) * k;
    v128_t acc = wasm_i32x4_splat(0);
    int d = 0;
    for (; d < depth; d += kRelaxedDepth) {
      v128_t v;
      if (d + kRelaxedDepth <= k) {
        v = wasm_v128_load(src + d);
      } else {
        alignas(16) uint8_t tail[kRelaxedDepth] = {};
        if (d < k) std::memcpy(tail, src + d, static_cast<size_t>(k - d));
        v = wasm_v128_load(tail);
      }
      wasm_v128_store(dst + d * 4, v);
      acc = wasm_i32x4_add(acc, wasm_u32x4_extadd_pairwise_u16x8(wasm_u16x8_extadd_pairwise_u8x16(v)));
    }
    sums[c] = wasm_i32x4_extract_lane(acc, 0) + wasm_i32x4_extract_lane(acc, 1) + wasm_i32x4_extract_lane(acc, 2) +
              wasm_i32x4_extract_lane(acc, 3);
  }
}

// RunGemm for weights in the relaxed layout, for `count` weights of the same depth on the same
// activations (q, k and v): the activations are packed once and all the weights' row chunks form
// one parallel loop. The kernel multiplies int8 weights (w - 128), so each result starts from
// 128 * sum_d x(c, d) ("bias") to give the same raw sum_d x * w as gemmlowp's kernels; the unpacks
// are shared. With several threads, each takes row chunks (disjoint output columns) as they come;
// every output is the same sum whatever the split or the other weights.
constexpr size_t kFewTokensBytes = 16 << 10;
constexpr size_t kStreamedWeightBytes = 1 << 20;
template <typename Unpack>
void RunGemmRelaxedMany(const uint8_t* x, int m, const PackedWeightsU8::Impl* const* ws, const Unpack* unpacks,
                        int count, GemmU8Scratch::Impl* scratch) {
  constexpr int kMaxMany = 4;
  assert(count >= 1 && count <= kMaxMany);
  const int depth = ws[0]->params.l2_depth, k = ws[0]->k;
  const int cols = gemmlowp::RoundUp<4>(m);
  uint8_t* px = Aligned64(&scratch->relaxed_x, static_cast<size_t>(cols) * depth);
  int32_t* sums = Aligned64(&scratch->relaxed_sums, cols);
  int32_t* bias = Aligned64(&scratch->relaxed_bias, cols);
  PackActivationsRelaxed(x, m, k, depth, cols, px, sums);
  for (int c = 0; c < cols; ++c) bias[c] = 128 * sums[c];
  int all_rows = 0, all_n = 0;
  for (int i = 0; i < count; ++i) {
    assert(ws[i]->params.l2_depth == depth && ws[i]->k == k);
    all_rows += ws[i]->params.l2_rows;
    all_n += ws[i]->n;
  }
  const int threads = GemmThreads(*scratch, gemmlowp::CeilQuotient(all_rows, 2), m, all_n, k);
  // Each weight's chunks (ChunkRowsFor on its own rows), numbered one after another.
  int chunk_rows[kMaxMany], first_chunk[kMaxMany + 1] = {0}, widest = 0;
  for (int i = 0; i < count; ++i) {
    chunk_rows[i] = ChunkRowsFor(ws[i]->chunk_rows, ws[i]->params.l2_rows, threads, 2);
    first_chunk[i + 1] = first_chunk[i] + gemmlowp::CeilQuotient(ws[i]->params.l2_rows, chunk_rows[i]);
    widest = std::max(widest, chunk_rows[i]);
  }
  const size_t acc_size = static_cast<size_t>(widest) * cols;  // per thread
  int32_t* acc = Aligned64(&scratch->acc, acc_size * threads);
  const int blocks = depth / kRelaxedDepth;
  // Few tokens (their packed activations fit in L1 beside a pair of weight rows) and weights that do
  // not stay in L2 from one pass to the next: stream the weights once, evenly (below).
  size_t weight_bytes = 0;
  for (int i = 0; i < count; ++i) weight_bytes += static_cast<size_t>(ws[i]->params.l2_rows) * depth;
  const bool few_tokens = static_cast<size_t>(cols) * depth <= kFewTokensBytes && weight_bytes >= kStreamedWeightBytes;
  const auto run_chunks = [&](int first, int last, int32_t* block, int participant) {
    for (int g = first; g < last; ++g) {
      int i = 0;
      while (g >= first_chunk[i + 1]) ++i;
      const PackedWeightsU8::Impl& w = *ws[i];
      const int stride = chunk_rows[i];
      const int r0 = (g - first_chunk[i]) * stride;
      const int rows = std::min(stride, w.params.l2_rows - r0);
      const int8_t* wc = reinterpret_cast<const int8_t*>(w.data + static_cast<size_t>(r0) * depth);
      // Weight rows r, r + 1 by tokens c .. c + 3.
      const auto tile = [&](int r, int c) {
        eb_relaxed_kernel(block + static_cast<size_t>(c) * stride + r, stride, wc + static_cast<size_t>(r) * depth,
                          px + static_cast<size_t>(c) * depth, blocks, bias + c);
      };
      if (few_tokens) {
        // Each pair of weight rows once, for every block of 4 tokens while it is in L1: the weights
        // stream from memory evenly through the chunk instead of all in its first block's pass.
        for (int r = 0; r < rows; r += 2)
          for (int c = 0; c < cols; c += 4) tile(r, c);
      } else {
        for (int c = 0; c < cols; c += 4)
          for (int r = 0; r < rows; r += 2) tile(r, c);
      }
      unpacks[i](r0, std::min(rows, w.n - r0), block, stride, w.sums + r0, sums, m, participant);
    }
  };
  RunChunks(scratch, threads, first_chunk[count], acc, acc_size, run_chunks);
}
#endif

// Runs the product over all m tokens and hands each finished block of rows [r0, r0 + rows) x all
// tokens to `unpack`, with acc(c, r) at acc[c * acc_stride + r] (column-major, gemmlowp's packed
// result layout) and the packed sums of each slice. With several threads, each takes a contiguous
// range of row chunks (disjoint output columns of y); the packed activations are shared.
template <typename Unpack>
void RunGemm(const uint8_t* x, int m, const PackedWeightsU8::Impl& w, GemmU8Scratch::Impl* scratch,
             const Unpack& unpack) {
  assert(m > 0);
#if EB_RELAXED
  if (w.relaxed) {
    const PackedWeightsU8::Impl* one = &w;
    return RunGemmRelaxedMany(x, m, &one, &unpack, 1, scratch);
  }
#endif
  gemmlowp::Allocator* allocator = &scratch->allocator;
  gemmlowp::BlockParams p = w.params;
  p.l2_cols = p.l1_cols = gemmlowp::RoundUp<Format::kCols>(m);
  const int threads = GemmThreads(*scratch, gemmlowp::CeilQuotient(p.l2_rows, Format::kRows), m, w.n, w.k);
  const int chunk_rows = ChunkRowsFor(w.chunk_rows, p.l2_rows, threads, Format::kRows);
  const int chunks = gemmlowp::CeilQuotient(p.l2_rows, chunk_rows);
  const size_t acc_size = static_cast<size_t>(chunk_rows) * p.l2_cols;  // per thread

  PackedRhs packed_x(gemmlowp::Side::Rhs, allocator, p);
  const size_t packed_x_size = static_cast<size_t>(p.l2_cols) * p.l2_depth;
  allocator->Commit();
  int32_t* acc = Aligned64(&scratch->acc, acc_size * threads);

  // The activations are gemmlowp's rhs: (k x m) column-major with stride k is x (m, k) row-major.
  gemmlowp::PackRhs(&packed_x,
                    gemmlowp::MatrixMap<const uint8_t, gemmlowp::MapOrder::ColMajor>(x, w.k, m, w.k));

  const gemmlowp::KernelBase& kernel = TheKernel();
  const int depth = gemmlowp::RoundUp<Format::kDepth>(w.k);
  const int32_t* w_sums = w.sums;
  const int32_t* x_sums = packed_x.sums_of_each_slice();
  packed_x.seek_run(0, 0);
  const uint8_t* x_base = packed_x.current_data();
  size_t x_value_bytes = 1;
  if (kWidenRhs) {
    // The same packed values, one int16 each, for a kernel that reads int16 rhs cells.
    int16_t* __restrict wide = Aligned64(&scratch->wide, packed_x_size);
    const uint8_t* __restrict narrow = x_base;
    for (size_t i = 0; i < packed_x_size; ++i) wide[i] = narrow[i];
    x_base = reinterpret_cast<const uint8_t*>(wide);
    x_value_bytes = sizeof(int16_t);
  }
  const auto run_chunks = [&](int first, int last, int32_t* block, int participant) {
    for (int r0 = first * chunk_rows; r0 < std::min(last * chunk_rows, p.l2_rows); r0 += chunk_rows) {
      const int rows = std::min(chunk_rows, p.l2_rows - r0);
      for (int d = 0; d < depth; d += p.l1_depth) {
        const int ds = std::min(p.l1_depth, depth - d);
        for (int c = 0; c < p.l2_cols; c += Format::kCols) {
          const uint8_t* x_run = x_base + RunOffset(p.l2_cols, p, c, d) * x_value_bytes;
          for (int r = 0; r < rows; r += Format::kRows) {
            RunKernel(kernel, block + static_cast<size_t>(c) * chunk_rows + r, chunk_rows,
                      w.data + RunOffset(p.l2_rows, p, r0 + r, d), x_run, d, ds);
          }
        }
      }
      unpack(r0, std::min(rows, w.n - r0), block, chunk_rows, w_sums + r0, x_sums, m, participant);
    }
  };
  RunChunks(scratch, threads, chunks, acc, acc_size, run_chunks);
  allocator->Decommit();
}

// Offsets, from gemmlowp's sums of each slice (Sx = sum_d x(i, d), Sw = sum_d w(j, d)):
//   sum_d (x + xo)(w + wo) = acc + wo * Sx + xo * Sw + k * xo * wo
//                          = acc + A_i + xo_i * Sw_j     with A_i = wo * (Sx_i + k * xo_i).
struct UnpackToInt32 {
  const int32_t* x_offset;
  int32_t w_offset;
  int k;
  int n;
  int32_t* out;

  void operator()(int r0, int rows, const int32_t* acc, int acc_stride, const int32_t* w_sums,
                  const int32_t* x_sums, int m, int /*participant*/) const {
    for (int i = 0; i < m; ++i) {
      const int32_t a = w_offset * (x_sums[i] + k * x_offset[i]);
      const int32_t xo = x_offset[i];
      const int32_t* __restrict src = acc + static_cast<size_t>(i) * acc_stride;
      int32_t* __restrict dst = out + static_cast<size_t>(i) * n + r0;
      for (int j = 0; j < rows; ++j) dst[j] = src[j] + a + xo * w_sums[j];
    }
  }
};

struct UnpackDequantize {
  const int32_t* x_offset;
  const float* x_scale;
  int32_t w_offset;
  const float* w_scale;
  const float* bias;
  int k;
  int n;
  float* out;
  const GemmU8ColumnsDone* done;  // or null

  void operator()(int r0, int rows, const int32_t* acc, int acc_stride, const int32_t* w_sums,
                  const int32_t* x_sums, int m, int participant) const {
    const float* __restrict ws = w_scale + r0;
    for (int i = 0; i < m; ++i) {
      const int32_t a = w_offset * (x_sums[i] + k * x_offset[i]);
      const int32_t xo = x_offset[i];
      const float xs = x_scale[i];
      const int32_t* __restrict src = acc + static_cast<size_t>(i) * acc_stride;
      float* __restrict dst = out + static_cast<size_t>(i) * n + r0;
      if (bias) {
        const float* __restrict b = bias + r0;
        for (int j = 0; j < rows; ++j) {
          dst[j] = (xs * ws[j]) * static_cast<float>(src[j] + a + xo * w_sums[j]) + b[j];
        }
      } else {
        for (int j = 0; j < rows; ++j) {
          dst[j] = (xs * ws[j]) * static_cast<float>(src[j] + a + xo * w_sums[j]) + 0.f;
        }
      }
    }
    if (done && rows > 0) (*done)(participant, r0, r0 + rows);
  }
};

}  // namespace

void GemmU8ToInt32(const uint8_t* x, const int32_t* x_offset, int m, const PackedWeightsU8& w,
                   int32_t w_offset, int32_t* out, GemmU8Scratch* scratch) {
  if (m <= 0) return;
  const UnpackToInt32 unpack{x_offset, w_offset, w.k(), w.n(), out};
  RunGemm(x, m, w.impl(), scratch->impl(), unpack);
}

void GemmU8Dequantize(const uint8_t* x, const int32_t* x_offset, const float* x_scale, int m,
                      const PackedWeightsU8& w, int32_t w_offset, const float* w_scale,
                      const float* bias, float* out, GemmU8Scratch* scratch) {
  const GemmU8DequantizeOutput one{&w, w_offset, w_scale, bias, out, nullptr};
  GemmU8DequantizeMany(x, x_offset, x_scale, m, &one, 1, scratch);
}

void GemmU8DequantizeMany(const uint8_t* x, const int32_t* x_offset, const float* x_scale, int m,
                          const GemmU8DequantizeOutput* outs, int count, GemmU8Scratch* scratch) {
  if (m <= 0 || count <= 0) return;
  if (count > 4) {  // four at a time
    GemmU8DequantizeMany(x, x_offset, x_scale, m, outs, 4, scratch);
    return GemmU8DequantizeMany(x, x_offset, x_scale, m, outs + 4, count - 4, scratch);
  }
  const PackedWeightsU8::Impl* ws[4];
  UnpackDequantize unpacks[4];
  for (int i = 0; i < count; ++i) {
    const PackedWeightsU8& w = *outs[i].w;
    assert(w.k() == outs[0].w->k() && w.impl().relaxed == outs[0].w->impl().relaxed);
    ws[i] = &w.impl();
    unpacks[i] = UnpackDequantize{x_offset, x_scale, outs[i].w_offset, outs[i].w_scale, outs[i].bias,
                                  w.k(),    w.n(),   outs[i].out,      outs[i].done};
  }
#if EB_RELAXED
  if (ws[0]->relaxed) return RunGemmRelaxedMany(x, m, ws, unpacks, count, scratch->impl());
#endif
  for (int i = 0; i < count; ++i) RunGemm(x, m, *ws[i], scratch->impl(), unpacks[i]);
}

namespace {

// One GEMM of the given shape through the kernel in use (the weights packed now, so in its layout)
// against GemmU8ToInt32Reference, exact. pattern 0: random uint8 operands; 1: x all 255, w all 0;
// 2: x all 255, w all 255 (with w_offset -128: int8 -128 and +127 along the whole depth, the values
// a saturating dot would get wrong). Random x offsets. Returns whether both agree.
bool SameAsReference(int m, int n, int k, int pattern, uint32_t* seed) {
  const auto next = [seed] { *seed = *seed * 1664525u + 1013904223u; return *seed >> 24; };
  std::vector<uint8_t> x(static_cast<size_t>(m) * k), w(static_cast<size_t>(n) * k);
  for (auto& v : x) v = pattern == 0 ? static_cast<uint8_t>(next()) : 255;
  for (auto& v : w) v = pattern == 0 ? static_cast<uint8_t>(next()) : pattern == 1 ? 0 : 255;
  std::vector<int32_t> x_offset(m), got(static_cast<size_t>(m) * n), want(got.size());
  for (auto& o : x_offset) o = -static_cast<int32_t>(next());
  const auto packed = PackWeights(w.data(), n, k, nullptr);
  GemmU8Scratch::Impl scratch;
  RunGemm(x.data(), m, *packed, &scratch, UnpackToInt32{x_offset.data(), -128, k, n, got.data()});
  GemmU8ToInt32Reference(x.data(), x_offset.data(), m, w.data(), n, k, -128, want.data());
  return packed->relaxed == g_relaxed && got == want;
}

}  // namespace

void GemmU8ParallelFor(GemmU8Scratch* scratch, int items, int64_t work, int64_t min_work_per_thread,
                       const std::function<void(int thread, int begin, int end)>& fn) {
  if (items <= 0) return;
  const int64_t by_work = g_split_any_work || min_work_per_thread <= 0 ? items : work / min_work_per_thread;
  const int threads = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>({scratch->max_threads(), items, by_work})));
  if (threads <= 1) {
    fn(0, 0, items);
    return;
  }
  // A few grains per thread, so that a late thread's share goes to the others.
  constexpr int kGrainsPerThread = 4;
  const int grain = std::max(1, items / (threads * kGrainsPerThread));
  scratch->impl()->pool.ParallelFor(threads, items, grain, fn);
}

void GemmU8SplitAnyWorkForTest(bool on) { g_split_any_work = on; }
bool GemmU8SplitsAnyWorkForTest() { return g_split_any_work; }

bool GemmU8SetRelaxedKernel(bool on) {
#if EB_RELAXED
  g_relaxed = false;
  if (!on) return false;
  g_relaxed = true;
  // Ragged shapes (1 x N, M x 1, depth not a multiple of 16, rows and tokens one off the kernel's
  // 2 x 4) and the extremes, through the relaxed kernel.
  struct Case { int m, n, k, pattern; };
  const Case cases[] = {{1, 3, 16, 0}, {5, 1, 17, 0}, {4, 2, 15, 1}, {7, 9, 784, 0}, {9, 5, 784, 1}, {3, 4, 33, 2}};
  uint32_t seed = 12345;
  for (const Case& t : cases) {
    if (!SameAsReference(t.m, t.n, t.k, t.pattern, &seed)) {
      g_relaxed = false;
      return false;
    }
  }
  return true;
#else
  (void)on;
  return false;
#endif
}

int GemmU8CheckAgainstReference(uint32_t seed, int cases) {
  int failed = 0;
  for (int i = 0; i < cases; ++i) {
    seed = seed * 1664525u + 1013904223u;
    const uint32_t r = seed;
    // Mostly small shapes around the kernels' blocks, sometimes a full DistilBERT depth.
    const int m = 1 + static_cast<int>(r % 13);
    const int n = 1 + static_cast<int>((r >> 4) % 11);
    const int k = (r >> 8) % 8 == 0 ? 768 + static_cast<int>((r >> 11) % 3) : 1 + static_cast<int>((r >> 11) % 70);
    const int pattern = (r >> 20) % 6 == 0 ? 1 + static_cast<int>((r >> 23) % 2) : 0;
    if (!SameAsReference(m, n, k, pattern, &seed)) ++failed;
  }
  return failed;
}

namespace {

// V8 runs wasm functions as baseline code first (util/tiering.h); our kernel so is ~3x slower
// (128x768x768: 5 ms instead of 1.5 ms), hence a kernel entered once per block, and the first real
// GEMM of a process ran mostly on baseline code (6-8 ms for the 8x4 kernel's 1.9 ms). So the first
// weight packing of the process (model load) runs small GEMMs through the same functions as QLinear
// (activation quantizer, packing, kernel, both unpacks) until their optimized code is in.
void WarmUpTiering() {
#if defined(__EMSCRIPTEN__)
  static bool done = false;
  if (done) return;
  done = true;
  // One round: 2 x 32 x 256 x 768 = 12.6 M multiply-adds, ~0.15-0.3 ms optimized.
  constexpr int kN = 256, kK = 768, kM = 32;
  std::vector<uint8_t> w(static_cast<size_t>(kN) * kK, 1), x(static_cast<size_t>(kM) * kK, 2);
  std::vector<int32_t> x_offset(kM, 0), out_i(static_cast<size_t>(kM) * kN);
  std::vector<float> x_scale(kM, 1.f), w_scale(kN, 1.f), out_f(static_cast<size_t>(kM) * kN);
  std::vector<float> x_f(static_cast<size_t>(kM) * kK);
  for (size_t i = 0; i < x_f.size(); ++i) x_f[i] = static_cast<float>(i % 17) - 8.f;
  int32_t zero = 0;
  const auto packed = PackWeights(w.data(), kN, kK, nullptr);
  GemmU8Scratch::Impl scratch;
  RunUntilOptimized(
      [&] {
        for (int i = 0; i < kM; ++i) {
          QuantizeRowU8Fast(x_f.data() + static_cast<size_t>(i) * kK, kK, x.data() + static_cast<size_t>(i) * kK,
                            &x_scale[i], &zero);
        }
        RunGemm(x.data(), kM, *packed, &scratch, UnpackToInt32{x_offset.data(), 0, kK, kN, out_i.data()});
        RunGemm(x.data(), kM, *packed, &scratch,
                UnpackDequantize{x_offset.data(), x_scale.data(), 0, w_scale.data(), nullptr, kK, kN, out_f.data(), nullptr});
      },
      /*max_ms=*/50);
#endif
}

}  // namespace

void GemmU8ToInt32Reference(const uint8_t* x, const int32_t* x_offset, int m, const uint8_t* w,
                            int n, int k, int32_t w_offset, int32_t* out) {
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      int32_t acc = 0;
      for (int d = 0; d < k; ++d) {
        acc += (static_cast<int32_t>(x[static_cast<size_t>(i) * k + d]) + x_offset[i]) *
               (static_cast<int32_t>(w[static_cast<size_t>(j) * k + d]) + w_offset);
      }
      out[static_cast<size_t>(i) * n + j] = acc;
    }
  }
}

}  // namespace edgebert
