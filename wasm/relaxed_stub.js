// relaxed_stub.js (Emscripten JS library): the import behind gemm_u8.cc's eb_relaxed_kernel until
// worker/wasm_loader.mjs replaces it, before instantiation, with the relaxed-SIMD kernel module's
// export (a direct wasm-to-wasm call). The C++ side calls it only after GemmU8SetRelaxedKernel
// succeeded, which needs the real kernel; reaching this stub is a bug, reported as such.
mergeInto(LibraryManager.library, {
  eb_relaxed_kernel__sig: 'viiiiii',
  eb_relaxed_kernel: function (dst, stride, lhs, rhs, blocks, bias) {
    throw new Error('edgebert: eb_relaxed_kernel stub called (the relaxed SIMD kernel was not wired by the loader)');
  },
});
