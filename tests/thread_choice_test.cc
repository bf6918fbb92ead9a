// ThreadChoice (src/pipeline/thread_choice.h): the per-size choice between one thread and the
// maximum that threads: 'auto' runs, fed with made-up pass times.
#include "pipeline/thread_choice.h"

#include <gtest/gtest.h>

#include <vector>

namespace edgebert {
namespace {

// Runs `passes` passes of `tokens` tokens, each taking ms_one or ms_many milliseconds by its thread
// count; returns the thread counts chosen.
std::vector<int> Passes(ThreadChoice* c, int64_t tokens, int passes, double ms_one, double ms_many) {
  std::vector<int> chosen;
  for (int i = 0; i < passes; ++i) {
    const int t = c->Choose(tokens);
    chosen.push_back(t);
    c->Record(tokens, t, (t > 1 ? ms_many : ms_one) / 1000);
  }
  return chosen;
}

int Count(const std::vector<int>& v, int x, size_t from = 0) {
  int n = 0;
  for (size_t i = from; i < v.size(); ++i) n += v[i] == x;
  return n;
}

TEST(ThreadChoice, FixedCountWhenNotMeasured) {
  ThreadChoice c;
  c.Reset(2, /*measured=*/false);
  EXPECT_EQ(Passes(&c, 128, 10, 1, 100), std::vector<int>(10, 2));
  c.Reset(1, /*measured=*/true);  // one thread: nothing to measure
  EXPECT_FALSE(c.measured());
  EXPECT_EQ(Passes(&c, 128, 5, 1, 1), std::vector<int>(5, 1));
}

TEST(ThreadChoice, TrialsAlternateThenTheFasterRunsAndTheOtherIsRechecked) {
  ThreadChoice c;
  c.Reset(2, true);
  const std::vector<int> got = Passes(&c, 128, 6 + 64, /*ms_one=*/20, /*ms_many=*/12);
  EXPECT_EQ(std::vector<int>(got.begin(), got.begin() + 6), (std::vector<int>{1, 2, 1, 2, 1, 2}));
  // After the trials: the faster (2 threads), with one thread every 16th pass.
  EXPECT_EQ(Count(got, 1, 6), 64 / ThreadChoice::kRecheckEvery);
  EXPECT_EQ(Count(got, 2, 6), 64 - 64 / ThreadChoice::kRecheckEvery);
}

TEST(ThreadChoice, OneThreadWhereThreadsAreSlower) {
  ThreadChoice c;
  c.Reset(4, true);
  const std::vector<int> got = Passes(&c, 16, 6 + 32, /*ms_one=*/3, /*ms_many=*/3.3);
  EXPECT_EQ(Count(got, 4, 6), 32 / ThreadChoice::kRecheckEvery);
}

TEST(ThreadChoice, FollowsAChangeAndKeepsSizesApart) {
  ThreadChoice c;
  c.Reset(2, true);
  Passes(&c, 384, 6 + 32, /*ms_one=*/90, /*ms_many=*/50);  // long passes: threads help
  Passes(&c, 20, 6 + 32, /*ms_one=*/3, /*ms_many=*/4);     // short ones: they do not
  EXPECT_EQ(c.Choose(384), 2);
  EXPECT_EQ(c.Choose(20), 1);
  // The machine gets busy: two threads now take 150 ms at 384 tokens. The rechecks notice; within
  // a few of them every pass but the rechecks runs one thread.
  const std::vector<int> busy = Passes(&c, 384, 16 * 8, /*ms_one=*/100, /*ms_many=*/150);
  EXPECT_EQ(Count(busy, 2, 16 * 4), 4) << "only the rechecks run 2 threads once the change is seen";
  // 300 tokens is the same group as 384 (256-511): it inherits what that group measured.
  EXPECT_EQ(c.Choose(300), 1);
}

TEST(ThreadChoice, OneSlowPassMovesNothing) {
  ThreadChoice c;
  c.Reset(2, true);
  // The first one-thread trial runs while something else holds the machine (3x slower): the
  // fastest of the window ignores it, and the trials still find one thread faster.
  int t = c.Choose(128);
  ASSERT_EQ(t, 1);
  c.Record(128, t, 0.060);
  const std::vector<int> got = Passes(&c, 128, 5 + 32, /*ms_one=*/20, /*ms_many=*/30);
  EXPECT_EQ(Count(got, 2, 5), 32 / ThreadChoice::kRecheckEvery);
}

TEST(ThreadChoice, ThreeSlowPassesInARowMoveNothing) {
  ThreadChoice c;
  c.Reset(2, true);
  Passes(&c, 128, 6 + 8, /*ms_one=*/18, /*ms_many=*/11);
  // Two threads hit three hiccups in a row (19 ms, slower than one thread): still the faster.
  for (int i = 0; i < ThreadChoice::kWindow - 1; ++i) {
    ASSERT_EQ(c.Choose(128), 2);
    c.Record(128, 2, 0.019);
  }
  EXPECT_EQ(c.Choose(128), 2);
}

TEST(ThreadChoice, IgnoresNonsenseTimes) {
  ThreadChoice c;
  c.Reset(2, true);
  c.Record(128, 1, -1);
  c.Record(0, 1, 0.01);
  c.Record(128, 1, 0.0 / 0.0);
  EXPECT_EQ(c.Choose(128), 1) << "no trial was counted";
}

}  // namespace
}  // namespace edgebert
