// thread_choice.cc: see thread_choice.h.
#include "pipeline/thread_choice.h"

#include <algorithm>

namespace edgebert {

void ThreadChoice::Reset(int max_threads, bool measured) {
  max_threads_ = max_threads < 1 ? 1 : max_threads;
  measured_ = measured && max_threads_ > 1;
  for (Group& g : groups_) g = Group();
}

int ThreadChoice::GroupOf(int64_t tokens) {
  int g = 0;
  while (g + 1 < kGroups && (int64_t{1} << (g + 1)) <= tokens) ++g;
  return g;
}

int ThreadChoice::Choose(int64_t tokens) {
  if (!measured_) return max_threads_;
  Group& g = groups_[GroupOf(tokens)];
  // Trials: alternate, one thread first.
  if (g.one.samples < kTrials && g.one.samples <= g.many.samples) return 1;
  if (g.many.samples < kTrials) return max_threads_;
  const bool many_faster = g.many.Estimate() < g.one.Estimate();
  const bool recheck = ++g.passes % kRecheckEvery == 0;
  return many_faster != recheck ? max_threads_ : 1;
}

void ThreadChoice::Record(int64_t tokens, int threads, double seconds) {
  if (!measured_ || tokens <= 0 || !(seconds >= 0)) return;
  Group& g = groups_[GroupOf(tokens)];
  Option& o = threads > 1 ? g.many : g.one;
  o.last[o.samples % kWindow] = seconds / static_cast<double>(tokens);
  ++o.samples;
}

double ThreadChoice::Option::Estimate() const {
  const int n = samples < kWindow ? samples : kWindow;
  double best = n > 0 ? last[0] : 0;
  for (int i = 1; i < n; ++i) best = std::min(best, last[i]);
  return best;
}

}  // namespace edgebert
