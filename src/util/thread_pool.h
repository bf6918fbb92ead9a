// thread_pool.h: the engine's worker threads, for the GEMMs and the rest of a layer.
//
// One Run hands each worker its piece of a job and waits for all of them; the calling thread does
// piece 0 itself. What makes a pool fast here is the hand-off, not the work: a forward pass of a
// short sequence runs ~60 parallel pieces of 20-300 us each, so a worker that went to sleep between
// them (a futex wait, a Web Worker's Atomics.wait in wasm) wakes too late for the next. So while the
// pool is marked busy (SetBusy, for the length of a forward pass) an idle worker keeps polling for
// its next piece, for up to kBusySpinUs after its last one; outside a pass it polls only briefly and
// then sleeps, so that an idle engine holds no core. Without thread support in the build
// (EDGEBERT_THREADS=0: the single-threaded wasm build, which must not reference pthreads) Run runs
// every piece on the calling thread.
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

  // Calls fn(t) for every t in [0, threads), t = 0 on the calling thread, each other t on a worker
  // of its own (started on first use), and returns when every call has returned. Not reentrant: fn
  // must not call Run on the same pool.
  template <typename Fn>
  void Run(int threads, const Fn& fn) {
    RunImpl(threads, [](const void* f, int t) { (*static_cast<const Fn*>(f))(t); }, &fn);
  }

  // Marks a stretch of many Runs in a row (a forward pass): while busy, idle workers keep polling.
  void SetBusy(bool busy);

  // Workers started so far (the calling thread not counted).
  int workers() const;

 private:
  void RunImpl(int threads, void (*call)(const void*, int), const void* fn);
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
