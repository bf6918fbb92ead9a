// thread_pool.cc: see thread_pool.h.
//
// Each worker has a slot of its own: the caller writes a worker's job into its slot and then bumps
// the slot's sequence number; the worker polls (or sleeps on) that number only. A worker that is not
// needed for a Run is not told about it, so no worker can ever see a half-written job: the caller
// writes a slot only while its worker is idle (the previous Run waited for every worker it used).
#include "util/thread_pool.h"

#if defined(EDGEBERT_THREADS) && EDGEBERT_THREADS
#define EB_POOL_THREADS 1
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>
#else
#define EB_POOL_THREADS 0
#endif

namespace edgebert {

#if EB_POOL_THREADS

namespace {

using Clock = std::chrono::steady_clock;

struct alignas(64) Slot {
  std::atomic<unsigned> seq{0};  // bumped once per job given to this worker
  void (*call)(const void*, int) = nullptr;
  const void* fn = nullptr;
};

}  // namespace

struct ThreadPool::Impl {
  std::vector<std::unique_ptr<Slot>> slots;  // one per worker; worker i runs piece i + 1
  std::vector<std::thread> threads;
  alignas(64) std::atomic<int> pending{0};  // pieces of the current Run not yet finished by workers
  std::atomic<int> sleepers{0};             // workers in (or entering) the condition-variable wait
  std::atomic<bool> busy{false};
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::condition_variable cv;

  // Polls slot.seq until it differs from `seen` (returns true) or the pool stops (false): spins for
  // the spin budget, then sleeps until woken.
  bool WaitForJob(Slot* slot, unsigned seen) {
    const auto changed = [&] { return slot->seq.load(std::memory_order_acquire) != seen; };
    const Clock::time_point since = Clock::now();
    for (;;) {
      for (int i = 0; i < 256; ++i) {
        if (changed()) return true;
      }
      if (stop.load(std::memory_order_relaxed)) return false;
      const int budget = busy.load(std::memory_order_relaxed) ? kBusySpinUs : kIdleSpinUs;
      if (Clock::now() - since > std::chrono::microseconds(budget)) break;
#if !defined(__EMSCRIPTEN__)
      // Natively there may be more threads than cores (tests run 4 on 2): let the others run. In
      // wasm a Web Worker's yield does nothing useful.
      std::this_thread::yield();
#endif
    }
    std::unique_lock<std::mutex> lock(mu);
    sleepers.fetch_add(1, std::memory_order_seq_cst);
    cv.wait(lock, [&] { return slot->seq.load(std::memory_order_seq_cst) != seen || stop.load(); });
    sleepers.fetch_sub(1, std::memory_order_relaxed);
    return !stop.load();
  }

  void WorkerLoop(Slot* slot, int piece) {
    unsigned seen = 0;
    while (WaitForJob(slot, seen)) {
      seen = slot->seq.load(std::memory_order_acquire);
      slot->call(slot->fn, piece);
      pending.fetch_sub(1, std::memory_order_acq_rel);
    }
  }
};

ThreadPool::ThreadPool() : impl_(new Impl) {}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stop.store(true);
  }
  impl_->cv.notify_all();
  for (std::thread& t : impl_->threads) t.join();
}

void ThreadPool::SetBusy(bool busy) { impl_->busy.store(busy, std::memory_order_relaxed); }

int ThreadPool::workers() const { return static_cast<int>(impl_->threads.size()); }

void ThreadPool::RunImpl(int threads, void (*call)(const void*, int), const void* fn) {
  Impl& p = *impl_;
  const int helpers = threads - 1;
  if (helpers <= 0) {
    call(fn, 0);
    return;
  }
  while (static_cast<int>(p.threads.size()) < helpers) {
    p.slots.push_back(std::make_unique<Slot>());
    Slot* slot = p.slots.back().get();
    const int piece = static_cast<int>(p.threads.size()) + 1;
    p.threads.emplace_back([&p, slot, piece] { p.WorkerLoop(slot, piece); });
  }
  p.pending.store(helpers, std::memory_order_relaxed);
  for (int i = 0; i < helpers; ++i) {
    Slot& s = *p.slots[i];
    s.call = call;
    s.fn = fn;
    s.seq.fetch_add(1, std::memory_order_seq_cst);  // publishes call and fn
  }
  if (p.sleepers.load(std::memory_order_seq_cst) > 0) {
    // A worker between its last poll and its wait holds mu: taking it here means it either sees the
    // new seq in its predicate or is already waiting and gets the notification.
    { std::lock_guard<std::mutex> lock(p.mu); }
    p.cv.notify_all();
  }
  call(fn, 0);
  while (p.pending.load(std::memory_order_acquire) != 0) {
#if !defined(__EMSCRIPTEN__)
    std::this_thread::yield();
#endif
  }
}

#else  // !EB_POOL_THREADS

struct ThreadPool::Impl {};

ThreadPool::ThreadPool() = default;
ThreadPool::~ThreadPool() = default;
void ThreadPool::SetBusy(bool) {}
int ThreadPool::workers() const { return 0; }

void ThreadPool::RunImpl(int threads, void (*call)(const void*, int), const void* fn) {
  for (int t = 0; t < (threads > 1 ? threads : 1); ++t) call(fn, t);
}

#endif

}  // namespace edgebert
