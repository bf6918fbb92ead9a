// test_util.h: helpers shared by the tests (fixture paths, file reading, JSON fixtures).
#pragma once

#include <string>

#include "util/json.h"

namespace edgebert::testing {

// Absolute path of a file under tests/fixtures/ (works natively and under node with NODERAWFS).
std::string FixturePath(const std::string& relative);

// Whole file as bytes; fails the current test (and returns "") when it cannot be read.
std::string ReadFileOrFail(const std::string& path);

// Parses a JSON fixture; fails the current test on error.
Json ReadJsonFixture(const std::string& relative);

// Whether this run was asked to use the relaxed-SIMD GEMM kernel (EDGEBERT_TEST_RELAXED=1; wasm
// only, with the kernel wired by wasm/node_prejs.js). A global test environment turns it on before
// any test and fails the whole run if it cannot.
bool RelaxedKernelRequested();

}  // namespace edgebert::testing
