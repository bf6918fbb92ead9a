// text_classification.cc: softmax/sigmoid/none, top-k and labels for sequence classification.
#include "heads/text_classification.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "heads/token_meta.h"

namespace edgebert {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

Result<ClassificationFunction> ParseClassificationFunction(std::string_view name) {
  const std::string n = Lower(name);
  if (n == "default") return ClassificationFunction::kDefault;
  if (n == "none") return ClassificationFunction::kNone;
  if (n == "sigmoid") return ClassificationFunction::kSigmoid;
  if (n == "softmax") return ClassificationFunction::kSoftmax;
  return InvalidArgument("Unrecognized `function_to_apply` argument: '" + std::string(name) +
                         "' (expected one of default, none, sigmoid, softmax)");
}

Result<ProblemType> ParseProblemType(std::string_view name) {
  if (name.empty()) return ProblemType::kUnspecified;
  if (name == "single_label_classification") return ProblemType::kSingleLabel;
  if (name == "multi_label_classification") return ProblemType::kMultiLabel;
  if (name == "regression") return ProblemType::kRegression;
  return InvalidArgument("config.json problem_type '" + std::string(name) +
                         "' is not one of regression, single_label_classification, multi_label_classification");
}

ClassificationFunction ResolveClassificationFunction(const TextClassifierConfig& config,
                                                     ClassificationFunction requested) {
  if (requested != ClassificationFunction::kDefault) return requested;
  const size_t num_labels = config.id2label.size();
  if (config.problem_type == ProblemType::kRegression) return ClassificationFunction::kNone;
  if (config.problem_type == ProblemType::kMultiLabel || num_labels == 1) return ClassificationFunction::kSigmoid;
  if (config.problem_type == ProblemType::kSingleLabel || num_labels > 1) return ClassificationFunction::kSoftmax;
  return ClassificationFunction::kNone;
}

Result<std::vector<LabelScore>> ClassifyText(const std::vector<float>& logits, const TextClassifierConfig& config,
                                             const TextClassificationOptions& options) {
  const size_t num_labels = config.id2label.size();
  if (num_labels == 0) return InvalidArgument("text classification: config id2label is empty");
  if (logits.size() != num_labels) {
    return InvalidArgument("text classification: got " + std::to_string(logits.size()) + " logits but id2label has " +
                           std::to_string(num_labels) + " labels");
  }
  if (options.top_k && *options.top_k < 1) {
    return InvalidArgument("text classification: top_k must be >= 1 (got " + std::to_string(*options.top_k) +
                           "); use no top_k (std::nullopt) for all labels");
  }
  for (size_t i = 0; i < num_labels; ++i) {
    if (!std::isfinite(logits[i])) {
      return InvalidArgument("text classification: logit " + std::to_string(i) + " is not finite");
    }
  }

  std::vector<float> scores = logits;
  switch (ResolveClassificationFunction(config, options.function_to_apply)) {
    case ClassificationFunction::kSoftmax:
      SoftmaxInPlace(scores.data(), scores.size());
      break;
    case ClassificationFunction::kSigmoid:
      for (float& s : scores) s = static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(s))));
      break;
    case ClassificationFunction::kNone:
    case ClassificationFunction::kDefault:
      break;
  }

  std::vector<LabelScore> out(num_labels);
  for (size_t i = 0; i < num_labels; ++i) out[i] = {config.id2label[i], static_cast<int>(i), scores[i]};
  if (options.all_scores_in_label_order) return out;
  // Python's sort(reverse=True) is stable: equal scores keep label order (so top_k=1 is argmax).
  std::stable_sort(out.begin(), out.end(), [](const LabelScore& a, const LabelScore& b) { return a.score > b.score; });
  if (options.top_k && static_cast<size_t>(*options.top_k) < out.size()) out.resize(*options.top_k);
  return out;
}

Result<std::vector<std::vector<LabelScore>>> ClassifyTextBatch(const std::vector<float>& logits, size_t batch,
                                                               const TextClassifierConfig& config,
                                                               const TextClassificationOptions& options) {
  const size_t num_labels = config.id2label.size();
  if (logits.size() != batch * num_labels) {
    return InvalidArgument("text classification: a batch of " + std::to_string(batch) + " with " +
                           std::to_string(num_labels) + " labels needs " + std::to_string(batch * num_labels) +
                           " logits, got " + std::to_string(logits.size()));
  }
  std::vector<std::vector<LabelScore>> out;
  out.reserve(batch);
  for (size_t b = 0; b < batch; ++b) {
    std::vector<float> row(logits.begin() + b * num_labels, logits.begin() + (b + 1) * num_labels);
    EB_ASSIGN_OR_RETURN(auto r, ClassifyText(row, config, options));
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace edgebert
