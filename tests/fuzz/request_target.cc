// request_target.cc: requests to loaded models exactly as eb_run takes them (wasm/engine_bindings.cc):
// a task name and request JSON text from the caller, parsed, run, and the result dumped as JSON.
//
// Input: byte 0 picks the model (bits 0-2, of the fixture models below, loaded once: each head and
// both families, int8 from packed files and fp32 from checkpoints) and the task (bits 3-5, of the six
// tasks; 6 and 7 ask for an unknown one); the rest is the request JSON. With bit 6 set the rest is an
// array of requests run as eb_run_batch runs them (batch size 8, or 3 with bit 7), checked against
// one eb_run per request: the same results (feature-extraction floats read from the binary array)
// or, when a request fails, the first failing request's status code.
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
  if (data[0] & 0x40) {
    // eb_run_batch: ParseJson(requests_json), RunBatch(task, array, binary tensors).
    if (!req->is_array() || req->size() == 0 || req->size() > 32) return;
    BatchOptions options;
    options.batch_size = (data[0] & 0x80) ? 3 : 8;
    options.binary_tensors = true;
    auto batch = engine->RunBatch(task, req->as_array(), options);
    std::vector<Json> alone;
    for (const Json& r : req->as_array()) {
      auto one = engine->Run(task, r);
      if (!one.ok()) {
        FuzzCheck(!batch.ok() && batch.status().code() == one.status().code(),
                  "request batch: a request fails alone but not in the batch (or with another code)",
                  one.status().ToString());
        return;
      }
      alone.push_back(std::move(one).value());
    }
    FuzzCheck(batch.ok(), "request batch: the batch fails where every request succeeds alone",
              batch.ok() ? "" : batch.status().ToString());
    for (size_t i = 0; i < alone.size(); ++i) {
      const Json& b = batch->results[i];
      if (const Json* offset = b.Find("data_offset")) {
        const Json& data_alone = *alone[i].Find("data");
        const size_t at = static_cast<size_t>(offset->as_int(-1));
        FuzzCheck(at <= batch->tensor_data.size() && data_alone.size() <= batch->tensor_data.size() - at,
                  "request batch: a tensor lies outside the binary array", DumpJson(b));
        for (size_t k = 0; k < data_alone.size(); ++k) {
          FuzzCheck(static_cast<float>(data_alone[k].as_double()) == batch->tensor_data[at + k],
                    "request batch: a feature-extraction value differs from the request alone", DumpJson(b));
        }
        FuzzCheck(DumpJson(*b.Find("dims")) == DumpJson(*alone[i].Find("dims")), "request batch: dims differ",
                  DumpJson(b));
      } else {
        FuzzCheck(DumpJson(b) == DumpJson(alone[i]), "request batch: a result differs from the request alone",
                  DumpJson(b).substr(0, 200));
      }
    }
    return;
  }
  auto result = engine->Run(task, *req);
  if (!result.ok()) return;
  const std::string out = DumpJson(*result);
  FuzzCheck(ParseJson(out).ok(), "request: the result is not valid JSON", out.substr(0, 200));
}

}  // namespace edgebert::fuzz
