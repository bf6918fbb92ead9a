// relaxed_stub.js (Emscripten JS library): the import behind gemm_u8.cc's eb_relaxed_kernel until
// worker/wasm_loader.mjs replaces it, before instantiation, with the relaxed-SIMD kernel module's
// export (a direct wasm-to-wasm call); in the pthreads build each worker thread does the same
// (wasm/relaxed_pthread_prejs.js). The C++ side calls it only after GemmU8SetRelaxedKernel
// succeeded on the main thread, which needs the real kernel there: reaching this stub on the main
// thread is a bug, reported as such. A worker thread that could not compile the kernel (which the
// main thread's engine could) computes the kernel's contract here instead, exactly, in JS:
//   dst[c * stride + r] = bias[c] + sum over blocks b, i < 16 of lhs[32 b + 16 r + i] (int8) * rhs[64 b + 16 c + i] (uint8)
// for r < 2, c < 4, in int32 arithmetic that wraps like the kernel's.
mergeInto(LibraryManager.library, {
  eb_relaxed_kernel__sig: 'viiiiii',
  eb_relaxed_kernel: function (dst, stride, lhs, rhs, blocks, bias) {
    if (typeof ENVIRONMENT_IS_PTHREAD === 'undefined' || !ENVIRONMENT_IS_PTHREAD) {
      throw new Error('edgebert: eb_relaxed_kernel stub called (the relaxed SIMD kernel was not wired by the loader)');
    }
    for (var c = 0; c < 4; c++) {
      for (var r = 0; r < 2; r++) {
        var s = HEAP32[(bias >> 2) + c];
        for (var b = 0; b < blocks; b++) {
          var w = lhs + 32 * b + 16 * r, x = rhs + 64 * b + 16 * c;
          for (var i = 0; i < 16; i++) s = (s + Math.imul(HEAP8[w + i], HEAPU8[x + i])) | 0;
        }
        HEAP32[(dst >> 2) + c * stride + r] = s;
      }
    }
  },
});
