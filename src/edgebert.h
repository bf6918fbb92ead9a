// edgebert.h: the public C++ API of edgebert: load a model, run a task, get typed results.
//
// This header and util/status.h are the whole installed surface (`#include <edgebert/edgebert.h>`
// after `find_package(edgebert CONFIG)`, target edgebert::edgebert; docs/CPP_API.md). Headers
// under src/*/ are internal. Errors are Status / Result values (util/status.h), never exceptions.
//
// Example:
//   auto model = edgebert::Pipeline::Load("model.ebm");
//   if (!model.ok()) { std::cerr << model.status().ToString() << "\n"; return 1; }
//   edgebert::TextClassificationRequest req;
//   req.text = "I love this.";
//   auto labels = model->ClassifyText(req);  // Result<std::vector<ScoredLabel>>
//   if (labels.ok()) std::cout << (*labels)[0].label << " " << (*labels)[0].score << "\n";
//
// Every request field and default mirrors the JSON request of the engine (docs/API.md, "Requests
// and responses of eb_run"), which follow the transformers pipelines. Offsets in results are BYTE
// offsets into the UTF-8 text that was passed in: text.substr(start, end - start) is the span.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/status.h"

namespace edgebert {

// "0.1.0": the library version, also the version the wasm module reports to JS.
const char* Version();

// ---- loading ------------------------------------------------------------------------------------

enum class Quantization {
  kInt8,  // int8 weights and GEMMs: what packed .ebm files hold; a checkpoint is quantized at load
  kFp32,  // a Hugging Face checkpoint's weights as fp32: the exact path (parity with transformers)
};

struct LoadOptions {
  // kFp32 needs a Hugging Face checkpoint (a packed .ebm holds int8 weights only: InvalidArgument).
  Quantization quantization = Quantization::kInt8;
  // Threads the int8 GEMMs may use, the caller's included; 1 to 256 (Unsupported above 1 in a build
  // without threads, EDGEBERT_THREADS=0, as the single-threaded wasm one).
  int threads = 1;
};

// What a loaded model is (the engine's eb_model_info).
struct ModelInfo {
  std::string model_type;          // "distilbert" | "bert"
  std::string architecture;        // config.json architectures[0], e.g. "DistilBertForTokenClassification"
  std::string head;                // "base model", "sequence classification", "token classification",
                                   // "question answering" or "masked LM"
  std::vector<std::string> tasks;  // the engine tasks this model runs, e.g. "token-classification"
  std::vector<std::string> labels;  // id2label, index = class id (empty without a classifier)
  int max_position_embeddings = 0;
  int hidden_size = 0;
  int num_layers = 0;
  int vocab_size = 0;
  Quantization quantization = Quantization::kInt8;  // the precision the encoder runs in
};

// ---- requests and results -----------------------------------------------------------------------
// Each request's first field is its text, so `model->ClassifyText({"some text"})` works.

// text-classification (also text pairs, e.g. NLI).
enum class ScoreFunction {
  kDefault,  // as TextClassificationPipeline: regression -> none; multi-label or one label ->
             // sigmoid; otherwise softmax
  kSoftmax,
  kSigmoid,
  kNone,  // the logits
};
struct TextClassificationRequest {
  std::string text = {};
  std::optional<std::string> text_pair = std::nullopt;  // a second text, encoded as [CLS] text [SEP] pair [SEP]
  std::optional<int> top_k = 1;          // best labels to return; std::nullopt = every label
  ScoreFunction function_to_apply = ScoreFunction::kDefault;
  bool truncation = false;  // false: a text longer than the model is OutOfRange
};
struct ScoredLabel {
  std::string label;  // config.json id2label (LABEL_i where it has none)
  float score = 0;
};

// token-classification (NER).
enum class Aggregation { kNone, kSimple, kFirst, kAverage, kMax };  // transformers' aggregation_strategy
struct TokenClassificationRequest {
  std::string text = {};
  Aggregation aggregation_strategy = Aggregation::kNone;
  std::vector<std::string> ignore_labels = {"O"};  // labels (kNone) or groups left out of the result
  // Long texts: overlapping windows of the model's length sharing `stride` tokens (needs an
  // aggregation other than kNone, as transformers). Absent: a longer text is OutOfRange unless
  // `truncation`.
  std::optional<int> stride = std::nullopt;
  bool truncation = false;
};
struct EntitySpan {
  std::string entity;  // the token's label ("B-PER") with kNone, the group ("PER") otherwise
  float score = 0;
  int index = -1;      // kNone: the token's index in the encoded sequence ([CLS] = 0); -1 for groups
  std::string word;    // transformers' "word" (decoded tokens: "##" merged, lower case when uncased)
  size_t start = 0;    // byte offsets into `text`: text.substr(start, end - start)
  size_t end = 0;
};

// question-answering (extractive).
struct QuestionAnsweringRequest {
  std::string question = {};
  std::string context = {};
  int top_k = 1;  // answers to return, best first
  // Tokens per window; absent: min(model limit, 384). A context longer than one window is split
  // into windows overlapping by doc_stride tokens; absent: min(max_seq_len / 2, 128), and no more
  // than half the context room of a window.
  std::optional<int> max_seq_len = std::nullopt;
  std::optional<int> doc_stride = std::nullopt;
  int max_answer_len = 15;        // tokens
  int max_question_len = 64;      // accepted for transformers compatibility (its slow path only)
  bool handle_impossible_answer = false;  // allow the empty answer {start 0, end 0, ""}
  bool align_to_words = true;             // answers start and end on word boundaries
};
struct AnswerSpan {
  double score = 0;  // a probability, summed over equal answers (as transformers)
  size_t start = 0;  // byte offsets into `context`; the answer is context.substr(start, end - start)
  size_t end = 0;
  std::string answer;
};

// feature-extraction / sentence embeddings.
enum class PoolingMode {
  kNone,  // every token's last hidden state: dims {1, tokens, hidden}
  kMean,  // the mean over tokens with attention mask 1 (sentence-transformers): dims {1, hidden}
  kCls,   // the first token's: dims {1, hidden}
};
struct FeatureExtractionRequest {
  std::string text = {};
  std::optional<std::string> text_pair = std::nullopt;
  PoolingMode pooling = PoolingMode::kNone;
  bool normalize = false;  // divide by the L2 norm of the last dimension
  bool truncation = false;
  // The sentence-transformers setting (the JS API's 'sentence-embeddings' task): mean pooling,
  // normalized, truncated to the model's length.
  static FeatureExtractionRequest SentenceEmbedding(std::string text) {
    FeatureExtractionRequest r;
    r.text = std::move(text);
    r.pooling = PoolingMode::kMean;
    r.normalize = true;
    r.truncation = true;
    return r;
  }
};
struct Tensor {
  std::vector<size_t> dims;  // {1, tokens, hidden} or {1, hidden}
  std::vector<float> data;   // row-major
};

// fill-mask.
struct FillMaskRequest {
  std::string text;  // with one or more [MASK] tokens
  int top_k = 5;
  // Restrict the candidates to these vocabulary tokens (each must be one whole token).
  std::vector<std::string> targets = {};
  bool truncation = false;
};
struct MaskPrediction {
  float score = 0;
  int64_t token = 0;      // the token id
  std::string token_str;  // its text
  std::string sequence;   // the input decoded with this token in place of the mask
};

// ---- the model ----------------------------------------------------------------------------------

// One loaded model, able to run every task its head serves (ModelInfo::tasks; feature-extraction
// always). Movable, not copyable; a moved-from Pipeline may only be assigned to or destroyed.
// Calls on one Pipeline must not overlap (it keeps scratch memory between calls); separate
// Pipelines are independent.
class Pipeline {
 public:
  // A packed model file (.ebm, from `edgebert convert`) or a Hugging Face checkpoint directory
  // (config.json, model.safetensors, and tokenizer.json or vocab.txt, optionally
  // tokenizer_config.json and special_tokens_map.json).
  static Result<Pipeline> Load(const std::string& path, const LoadOptions& options = {});
  // A packed model's bytes; they are copied (the caller's buffer may be freed afterwards).
  static Result<Pipeline> FromPackedBytes(const void* data, size_t size, const LoadOptions& options = {});
  // A Hugging Face checkpoint given as file contents by file name ("config.json",
  // "model.safetensors", "tokenizer.json" or "vocab.txt", ...). Nothing is kept from the buffers.
  static Result<Pipeline> FromHuggingFaceFiles(const std::vector<std::pair<std::string, std::string>>& files,
                                               const LoadOptions& options = {});

  Pipeline(Pipeline&&) noexcept;
  Pipeline& operator=(Pipeline&&) noexcept;
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;
  ~Pipeline();

  const ModelInfo& Info() const;

  // The tasks. A task the model's head does not serve, and option values out of range, are
  // InvalidArgument naming the task or option; a text longer than the model is OutOfRange.
  Result<std::vector<ScoredLabel>> ClassifyText(const TextClassificationRequest& request);
  Result<std::vector<EntitySpan>> ClassifyTokens(const TokenClassificationRequest& request);
  Result<std::vector<AnswerSpan>> AnswerQuestion(const QuestionAnsweringRequest& request);
  Result<Tensor> ExtractFeatures(const FeatureExtractionRequest& request);
  // One list of predictions per [MASK] in the text, in order; no mask is InvalidArgument.
  Result<std::vector<std::vector<MaskPrediction>>> FillMask(const FillMaskRequest& request);

  // The JSON interface the wasm module gives JavaScript (eb_run, docs/API.md): `task` is one of
  // tokenize, text-classification, token-classification, question-answering, feature-extraction,
  // fill-mask; the request and the response are JSON text. Offsets are UTF-16 code units unless
  // the request says "offset_unit": "byte" or "codepoint".
  Result<std::string> RunJson(std::string_view task, std::string_view request_json);

  // Threads for the int8 GEMMs from now on, 1 to 256 (as LoadOptions::threads).
  Status SetThreads(int threads);

 private:
  struct Impl;
  explicit Pipeline(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Names as the JSON requests spell them ("int8", "softmax", "first", "mean"), for messages and CLIs.
const char* QuantizationName(Quantization q);
const char* ScoreFunctionName(ScoreFunction f);
const char* AggregationName(Aggregation a);
const char* PoolingModeName(PoolingMode p);

}  // namespace edgebert
