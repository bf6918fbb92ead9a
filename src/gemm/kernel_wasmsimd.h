// kernel_wasmsimd.h: gemmlowp GEMM kernels for WebAssembly SIMD128 (uint8 x uint8 -> int32).
//
// gemmlowp has no wasm kernel and falls back to its scalar ReferenceKernel there. These kernels plug
// into gemmlowp's own kernel interface (gemmlowp::KernelBase, internal/kernel.h): gemmlowp packs the
// operands into cells, calls Run() once per kernel block ("run") and applies zero-point offsets
// afterwards from the sums of each slice, so a kernel computes raw products of the packed uint8
// values: dst(r, c) (+)= sum_d lhs(r, d) * rhs(c, d), exact in int32.
//
// Both kernels widen uint8 to int16 (0..255 fits) and multiply with i32x4.dot_i16x8_s (pmaddwd on
// x86), which adds adjacent products: |a*b + c*d| <= 2*255*255 = 130050, nothing saturates or wraps.
//  - WasmSimd128_Kernel8x4Depth2 ("dot16x2", the idea behind XNNPACK's wasmsimd dot16x2 kernels,
//    written from scratch): gemmlowp's 4x2 WidthMajor cells, [w0d0 w0d1 w1d0 w1d1 ...] per depth
//    pair, times one rhs column's depth pair splatted to all lanes. A strict gemmlowp kernel: runs
//    under gemmlowp's own drivers (tested there).
//  - WasmSimd128_Kernel2x4Depth8WideRhs (the one gemm_u8.cc uses): 8-deep cells, one accumulator
//    per output, lanes reduced per run, and an rhs that our driver widens to int16 after gemmlowp
//    packed it, which saves the SIMD ALU slots of extends and splats (bench/README.md has numbers).
//
// Each Run() is a short function that gemmlowp re-enters for every (rows x cols x l1 depth) block;
// that matters on V8, which compiles a function first with its baseline compiler and swaps in the
// optimizing tier only when the function is entered again (see bench/README.md).
#pragma once

#if defined(__wasm_simd128__)

#include <wasm_simd128.h>

#include <cassert>
#include <cstddef>
#include <cstdint>

#include <gemmlowp/internal/kernel.h>

namespace edgebert {

// 8 lhs rows (2 cells) x 4 rhs columns (1 cell), depth step 2. Eight int32x4 accumulators: acc_r{0,1}
// hold rows 0..3 / 4..7 of one column, so a column of the (column-major) packed result is two
// stores. Registers in the loop: 8 accumulators + 2 lhs + 1 rhs + 1 splat, within x86's 16.
struct WasmSimd128_Kernel8x4Depth2 : gemmlowp::KernelBase {
  typedef gemmlowp::KernelFormat<
      gemmlowp::KernelSideFormat<gemmlowp::CellFormat<4, 2, gemmlowp::CellOrder::WidthMajor>, 2>,
      gemmlowp::KernelSideFormat<gemmlowp::CellFormat<4, 2, gemmlowp::CellOrder::WidthMajor>, 1>>
      Format;

  const char* Name() const override { return "WasmSimd128_Kernel8x4Depth2 (dot_i16x8_s)"; }

  void Run(std::int32_t* dst_ptr, std::size_t dst_row_stride, std::size_t dst_col_stride,
           const std::uint8_t* lhs_ptr, const std::uint8_t* rhs_ptr, std::size_t start_depth,
           std::size_t run_depth) const override {
    // gemmlowp's packed result is column-major; our stores assume contiguous rows.
    assert(dst_row_stride == 1);
    (void)dst_row_stride;
    assert(run_depth % 2 == 0);
    v128_t acc00 = wasm_i32x4_splat(0), acc01 = acc00, acc02 = acc00, acc03 = acc00;
    v128_t acc10 = acc00, acc11 = acc00, acc12 = acc00, acc13 = acc00;

// One depth pair: lhs is 16 bytes (two 4x2 cells), rhs 8 bytes (one 4x2 cell).
#define EB_WASM_DOT16X2_STEP(L, R)                                 \
  {                                                               \
    const v128_t l = wasm_v128_load(L);                           \
    const v128_t l0 = wasm_u16x8_extend_low_u8x16(l);             \
    const v128_t l1 = wasm_u16x8_extend_high_u8x16(l);            \
    const v128_t r = wasm_u16x8_load8x8(R);                       \
    v128_t b = wasm_i32x4_shuffle(r, r, 0, 0, 0, 0);              \
    acc00 = wasm_i32x4_add(acc00, wasm_i32x4_dot_i16x8(l0, b));   \
    acc10 = wasm_i32x4_add(acc10, wasm_i32x4_dot_i16x8(l1, b));   \
    b = wasm_i32x4_shuffle(r, r, 1, 1, 1, 1);                     \
    acc01 = wasm_i32x4_add(acc01, wasm_i32x4_dot_i16x8(l0, b));   \
    acc11 = wasm_i32x4_add(acc11, wasm_i32x4_dot_i16x8(l1, b));   \
    b = wasm_i32x4_shuffle(r, r, 2, 2, 2, 2);                     \
    acc02 = wasm_i32x4_add(acc02, wasm_i32x4_dot_i16x8(l0, b));   \
    acc12 = wasm_i32x4_add(acc12, wasm_i32x4_dot_i16x8(l1, b));   \
    b = wasm_i32x4_shuffle(r, r, 3, 3, 3, 3);                     \
    acc03 = wasm_i32x4_add(acc03, wasm_i32x4_dot_i16x8(l0, b));   \
    acc13 = wasm_i32x4_add(acc13, wasm_i32x4_dot_i16x8(l1, b));   \
  }

    // One depth pair per iteration, not unrolled: LLVM hoists the loads of unrolled steps ahead of
    // their use, and the extra live vectors made V8's register allocator spill in the loop.
#pragma clang loop unroll(disable)
    for (std::size_t d = 0; d < run_depth; d += 2) {
      EB_WASM_DOT16X2_STEP(lhs_ptr, rhs_ptr)
      lhs_ptr += 16;
      rhs_ptr += 8;
    }
#undef EB_WASM_DOT16X2_STEP

    std::int32_t* c0 = dst_ptr;
    std::int32_t* c1 = dst_ptr + dst_col_stride;
    std::int32_t* c2 = dst_ptr + 2 * dst_col_stride;
    std::int32_t* c3 = dst_ptr + 3 * dst_col_stride;
    if (start_depth != 0) {  // later depth blocks accumulate onto the earlier ones
      acc00 = wasm_i32x4_add(acc00, wasm_v128_load(c0));
      acc10 = wasm_i32x4_add(acc10, wasm_v128_load(c0 + 4));
      acc01 = wasm_i32x4_add(acc01, wasm_v128_load(c1));
      acc11 = wasm_i32x4_add(acc11, wasm_v128_load(c1 + 4));
      acc02 = wasm_i32x4_add(acc02, wasm_v128_load(c2));
      acc12 = wasm_i32x4_add(acc12, wasm_v128_load(c2 + 4));
      acc03 = wasm_i32x4_add(acc03, wasm_v128_load(c3));
      acc13 = wasm_i32x4_add(acc13, wasm_v128_load(c3 + 4));
    }
    wasm_v128_store(c0, acc00);
    wasm_v128_store(c0 + 4, acc10);
    wasm_v128_store(c1, acc01);
    wasm_v128_store(c1 + 4, acc11);
    wasm_v128_store(c2, acc02);
    wasm_v128_store(c2 + 4, acc12);
    wasm_v128_store(c3, acc03);
    wasm_v128_store(c3 + 4, acc13);
  }
};

// The kernel of our own driver (gemm_u8.cc): 2 lhs rows x 4 rhs columns, depth step 8 ("c8"), whose
// rhs is gemmlowp's packed rhs *widened to int16* by the driver after packing (same cell order, two
// bytes per value). Why: the kernels above spend 6-7 of their 22-23 SIMD ops per 64 multiply-adds
// on zero-extending uint8 to int16 and splatting; here the 4 rhs vectors are plain loads (load
// ports, not SIMD ALU slots), only the 2 lhs vectors need load8x8, and each of the 8 accumulators
// holds four partial sums of one (row, column) pair, reduced across lanes once per run: 18 SIMD ALU
// ops per 64 multiply-adds. Widening costs one pass over the activations per call (m * k values);
// the weights stay uint8. Registers: 8 accumulators + 2 lhs + 4 rhs + 1 temporary = 15.
// Cells: lhs 2 x 8 WidthMajor (uint8), rhs 4 x 8 WidthMajor (int16 after widening).
struct WasmSimd128_Kernel2x4Depth8WideRhs : gemmlowp::KernelBase {
  typedef gemmlowp::KernelFormat<
      gemmlowp::KernelSideFormat<gemmlowp::CellFormat<2, 8, gemmlowp::CellOrder::WidthMajor>, 1>,
      gemmlowp::KernelSideFormat<gemmlowp::CellFormat<4, 8, gemmlowp::CellOrder::WidthMajor>, 1>>
      Format;
  static constexpr bool kRhsWidenedToInt16 = true;

  const char* Name() const override {
    return "WasmSimd128_Kernel2x4Depth8WideRhs (dot_i16x8_s, int16 rhs)";
  }

  // [sum(a), sum(b), sum(c), sum(d)] of four int32x4 vectors.
  static v128_t ReduceAdd4(v128_t a, v128_t b, v128_t c, v128_t d) {
    const v128_t ab = wasm_i32x4_add(wasm_i32x4_shuffle(a, b, 0, 4, 1, 5),
                                     wasm_i32x4_shuffle(a, b, 2, 6, 3, 7));
    const v128_t cd = wasm_i32x4_add(wasm_i32x4_shuffle(c, d, 0, 4, 1, 5),
                                     wasm_i32x4_shuffle(c, d, 2, 6, 3, 7));
    return wasm_i32x4_add(wasm_i32x4_shuffle(ab, cd, 0, 1, 4, 5),
                          wasm_i32x4_shuffle(ab, cd, 2, 3, 6, 7));
  }

  // Rows 0..1 of two result columns from [col0 row0, col0 row1, col1 row0, col1 row1].
  static void StoreTwoColumns(std::int32_t* c0, std::int32_t* c1, v128_t v, bool accumulate) {
    if (accumulate) {
      v128_t old = wasm_v128_load64_zero(c0);
      old = wasm_v128_load64_lane(c1, old, 1);
      v = wasm_i32x4_add(v, old);
    }
    wasm_v128_store64_lane(c0, v, 0);
    wasm_v128_store64_lane(c1, v, 1);
  }

  // rhs_ptr points to int16 values (see above), passed through gemmlowp's uint8 pointer type.
  void Run(std::int32_t* dst_ptr, std::size_t dst_row_stride, std::size_t dst_col_stride,
           const std::uint8_t* lhs_ptr, const std::uint8_t* rhs_ptr, std::size_t start_depth,
           std::size_t run_depth) const override {
    assert(dst_row_stride == 1);
    (void)dst_row_stride;
    assert(run_depth % 8 == 0);
    const std::int16_t* rhs = reinterpret_cast<const std::int16_t*>(rhs_ptr);
    v128_t acc00 = wasm_i32x4_splat(0), acc01 = acc00, acc02 = acc00, acc03 = acc00;
    v128_t acc10 = acc00, acc11 = acc00, acc12 = acc00, acc13 = acc00;
#pragma clang loop unroll(disable)
    for (std::size_t d = 0; d < run_depth; d += 8) {
      const v128_t a0 = wasm_u16x8_load8x8(lhs_ptr);
      const v128_t a1 = wasm_u16x8_load8x8(lhs_ptr + 8);
      v128_t b = wasm_v128_load(rhs);
      acc00 = wasm_i32x4_add(acc00, wasm_i32x4_dot_i16x8(a0, b));
      acc10 = wasm_i32x4_add(acc10, wasm_i32x4_dot_i16x8(a1, b));
      b = wasm_v128_load(rhs + 8);
      acc01 = wasm_i32x4_add(acc01, wasm_i32x4_dot_i16x8(a0, b));
      acc11 = wasm_i32x4_add(acc11, wasm_i32x4_dot_i16x8(a1, b));
      b = wasm_v128_load(rhs + 16);
      acc02 = wasm_i32x4_add(acc02, wasm_i32x4_dot_i16x8(a0, b));
      acc12 = wasm_i32x4_add(acc12, wasm_i32x4_dot_i16x8(a1, b));
      b = wasm_v128_load(rhs + 24);
      acc03 = wasm_i32x4_add(acc03, wasm_i32x4_dot_i16x8(a0, b));
      acc13 = wasm_i32x4_add(acc13, wasm_i32x4_dot_i16x8(a1, b));
      lhs_ptr += 16;
      rhs += 32;
    }
    const bool accumulate = start_depth != 0;
    StoreTwoColumns(dst_ptr, dst_ptr + dst_col_stride, ReduceAdd4(acc00, acc10, acc01, acc11),
                    accumulate);
    StoreTwoColumns(dst_ptr + 2 * dst_col_stride, dst_ptr + 3 * dst_col_stride,
                    ReduceAdd4(acc02, acc12, acc03, acc13), accumulate);
  }
};

}  // namespace edgebert

#endif  // __wasm_simd128__
