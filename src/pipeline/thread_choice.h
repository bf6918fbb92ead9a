// thread_choice.h: how many threads an encoder pass gets when the user asked for 'auto'.
//
// Whether a second thread helps depends on the pass (a 16-token sequence has too little work to
// split; 384 tokens split well), on the machine (two cores, one of them busy with another tab or
// process, make a second thread a loss) and on the moment. So it is measured, not guessed: passes
// are grouped by size (tokens, in powers of two); in each group the first passes alternate between
// one thread and the maximum, kTrials each, and from then on the group runs the faster of the two,
// running the other once every kRecheckEvery passes so that a change (the machine got busy, or
// quiet) is noticed. Each option's speed is the fastest of its last kWindow passes (seconds per
// token): noise here only ever slows a pass (another engine at the same moment, a GC pause, a
// worker descheduled: in Chromium on the 2-core test machine about one 2-thread pass in four at
// 128 tokens took 1.5-2x the usual), so a few slow passes move nothing, while a lasting change (a
// busy machine) shows in all of them. The threads never change a result (the encoder gives the same bits
// with any count), only its time.
#pragma once

#include <cstdint>

namespace edgebert {

class ThreadChoice {
 public:
  static constexpr int kTrials = 3;
  static constexpr int kWindow = 4;
  static constexpr int kRecheckEvery = 16;
  static constexpr int kGroups = 26;  // tokens up to 2^25

  // max_threads > 1 and measured: choose per pass; otherwise every pass gets max_threads.
  void Reset(int max_threads, bool measured);

  // Threads for the next pass of `tokens` tokens (batch x sequence length).
  int Choose(int64_t tokens);
  // What the pass that Choose was asked for took.
  void Record(int64_t tokens, int threads, double seconds);

  int max_threads() const { return max_threads_; }
  bool measured() const { return measured_; }

 private:
  struct Option {
    int samples = 0;
    double last[kWindow] = {};  // seconds per token of the last kWindow passes, oldest overwritten
    double Estimate() const;     // the smallest of those there are
  };
  struct Group {
    Option one, many;
    int64_t passes = 0;  // passes chosen since the trials ended
  };
  static int GroupOf(int64_t tokens);

  int max_threads_ = 1;
  bool measured_ = false;
  Group groups_[kGroups];
};

}  // namespace edgebert
