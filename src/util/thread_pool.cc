// thread_pool.cc: see thread_pool.h.
//
// One loop at a time, its state in the pool. The caller writes the loop (function, items, grain),
// resets the counters and opens it; it wakes the workers it wants by bumping each one's own
// sequence number, which the worker polls (or sleeps on). A worker that sees its number change
// enters: it counts itself in `active`, then checks that a loop is open, takes a participant number
// and claims grains from `next` until none are left. The caller claims grains too; when every item
// is done it closes the loop and waits until no worker is inside (`active` 0) before returning, so
// no worker can touch the caller's function after ParallelFor returns. A worker that arrives after
// the close sees it closed and leaves without touching anything. Every flag is seq_cst, so "count
// yourself, then look" (worker) and "close, then count" (caller) cannot both miss each other.
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
  std::atomic<unsigned> seq{0};  // bumped each time the caller wants this worker for a loop
};

// Lets other threads run while this one polls, natively (tests run 4 threads on 2 cores). In wasm
// a Web Worker has nothing to yield to: the loop just polls.
inline void Relax() {
#if !defined(__EMSCRIPTEN__)
  std::this_thread::yield();
#endif
}

}  // namespace

struct ThreadPool::Impl {
  std::vector<std::unique_ptr<Slot>> slots;  // one per worker
  std::vector<std::thread> threads;
  // The open loop, written by the caller while closed and no worker inside.
  Call call = nullptr;
  const void* fn = nullptr;
  int items = 0, grain = 1, max_participants = 1;
  alignas(64) std::atomic<int> next{0};       // first item not yet claimed
  alignas(64) std::atomic<int> remaining{0};  // items not yet done
  alignas(64) std::atomic<int> active{0};     // workers inside (entering, working or leaving)
  std::atomic<int> joined{0};                 // participant numbers handed out
  std::atomic<bool> open{false};
  std::atomic<int> sleepers{0};  // workers in (or entering) the condition-variable wait
  std::atomic<bool> busy{false};
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::condition_variable cv;

  // Claims and runs grains until none are left.
  void Work(int participant) {
    for (;;) {
      const int begin = next.fetch_add(grain, std::memory_order_relaxed);
      if (begin >= items) return;
      const int end = items - begin < grain ? items : begin + grain;
      call(fn, participant, begin, end);
      remaining.fetch_sub(end - begin, std::memory_order_release);
    }
  }

  // Polls slot.seq until it differs from `seen` (returns true) or the pool stops (false): spins for
  // the spin budget, then sleeps until woken.
  bool WaitForWake(Slot* slot, unsigned seen) {
    const Clock::time_point since = Clock::now();
    for (;;) {
      for (int i = 0; i < 256; ++i) {
        if (slot->seq.load(std::memory_order_acquire) != seen) return true;
      }
      if (stop.load(std::memory_order_relaxed)) return false;
      const int budget = busy.load(std::memory_order_relaxed) ? kBusySpinUs : kIdleSpinUs;
      if (Clock::now() - since > std::chrono::microseconds(budget)) break;
      Relax();
    }
    std::unique_lock<std::mutex> lock(mu);
    sleepers.fetch_add(1);
    cv.wait(lock, [&] { return slot->seq.load() != seen || stop.load(); });
    sleepers.fetch_sub(1);
    return !stop.load();
  }

  void WorkerLoop(Slot* slot) {
    unsigned seen = 0;
    while (WaitForWake(slot, seen)) {
      seen = slot->seq.load(std::memory_order_acquire);
      active.fetch_add(1);
      if (open.load()) {
        const int participant = joined.fetch_add(1);
        if (participant < max_participants) Work(participant);
      }
      active.fetch_sub(1);
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

void ThreadPool::ParallelForImpl(int threads, int items, int grain, Call call, const void* fn) {
  if (items <= 0) return;
  if (grain < 1) grain = 1;
  Impl& p = *impl_;
  const int helpers = std::min(threads, (items + grain - 1) / grain) - 1;
  if (helpers <= 0) {
    call(fn, 0, 0, items);
    return;
  }
  while (static_cast<int>(p.threads.size()) < helpers) {
    p.slots.push_back(std::make_unique<Slot>());
    Slot* slot = p.slots.back().get();
    p.threads.emplace_back([&p, slot] { p.WorkerLoop(slot); });
  }
  p.call = call;
  p.fn = fn;
  p.items = items;
  p.grain = grain;
  p.max_participants = helpers + 1;
  p.next.store(0, std::memory_order_relaxed);
  p.remaining.store(items, std::memory_order_relaxed);
  p.joined.store(1, std::memory_order_relaxed);  // participant 0 is the caller
  p.open.store(true);                            // publishes the loop to workers that see it open
  for (int i = 0; i < helpers; ++i) p.slots[i]->seq.fetch_add(1);
  if (p.sleepers.load() > 0) {
    // A worker between its last poll and its wait holds mu: taking it here means it either sees the
    // new seq in its predicate or is already waiting and gets the notification.
    { std::lock_guard<std::mutex> lock(p.mu); }
    p.cv.notify_all();
  }
  p.Work(0);
  while (p.remaining.load(std::memory_order_acquire) != 0) Relax();
  p.open.store(false);
  while (p.active.load() != 0) Relax();
}

#else  // !EB_POOL_THREADS

struct ThreadPool::Impl {};

ThreadPool::ThreadPool() = default;
ThreadPool::~ThreadPool() = default;
void ThreadPool::SetBusy(bool) {}
int ThreadPool::workers() const { return 0; }

void ThreadPool::ParallelForImpl(int, int items, int, Call call, const void* fn) {
  if (items > 0) call(fn, 0, 0, items);
}

#endif

}  // namespace edgebert
