;; kernel.wat: the int8 GEMM kernel for WebAssembly relaxed SIMD (i32x4.relaxed_dot_i8x16_i7x16_add_s),
;; written in the text format because emcc 3.1.6 (LLVM 14) cannot emit the instruction. Assembled by
;; scripts/gen_relaxed_kernel.mjs into worker/relaxed_kernel.mjs; instantiated by worker/wasm_loader.mjs
;; on the main module's memory and handed to it as the import `eb_relaxed_kernel` (gemm_u8.cc), only
;; after a probe shows the instruction computes exact unsigned-by-signed sums here (x86 with AVX-VNNI:
;; vpdpbusd). Elsewhere (pmaddubsw saturates, ARM sdot reads the operand as signed, or no relaxed SIMD
;; at all) the SIMD128 kernel runs instead.
;;
;; One call computes a 2 x 4 block: rows (weights) r0, r0 + 1 by columns (tokens) c0..c3, over
;; `blocks` depth blocks of 16:
;;   dst[c * stride + r] = sum_d x(c, d) * w(r, d) + bias[c]          (int32, stride in elements)
;; lhs: per depth block 32 bytes, 16 int8 of row r0 then 16 of row r0 + 1;
;; rhs: per depth block 64 bytes, 16 uint8 of each of the 4 columns;
;; bias: 4 int32 (the driver's correction for storing the weights as int8, 128 * sum_d x(c, d)).
;; Eight accumulators each hold four partial sums of one (row, column) pair, reduced once at the end.
(module
  (import "env" "memory" (memory 0))
  (func $kernel (export "kernel")
    (param $dst i32) (param $stride i32) (param $lhs i32) (param $rhs i32) (param $blocks i32) (param $bias i32)
    (local $a0 v128) (local $a1 v128) (local $x v128)
    (local $c00 v128) (local $c01 v128) (local $c02 v128) (local $c03 v128)
    (local $c10 v128) (local $c11 v128) (local $c12 v128) (local $c13 v128)
    (local $end i32) (local $b v128) (local $lo v128) (local $hi v128)
    (local.set $end (i32.add (local.get $lhs) (i32.shl (local.get $blocks) (i32.const 5))))
    (block $done
      (br_if $done (i32.eqz (local.get $blocks)))
      (loop $depth
        (local.set $a0 (v128.load offset=0 (local.get $lhs)))
        (local.set $a1 (v128.load offset=16 (local.get $lhs)))
        (local.set $x (v128.load offset=0 (local.get $rhs)))
        (local.set $c00 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $a0) (local.get $x) (local.get $c00)))
        (local.set $c10 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $a1) (local.get $x) (local.get $c10)))
        (local.set $x (v128.load offset=16 (local.get $rhs)))
        (local.set $c01 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $a0) (local.get $x) (local.get $c01)))
        (local.set $c11 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $a1) (local.get $x) (local.get $c11)))
        (local.set $x (v128.load offset=32 (local.get $rhs)))
        (local.set $c02 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $a0) (local.get $x) (local.get $c02)))
        (local.set $c12 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $a1) (local.get $x) (local.get $c12)))
        (local.set $x (v128.load offset=48 (local.get $rhs)))
        (local.set $c03 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $a0) (local.get $x) (local.get $c03)))
        (local.set $c13 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $a1) (local.get $x) (local.get $c13)))
        (local.set $lhs (i32.add (local.get $lhs) (i32.const 32)))
        (local.set $rhs (i32.add (local.get $rhs) (i32.const 64)))
        (br_if $depth (i32.lt_u (local.get $lhs) (local.get $end)))))
    ;; bias [b0 b1 b2 b3] -> [b0 b0 b1 b1] and [b2 b2 b3 b3]
    (local.set $b (v128.load (local.get $bias)))
    ;; columns 0, 1: [c0r0 c0r1 c1r0 c1r1]
    (local.set $lo (i32x4.add
      (call $reduce4 (local.get $c00) (local.get $c10) (local.get $c01) (local.get $c11))
      (i8x16.shuffle 0 1 2 3 0 1 2 3 4 5 6 7 4 5 6 7 (local.get $b) (local.get $b))))
    (local.set $hi (i32x4.add
      (call $reduce4 (local.get $c02) (local.get $c12) (local.get $c03) (local.get $c13))
      (i8x16.shuffle 8 9 10 11 8 9 10 11 12 13 14 15 12 13 14 15 (local.get $b) (local.get $b))))
    (local.set $stride (i32.shl (local.get $stride) (i32.const 2)))  ;; bytes
    (v128.store64_lane 0 (local.get $dst) (local.get $lo))
    (local.set $dst (i32.add (local.get $dst) (local.get $stride)))
    (v128.store64_lane 1 (local.get $dst) (local.get $lo))
    (local.set $dst (i32.add (local.get $dst) (local.get $stride)))
    (v128.store64_lane 0 (local.get $dst) (local.get $hi))
    (local.set $dst (i32.add (local.get $dst) (local.get $stride)))
    (v128.store64_lane 1 (local.get $dst) (local.get $hi)))

  ;; [sum(a) sum(b) sum(c) sum(d)] of four i32x4 vectors
  (func $reduce4 (param $a v128) (param $b v128) (param $c v128) (param $d v128) (result v128)
    (local $ab v128) (local $cd v128)
    (local.set $ab (i32x4.add
      (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a) (local.get $b))
      (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a) (local.get $b))))
    (local.set $cd (i32x4.add
      (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $c) (local.get $d))
      (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $c) (local.get $d))))
    (i32x4.add
      (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $ab) (local.get $cd))
      (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $ab) (local.get $cd))))

  ;; The probe: one relaxed dot of the 16 + 16 bytes at $p (a as int8, b as the i7 operand) with
  ;; the accumulator at $p + 32, stored at $p + 48. The loader runs it on inputs whose b has the top
  ;; bit set and checks for exact unsigned sums (what the kernel relies on).
  (func (export "probe") (param $p i32)
    (v128.store offset=48 (local.get $p)
      (i32x4.relaxed_dot_i8x16_i7x16_add_s
        (v128.load offset=0 (local.get $p)) (v128.load offset=16 (local.get $p)) (v128.load offset=32 (local.get $p))))))
