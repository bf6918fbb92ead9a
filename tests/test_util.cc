// test_util.cc: fixture helpers for the GoogleTest suite.
#include "test_util.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace edgebert::testing {

std::string FixturePath(const std::string& relative) {
  return std::string(EDGEBERT_FIXTURES_DIR) + "/" + relative;
}

std::string ReadFileOrFail(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot open " << path;
    return "";
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Json ReadJsonFixture(const std::string& relative) {
  std::string text = ReadFileOrFail(FixturePath(relative));
  auto parsed = ParseJson(text);
  if (!parsed.ok()) {
    ADD_FAILURE() << relative << ": " << parsed.status().ToString();
    return Json();
  }
  return std::move(parsed).value();
}

}  // namespace edgebert::testing
