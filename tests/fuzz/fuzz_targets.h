// fuzz_targets.h: the fuzz targets' entry points, shared by the libFuzzer binaries (one per target,
// tests/fuzz/fuzz_main.cc) and the GoogleTest replay of tests/fuzz/regressions/ (every build).
//
// Each target feeds bytes to the library exactly as the wasm ABI does (wasm/*_bindings.cc) and
// checks invariants that must hold for any input. A target returns normally for any input; a bug
// shows up as a sanitizer report, a crash or FuzzCheck's abort.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace edgebert {
class Engine;
}

namespace edgebert::fuzz {

// The packed .ebm loader (eb_model_load / eb_enc_model_load), then one request to the engine.
void FuzzPacked(const uint8_t* data, size_t size);
// config.json + model.safetensors: direct loading (fp32, int8) and conversion to .ebm.
void FuzzHf(const uint8_t* data, size_t size);
// Tokenizer loading (tokenizer.json, vocab.txt + configs) and encoding (eb_tokenizer_encode).
void FuzzTokenizer(const uint8_t* data, size_t size);
// The JSON reader and writer.
void FuzzJson(const uint8_t* data, size_t size);
// Requests to loaded fixture models (eb_run: task name + request JSON).
void FuzzRequest(const uint8_t* data, size_t size);

struct FuzzTarget {
  const char* name;  // the folder name under tests/fuzz/regressions/ and build/fuzz/
  void (*run)(const uint8_t*, size_t);
};
const std::vector<FuzzTarget>& FuzzTargets();

// Aborts with a message when an invariant does not hold (a finding, not a bad input). In loops over
// tokens, test the condition and call FuzzFail: a detail string built for every check (even the
// default "") costs an allocation each, which under ASan was most of the tokenizer target's time.
[[noreturn]] void FuzzFail(const char* what, const std::string& detail = "");
inline void FuzzCheck(bool ok, const char* what) {
  if (!ok) FuzzFail(what);
}
inline void FuzzCheck(bool ok, const char* what, const std::string& detail) {
  if (!ok) FuzzFail(what, detail);
}

// On the targets' own invariant checks (not library code): no coverage instrumentation, so that
// per-token loops over large encodings do not call libFuzzer's comparison hooks for every token.
// Their branches say nothing about the library's behaviour. Clang only (GCC builds the replay).
#if defined(__clang__) && __clang_major__ >= 13
#define EB_FUZZ_NO_COVERAGE __attribute__((no_sanitize("coverage")))
#else
#define EB_FUZZ_NO_COVERAGE
#endif

// Separator between the parts of a multi-part input (tokenizer target): the ASCII group separator,
// which JSON strings cannot hold unescaped and the normalizer drops as a control character anyway.
constexpr char kPartSeparator = '\x1d';
std::vector<std::string_view> SplitParts(std::string_view s);

// Runs feature-extraction and the model's own task on a short text (what a page does first after
// loading a model), so that weights that passed validation are also used.
void ExerciseEngine(Engine* engine);

// Absolute path of a file under tests/fixtures/ (the targets load fixed tokenizers from there).
std::string FuzzFixturePath(const std::string& relative);
std::string FuzzReadFile(const std::string& path);  // "" when it cannot be read

}  // namespace edgebert::fuzz
