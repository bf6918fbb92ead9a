// config.cc: config.json -> ModelConfig for model_type "distilbert" and "bert".
#include "model/config.h"

#include <cstdlib>
#include <string>

#include "util/json.h"

namespace edgebert {
namespace {

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
  auto parsed = ParseJson(json_text);
  if (!parsed.ok()) return CorruptData(what + ": " + parsed.status().message());
  const Json& j = *parsed;
  if (!j.is_object()) return CorruptData(what + ": not a JSON object");

  ModelConfig c;
  EB_ASSIGN_OR_RETURN(std::string model_type, GetString(j, "model_type", what));
  // Sizes are capped far above any BERT-family model to keep later size arithmetic in range.
  constexpr int kMaxDim = 1 << 16, kMaxVocab = 1 << 22, kMaxLayers = 256, kMaxPos = 1 << 16;
  if (model_type == "distilbert") {
    c.family = ModelFamily::kDistilBert;
    EB_RETURN_IF_ERROR(ReadPositiveInt(j, "dim", what, kMaxDim, &c.hidden));
    EB_RETURN_IF_ERROR(ReadPositiveInt(j, "n_layers", what, kMaxLayers, &c.num_layers));
    EB_RETURN_IF_ERROR(ReadPositiveInt(j, "n_heads", what, kMaxDim, &c.num_heads));
    EB_RETURN_IF_ERROR(ReadPositiveInt(j, "hidden_dim", what, kMaxDim * 4, &c.intermediate));
    c.activation_name = "gelu";
    if (const Json* a = j.Find("activation")) c.activation_name = a->as_string();
    c.layer_norm_eps = 1e-12f;  // DistilBERT's LayerNorms are built with eps=1e-12 regardless of config
    if (const Json* s = j.Find("sinusoidal_pos_embds")) c.sinusoidal_pos = s->as_bool(false);
  } else if (model_type == "bert") {
    c.family = ModelFamily::kBert;
    EB_RETURN_IF_ERROR(ReadPositiveInt(j, "hidden_size", what, kMaxDim, &c.hidden));
    EB_RETURN_IF_ERROR(ReadPositiveInt(j, "num_hidden_layers", what, kMaxLayers, &c.num_layers));
    EB_RETURN_IF_ERROR(ReadPositiveInt(j, "num_attention_heads", what, kMaxDim, &c.num_heads));
    EB_RETURN_IF_ERROR(ReadPositiveInt(j, "intermediate_size", what, kMaxDim * 4, &c.intermediate));
    c.type_vocab_size = 2;
    if (j.Find("type_vocab_size"))
      EB_RETURN_IF_ERROR(ReadPositiveInt(j, "type_vocab_size", what, 1 << 16, &c.type_vocab_size));
    c.activation_name = "gelu";
    if (const Json* a = j.Find("hidden_act")) c.activation_name = a->as_string();
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
  if (c.hidden % c.num_heads != 0)
    return InvalidArgument(what + ": hidden size " + std::to_string(c.hidden) + " is not a multiple of the " +
                           std::to_string(c.num_heads) + " attention heads");
  if (const Json* p = j.Find("pad_token_id"); p && p->is_number()) c.pad_token_id = static_cast<int>(p->as_int(0));
  EB_ASSIGN_OR_RETURN(c.activation, ParseActivation(c.activation_name, what));

  // Head: from "architectures" when present; otherwise decided later from the tensor names.
  if (const Json* archs = j.Find("architectures"); archs && archs->is_array() && archs->size() > 0) {
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
    if (n > (1u << 20)) return InvalidArgument(what + ": id2label has " + std::to_string(n) + " entries");
    c.labels.assign(n, "");
    std::vector<bool> seen(n, false);
    for (const auto& [key, value] : id2label->as_object()) {
      char* end = nullptr;
      const long id = std::strtol(key.c_str(), &end, 10);
      if (key.empty() || *end != '\0' || id < 0 || static_cast<size_t>(id) >= n || seen[id] || !value.is_string())
        return InvalidArgument(what + ": id2label key '" + key + "' must be a distinct id in 0.." +
                               std::to_string(n - 1) + " mapping to a string");
      seen[id] = true;
      c.labels[id] = value.as_string();
    }
  }
  return c;
}

}  // namespace edgebert
