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

// Parses config.json text. `what` names the file in messages (e.g. "config.json").
Result<ModelConfig> ParseModelConfig(std::string_view json_text, std::string_view what);

const char* HeadKindName(HeadKind head);

}  // namespace edgebert
