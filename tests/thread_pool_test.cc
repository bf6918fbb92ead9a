// ThreadPool (src/util/thread_pool.h): every item of every loop runs exactly once, participants
// running at the same time have distinct numbers below the thread count, across many loops in a row,
// changing thread counts and grains, busy and idle stretches (workers asleep between loops), workers
// held up (the caller finishes without them) and destruction with sleeping or polling workers. The
// wasm test build has no threads: there the caller runs every loop whole, which the same checks
// cover.
#include "util/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace edgebert {
namespace {

constexpr int kMaxThreads = 4;

constexpr bool defined_threads() {
#if defined(EDGEBERT_THREADS) && EDGEBERT_THREADS
  return true;
#else
  return false;
#endif
}

// One loop over `items`: each item's counter goes up by one; each participant number is held by one
// range at a time (a second holder at the same time would see its flag set).
void Loop(ThreadPool* pool, int threads, int items, int grain, std::vector<std::atomic<int>>* counts) {
  std::vector<std::atomic<int>> holding(kMaxThreads);
  pool->ParallelFor(threads, items, grain, [&](int participant, int begin, int end) {
    ASSERT_GE(participant, 0);
    ASSERT_LT(participant, threads);
    ASSERT_LE(0, begin);
    ASSERT_LT(begin, end);
    ASSERT_LE(end, items);
    // One thread (or a build without threads): the whole loop in one call; else grains.
    const bool whole = threads == 1 || !defined_threads();
    if (whole) {
      ASSERT_EQ(begin, 0);
      ASSERT_EQ(end, items);
    } else {
      ASSERT_LE(end - begin, grain < 1 ? 1 : grain);
    }
    ASSERT_EQ(holding[participant].exchange(1), 0) << "participant " << participant << " twice at once";
    for (int i = begin; i < end; ++i) (*counts)[i].fetch_add(1);
    holding[participant].store(0);
  });
}

void ExpectAll(const std::vector<std::atomic<int>>& counts, int items, int want) {
  for (int i = 0; i < static_cast<int>(counts.size()); ++i) ASSERT_EQ(counts[i].load(), i < items ? want : 0) << i;
}

TEST(ThreadPool, EveryItemOnceAcrossManyLoops) {
  ThreadPool pool;
  for (int threads = 1; threads <= kMaxThreads; ++threads) {
    for (const int grain : {1, 3, 64}) {
      std::vector<std::atomic<int>> counts(200);
      for (int r = 0; r < 300; ++r) Loop(&pool, threads, 197, grain, &counts);
      ExpectAll(counts, 197, 300);
    }
  }
}

TEST(ThreadPool, ChangingThreadCountsItemsAndGrains) {
  ThreadPool pool;
  std::vector<std::atomic<int>> counts(64);
  std::vector<int> want(64, 0);
  const int threads[] = {4, 1, 2, 4, 3, 1, 1, 4, 2};
  for (int r = 0; r < 500; ++r) {
    const int items = 1 + r % 64, grain = r % 5;  // grain 0 counts as 1
    Loop(&pool, threads[r % 9], items, grain, &counts);
    for (int i = 0; i < items; ++i) ++want[i];
  }
  for (int i = 0; i < 64; ++i) EXPECT_EQ(counts[i].load(), want[i]) << i;
  pool.ParallelFor(4, 0, 1, [](int, int, int) { FAIL() << "no items, no call"; });
}

TEST(ThreadPool, WorkersJoinAndUseDistinctThreads) {
#if defined(EDGEBERT_THREADS) && EDGEBERT_THREADS
  ThreadPool pool;
  // Items that each wait until four threads are inside: only a pool whose three workers all join
  // (each on a thread of its own) gets through.
  std::atomic<int> inside{0};
  std::vector<std::thread::id> ids(kMaxThreads);
  pool.ParallelFor(kMaxThreads, kMaxThreads, 1, [&](int participant, int, int) {
    ids[participant] = std::this_thread::get_id();
    inside.fetch_add(1);
    while (inside.load() < kMaxThreads) std::this_thread::yield();
  });
  for (int a = 0; a < kMaxThreads; ++a)
    for (int b = a + 1; b < kMaxThreads; ++b) EXPECT_NE(ids[a], ids[b]) << a << " " << b;
  EXPECT_EQ(ids[0], std::this_thread::get_id());
  EXPECT_EQ(pool.workers(), kMaxThreads - 1);
#else
  // No threads in this build: the caller runs the whole loop, as participant 0.
  ThreadPool pool;
  int calls = 0;
  pool.ParallelFor(kMaxThreads, 100, 1, [&](int participant, int begin, int end) {
    EXPECT_EQ(participant, 0);
    EXPECT_EQ(begin, 0);
    EXPECT_EQ(end, 100);
    ++calls;
  });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(pool.workers(), 0);
#endif
}

TEST(ThreadPool, CallerFinishesWithoutHeldUpWorkers) {
  ThreadPool pool;
  std::vector<std::atomic<int>> counts(64);
  // A first loop whose workers are held up for a while by a slow item each; the loops after it must
  // still run every item once, whoever does them.
  std::atomic<bool> slow{true};
  pool.ParallelFor(3, 3, 1, [&](int participant, int, int) {
    if (participant != 0 && slow.load()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  });
  slow.store(false);
  for (int r = 0; r < 50; ++r) Loop(&pool, 3, 64, 1, &counts);
  ExpectAll(counts, 64, 50);
}

TEST(ThreadPool, WakesSleepingWorkers) {
  ThreadPool pool;
  std::vector<std::atomic<int>> counts(100);
  for (int r = 0; r < 5; ++r) {
    for (int i = 0; i < 3; ++i) Loop(&pool, kMaxThreads, 100, 1, &counts);
    // Longer than the idle polling budget: the workers go to sleep and the next loop wakes them.
    std::this_thread::sleep_for(std::chrono::microseconds(ThreadPool::kIdleSpinUs * 5));
  }
  ExpectAll(counts, 100, 15);
}

TEST(ThreadPool, BusyStretchesAndResultsVisibleAfterTheLoop) {
  ThreadPool pool;
  std::vector<int> data(1 << 12, 0);
  for (int pass = 0; pass < 20; ++pass) {
    ScopedPoolBusy busy(&pool);
    for (int step = 0; step < 10; ++step) {
      const int threads = 1 + (pass + step) % kMaxThreads;
      pool.ParallelFor(threads, static_cast<int>(data.size()), 97, [&](int, int begin, int end) {
        for (int i = begin; i < end; ++i) data[i] += 1;  // plain writes: ParallelFor's return orders them
      });
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
      pool.ParallelFor(3, 30, 1, [&](int, int begin, int end) { ran.fetch_add(end - begin); });
      if (sleep_first) std::this_thread::sleep_for(std::chrono::microseconds(ThreadPool::kIdleSpinUs * 5));
    }
    EXPECT_EQ(ran.load(), 30);
  }
}

}  // namespace
}  // namespace edgebert
