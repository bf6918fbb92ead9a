// thread_pool.h: the engine's worker threads, for the GEMMs and the rest of a layer.
//
// A ParallelFor hands out a loop's items in grains to whoever comes: the calling thread starts on
// them at once, and the workers it wakes join as they arrive. What makes a pool fast here is the
// hand-off, not the work: a forward pass of a short sequence runs ~60 parallel loops of 20-300 us
// each, so a worker that went to sleep between them (a futex wait, a Web Worker's Atomics.wait in
// wasm) wakes too late for the next. So while the pool is marked busy (ScopedPoolBusy, for the
// length of a forward pass) an idle worker keeps polling for the next loop, for up to kBusySpinUs
// after its last one; outside a pass it polls only briefly and then sleeps, so that an idle engine
// holds no core. And because nobody waits for a worker that has not started yet, a worker that the
// machine does not run in time (a busy machine, more threads than free cores) costs its share of the
// speed-up, not a stall: the caller does the grains itself.
//
// Without thread support in the build (EDGEBERT_THREADS=0: the single-threaded wasm build, which
// must not reference pthreads) ParallelFor runs the whole loop on the calling thread.
#pragma once

#include <memory>

namespace edgebert {

class ThreadPool {
 public:
  // How long an idle worker polls before it sleeps: in a forward pass, and outside one.
  static constexpr int kBusySpinUs = 20000;
  static constexpr int kIdleSpinUs = 200;

  ThreadPool();
  ~ThreadPool();  // stops and joins the workers
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Calls fn(participant, begin, end) over [0, items) in grains of `grain` items (the last one may be
  // shorter), each item exactly once, by the calling thread (participant 0) and up to threads - 1
  // workers (started on first use), and returns when every grain is done. With one thread, or
  // items for one grain only, the caller gets the whole loop in one call. Participants running at
  // the same time have distinct numbers in [0, threads), for per-thread scratch; which one runs a
  // grain is up to timing, so fn's result must not depend on it. Not reentrant: fn must not call
  // ParallelFor on the same pool.
  template <typename Fn>
  void ParallelFor(int threads, int items, int grain, const Fn& fn) {
    ParallelForImpl(threads, items, grain,
                    [](const void* f, int p, int b, int e) { (*static_cast<const Fn*>(f))(p, b, e); }, &fn);
  }

  // Marks a stretch of many loops in a row (a forward pass): while busy, idle workers keep polling.
  void SetBusy(bool busy);

  // Workers started so far (the calling thread not counted).
  int workers() const;

 private:
  using Call = void (*)(const void* fn, int participant, int begin, int end);
  void ParallelForImpl(int threads, int items, int grain, Call call, const void* fn);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Marks a pool busy for a scope (a forward pass); a null pool is allowed.
class ScopedPoolBusy {
 public:
  explicit ScopedPoolBusy(ThreadPool* pool) : pool_(pool) {
    if (pool_) pool_->SetBusy(true);
  }
  ~ScopedPoolBusy() {
    if (pool_) pool_->SetBusy(false);
  }
  ScopedPoolBusy(const ScopedPoolBusy&) = delete;
  ScopedPoolBusy& operator=(const ScopedPoolBusy&) = delete;

 private:
  ThreadPool* pool_;
};

}  // namespace edgebert
