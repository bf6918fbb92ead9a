// text_classification.h: sequence-classification logits to labelled scores, as transformers'
// TextClassificationPipeline (4.57) post-processes them.
//
// Example (config id2label = {negative, positive}, logits {-1.2, 2.3}, default options):
//   ClassifyText(logits, config, {}) -> [{label "positive", id 1, score 0.9707}]
// Text pairs and batches need nothing special here: each (pair) input has one logits row.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/config.h"
#include "util/status.h"

namespace edgebert {

// function_to_apply. kDefault resolves from the config exactly as transformers does:
// regression -> none; multi_label_classification or num_labels == 1 -> sigmoid;
// single_label_classification or num_labels > 1 -> softmax.
enum class ClassificationFunction { kDefault, kNone, kSigmoid, kSoftmax };
// "default", "none", "sigmoid", "softmax" (any case, as transformers upper()s the name).
Result<ClassificationFunction> ParseClassificationFunction(std::string_view name);

// config.json problem_type (absent/null -> kUnspecified).
// ProblemType is the config's (model/config.h), shared with the model reader.
Result<ProblemType> ParseProblemType(std::string_view name);

struct TextClassifierConfig {
  std::vector<std::string> id2label;  // config.json id2label, index = class id
  ProblemType problem_type = ProblemType::kUnspecified;
};

struct TextClassificationOptions {
  ClassificationFunction function_to_apply = ClassificationFunction::kDefault;
  // The k best labels, best first (ties keep label order). std::nullopt = all labels (the
  // pipeline's top_k=None). The pipeline's default (no top_k) returns the single best label, which
  // is top_k = 1 here. Must be >= 1: transformers silently returns [] for 0 and drops labels for
  // negative values; we reject both.
  std::optional<int> top_k = 1;
  // Legacy return_all_scores=True (without top_k): every label in label order, unsorted.
  bool all_scores_in_label_order = false;
};

struct LabelScore {
  std::string label;
  int label_id = 0;
  float score = 0;
};

ClassificationFunction ResolveClassificationFunction(const TextClassifierConfig& config,
                                                     ClassificationFunction requested);

// One input: `logits` has one value per label (num_labels = config.id2label.size()).
Result<std::vector<LabelScore>> ClassifyText(const std::vector<float>& logits, const TextClassifierConfig& config,
                                             const TextClassificationOptions& options);

// A batch: `logits` is (batch, num_labels) row-major; one result per row.
Result<std::vector<std::vector<LabelScore>>> ClassifyTextBatch(const std::vector<float>& logits, size_t batch,
                                                               const TextClassifierConfig& config,
                                                               const TextClassificationOptions& options);

}  // namespace edgebert
