// hf_target.cc: a Hugging Face checkpoint (config.json + model.safetensors) loaded as the wasm ABI
// loads one: eb_model_load_hf (Engine::FromHfFiles, "fp32" or "int8"), eb_convert_hf
// (ConvertToPacked) followed by eb_model_load, and LoadHfModel with both representations.
//
// Input: byte 0 the mode (bits 0-1: 0 fp32, 1 int8, 2 convert + load the .ebm, 3 LoadHfModel fp32 +
// int8), bytes 1-4 the config.json length N (u32 little-endian), N bytes of config.json, then the
// safetensors bytes (at an unaligned address, which the reader must handle). The tokenizer is the
// fixture models' vocab.txt (1113 tokens).
//
// Invariant: a checkpoint that converts gives a packed file that loads (the converter writes what
// the loader reads); a model that loads answers requests without crashing.
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fuzz_targets.h"
#include "model/model.h"
#include "model/packed.h"
#include "pipeline/engine.h"

namespace edgebert::fuzz {

void FuzzHf(const uint8_t* data, size_t size) {
  if (size < 5) return;
  static const std::string vocab = FuzzReadFile(FuzzFixturePath("models/distilbert_base/vocab.txt"));
  const int mode = data[0] & 3;
  const uint32_t config_len = static_cast<uint32_t>(data[1]) | static_cast<uint32_t>(data[2]) << 8 |
                              static_cast<uint32_t>(data[3]) << 16 | static_cast<uint32_t>(data[4]) << 24;
  if (config_len > size - 5) return;
  const std::string_view config(reinterpret_cast<const char*>(data + 5), config_len);
  const std::string_view weights(reinterpret_cast<const char*>(data + 5 + config_len), size - 5 - config_len);
  const std::vector<std::pair<std::string, std::string_view>> files = {
      {"config.json", config}, {"model.safetensors", weights}, {"vocab.txt", vocab}};

  if (mode == 0 || mode == 1) {
    EngineOptions opt;
    opt.prefer_int8 = mode == 1;
    auto engine = Engine::FromHfFiles(files, opt);
    if (engine.ok()) ExerciseEngine(engine->get());
  } else if (mode == 2) {
    ConvertInputs in;
    in.config_json = config;
    in.safetensors = weights;
    in.files.emplace_back("vocab.txt", vocab);
    auto packed = ConvertToPacked(in);
    if (!packed.ok()) return;
    // eb_convert_hf hands out a 64-byte-aligned copy, which eb_model_load reads in place.
    uint8_t* p = static_cast<uint8_t*>(std::aligned_alloc(64, (packed->size() + 63) / 64 * 64));
    std::memcpy(p, packed->data(), packed->size());
    {
      auto engine = Engine::FromPackedInPlace(p, packed->size());
      FuzzCheck(engine.ok(), "hf: a converted checkpoint does not load",
                engine.ok() ? "" : engine.status().ToString());
      ExerciseEngine(engine->get());
    }
    std::free(p);
  } else {
    auto model = LoadHfModel(config, reinterpret_cast<const uint8_t*>(weights.data()), weights.size());
    (void)model;
  }
}

}  // namespace edgebert::fuzz
