// test_util.cc: fixture helpers for the GoogleTest suite.
#include "test_util.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "gemm/gemm_u8.h"

#if defined(__EMSCRIPTEN__)
#include <emscripten/em_asm.h>
#endif

namespace edgebert::testing {

bool RelaxedKernelRequested() {
#if defined(__EMSCRIPTEN__)
  // Emscripten's getenv sees its own default environment, not node's: ask node.
  return EM_ASM_INT({ return (typeof process === 'object' && process.env.EDGEBERT_TEST_RELAXED === '1') ? 1 : 0; }) == 1;
#else
  const char* v = std::getenv("EDGEBERT_TEST_RELAXED");
  return v != nullptr && std::strcmp(v, "1") == 0;
#endif
}

namespace {

// Before any test: every GEMM of the run goes through the relaxed kernel (its own check against the
// scalar reference runs in GemmU8SetRelaxedKernel), so the whole suite tests it.
class RelaxedKernelEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    if (RelaxedKernelRequested()) {
      ASSERT_TRUE(GemmU8SetRelaxedKernel(true)) << "EDGEBERT_TEST_RELAXED=1 but the relaxed kernel is unavailable";
      // scripts/test.sh looks for this line: a run that silently kept SIMD128 would not print it.
      std::printf("relaxed-SIMD GEMM kernel on: %s\n", GemmU8KernelName());
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
