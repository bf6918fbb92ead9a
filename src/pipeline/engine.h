// engine.h: one loaded model end to end: text in, Hugging Face pipeline results out.
//
// The engine joins the tokenizer (src/tokenizer), the encoder (src/encoder) and the task heads
// (src/heads) behind one request/response interface in JSON, the contract docs/API.md describes
// and that wasm/engine_bindings.cc exposes to JavaScript. One text (or pair) per request; RunBatch
// runs many requests of one task with their encoder passes batched (padded, sorted by length). Offsets
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
#include "heads/text_classification.h"
#include "model/model.h"
#include "pipeline/thread_choice.h"
#include "tokenizer/tokenizer.h"
#include "util/json.h"
#include "util/status.h"

namespace edgebert {

struct EngineOptions {
  // Run the int8 path when the model has int8 weights (packed models always do); false forces
  // fp32, which needs fp32 weights (a checkpoint loaded directly).
  bool prefer_int8 = true;
};

// Batches (RunBatch). The windows of all requests are sorted by token count and cut into
// batches, in that order, each one encoder pass over a (sequences, longest) padded block: a batch
// holds at most `batch_size` sequences and kMaxBatchTokens padded tokens (a longer sequence runs
// alone), and its padded tokens stay within kMaxBatchPadding times its real ones, so padding costs
// little. Padded positions are masked out of attention and every per-token step is row-independent,
// so a sequence's outputs are the same bits whatever it is batched with (tests/engine_batch_test.cc).
constexpr int kDefaultBatchSize = 8;
constexpr int kMaxBatchSize = 256;
constexpr int kMaxBatchTokens = 4096;
constexpr double kMaxBatchPadding = 1.5;

struct BatchOptions {
  int batch_size = kDefaultBatchSize;  // sequences per encoder pass, 1..kMaxBatchSize
  // feature-extraction: each result's floats go to BatchResult::tensor_data and the response is
  // {"dims": [...], "data_offset": k} (k counts floats) instead of {"dims", "data": [numbers]}.
  bool binary_tensors = false;
  // text-classification: each response goes to BatchResult::labels (label ids and scores, best
  // first) and its JSON result is null, for callers that want numbers (eb_run_classify).
  bool label_scores = false;
  // The caller's index of requests[0], for error messages ("input 7: ..."). Messages name the input
  // when there is more than one request or first_index > 0.
  size_t first_index = 0;
};

struct BatchResult {
  std::vector<Json> results;       // one per request, in input order
  std::vector<float> tensor_data;  // binary_tensors: the feature-extraction floats, concatenated
  std::vector<std::vector<LabelScore>> labels;  // label_scores: text-classification's, per request
};

// What the last Run or RunBatch did, in counts rather than time, so that tests can check that the
// cost of every task grows linearly with its input (tests/engine_cost_test.cc).
struct EngineWork {
  size_t encoded_tokens = 0;    // tokens in the encodings the tokenizer returned, windows included
  size_t windows = 0;           // sequences through the encoder (windows of every request)
  size_t passes = 0;            // encoder calls (a batch of sequences is one)
  size_t forwarded_tokens = 0;  // tokens through the encoder, over all passes, padding included
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
  // cannot serve, and malformed requests are InvalidArgument with the reason. Its windows run one
  // per encoder pass (RunBatch with batch_size 1).
  Result<Json> Run(std::string_view task, const Json& request);

  // Runs many requests of one task: each is checked and encoded first (a bad one fails the whole
  // call before any encoder pass, its status naming the input: "input 3: ..."), then the windows
  // of all of them run in batches (see kDefaultBatchSize), then each response is built. Results
  // are in input order and equal to Run's, request by request.
  Result<BatchResult> RunBatch(std::string_view task, const std::vector<Json>& requests,
                               const BatchOptions& options = {});

  // {"model_type", "architecture", "head", "tasks", "labels" (id2label), "max_position_embeddings",
  //  "hidden_size", "num_layers", "vocab_size", "quantization"}
  Json Info() const;

  // Threads an encoder pass may use (the caller's included). Builds without thread support
  // (EDGEBERT_THREADS=0) always use one; the caller validates n >= 1. measured: each pass runs with
  // one thread or n, whichever this engine measured faster for passes of its size (ThreadChoice);
  // otherwise always n.
  void SetMaxThreads(int n, bool measured = false) { threads_.Reset(n, measured); }
  const ThreadChoice& threads() const { return threads_; }

  const EngineWork& last_work() const { return work_; }
  const Model& model() const { return *model_; }
  const Tokenizer& tokenizer() const { return tokenizer_; }

 private:
  Engine() = default;
  static Result<std::unique_ptr<Engine>> Finish(std::unique_ptr<Model> model, Tokenizer tokenizer,
                                                const EngineOptions& options);
  static Result<std::unique_ptr<Engine>> FromPackedModel(std::unique_ptr<Model> model, const EngineOptions& options);

  struct Pending;       // a request encoded, waiting for its encoder passes (engine.cc)
  struct WindowOutput;  // one window's outputs, handed to its request (engine.cc)
  class TensorSink;     // where binary feature-extraction results go (engine.cc)
  struct BatchJob {     // one window of one request, as batches are cut
    size_t request, window, tokens;
  };

  // Runs the encoder on jobs[begin, end) as one padded batch and hands each its outputs.
  Status ForwardBatch(const std::vector<BatchJob>& jobs, size_t begin, size_t end, std::vector<Pending>* pending);
  size_t MaxTokens() const;  // longest sequence the model takes (position table, tokenizer limit)
  // Encodes one text (or pair); longer than MaxTokens() is OutOfRange unless `truncation`.
  Result<Encoding> EncodeChecked(std::string_view text, const std::optional<std::string>& pair,
                                 bool truncation);

  Status CheckTask(std::string_view task) const;
  Result<Pending> Prepare(std::string_view task, const Json& request);
  Result<Json> RunTokenize(const Json& req);
  Result<Pending> PrepareTextClassification(const Json& req);
  Result<Pending> PrepareTokenClassification(const Json& req);
  Result<Pending> PrepareQuestionAnswering(const Json& req);
  Result<Pending> PrepareFeatureExtraction(const Json& req);
  Result<Pending> PrepareFillMask(const Json& req);

  std::unique_ptr<Model> model_;
  Tokenizer tokenizer_;
  std::vector<std::string> vocab_;  // id -> token string, for the heads' "word" and fill-mask
  Precision precision_ = Precision::kFp32;
  size_t config_max_length_ = 0;  // tokenizer_config.json model_max_length; 0 = none
  DecoderOptions decoder_;        // fill-mask's decoding (DecoderFromFiles)
  RunState state_;
  ThreadChoice threads_;
  EngineWork work_;
  std::vector<int32_t> batch_ids_, batch_mask_, batch_types_, batch_positions_;  // (sequences, longest)
};

}  // namespace edgebert
