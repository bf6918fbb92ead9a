// config.h: the model configuration edgebert needs, read from a Hugging Face config.json.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace edgebert {

enum class ModelFamily { kDistilBert, kBert };

enum class HeadKind {
  kNone,                    // DistilBertModel / BertModel: last hidden states (+ BERT pooler output)
  kSequenceClassification,  // (batch, num_labels)
  kTokenClassification,     // (batch, seq, num_labels)
  kQuestionAnswering,       // start and end logits, (batch, seq) each
  kMaskedLM,                // (positions, vocab)
};

// Activation of the FFN (and of the MLM transform). Anything else in config.json is Unsupported.
enum class Activation {
  kGelu,      // "gelu": exact 0.5 x (1 + erf(x / sqrt 2)), what BERT and DistilBERT use
  kGeluTanh,  // "gelu_new", "gelu_pytorch_tanh": the tanh approximation
  kRelu,      // "relu"
};

enum class ProblemType { kUnspecified, kSingleLabel, kMultiLabel, kRegression };

struct ModelConfig {
  ModelFamily family = ModelFamily::kBert;
  HeadKind head = HeadKind::kNone;
  std::string architecture;  // e.g. "DistilBertForSequenceClassification"; "" if config.json has none
  bool head_from_architectures = false;  // false: head is decided from the tensor names present
  int vocab_size = 0;
  int hidden = 0;             // dim / hidden_size
  int num_layers = 0;
  int num_heads = 0;
  int intermediate = 0;       // hidden_dim / intermediate_size
  int max_position = 0;       // max_position_embeddings
  int type_vocab_size = 0;    // BERT token types; 0 for DistilBERT
  int pad_token_id = 0;
  float layer_norm_eps = 1e-12f;  // DistilBERT hard-codes 1e-12
  Activation activation = Activation::kGelu;
  std::string activation_name;
  bool sinusoidal_pos = false;  // DistilBERT sinusoidal_pos_embds
  ProblemType problem_type = ProblemType::kUnspecified;
  std::vector<std::string> labels;  // id2label in id order; empty when config.json has none

  int head_dim() const { return hidden / num_heads; }
};

// Limits a config must meet (docs/LIMITS.md), far above any BERT-family checkpoint. They bound
// every size the loader derives from the config, so a config alone is refused before any weight is
// fetched or allocated, and no size arithmetic can wrap in wasm32's 32-bit size_t.
struct ModelConfigLimits {
  static constexpr int kMaxHidden = 1 << 16;            // dim / hidden_size (also attention heads)
  static constexpr int kMaxIntermediate = 1 << 18;      // hidden_dim / intermediate_size
  static constexpr int kMaxLayers = 256;                // n_layers / num_hidden_layers
  static constexpr int kMaxVocab = 1 << 22;             // vocab_size
  static constexpr int kMaxPositions = 1 << 16;         // max_position_embeddings
  static constexpr int kMaxTypeVocab = 1 << 16;         // type_vocab_size
  static constexpr int kMaxLabels = 1 << 20;            // id2label entries
  // positions x hidden and token types x hidden: tables kept (or computed, for DistilBERT's
  // sinusoidal positions) in fp32; 2^25 floats = 128 MiB (BERT-base: 512 x 768 = 393216).
  static constexpr int64_t kMaxTableElements = int64_t{1} << 25;
  // positions x intermediate: the FFN activations of one full-length sequence, (tokens, intermediate)
  // floats; 2^26 = 256 MiB (BERT-base: 512 x 3072 = 1.5M).
  static constexpr int64_t kMaxActivationElements = int64_t{1} << 26;
  // Any one weight matrix (vocab x hidden, intermediate x hidden, hidden x hidden): 2^28 values,
  // 1 GiB in fp32 (BERT-base's largest, the word embeddings, is 30522 x 768 = 23.4M).
  static constexpr int64_t kMaxMatrixElements = int64_t{1} << 28;
  // All the weights of the encoder: 2^31 parameters, whose int8 form alone is half of wasm32's
  // 4 GiB (BERT-large: 335M).
  static constexpr int64_t kMaxParameters = int64_t{1} << 31;
};

// Parses config.json text and checks it against ModelConfigLimits. `what` names the file in
// messages (e.g. "config.json"). This is also the check to run on config.json alone, before the
// weights are downloaded (eb_config_check in wasm/engine_bindings.cc).
Result<ModelConfig> ParseModelConfig(std::string_view json_text, std::string_view what);

// What loading a model of this config costs, from the config alone (the encoder and embeddings;
// a classification head adds at most a hidden x hidden pooler and a small classifier).
struct ModelSizeEstimate {
  int64_t parameters = 0;  // every weight, bias and LayerNorm value of the embeddings and encoder
  int64_t fp32_bytes = 0;  // parameters x 4: LoadHfModel's fp32 path
  int64_t int8_bytes = 0;  // the packed model: Linear weights and word embeddings int8, the rest fp32
};
ModelSizeEstimate EstimateModelSize(const ModelConfig& config);

const char* HeadKindName(HeadKind head);

}  // namespace edgebert
