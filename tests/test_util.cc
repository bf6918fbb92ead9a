// test_util.cc: fixture helpers for the GoogleTest suite.
#include "test_util.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "gemm/gemm_u8.h"

namespace edgebert::testing {

bool RelaxedKernelRequested() {
  const char* v = std::getenv("EDGEBERT_TEST_RELAXED");
  return v != nullptr && std::strcmp(v, "1") == 0;
}

namespace {

// Before any test: every GEMM of the run goes through the relaxed kernel (its own check against the
// scalar reference runs in GemmU8SetRelaxedKernel), so the whole suite tests it.
class RelaxedKernelEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    if (RelaxedKernelRequested()) {
      ASSERT_TRUE(GemmU8SetRelaxedKernel(true)) << "EDGEBERT_TEST_RELAXED=1 but the relaxed kernel is unavailable";
    }
  }
};

[[maybe_unused]] ::testing::Environment* const kRelaxedEnvironment =
    ::testing::AddGlobalTestEnvironment(new RelaxedKernelEnvironment);

}  // namespace

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
