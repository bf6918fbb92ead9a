// config.cc: config.json -> ModelConfig for model_type "distilbert" and "bert".
#include "model/config.h"

#include <cstdlib>
#include <string>

#include "util/json.h"

namespace edgebert {
namespace {

using L = ModelConfigLimits;

// config.json of a real checkpoint is a few KB (id2label of a few thousand labels: a few hundred
// KB); these bound what a crafted one costs to read (docs/LIMITS.md).
JsonParseOptions ConfigJsonOptions(std::string_view what) {
  JsonParseOptions o;
  o.max_bytes = size_t{16} << 20;
  o.max_values = size_t{1} << 21;  // id2label and label2id of kMaxLabels labels
  o.max_depth = 64;
  o.what = what;
  return o;
}

// a x b must be at most `limit` elements; names the fields in the error.
Status CheckProduct(const std::string& what, const char* a_name, int64_t a, const char* b_name, int64_t b,
                    int64_t limit, const char* why) {
  if (a * b <= limit) return Status::Ok();  // both at most 2^22 here: no overflow
  return InvalidArgument(what + ": " + a_name + " x " + b_name + " = " + std::to_string(a) + " x " +
                         std::to_string(b) + " = " + std::to_string(a * b) + " exceeds the limit of " +
                         std::to_string(limit) + " " + why + " (docs/LIMITS.md)");
}

// Optional string member: *out unchanged when absent, InvalidArgument naming the field when not a string.
Status ReadOptionalString(const Json& j, std::string_view key, const std::string& what, std::string* out) {
  if (!j.Find(key)) return Status::Ok();
  EB_ASSIGN_OR_RETURN(*out, GetString(j, key, what));
  return Status::Ok();
}

Status ReadPositiveInt(const Json& j, std::string_view key, const std::string& what, int limit, int* out) {
  EB_ASSIGN_OR_RETURN(int64_t v, GetInt(j, key, what));
  if (v <= 0 || v > limit)
    return InvalidArgument(what + ": '" + std::string(key) + "' is " + std::to_string(v) + "; expected 1.." +
                           std::to_string(limit));
  *out = static_cast<int>(v);
  return Status::Ok();
}

Result<Activation> ParseActivation(const std::string& name, const std::string& what) {
  if (name == "gelu") return Activation::kGelu;
  if (name == "gelu_new" || name == "gelu_pytorch_tanh") return Activation::kGeluTanh;
  if (name == "relu") return Activation::kRelu;
  return Unsupported(what + ": activation '" + name + "' is not supported (edgebert runs gelu, gelu_new, " +
                     "gelu_pytorch_tanh and relu)");
}

}  // namespace

const char* HeadKindName(HeadKind head) {
  switch (head) {
    case HeadKind::kNone: return "base model";
    case HeadKind::kSequenceClassification: return "sequence classification";
    case HeadKind::kTokenClassification: return "token classification";
    case HeadKind::kQuestionAnswering: return "question answering";
    case HeadKind::kMaskedLM: return "masked LM";
  }
  return "?";
}

Result<ModelConfig> ParseModelConfig(std::string_view json_text, std::string_view what_view) {
  const std::string what(what_view);
  EB_ASSIGN_OR_RETURN(const Json j, ParseJson(json_text, ConfigJsonOptions(what)));
  if (!j.is_object()) return CorruptData(what + ": not a JSON object");

  ModelConfig c;
  EB_ASSIGN_OR_RETURN(std::string model_type, GetString(j, "model_type", what));
  // Sizes are capped far above any BERT-family model to keep later size arithmetic in range.
  constexpr int kMaxDim = L::kMaxHidden, kMaxVocab = L::kMaxVocab, kMaxLayers = L::kMaxLayers,
                kMaxPos = L::kMaxPositions, kMaxInter = L::kMaxIntermediate;
  if (model_type == "distilbert") {
    c.family = ModelFamily::kDistilBert;
    EB_RETURN_IF_ERROR(ReadPositiveInt(j, "dim", what, kMaxDim, &c.hidden));
    EB_RETURN_IF_ERROR(ReadPositiveInt(j, "n_layers", what, kMaxLayers, &c.num_layers));
    EB_RETURN_IF_ERROR(ReadPositiveInt(j, "n_heads", what, kMaxDim, &c.num_heads));
    EB_RETURN_IF_ERROR(ReadPositiveInt(j, "hidden_dim", what, kMaxInter, &c.intermediate));
    c.activation_name = "gelu";
    EB_RETURN_IF_ERROR(ReadOptionalString(j, "activation", what, &c.activation_name));
    c.layer_norm_eps = 1e-12f;  // DistilBERT's LayerNorms are built with eps=1e-12 regardless of config
    if (j.Find("sinusoidal_pos_embds")) {
      EB_ASSIGN_OR_RETURN(c.sinusoidal_pos, GetBool(j, "sinusoidal_pos_embds", what));
    }
  } else if (model_type == "bert") {
    c.family = ModelFamily::kBert;
    EB_RETURN_IF_ERROR(ReadPositiveInt(j, "hidden_size", what, kMaxDim, &c.hidden));
    EB_RETURN_IF_ERROR(ReadPositiveInt(j, "num_hidden_layers", what, kMaxLayers, &c.num_layers));
    EB_RETURN_IF_ERROR(ReadPositiveInt(j, "num_attention_heads", what, kMaxDim, &c.num_heads));
    EB_RETURN_IF_ERROR(ReadPositiveInt(j, "intermediate_size", what, kMaxInter, &c.intermediate));
    c.type_vocab_size = 2;
    if (j.Find("type_vocab_size"))
      EB_RETURN_IF_ERROR(ReadPositiveInt(j, "type_vocab_size", what, L::kMaxTypeVocab, &c.type_vocab_size));
    c.activation_name = "gelu";
    EB_RETURN_IF_ERROR(ReadOptionalString(j, "hidden_act", what, &c.activation_name));
    c.layer_norm_eps = 1e-12f;
    if (j.Find("layer_norm_eps")) {
      EB_ASSIGN_OR_RETURN(double eps, GetDouble(j, "layer_norm_eps", what));
      if (!(eps > 0 && eps < 1)) return InvalidArgument(what + ": layer_norm_eps " + std::to_string(eps) + " is not in (0, 1)");
      c.layer_norm_eps = static_cast<float>(eps);
    }
    if (const Json* p = j.Find("position_embedding_type")) {
      if (p->is_string() && p->as_string() != "absolute")
        return Unsupported(what + ": position_embedding_type '" + p->as_string() +
                           "' is not supported (only 'absolute')");
    }
  } else {
    return Unsupported(what + ": model_type '" + model_type + "' is not supported (edgebert runs 'distilbert' and 'bert')");
  }
  EB_RETURN_IF_ERROR(ReadPositiveInt(j, "vocab_size", what, kMaxVocab, &c.vocab_size));
  EB_RETURN_IF_ERROR(ReadPositiveInt(j, "max_position_embeddings", what, kMaxPos, &c.max_position));
  const char* hidden_name = c.family == ModelFamily::kDistilBert ? "dim" : "hidden_size";
  const char* heads_name = c.family == ModelFamily::kDistilBert ? "n_heads" : "num_attention_heads";
  const char* inter_name = c.family == ModelFamily::kDistilBert ? "hidden_dim" : "intermediate_size";
  if (c.hidden % c.num_heads != 0)
    return InvalidArgument(what + ": " + hidden_name + " " + std::to_string(c.hidden) + " is not a multiple of " +
                           heads_name + " " + std::to_string(c.num_heads));
  // Limits that follow from the model: every table and matrix the config implies, and all of them.
  EB_RETURN_IF_ERROR(CheckProduct(what, "max_position_embeddings", c.max_position, hidden_name, c.hidden,
                                  L::kMaxTableElements, "values in the position table"));
  if (c.type_vocab_size > 0)
    EB_RETURN_IF_ERROR(CheckProduct(what, "type_vocab_size", c.type_vocab_size, hidden_name, c.hidden,
                                    L::kMaxTableElements, "values in the token type table"));
  EB_RETURN_IF_ERROR(CheckProduct(what, "max_position_embeddings", c.max_position, inter_name, c.intermediate,
                                  L::kMaxActivationElements, "FFN activation values of a full-length sequence"));
  EB_RETURN_IF_ERROR(CheckProduct(what, "vocab_size", c.vocab_size, hidden_name, c.hidden, L::kMaxMatrixElements,
                                  "values in one weight matrix"));
  EB_RETURN_IF_ERROR(CheckProduct(what, inter_name, c.intermediate, hidden_name, c.hidden, L::kMaxMatrixElements,
                                  "values in one weight matrix"));
  EB_RETURN_IF_ERROR(CheckProduct(what, hidden_name, c.hidden, hidden_name, c.hidden, L::kMaxMatrixElements,
                                  "values in one weight matrix"));
  if (const int64_t params = EstimateModelSize(c).parameters; params > L::kMaxParameters)
    return InvalidArgument(what + ": the config describes " + std::to_string(params) + " parameters (" +
                           std::to_string(c.num_layers) + " layers of " + hidden_name + " " +
                           std::to_string(c.hidden) + ", " + inter_name + " " + std::to_string(c.intermediate) +
                           "), more than the limit of " + std::to_string(L::kMaxParameters) + " (docs/LIMITS.md)");
  if (const Json* p = j.Find("pad_token_id"); p && p->is_number()) {
    const int64_t pad = p->as_int(-1);
    if (pad < 0 || pad >= c.vocab_size)
      return InvalidArgument(what + ": 'pad_token_id' is " + DumpJson(*p) + "; expected an id in 0.." +
                             std::to_string(c.vocab_size - 1));
    c.pad_token_id = static_cast<int>(pad);
  }
  EB_ASSIGN_OR_RETURN(c.activation, ParseActivation(c.activation_name, what));

  // Head: from "architectures" when present; otherwise decided later from the tensor names.
  if (const Json* archs = j.Find("architectures"); archs && archs->is_array() && archs->size() > 0) {
    if (!(*archs)[0].is_string()) return InvalidArgument(what + ": 'architectures' must be an array of strings");
    c.architecture = (*archs)[0].as_string();
    const std::string prefix = c.family == ModelFamily::kDistilBert ? "DistilBert" : "Bert";
    const struct {
      const char* suffix;
      HeadKind head;
    } kHeads[] = {{"Model", HeadKind::kNone},
                  {"ForSequenceClassification", HeadKind::kSequenceClassification},
                  {"ForTokenClassification", HeadKind::kTokenClassification},
                  {"ForQuestionAnswering", HeadKind::kQuestionAnswering},
                  {"ForMaskedLM", HeadKind::kMaskedLM}};
    bool found = false;
    for (const auto& h : kHeads)
      if (c.architecture == prefix + h.suffix) {
        c.head = h.head;
        found = true;
      }
    if (!found)
      return Unsupported(what + ": architecture '" + c.architecture + "' is not supported for model_type '" +
                         model_type + "' (edgebert runs " + prefix + "Model and " + prefix +
                         "For{SequenceClassification,TokenClassification,QuestionAnswering,MaskedLM})");
    c.head_from_architectures = true;
  }

  if (const Json* pt = j.Find("problem_type"); pt && pt->is_string()) {
    const std::string& s = pt->as_string();
    if (s == "single_label_classification") c.problem_type = ProblemType::kSingleLabel;
    else if (s == "multi_label_classification") c.problem_type = ProblemType::kMultiLabel;
    else if (s == "regression") c.problem_type = ProblemType::kRegression;
    else return InvalidArgument(what + ": problem_type '" + s + "' is not one of single_label_classification, " +
                                "multi_label_classification, regression");
  }

  // id2label: {"0": "NEG", "1": "POS"}; ids must be exactly 0..n-1. It is authoritative, as in
  // transformers' pipelines; label2id is not read (real checkpoints exist where it disagrees).
  if (const Json* id2label = j.Find("id2label"); id2label && id2label->is_object()) {
    const size_t n = id2label->size();
    if (n > static_cast<size_t>(L::kMaxLabels))
      return InvalidArgument(what + ": 'id2label' has " + std::to_string(n) + " entries; the limit is " +
                             std::to_string(L::kMaxLabels));
    c.labels.assign(n, "");
    std::vector<bool> seen(n, false);
    for (const auto& [key, value] : id2label->as_object()) {
      char* end = nullptr;
      const long id = std::strtol(key.c_str(), &end, 10);
      if (key.empty() || *end != '\0' || id < 0 || static_cast<size_t>(id) >= n || seen[id] || !value.is_string())
        return InvalidArgument(what + ": 'id2label' key '" + key + "' must be a distinct id in 0.." +
                               std::to_string(n - 1) + " mapping to a string");
      seen[id] = true;
      c.labels[id] = value.as_string();
    }
  }
  return c;
}

ModelSizeEstimate EstimateModelSize(const ModelConfig& c) {
  // Every factor is bounded by ModelConfigLimits (at most 2^22), so no product here overflows int64.
  const int64_t H = c.hidden, I = c.intermediate, V = c.vocab_size;
  const int64_t tables = (int64_t{c.max_position} + c.type_vocab_size) * H + 2 * H;  // fp32
  const int64_t word = V * H;                                                        // int8 rows
  const int64_t linear = 4 * H * H + 2 * I * H;                                      // int8, per layer
  const int64_t small = 4 * H + I + H + 4 * H;                                       // fp32, per layer
  ModelSizeEstimate e;
  e.parameters = tables + word + c.num_layers * (linear + small);
  e.fp32_bytes = 4 * e.parameters;
  e.int8_bytes = 4 * tables + word + 4 * V + c.num_layers * (linear + 4 * (4 * H + I + H) + 4 * small);
  return e;
}

}  // namespace edgebert
