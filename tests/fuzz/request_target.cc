// request_target.cc: requests to loaded models exactly as eb_run takes them (wasm/engine_bindings.cc):
// a task name and request JSON text from the caller, parsed, run, and the result dumped as JSON.
//
// Input: byte 0 picks the model (bits 0-2, of the fixture models below, loaded once: each head and
// both families, int8 from packed files and fp32 from checkpoints) and the task (bits 3-5, of the six
// tasks; 6 and 7 ask for an unknown one); the rest is the request JSON.
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fuzz_targets.h"
#include "model/packed.h"
#include "pipeline/engine.h"
#include "util/json.h"

namespace edgebert::fuzz {

namespace {

struct LoadedEngines {
  std::vector<std::unique_ptr<Engine>> engines;
  std::vector<std::string> files;  // keeps every checkpoint file's bytes alive
  std::vector<uint8_t*> packed;    // packed files read in place (freed never: process lifetime)
};

std::unique_ptr<Engine> LoadFixture(const std::string& dir, bool packed, LoadedEngines* keep) {
  std::vector<std::pair<std::string, std::string_view>> files;
  for (const char* name : {"config.json", "model.safetensors", "vocab.txt", "tokenizer.json", "tokenizer_config.json"}) {
    std::string bytes = FuzzReadFile(FuzzFixturePath(dir + "/" + name));
    if (bytes.empty()) continue;
    keep->files.push_back(std::move(bytes));
    files.emplace_back(name, keep->files.back());
  }
  if (!packed) {
    EngineOptions opt;
    opt.prefer_int8 = false;
    auto e = Engine::FromHfFiles(files, opt);
    FuzzCheck(e.ok(), "request: a fixture checkpoint does not load", dir);
    return std::move(e).value();
  }
  ConvertInputs in;
  for (const auto& [name, bytes] : files) {
    if (name == "config.json") in.config_json = bytes;
    else if (name == "model.safetensors") in.safetensors = bytes;
    else in.files.emplace_back(name, bytes);
  }
  auto file = ConvertToPacked(in);
  FuzzCheck(file.ok(), "request: a fixture checkpoint does not convert", dir);
  auto* p = static_cast<uint8_t*>(std::aligned_alloc(64, (file->size() + 63) / 64 * 64));
  std::memcpy(p, file->data(), file->size());
  keep->packed.push_back(p);
  auto e = Engine::FromPackedInPlace(p, file->size());
  FuzzCheck(e.ok(), "request: a packed fixture does not load", dir);
  return std::move(e).value();
}

LoadedEngines* Engines() {
  static LoadedEngines* loaded = [] {
    auto* l = new LoadedEngines;
    const std::pair<const char*, bool> models[] = {
        {"models/distilbert_seqcls", true},  {"models/bert_tokcls_relu", true}, {"models/distilbert_qa", true},
        {"models/bert_mlm", true},           {"models/bert_base", true},        {"models/bert_qa", false},
        {"models/distilbert_mlm", false},    {"pipelines/models/ner_cased", false}};
    for (const auto& [dir, packed] : models) l->engines.push_back(LoadFixture(dir, packed, l));
    return l;
  }();
  return loaded;
}

}  // namespace

void FuzzRequest(const uint8_t* data, size_t size) {
  if (size < 1) return;
  static const char* const kTaskNames[] = {"tokenize",           "text-classification", "token-classification",
                                           "question-answering", "feature-extraction",  "fill-mask",
                                           "summarization",      ""};
  Engine* engine = Engines()->engines[data[0] & 7].get();
  const char* task = kTaskNames[(data[0] >> 3) & 7];
  // eb_run: ParseJson(request_json), Run(task, request), DumpJson(result).
  auto req = ParseJson(std::string_view(reinterpret_cast<const char*>(data + 1), size - 1));
  if (!req.ok()) return;
  auto result = engine->Run(task, *req);
  if (!result.ok()) return;
  const std::string out = DumpJson(*result);
  FuzzCheck(ParseJson(out).ok(), "request: the result is not valid JSON", out.substr(0, 200));
}

}  // namespace edgebert::fuzz
