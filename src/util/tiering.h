// tiering.h: getting V8's optimized code in for wasm functions before the first real call.
//
// V8 runs a wasm function as baseline (Liftoff) code first, ~3x slower for our kernels, and compiles
// the optimized (TurboFan) version in the background once the function has used up its tiering
// budget; calls made after that compile has finished get the optimized code, while a call already
// running keeps its code (no on-stack replacement for wasm). Left alone, the first inference of a
// process runs largely on baseline code. Warm-ups at model load therefore call the hot functions on
// small inputs, in rounds, until the optimized code is in (bench/README.md, "V8 tiering").
#pragma once

#if defined(__EMSCRIPTEN__)
#include <emscripten/emscripten.h>
#endif

namespace edgebert {

// Calls round() repeatedly until the rounds are clearly faster than the first one (below 0.6x) and
// have stopped getting faster (two rounds without a 10% gain on the best), or max_ms have passed
// (engines that compile optimized code up front never speed up and pay max_ms once). Several
// functions tier up, each when its own background compile is done, so a round well below the first
// may still run some on baseline code (measured: 0.61 ms, then 0.41 for 9 ms, 0.28, then 0.15 ms).
// A round should take ~0.1-0.5 ms optimized (browsers coarsen performance.now() to 0.1 ms).
// Natively there is nothing to warm up and round() is not called.
template <typename Round>
void RunUntilOptimized(Round&& round, double max_ms) {
#if defined(__EMSCRIPTEN__)
  constexpr double kTieredRatio = 0.6, kGain = 0.9;
  const double start = emscripten_get_now();
  double first = -1, best = -1;
  int stale = 0;  // rounds since the best one
  for (;;) {
    const double t0 = emscripten_get_now();
    round();
    const double t1 = emscripten_get_now();
    const double took = t1 - t0;
    if (first < 0) {
      first = best = took;
      continue;
    }
    if (t1 - start > max_ms) return;
    if (took < kGain * best) {
      best = took;
      stale = 0;
    } else {
      ++stale;
    }
    if (best < kTieredRatio * first && stale >= 2) return;
  }
#else
  (void)round;
  (void)max_ms;
#endif
}

}  // namespace edgebert
