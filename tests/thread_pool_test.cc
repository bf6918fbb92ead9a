// ThreadPool (src/util/thread_pool.h): every piece of every Run runs exactly once, on its own thread,
// across many Runs in a row, changing thread counts, busy and idle stretches (workers asleep between
// Runs) and destruction with sleeping workers. The wasm test build has no threads: there Run runs
// the pieces in order on the calling thread, which the same checks cover.
#include "util/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace edgebert {
namespace {

constexpr int kMaxThreads = 4;

// Runs `runs` jobs of `threads` pieces; each piece adds its index + 1 to its own counter.
void RunMany(ThreadPool* pool, int threads, int runs, std::vector<long>* counts) {
  for (int r = 0; r < runs; ++r) {
    pool->Run(threads, [&](int t) {
      ASSERT_GE(t, 0);
      ASSERT_LT(t, threads);
      (*counts)[t] += t + 1;  // one writer per slot: a piece run twice or by two threads shows up
    });
  }
}

TEST(ThreadPool, EveryPieceOnceAcrossManyRuns) {
  ThreadPool pool;
  for (int threads = 1; threads <= kMaxThreads; ++threads) {
    std::vector<long> counts(kMaxThreads, 0);
    RunMany(&pool, threads, 2000, &counts);
    for (int t = 0; t < kMaxThreads; ++t) EXPECT_EQ(counts[t], t < threads ? 2000L * (t + 1) : 0L) << t;
  }
}

TEST(ThreadPool, ShrinkingAndGrowingThreadCounts) {
  ThreadPool pool;
  std::vector<long> counts(kMaxThreads, 0), want(kMaxThreads, 0);
  const int pattern[] = {4, 1, 2, 4, 3, 1, 1, 4, 2};
  for (int r = 0; r < 300; ++r) {
    const int threads = pattern[r % 9];
    RunMany(&pool, threads, 1, &counts);
    for (int t = 0; t < threads; ++t) want[t] += t + 1;
  }
  EXPECT_EQ(counts, want);
}

TEST(ThreadPool, PiecesRunOnDistinctThreads) {
  ThreadPool pool;
  std::vector<std::thread::id> ids(kMaxThreads);
  pool.Run(kMaxThreads, [&](int t) { ids[t] = std::this_thread::get_id(); });
  EXPECT_EQ(ids[0], std::this_thread::get_id());
#if defined(EDGEBERT_THREADS) && EDGEBERT_THREADS
  for (int a = 0; a < kMaxThreads; ++a)
    for (int b = a + 1; b < kMaxThreads; ++b) EXPECT_NE(ids[a], ids[b]) << a << " " << b;
  EXPECT_EQ(pool.workers(), kMaxThreads - 1);
#endif
}

TEST(ThreadPool, WakesSleepingWorkers) {
  ThreadPool pool;
  std::vector<long> counts(kMaxThreads, 0);
  for (int r = 0; r < 5; ++r) {
    RunMany(&pool, kMaxThreads, 3, &counts);
    // Longer than the idle polling budget: the workers go to sleep and the next Run must wake them.
    std::this_thread::sleep_for(std::chrono::microseconds(ThreadPool::kIdleSpinUs * 5));
  }
  for (int t = 0; t < kMaxThreads; ++t) EXPECT_EQ(counts[t], 15L * (t + 1));
}

TEST(ThreadPool, BusyStretchesAndResultsVisibleAfterRun) {
  ThreadPool pool;
  std::vector<int> data(1 << 12, 0);
  for (int pass = 0; pass < 20; ++pass) {
    ScopedPoolBusy busy(&pool);
    for (int step = 0; step < 10; ++step) {
      const int threads = 1 + (pass + step) % kMaxThreads;
      pool.Run(threads, [&](int t) {
        const size_t n = data.size();
        for (size_t i = n * t / threads; i < n * (t + 1) / threads; ++i) data[i] += 1;
      });
      // Everything the pieces wrote is visible to the caller once Run returns.
      for (size_t i = 0; i < data.size(); ++i) ASSERT_EQ(data[i], pass * 10 + step + 1) << i;
    }
  }
}

TEST(ThreadPool, DestroyedWhileWorkersSleepOrPoll) {
  for (int sleep_first = 0; sleep_first < 2; ++sleep_first) {
    std::atomic<int> ran{0};
    {
      ThreadPool pool;
      ScopedPoolBusy busy(sleep_first ? nullptr : &pool);
      pool.Run(3, [&](int) { ran.fetch_add(1); });
      if (sleep_first) std::this_thread::sleep_for(std::chrono::microseconds(ThreadPool::kIdleSpinUs * 5));
    }
    EXPECT_EQ(ran.load(), 3);
  }
}

}  // namespace
}  // namespace edgebert
