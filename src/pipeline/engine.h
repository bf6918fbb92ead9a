// engine.h: one loaded model end to end: text in, Hugging Face pipeline results out.
//
// The engine joins the tokenizer (src/tokenizer), the encoder (src/encoder) and the task heads
// (src/heads) behind one request/response interface in JSON, the contract docs/API.md describes
// and that wasm/engine_bindings.cc exposes to JavaScript. One text (or pair) per request. Offsets
// in responses are in the unit the request's "offset_unit" names: "utf16" by default (what
// JavaScript's String.slice takes), "byte", or "codepoint" (what Python's str indexing takes).
//
// Example:
//   EB_ASSIGN_OR_RETURN(auto engine, Engine::FromPacked(bytes, size));
//   EB_ASSIGN_OR_RETURN(Json out, engine->Run("question-answering",
//                       *ParseJson(R"({"question":"Where?","context":"In Paris."})")));
//   // out: [{"score": 0.93, "start": 3, "end": 8, "answer": "Paris"}]
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "encoder/encoder.h"
#include "heads/decode.h"
#include "heads/question_answering.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"
#include "util/json.h"
#include "util/status.h"

namespace edgebert {

struct EngineOptions {
  // Run the int8 path when the model has int8 weights (packed models always do); false forces
  // fp32, which needs fp32 weights (a checkpoint loaded directly).
  bool prefer_int8 = true;
};

// What the last Run did, in counts rather than time, so that tests can check that the cost of
// every task grows linearly with its input (tests/engine_cost_test.cc).
struct EngineWork {
  size_t encoded_tokens = 0;    // tokens in the encodings the tokenizer returned, windows included
  size_t windows = 0;           // encoder passes
  size_t forwarded_tokens = 0;  // tokens through the encoder, over all passes
  QuestionAnsweringWork qa;     // question answering's span search and answer merging
  size_t result_values = 0;     // JSON values in the result (its size)
};

class Engine {
 public:
  // A packed model file (docs/FORMAT.md), read in place: `data` must outlive the engine.
  static Result<std::unique_ptr<Engine>> FromPacked(const uint8_t* data, size_t size,
                                                    const EngineOptions& options = {});
  // The same for a buffer handed over to the engine: its Linear weights are repacked in place
  // (LoadPackedModelInPlace), so they are not held twice. `data` must outlive the engine and is no
  // longer a valid packed file once this succeeds; on failure it may have been modified only if
  // the model loaded and the tokenizer then failed (so load it again from the original file).
  static Result<std::unique_ptr<Engine>> FromPackedInPlace(uint8_t* data, size_t size,
                                                           const EngineOptions& options = {});
  // A Hugging Face checkpoint given as file contents by name: config.json, model.safetensors, and
  // tokenizer.json or vocab.txt (+ tokenizer_config.json, special_tokens_map.json). The buffers
  // may be freed after the call.
  static Result<std::unique_ptr<Engine>> FromHfFiles(
      const std::vector<std::pair<std::string, std::string_view>>& files, const EngineOptions& options = {});

  // Runs one request. Tasks: tokenize, text-classification, token-classification,
  // question-answering, feature-extraction, fill-mask. Unknown tasks, tasks the model's head
  // cannot serve, and malformed requests are InvalidArgument with the reason.
  Result<Json> Run(std::string_view task, const Json& request);

  // {"model_type", "architecture", "head", "tasks", "labels" (id2label), "max_position_embeddings",
  //  "hidden_size", "num_layers", "vocab_size", "quantization"}
  Json Info() const;

  // Threads the int8 GEMMs may use (the caller's included). Builds without thread support
  // (EDGEBERT_THREADS=0) always use one; the caller validates n >= 1.
  void SetMaxThreads(int n) { state_.qscratch.max_threads = n; }

  const EngineWork& last_work() const { return work_; }
  const Model& model() const { return *model_; }
  const Tokenizer& tokenizer() const { return tokenizer_; }

 private:
  Engine() = default;
  static Result<std::unique_ptr<Engine>> Finish(std::unique_ptr<Model> model, Tokenizer tokenizer,
                                                const EngineOptions& options);
  static Result<std::unique_ptr<Engine>> FromPackedModel(std::unique_ptr<Model> model, const EngineOptions& options);

  // Runs the encoder on one encoding (batch 1, no padding).
  Status Forward(const Encoding& enc, EncoderOutput* out);
  size_t MaxTokens() const;  // longest sequence the model takes (position table, tokenizer limit)
  // Encodes one text (or pair); longer than MaxTokens() is OutOfRange unless `truncation`.
  Result<Encoding> EncodeChecked(std::string_view text, const std::optional<std::string>& pair,
                                 bool truncation);

  Result<Json> RunTask(std::string_view task, const Json& request);
  Result<Json> RunTokenize(const Json& req);
  Result<Json> RunTextClassification(const Json& req);
  Result<Json> RunTokenClassification(const Json& req);
  Result<Json> RunQuestionAnswering(const Json& req);
  Result<Json> RunFeatureExtraction(const Json& req);
  Result<Json> RunFillMask(const Json& req);

  std::unique_ptr<Model> model_;
  Tokenizer tokenizer_;
  std::vector<std::string> vocab_;  // id -> token string, for the heads' "word" and fill-mask
  Precision precision_ = Precision::kFp32;
  size_t config_max_length_ = 0;  // tokenizer_config.json model_max_length; 0 = none
  DecoderOptions decoder_;        // fill-mask's decoding (DecoderFromFiles)
  RunState state_;
  EngineWork work_;
};

}  // namespace edgebert
