// packed_target.cc: the packed .ebm loader exactly as eb_model_load (Engine::FromPackedInPlace) and
// eb_enc_model_load (LoadPackedModelInPlace) call it, on a 64-byte-aligned copy of the input, and
// the read-only LoadPackedModel; a model that loads then answers a request.
//
// The checksum covers every byte after the preamble, so a mutated file would almost always stop at
// "checksum mismatch". An input with the magic and a wrong checksum is therefore loaded with the
// preamble's file_size and checksum rewritten to match (a fuzzing aid: what a file written on
// purpose could contain), which lets the mutations reach the header, the entry table, config.json,
// the tokenizer files and the tensors. Inputs without the magic, or with a matching checksum, are
// loaded as they are (the preamble checks; the checksum mismatch itself is a unit test).
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "fuzz_targets.h"
#include "model/packed.h"
#include "model/xxhash64.h"
#include "pipeline/engine.h"
#include "util/json.h"

namespace edgebert::fuzz {

namespace {

struct AlignedCopy {
  explicit AlignedCopy(const uint8_t* data, size_t size)
      : p(static_cast<uint8_t*>(std::aligned_alloc(64, (size + 63) / 64 * 64 + 64))), n(size) {
    if (size) std::memcpy(p, data, size);
  }
  ~AlignedCopy() { std::free(p); }
  AlignedCopy(const AlignedCopy&) = delete;
  AlignedCopy& operator=(const AlignedCopy&) = delete;
  uint8_t* p;
  size_t n;
};

uint64_t GetU64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

void PutU64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

// Loads `buf` the way the wasm ABI does, by `mode`: 0 Engine::FromPacked (read-only: the buffer must
// stay unchanged, which is checked), 1 eb_enc_model_load (LoadPackedModelInPlace: the buffer must be
// unchanged when it fails), 2 eb_model_load (Engine::FromPackedInPlace).
void LoadAndRun(AlignedCopy& buf, int mode) {
  if (mode == 0) {
    const std::string before(reinterpret_cast<const char*>(buf.p), buf.n);
    {
      auto engine = Engine::FromPacked(buf.p, buf.n);
      if (engine.ok()) ExerciseEngine(engine->get());
    }
    FuzzCheck(std::memcmp(before.data(), buf.p, buf.n) == 0, "packed: the read-only load wrote to the buffer");
  } else if (mode == 1) {
    const std::string before(reinterpret_cast<const char*>(buf.p), buf.n);
    auto model = LoadPackedModelInPlace(buf.p, buf.n);
    if (!model.ok()) {
      FuzzCheck(std::memcmp(before.data(), buf.p, buf.n) == 0, "packed: a failed in-place load changed the buffer");
    }
  } else {
    auto engine = Engine::FromPackedInPlace(buf.p, buf.n);
    if (engine.ok()) ExerciseEngine(engine->get());
  }
}

}  // namespace

void ExerciseEngine(Engine* engine) {
  const Json info = engine->Info();
  const std::string text = "Hello Paris, the [MASK] is here. \xc3\xa9t\xc3\xa9 \xe4\xb8\xad";
  auto run = [&](const char* task, Json request) {
    auto out = engine->Run(task, request);
    if (out.ok()) (void)DumpJson(*out);
  };
  Json::Object fe = {{"text", Json::String(text)}, {"truncation", Json::Bool(true)}};
  run("feature-extraction", Json::MakeObject(fe));
  run("tokenize", Json::MakeObject({{"text", Json::String(text)}}));
  for (const auto& task : info.Find("tasks")->as_array()) {
    const std::string& t = task.as_string();
    if (t == "question-answering") {
      run("question-answering", Json::MakeObject({{"question", Json::String("Where is it?")},
                                                  {"context", Json::String(text)}}));
    } else if (t == "text-classification" || t == "token-classification" || t == "fill-mask") {
      run(t.c_str(), Json::MakeObject({{"text", Json::String(text)}, {"truncation", Json::Bool(true)}}));
    }
  }
}

void FuzzPacked(const uint8_t* data, size_t size) {
  const int mode = static_cast<int>(XxHash64(data, size) % 3);  // a third of the inputs each way
  // As is: a valid (unmutated) file loads; anything else stops at the preamble or the checksum.
  AlignedCopy buf(data, size);
  if (size < kPackedPreambleBytes || std::memcmp(data, kPackedMagic, 8) != 0 ||
      XxHash64(data + kPackedPreambleBytes, size - kPackedPreambleBytes) == GetU64(data + 24)) {
    LoadAndRun(buf, mode);
    return;
  }
  // The same input with a matching file_size and checksum.
  PutU64(buf.p + 16, size);
  PutU64(buf.p + 24, XxHash64(buf.p + kPackedPreambleBytes, size - kPackedPreambleBytes));
  LoadAndRun(buf, mode);
}

}  // namespace edgebert::fuzz
