// fuzz_common.cc: helpers shared by the fuzz targets (invariant checks, input splitting, fixtures).
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "fuzz_targets.h"

#ifndef EDGEBERT_FIXTURES_DIR
#error "EDGEBERT_FIXTURES_DIR must name tests/fixtures"
#endif

namespace edgebert::fuzz {

const std::vector<FuzzTarget>& FuzzTargets() {
  static const std::vector<FuzzTarget> targets = {
      {"packed", FuzzPacked}, {"hf", FuzzHf}, {"tokenizer", FuzzTokenizer}, {"json", FuzzJson},
      {"request", FuzzRequest}};
  return targets;
}

void FuzzFail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz invariant violated: %s%s%s\n", what, detail.empty() ? "" : ": ", detail.c_str());
  std::abort();
}

std::vector<std::string_view> SplitParts(std::string_view s) {
  std::vector<std::string_view> parts;
  for (;;) {
    const size_t at = s.find(kPartSeparator);
    if (at == std::string_view::npos) break;
    parts.push_back(s.substr(0, at));
    s.remove_prefix(at + 1);
  }
  parts.push_back(s);
  return parts;
}

std::string FuzzFixturePath(const std::string& relative) { return std::string(EDGEBERT_FIXTURES_DIR) + "/" + relative; }

std::string FuzzReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return "";
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace edgebert::fuzz
