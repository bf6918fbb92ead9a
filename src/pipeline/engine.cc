// engine.cc: requests in JSON -> tokenizer -> encoder -> task head -> results in JSON.
#include "pipeline/engine.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <memory>
#include <optional>

#include "heads/fill_mask.h"
#include "heads/question_answering.h"
#include "heads/sentence_embedding.h"
#include "heads/text_classification.h"
#include "heads/token_classification.h"
#include "heads/token_meta.h"
#include "model/packed.h"
#include "util/checked.h"

namespace edgebert {
namespace {

// ---- small JSON helpers --------------------------------------------------------------------------

Json Str(std::string s) { return Json::String(std::move(s)); }
Json Num(double d) { return Json::Number(d); }

template <typename T>
Json IntArray(const std::vector<T>& v) {
  Json::Array a;
  a.reserve(v.size());
  for (T x : v) a.push_back(Json::Number(static_cast<double>(x)));
  return Json::MakeArray(std::move(a));
}

Json FloatArray(const float* p, size_t n) {
  Json::Array a;
  a.reserve(n);
  for (size_t i = 0; i < n; ++i) a.push_back(Json::Number(p[i]));
  return Json::MakeArray(std::move(a));
}

// Reads an optional integer option in [lo, hi] (hi: 2^30 by default, far above any count a model
// or text gives, and safe to double on wasm32).
constexpr int kMaxIntOption = 1 << 30;
Status OptInt(const Json& req, const char* key, int lo, int* out, int hi = kMaxIntOption) {
  const Json* v = req.Find(key);
  if (!v || v->is_null()) return Status::Ok();
  const int64_t x = v->as_int(INT64_MIN);
  if (!v->is_number() || x == INT64_MIN || x < lo || x > hi) {
    return InvalidArgument(std::string("option '") + key + "' must be an integer between " + std::to_string(lo) +
                           " and " + std::to_string(hi) + ", got " + DumpJson(*v));
  }
  *out = static_cast<int>(x);
  return Status::Ok();
}

Status OptBool(const Json& req, const char* key, bool* out) {
  const Json* v = req.Find(key);
  if (!v || v->is_null()) return Status::Ok();
  if (!v->is_bool()) return InvalidArgument(std::string("option '") + key + "' must be true or false");
  *out = v->as_bool();
  return Status::Ok();
}

Status OptString(const Json& req, const char* key, std::string* out) {
  const Json* v = req.Find(key);
  if (!v || v->is_null()) return Status::Ok();
  if (!v->is_string()) return InvalidArgument(std::string("option '") + key + "' must be a string");
  *out = v->as_string();
  return Status::Ok();
}

Result<OffsetUnit> ParseOffsetUnit(const Json& req) {
  std::string unit = "utf16";
  EB_RETURN_IF_ERROR(OptString(req, "offset_unit", &unit));
  if (unit == "utf16") return OffsetUnit::kUtf16;
  if (unit == "byte") return OffsetUnit::kByte;
  if (unit == "codepoint") return OffsetUnit::kCodePoint;
  return InvalidArgument("option 'offset_unit' is '" + unit + "'; it must be one of utf16, byte, codepoint");
}

// Every key of a request must be known to its task: a misspelt option is an error, not a default.
Status CheckKeys(const Json& req, std::string_view task, std::initializer_list<const char*> allowed) {
  for (const auto& kv : req.as_object()) {
    bool ok = kv.first == "offset_unit";
    for (const char* a : allowed) ok = ok || kv.first == a;
    if (!ok) {
      std::string list;
      for (const char* a : allowed) list += std::string(list.empty() ? "" : ", ") + a;
      return InvalidArgument("unknown option '" + kv.first + "' for " + std::string(task) + " (options: " + list +
                             ", offset_unit)");
    }
  }
  return Status::Ok();
}

Result<std::string> NeedString(const Json& req, const char* key, std::string_view task) {
  const Json* v = req.Find(key);
  if (!v || !v->is_string()) return InvalidArgument(std::string(task) + " needs a string '" + key + "'");
  return v->as_string();
}

// "text_pair": absent, null or "" = no pair. transformers' tokenizer call tests `if text_pair`, so
// an empty second text is no pair at all (no second [SEP]); " " is a pair with an empty second
// sequence.
Result<std::optional<std::string>> OptPair(const Json& req) {
  const Json* v = req.Find("text_pair");
  if (!v || v->is_null()) return std::optional<std::string>();
  if (!v->is_string()) return InvalidArgument("option 'text_pair' must be a string");
  if (v->as_string().empty()) return std::optional<std::string>();
  return std::optional<std::string>(v->as_string());
}

// Maps byte offsets of one UTF-8 text to another unit with a table built once per text.
class OffsetMap {
 public:
  OffsetMap(std::string_view text, OffsetUnit unit) : unit_(unit) {
    if (unit == OffsetUnit::kByte) return;
    table_.assign(text.size() + 1, 0);
    int pos = 0;
    size_t i = 0;
    while (i < text.size()) {
      unsigned char c = static_cast<unsigned char>(text[i]);
      size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
      len = std::min(len, text.size() - i);
      for (size_t j = 0; j < len; ++j) table_[i + j] = pos;
      pos += (unit == OffsetUnit::kUtf16 && len == 4) ? 2 : 1;
      i += len;
    }
    table_[text.size()] = pos;
  }
  int operator()(int byte) const {
    if (unit_ == OffsetUnit::kByte || table_.empty()) return byte;
    return table_[static_cast<size_t>(std::clamp<int>(byte, 0, static_cast<int>(table_.size()) - 1))];
  }

 private:
  OffsetUnit unit_;
  std::vector<int> table_;
};

std::vector<TokenMeta> ToTokenMeta(const Encoding& enc) {
  std::vector<TokenMeta> out(enc.size());
  for (size_t i = 0; i < enc.size(); ++i) {
    TokenMeta& t = out[i];
    t.id = enc.ids[i];
    t.start_byte = static_cast<int>(enc.offsets[i].start);
    t.end_byte = static_cast<int>(enc.offsets[i].end);
    t.word_id = enc.word_ids[i];
    t.sequence_id = enc.sequence_ids[i];
    t.special = enc.special_tokens_mask[i] != 0;
  }
  return out;
}

// The main encoding followed by its overflowing windows, flattened in HF's order.
void CollectWindows(const Encoding& enc, std::vector<const Encoding*>* out) {
  out->push_back(&enc);
  for (const Encoding& o : enc.overflowing) CollectWindows(o, out);
}

bool HeadServes(HeadKind head, std::string_view task) {
  if (task == "tokenize" || task == "feature-extraction") return true;
  switch (head) {
    case HeadKind::kSequenceClassification: return task == "text-classification";
    case HeadKind::kTokenClassification: return task == "token-classification";
    case HeadKind::kQuestionAnswering: return task == "question-answering";
    case HeadKind::kMaskedLM: return task == "fill-mask";
    case HeadKind::kNone: return false;
  }
  return false;
}

const char* kTasks[] = {"tokenize", "text-classification", "token-classification", "question-answering",
                        "feature-extraction", "fill-mask"};

std::vector<std::string> Labels(const ModelConfig& config, int num_labels) {
  std::vector<std::string> labels = config.labels;
  // transformers names missing labels LABEL_i.
  for (int i = static_cast<int>(labels.size()); i < num_labels; ++i) labels.push_back("LABEL_" + std::to_string(i));
  labels.resize(static_cast<size_t>(std::max(num_labels, 0)));
  return labels;
}

}  // namespace

// ---- construction --------------------------------------------------------------------------------

namespace {

// The tokenizer from whichever files the checkpoint has: tokenizer.json first (what
// transformers' fast tokenizer reads), else vocab.txt with its optional configs.
Result<Tokenizer> MakeTokenizer(const std::function<const std::string_view*(std::string_view)>& find) {
  if (const std::string_view* tok_json = find("tokenizer.json")) return Tokenizer::FromTokenizerJson(*tok_json);
  if (const std::string_view* vocab_txt = find("vocab.txt")) {
    const std::string_view* cfg = find("tokenizer_config.json");
    const std::string_view* map = find("special_tokens_map.json");
    return Tokenizer::FromVocabFiles(*vocab_txt, cfg ? *cfg : std::string_view(), map ? *map : std::string_view());
  }
  return NotFound("the model carries no tokenizer: it needs tokenizer.json or vocab.txt");
}

// tokenizer_config.json's model_max_length, which transformers applies on top of tokenizer.json
// (0 when absent, unparsable, or the "no limit" placeholder of 1e30 transformers writes).
size_t TokenizerConfigMaxLength(const std::function<const std::string_view*(std::string_view)>& find) {
  const std::string_view* cfg = find("tokenizer_config.json");
  if (!cfg) return 0;
  auto json = ParseJson(*cfg);
  if (!json.ok()) return 0;  // the tokenizer loader reports a broken config where it reads it
  const Json* v = json->Find("model_max_length");
  if (!v || !v->is_number() || !(v->as_double() >= 1) || v->as_double() > 1e9) return 0;
  return static_cast<size_t>(v->as_double());
}

// How fill-mask decodes tokens back to text, as the checkpoint's fast tokenizer does:
// tokenizer.json's WordPiece decoder (prefix, cleanup) and tokenizer_config.json's
// clean_up_tokenization_spaces, which transformers 4.57 takes as false when absent.
Result<DecoderOptions> DecoderFromFiles(const std::function<const std::string_view*(std::string_view)>& find) {
  DecoderOptions d;
  d.clean_up_tokenization_spaces = false;
  if (const std::string_view* cfg = find("tokenizer_config.json")) {
    auto json = ParseJson(*cfg);
    if (json.ok()) {  // the tokenizer loader reports a broken config where it reads it
      if (const Json* v = json->Find("clean_up_tokenization_spaces"); v && !v->is_null()) {
        if (!v->is_bool()) {
          return InvalidArgument("tokenizer_config.json: clean_up_tokenization_spaces must be true or false, got " +
                                 DumpJson(*v));
        }
        d.clean_up_tokenization_spaces = v->as_bool();
      }
    }
  }
  if (const std::string_view* tok = find("tokenizer.json")) {
    auto json = ParseJson(*tok);
    const Json* dec = json.ok() ? json->Find("decoder") : nullptr;
    if (dec && dec->is_object() && dec->Find("type") && dec->Find("type")->as_string() == "WordPiece") {
      if (const Json* p = dec->Find("prefix"); p && p->is_string()) d.continuing_subword_prefix = p->as_string();
      if (const Json* c = dec->Find("cleanup"); c && c->is_bool()) d.wordpiece_cleanup = c->as_bool();
    }
  }
  return d;
}

}  // namespace

Result<std::unique_ptr<Engine>> Engine::FromPacked(const uint8_t* data, size_t size, const EngineOptions& options) {
  EB_ASSIGN_OR_RETURN(std::unique_ptr<Model> model, LoadPackedModel(data, size));
  return FromPackedModel(std::move(model), options);
}

Result<std::unique_ptr<Engine>> Engine::FromPackedInPlace(uint8_t* data, size_t size, const EngineOptions& options) {
  EB_ASSIGN_OR_RETURN(std::unique_ptr<Model> model, LoadPackedModelInPlace(data, size));
  return FromPackedModel(std::move(model), options);
}

Result<std::unique_ptr<Engine>> Engine::FromPackedModel(std::unique_ptr<Model> model, const EngineOptions& options) {
  const Model* m = model.get();
  auto find = [m](std::string_view name) { return m->FindFile(name); };
  EB_ASSIGN_OR_RETURN(Tokenizer tokenizer, MakeTokenizer(find));
  EB_ASSIGN_OR_RETURN(auto engine, Finish(std::move(model), std::move(tokenizer), options));
  engine->config_max_length_ = TokenizerConfigMaxLength(find);
  EB_ASSIGN_OR_RETURN(engine->decoder_, DecoderFromFiles(find));
  return engine;
}

Result<std::unique_ptr<Engine>> Engine::FromHfFiles(
    const std::vector<std::pair<std::string, std::string_view>>& files, const EngineOptions& options) {
  auto find = [&](std::string_view name) -> const std::string_view* {
    for (const auto& f : files) {
      if (f.first == name) return &f.second;
    }
    return nullptr;
  };
  const std::string_view* config = find("config.json");
  const std::string_view* weights = find("model.safetensors");
  if (!config) return NotFound("config.json is missing from the checkpoint files");
  if (!weights) return NotFound("model.safetensors is missing from the checkpoint files");
  HfLoadOptions load;
  load.int8 = options.prefer_int8;
  load.fp32 = !options.prefer_int8;
  EB_ASSIGN_OR_RETURN(std::unique_ptr<Model> model,
                      LoadHfModel(*config, reinterpret_cast<const uint8_t*>(weights->data()), weights->size(), load));
  EB_ASSIGN_OR_RETURN(Tokenizer tokenizer, MakeTokenizer(find));
  EB_ASSIGN_OR_RETURN(auto engine, Finish(std::move(model), std::move(tokenizer), options));
  engine->config_max_length_ = TokenizerConfigMaxLength(find);
  EB_ASSIGN_OR_RETURN(engine->decoder_, DecoderFromFiles(find));
  return engine;
}

Result<std::unique_ptr<Engine>> Engine::Finish(std::unique_ptr<Model> model, Tokenizer tokenizer,
                                               const EngineOptions& options) {
  WarmUpEncoderTiering();  // wasm: the first inference then runs on optimized code (no-op natively)
  std::unique_ptr<Engine> e(new Engine());
  e->tokenizer_ = std::move(tokenizer);
  if (static_cast<int64_t>(e->tokenizer_.vocab_size()) > model->config.vocab_size) {
    return InvalidArgument("the tokenizer has " + std::to_string(e->tokenizer_.vocab_size()) +
                           " tokens but the model's embedding table has " + std::to_string(model->config.vocab_size) +
                           " rows: the files do not belong together");
  }
  // One string per embedding row: a padded vocabulary's extra rows (scored by the MLM head, as in
  // transformers) have no token and decode to "".
  e->vocab_.resize(static_cast<size_t>(model->config.vocab_size));
  for (size_t i = 0; i < e->tokenizer_.vocab_size(); ++i) {
    e->vocab_[i] = std::string(e->tokenizer_.IdToToken(static_cast<int32_t>(i)));
  }
  if (options.prefer_int8 && model->has_int8) {
    e->precision_ = Precision::kInt8;
  } else if (model->has_fp32) {
    e->precision_ = Precision::kFp32;
  } else {
    e->precision_ = Precision::kInt8;
  }
  e->model_ = std::move(model);
  return e;
}

size_t Engine::MaxTokens() const {
  size_t n = static_cast<size_t>(model_->config.max_position);
  if (tokenizer_.model_max_length() > 0) n = std::min(n, tokenizer_.model_max_length());
  if (config_max_length_ > 0) n = std::min(n, config_max_length_);
  return n;
}

Json Engine::Info() const {
  const ModelConfig& c = model_->config;
  Json::Array tasks;
  for (const char* t : kTasks) {
    if (HeadServes(c.head, t)) tasks.push_back(Str(t));
  }
  Json::Object labels;  // id2label as config.json writes it
  std::vector<std::string> names = Labels(c, model_->num_labels);
  for (size_t i = 0; i < names.size(); ++i) labels.emplace_back(std::to_string(i), Str(names[i]));
  return Json::MakeObject({
      {"model_type", Str(c.family == ModelFamily::kBert ? "bert" : "distilbert")},
      {"architecture", Str(c.architecture)},
      {"head", Str(HeadKindName(c.head))},
      {"tasks", Json::MakeArray(std::move(tasks))},
      {"labels", Json::MakeObject(std::move(labels))},
      {"max_position_embeddings", Num(c.max_position)},
      {"hidden_size", Num(c.hidden)},
      {"num_layers", Num(c.num_layers)},
      {"vocab_size", Num(c.vocab_size)},
      {"quantization", Str(precision_ == Precision::kInt8 ? "int8" : "fp32")},
  });
}

// ---- running -------------------------------------------------------------------------------------

// One window's outputs, as views into the encoder's RunState valid during Pending::take only.
struct Engine::WindowOutput {
  size_t tokens = 0;              // the window's tokens (its padding excluded)
  const float* hidden = nullptr;  // (tokens, hidden) last hidden state
  // Sequence classification (1, labels); token classification (tokens, labels); masked LM (the
  // window's mask positions, vocab). Null for base models and QA.
  const float* logits = nullptr;
  size_t logits_rows = 0, logits_cols = 0;
  const float* start = nullptr;  // QA: (tokens)
  const float* end = nullptr;    // QA: (tokens)
};

// Binary results of RunBatch: feature extraction's floats, concatenated.
class Engine::TensorSink {
 public:
  // Appends n floats and returns the offset (in floats) of the first; OutOfRange when the batch's
  // results would pass the 4 GiB a buffer may have (util/checked.h).
  Result<size_t> Append(const float* p, size_t n) {
    uint64_t total = 0, bytes = 0;
    if (!CheckedAdd(data.size(), n, &total) || !CheckedMul(total, sizeof(float), &bytes) || !FitsBuffer(bytes)) {
      return OutOfRange("the batch's feature-extraction results need more than the 4 GiB a buffer may have: "
                        "send fewer or shorter texts per call");
    }
    const size_t at = data.size();
    data.insert(data.end(), p, p + n);
    return at;
  }
  std::vector<float> data;
};

// A request between its preparation (options checked, text encoded) and its response: the encoder
// passes it needs, one per window, what it keeps of each (take, called once per window right
// after its pass, in any order), and its response (finish, once every window was taken).
struct Engine::Pending {
  struct Window {
    const Encoding* enc = nullptr;        // owned by the request's state (captured by take/finish)
    std::vector<int32_t> mlm_positions;   // fill-mask: the positions of enc to predict
  };
  std::vector<Window> windows;
  std::function<Status(size_t window, const WindowOutput& out)> take;
  std::function<Result<Json>(TensorSink* sink)> finish;  // sink: null for "data" as JSON numbers
  // text-classification: the response as numbers (BatchOptions::label_scores), instead of finish.
  std::function<Result<std::vector<LabelScore>>()> labels;
  Status failed;  // the first take that failed: the request's error
};

namespace {
size_t CountValues(const Json& v) {
  size_t n = 1;
  if (v.is_array()) {
    for (const Json& x : v.as_array()) n += CountValues(x);
  } else if (v.is_object()) {
    for (const auto& kv : v.as_object()) n += CountValues(kv.second);
  }
  return n;
}

// The same status with the input's index in front, when the caller gave several inputs.
Status NameInput(const Status& s, size_t index, bool name) {
  if (s.ok() || !name) return s;
  return Status(s.code(), "input " + std::to_string(index) + ": " + s.message());
}
}  // namespace

Result<Json> Engine::Run(std::string_view task, const Json& request) {
  BatchOptions options;
  options.batch_size = 1;  // one window per pass, as the engine always ran single requests
  EB_ASSIGN_OR_RETURN(BatchResult r, RunBatch(task, std::vector<Json>{request}, options));
  return std::move(r.results[0]);
}

Status Engine::CheckTask(std::string_view task) const {
  bool known = false;
  for (const char* t : kTasks) known = known || task == t;
  if (!known) {
    return InvalidArgument("unknown task '" + std::string(task) +
                           "'; tasks are tokenize, text-classification, token-classification, "
                           "question-answering, feature-extraction, fill-mask");
  }
  if (!HeadServes(model_->config.head, task)) {
    return InvalidArgument("this model (" + std::string(HeadKindName(model_->config.head)) + ") cannot run '" +
                           std::string(task) + "'");
  }
  return Status::Ok();
}

Result<BatchResult> Engine::RunBatch(std::string_view task, const std::vector<Json>& requests,
                                     const BatchOptions& options) {
  work_ = EngineWork();
  if (requests.empty()) return InvalidArgument("a batch needs at least one request");
  if (options.batch_size < 1 || options.batch_size > kMaxBatchSize) {
    return InvalidArgument("option 'batch_size' must be an integer between 1 and " + std::to_string(kMaxBatchSize) +
                           ", got " + std::to_string(options.batch_size));
  }
  EB_RETURN_IF_ERROR(CheckTask(task));
  const bool name = requests.size() > 1 || options.first_index > 0;
  // 1. Every request checked and encoded before any encoder pass: a bad input costs no inference.
  std::vector<Pending> pending;
  pending.reserve(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    Result<Pending> p = requests[i].is_object() ? Prepare(task, requests[i])
                                                : Result<Pending>(InvalidArgument("a request must be a JSON object"));
    if (!p.ok()) return NameInput(p.status(), options.first_index + i, name);
    pending.push_back(std::move(p).value());
  }
  // 2. The windows of all requests, shortest first (ties in input order), cut into batches.
  std::vector<BatchJob> jobs;
  for (size_t i = 0; i < pending.size(); ++i) {
    for (size_t w = 0; w < pending[i].windows.size(); ++w) jobs.push_back({i, w, pending[i].windows[w].enc->size()});
  }
  std::stable_sort(jobs.begin(), jobs.end(), [](const BatchJob& a, const BatchJob& b) { return a.tokens < b.tokens; });
  const size_t max_batch = static_cast<size_t>(options.batch_size);
  for (size_t begin = 0; begin < jobs.size();) {
    size_t end = begin + 1;
    uint64_t real = jobs[begin].tokens;
    while (end < jobs.size() && end - begin < max_batch) {
      // Sorted: jobs[end] is the longest so far, so the padded block is (end - begin + 1) x its length.
      const uint64_t longest = jobs[end].tokens;
      const uint64_t padded = (end - begin + 1) * longest;
      if (padded > static_cast<uint64_t>(kMaxBatchTokens)) break;
      if (static_cast<double>(padded) > kMaxBatchPadding * static_cast<double>(real + longest)) break;
      real += longest;
      ++end;
    }
    EB_RETURN_IF_ERROR(ForwardBatch(jobs, begin, end, &pending));
    begin = end;
  }
  // 3. The responses, in input order.
  BatchResult out;
  TensorSink sink;
  out.results.reserve(pending.size());
  for (size_t i = 0; i < pending.size(); ++i) {
    if (!pending[i].failed.ok()) return NameInput(pending[i].failed, options.first_index + i, name);
    if (options.label_scores && pending[i].labels) {
      Result<std::vector<LabelScore>> l = pending[i].labels();
      if (!l.ok()) return NameInput(l.status(), options.first_index + i, name);
      work_.result_values += 1 + 3 * l->size();  // as its JSON: a list of {label, score} objects
      out.labels.push_back(std::move(l).value());
      out.results.emplace_back();
      continue;
    }
    Result<Json> r = pending[i].finish(options.binary_tensors ? &sink : nullptr);
    if (!r.ok()) return NameInput(r.status(), options.first_index + i, name);
    work_.result_values += CountValues(*r);
    out.results.push_back(std::move(r).value());
  }
  out.tensor_data = std::move(sink.data);
  return out;
}

Status Engine::ForwardBatch(const std::vector<BatchJob>& jobs, size_t begin, size_t end,
                            std::vector<Pending>* pending) {
  const ModelConfig& c = model_->config;
  const bool bert = c.family == ModelFamily::kBert;
  const bool mlm = c.head == HeadKind::kMaskedLM;
  size_t longest = 0;
  for (size_t j = begin; j < end; ++j) longest = std::max(longest, jobs[j].tokens);
  const size_t B = end - begin, S = longest;
  // B <= kMaxBatchSize and B x S <= max(kMaxBatchTokens, S), S <= MaxTokens() <= 65536: no wrap.
  const size_t n = B * S;
  const int32_t pad = tokenizer_.pad_id() >= 0 && tokenizer_.pad_id() < c.vocab_size ? tokenizer_.pad_id() : 0;
  batch_ids_.assign(n, pad);
  batch_mask_.assign(n, 0);  // padding: masked out of every real token's attention
  batch_types_.assign(bert ? n : 0, 0);
  batch_positions_.clear();
  std::vector<size_t> first_position(B + 1, 0);  // the batch's MLM rows of sequence b: [first[b], first[b + 1])
  for (size_t b = 0; b < B; ++b) {
    const Pending::Window& w = (*pending)[jobs[begin + b].request].windows[jobs[begin + b].window];
    const Encoding& e = *w.enc;
    std::copy(e.ids.begin(), e.ids.end(), batch_ids_.begin() + static_cast<std::ptrdiff_t>(b * S));
    std::copy(e.attention_mask.begin(), e.attention_mask.end(), batch_mask_.begin() + static_cast<std::ptrdiff_t>(b * S));
    if (bert) std::copy(e.type_ids.begin(), e.type_ids.end(), batch_types_.begin() + static_cast<std::ptrdiff_t>(b * S));
    for (int32_t p : w.mlm_positions) batch_positions_.push_back(static_cast<int32_t>(b * S) + p);
    first_position[b + 1] = batch_positions_.size();
  }
  EncoderInput in;
  in.batch = static_cast<int>(B);
  in.seq_len = static_cast<int>(S);
  in.input_ids = batch_ids_.data();
  in.attention_mask = batch_mask_.data();
  in.token_type_ids = bert ? batch_types_.data() : nullptr;
  // A masked LM projects onto the vocabulary at the requests' masks only (none for feature extraction).
  static const int32_t kNoPosition = 0;
  if (mlm) {
    in.mlm_positions = batch_positions_.empty() ? &kNoPosition : batch_positions_.data();
    in.num_mlm_positions = static_cast<int>(batch_positions_.size());
  }
  ++work_.passes;
  work_.windows += B;
  work_.forwarded_tokens += n;
  EncoderOutput out;
  const int64_t pass_tokens = static_cast<int64_t>(n);
  const int threads = threads_.Choose(pass_tokens);
  state_.qscratch.max_threads = threads;
  const auto started = std::chrono::steady_clock::now();
  EB_RETURN_IF_ERROR(EncoderForward(*model_, in, precision_, &state_, &out));
  threads_.Record(pass_tokens, threads,
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  const size_t H = static_cast<size_t>(out.hidden);
  for (size_t b = 0; b < B; ++b) {
    const BatchJob& job = jobs[begin + b];
    WindowOutput o;
    o.tokens = job.tokens;
    o.hidden = out.last_hidden_state + b * S * H;
    if (out.logits) {
      o.logits_cols = static_cast<size_t>(out.logits_cols);
      if (c.head == HeadKind::kSequenceClassification) {
        o.logits = out.logits + b * o.logits_cols;
        o.logits_rows = 1;
      } else if (c.head == HeadKind::kTokenClassification) {
        o.logits = out.logits + b * S * o.logits_cols;
        o.logits_rows = job.tokens;
      } else if (mlm) {
        o.logits = out.logits + first_position[b] * o.logits_cols;
        o.logits_rows = first_position[b + 1] - first_position[b];
      }
    }
    if (out.start_logits) {
      o.start = out.start_logits + b * S;
      o.end = out.end_logits + b * S;
    }
    Pending& p = (*pending)[job.request];
    if (p.failed.ok()) p.failed = p.take(job.window, o);
  }
  return Status::Ok();
}

Result<Engine::Pending> Engine::Prepare(std::string_view task, const Json& request) {
  if (task == "tokenize") {
    EB_ASSIGN_OR_RETURN(Json result, RunTokenize(request));
    Pending p;
    p.finish = [result](TensorSink*) -> Result<Json> { return result; };
    return p;
  }
  if (task == "text-classification") return PrepareTextClassification(request);
  if (task == "token-classification") return PrepareTokenClassification(request);
  if (task == "question-answering") return PrepareQuestionAnswering(request);
  if (task == "feature-extraction") return PrepareFeatureExtraction(request);
  return PrepareFillMask(request);
}

Result<Encoding> Engine::EncodeChecked(std::string_view text, const std::optional<std::string>& pair,
                                       bool truncation) {
  EncodeOptions opt;
  if (truncation) {
    opt.truncation.enabled = true;
    opt.truncation.max_length = MaxTokens();
    // transformers' truncation=True without return_overflowing_tokens: the first window is the
    // input; the rest is never built (for a pair, HF would build every combination of windows).
    opt.truncation.return_overflowing = false;
  }
  Result<Encoding> enc = pair ? tokenizer_.EncodePair(text, *pair, opt) : tokenizer_.Encode(text, opt);
  if (!enc.ok()) return enc.status();
  work_.encoded_tokens += enc->TotalTokens();
  if (enc->size() > MaxTokens()) {
    return OutOfRange("the input is " + std::to_string(enc->size()) + " tokens but the model takes at most " +
                      std::to_string(MaxTokens()) + " (max_position_embeddings " +
                      std::to_string(model_->config.max_position) + "): pass truncation: true or shorten the text");
  }
  return enc;
}

Result<Json> Engine::RunTokenize(const Json& req) {
  EB_RETURN_IF_ERROR(CheckKeys(req, "tokenize", {"text", "text_pair", "add_special_tokens", "truncation",
                                                 "max_length", "stride", "padding"}));
  EB_ASSIGN_OR_RETURN(std::string text, NeedString(req, "text", "tokenize"));
  EB_ASSIGN_OR_RETURN(std::optional<std::string> pair, OptPair(req));
  EB_ASSIGN_OR_RETURN(OffsetUnit unit, ParseOffsetUnit(req));
  EncodeOptions opt;
  EB_RETURN_IF_ERROR(OptBool(req, "add_special_tokens", &opt.add_special_tokens));
  int max_length = 0, stride = 0;
  EB_RETURN_IF_ERROR(OptInt(req, "max_length", 1, &max_length));
  EB_RETURN_IF_ERROR(OptInt(req, "stride", 0, &stride));
  // truncation: false | true (= longest_first) | "longest_first" | "only_first" | "only_second".
  std::string truncation = "none";
  if (const Json* t = req.Find("truncation"); t && !t->is_null()) {
    if (t->is_bool()) truncation = t->as_bool() ? "longest_first" : "none";
    else if (t->is_string()) truncation = t->as_string();
    else return InvalidArgument("option 'truncation' must be true, false or a strategy name");
  }
  if (truncation != "none") {
    opt.truncation.enabled = true;
    opt.truncation.max_length = max_length > 0 ? static_cast<size_t>(max_length) : MaxTokens();
    opt.truncation.stride = static_cast<size_t>(stride);
    if (truncation == "longest_first") opt.truncation.strategy = TruncationStrategy::kLongestFirst;
    else if (truncation == "only_first") opt.truncation.strategy = TruncationStrategy::kOnlyFirst;
    else if (truncation == "only_second") opt.truncation.strategy = TruncationStrategy::kOnlySecond;
    else return InvalidArgument("option 'truncation' is '" + truncation +
                                "'; it must be false, true, longest_first, only_first or only_second");
  }
  std::string padding = "none";
  if (const Json* p = req.Find("padding"); p && p->is_bool()) {
    padding = p->as_bool() ? "longest" : "none";
  } else {
    EB_RETURN_IF_ERROR(OptString(req, "padding", &padding));
  }
  if (padding == "max_length") {
    opt.padding.strategy = PaddingStrategy::kMaxLength;
    opt.padding.max_length = max_length > 0 ? static_cast<size_t>(max_length) : MaxTokens();
  } else if (padding == "longest") {
    opt.padding.strategy = PaddingStrategy::kLongest;
  } else if (padding != "none") {
    return InvalidArgument("option 'padding' is '" + padding + "'; it must be false, true, longest or max_length");
  }
  Result<Encoding> enc = pair ? tokenizer_.EncodePair(text, *pair, opt) : tokenizer_.Encode(text, opt);
  if (!enc.ok()) return enc.status();
  work_.encoded_tokens += enc->TotalTokens();
  ConvertOffsets(text, pair ? *pair : std::string_view(), unit, &*enc);
  auto nullable = [](const std::vector<int32_t>& v) {
    Json::Array a;
    for (int32_t x : v) a.push_back(x < 0 ? Json() : Num(x));
    return Json::MakeArray(std::move(a));
  };
  std::function<Json(const Encoding&)> to_json = [&](const Encoding& e) -> Json {
    Json::Array offsets, tokens;
    for (size_t i = 0; i < e.size(); ++i) {
      offsets.push_back(Json::MakeArray({Num(e.offsets[i].start), Num(e.offsets[i].end)}));
      tokens.push_back(Str(std::string(tokenizer_.IdToToken(e.ids[i]))));
    }
    Json::Object o = {{"input_ids", IntArray(e.ids)},
                      {"token_type_ids", IntArray(e.type_ids)},
                      {"attention_mask", IntArray(e.attention_mask)},
                      {"tokens", Json::MakeArray(std::move(tokens))},
                      {"offset_mapping", Json::MakeArray(std::move(offsets))},
                      {"word_ids", nullable(e.word_ids)},
                      {"sequence_ids", nullable(e.sequence_ids)},
                      {"special_tokens_mask", IntArray(e.special_tokens_mask)}};
    if (!e.overflowing.empty()) {
      Json::Array overflow;
      for (const Encoding& w : e.overflowing) overflow.push_back(to_json(w));
      o.emplace_back("overflowing", Json::MakeArray(std::move(overflow)));
    }
    return Json::MakeObject(std::move(o));
  };
  return to_json(*enc);
}

Result<Engine::Pending> Engine::PrepareTextClassification(const Json& req) {
  EB_RETURN_IF_ERROR(CheckKeys(req, "text-classification",
                               {"text", "text_pair", "top_k", "function_to_apply", "truncation"}));
  EB_ASSIGN_OR_RETURN(std::string text, NeedString(req, "text", "text-classification"));
  EB_ASSIGN_OR_RETURN(std::optional<std::string> pair, OptPair(req));
  struct State {
    TextClassifierConfig config;
    TextClassificationOptions opt;
    Encoding enc;
    std::vector<float> logits;
  };
  auto st = std::make_shared<State>();
  st->config.id2label = Labels(model_->config, model_->num_labels);
  st->config.problem_type = model_->config.problem_type;
  if (const Json* k = req.Find("top_k"); k && k->is_null()) {
    st->opt.top_k = std::nullopt;  // every label
  } else {
    int top_k = 1;
    EB_RETURN_IF_ERROR(OptInt(req, "top_k", 1, &top_k));
    st->opt.top_k = top_k;
  }
  std::string fn = "default";
  EB_RETURN_IF_ERROR(OptString(req, "function_to_apply", &fn));
  EB_ASSIGN_OR_RETURN(st->opt.function_to_apply, ParseClassificationFunction(fn));
  bool truncation = false;
  EB_RETURN_IF_ERROR(OptBool(req, "truncation", &truncation));
  EB_ASSIGN_OR_RETURN(st->enc, EncodeChecked(text, pair, truncation));
  Pending p;
  p.windows.push_back({&st->enc, {}});
  p.take = [st](size_t, const WindowOutput& o) {
    st->logits.assign(o.logits, o.logits + o.logits_cols);
    return Status::Ok();
  };
  p.labels = [st]() { return ClassifyText(st->logits, st->config, st->opt); };
  p.finish = [labels = p.labels](TensorSink*) -> Result<Json> {
    EB_ASSIGN_OR_RETURN(std::vector<LabelScore> scores, labels());
    Json::Array result;
    for (const LabelScore& sc : scores) {
      result.push_back(Json::MakeObject({{"label", Str(sc.label)}, {"score", Num(sc.score)}}));
    }
    return Json::MakeArray(std::move(result));
  };
  return p;
}

Result<Engine::Pending> Engine::PrepareTokenClassification(const Json& req) {
  EB_RETURN_IF_ERROR(CheckKeys(req, "token-classification",
                               {"text", "aggregation_strategy", "ignore_labels", "stride", "truncation"}));
  struct State {
    std::string text;
    OffsetUnit unit;
    TokenClassificationOptions opt;
    Encoding enc;
    std::vector<const Encoding*> windows;
    std::vector<TokenWindow> tw;
  };
  auto st = std::make_shared<State>();
  EB_ASSIGN_OR_RETURN(st->text, NeedString(req, "text", "token-classification"));
  EB_ASSIGN_OR_RETURN(st->unit, ParseOffsetUnit(req));
  TokenClassificationOptions& opt = st->opt;
  std::string strategy = "none";
  EB_RETURN_IF_ERROR(OptString(req, "aggregation_strategy", &strategy));
  EB_ASSIGN_OR_RETURN(opt.aggregation_strategy, ParseAggregationStrategy(strategy));
  if (const Json* ig = req.Find("ignore_labels"); ig && !ig->is_null()) {
    if (!ig->is_array()) return InvalidArgument("option 'ignore_labels' must be an array of strings");
    opt.ignore_labels.clear();
    for (const Json& l : ig->as_array()) {
      if (!l.is_string()) return InvalidArgument("option 'ignore_labels' must be an array of strings");
      opt.ignore_labels.push_back(l.as_string());
    }
  }
  opt.unk_token_id = tokenizer_.TokenToId("[UNK]");
  opt.decoder = decoder_;  // entity words: tokenizer.json's WordPiece decoder (prefix, cleanup)
  // Long texts, as transformers: split into overlapping windows when `stride` is given (which needs
  // an aggregation strategy), otherwise OutOfRange unless truncation is asked for.
  const Json* stride_json = req.Find("stride");
  bool windowed = stride_json && !stride_json->is_null();
  int stride = 0;
  EB_RETURN_IF_ERROR(OptInt(req, "stride", 0, &stride));
  bool truncation = false;
  EB_RETURN_IF_ERROR(OptBool(req, "truncation", &truncation));
  if (windowed) {
    if (opt.aggregation_strategy == AggregationStrategy::kNone) {
      return InvalidArgument("option 'stride' needs an aggregation_strategy other than none (as in transformers)");
    }
    size_t room = MaxTokens() - tokenizer_.NumSpecialTokens(false);
    if (static_cast<size_t>(stride) >= room) {
      return InvalidArgument("option 'stride' (" + std::to_string(stride) +
                             ") must be smaller than the tokens a window holds (" + std::to_string(room) + ")");
    }
    EncodeOptions enc_opt;
    enc_opt.truncation = {true, MaxTokens(), static_cast<size_t>(stride), TruncationStrategy::kLongestFirst};
    EB_ASSIGN_OR_RETURN(st->enc, tokenizer_.Encode(st->text, enc_opt));
    work_.encoded_tokens += st->enc.TotalTokens();
  } else {
    EB_ASSIGN_OR_RETURN(st->enc, EncodeChecked(st->text, std::nullopt, truncation));
  }
  CollectWindows(st->enc, &st->windows);
  st->tw.resize(st->windows.size());
  Pending p;
  for (const Encoding* w : st->windows) p.windows.push_back({w, {}});
  p.take = [st](size_t w, const WindowOutput& o) {
    TokenWindow& t = st->tw[w];
    t.tokens = ToTokenMeta(*st->windows[w]);
    t.logits.assign(o.logits, o.logits + o.logits_rows * o.logits_cols);
    return Status::Ok();
  };
  p.finish = [this, st](TensorSink*) -> Result<Json> {
    std::vector<std::string> labels = Labels(model_->config, model_->num_labels);
    EB_ASSIGN_OR_RETURN(std::vector<Entity> entities, ClassifyTokens(st->text, st->tw, labels, vocab_, st->opt));
    OffsetMap map(st->text, st->unit);
    Json::Array result;
    for (const Entity& e : entities) {
      Json::Object o;
      o.emplace_back(st->opt.aggregation_strategy == AggregationStrategy::kNone ? "entity" : "entity_group",
                     Str(e.entity));
      o.emplace_back("score", Num(e.score));
      if (e.index >= 0) o.emplace_back("index", Num(e.index));
      o.emplace_back("word", Str(e.word));
      o.emplace_back("start", Num(map(e.start)));
      o.emplace_back("end", Num(map(e.end)));
      result.push_back(Json::MakeObject(std::move(o)));
    }
    return Json::MakeArray(std::move(result));
  };
  return p;
}

Result<Engine::Pending> Engine::PrepareQuestionAnswering(const Json& req) {
  EB_RETURN_IF_ERROR(CheckKeys(req, "question-answering",
                               {"question", "context", "top_k", "doc_stride", "max_answer_len", "max_seq_len",
                                "max_question_len", "handle_impossible_answer", "align_to_words"}));
  struct State {
    std::string question, context;
    OffsetUnit unit;
    QuestionAnsweringOptions opt;
    Encoding enc;
    std::vector<const Encoding*> windows;
    std::vector<QaWindow> qw;
  };
  auto st = std::make_shared<State>();
  EB_ASSIGN_OR_RETURN(st->question, NeedString(req, "question", "question-answering"));
  EB_ASSIGN_OR_RETURN(st->context, NeedString(req, "context", "question-answering"));
  EB_ASSIGN_OR_RETURN(st->unit, ParseOffsetUnit(req));
  const std::string& question = st->question;
  QuestionAnsweringOptions& opt = st->opt;
  EB_RETURN_IF_ERROR(OptInt(req, "top_k", 1, &opt.top_k));
  EB_RETURN_IF_ERROR(OptInt(req, "max_answer_len", 1, &opt.max_answer_len));
  EB_RETURN_IF_ERROR(OptBool(req, "handle_impossible_answer", &opt.handle_impossible_answer));
  EB_RETURN_IF_ERROR(OptBool(req, "align_to_words", &opt.align_to_words));
  opt.cls_token_id = tokenizer_.TokenToId("[CLS]");
  // transformers' defaults: max_seq_len = min(model_max_length, 384), doc_stride = min(max_seq_len / 2, 128).
  int max_seq_len = static_cast<int>(std::min<size_t>(MaxTokens(), 384));
  EB_RETURN_IF_ERROR(OptInt(req, "max_seq_len", 4, &max_seq_len));
  if (static_cast<size_t>(max_seq_len) > MaxTokens()) {
    return InvalidArgument("option 'max_seq_len' is " + std::to_string(max_seq_len) + " but the model takes at most " +
                           std::to_string(MaxTokens()) + " tokens");
  }
  int doc_stride = std::min(max_seq_len / 2, 128);
  EB_RETURN_IF_ERROR(OptInt(req, "doc_stride", 0, &doc_stride));
  int max_question_len = 64;  // used by transformers' slow-tokenizer path only; accepted for compatibility
  EB_RETURN_IF_ERROR(OptInt(req, "max_question_len", 1, &max_question_len));

  EB_ASSIGN_OR_RETURN(Encoding qenc, tokenizer_.Encode(question, EncodeOptions{false, {}, {}}));
  size_t room = static_cast<size_t>(max_seq_len) - std::min<size_t>(max_seq_len, tokenizer_.NumSpecialTokens(true));
  if (qenc.size() >= room) {
    return InvalidArgument("the question is " + std::to_string(qenc.size()) + " tokens, which leaves no room for the "
                           "context in max_seq_len " + std::to_string(max_seq_len) +
                           ": shorten the question or raise max_seq_len");
  }
  const size_t context_room = room - qenc.size();
  if (!req.Find("doc_stride") || req.Find("doc_stride")->is_null()) {
    // The default adapts to short models; a stride the caller chose is checked as given.
    // Half the context room, as transformers' default is half of max_seq_len: windows advance by
    // about half a window instead of one token at a time.
    doc_stride = std::min<int>(doc_stride, static_cast<int>(context_room) / 2);
  }
  if (static_cast<size_t>(doc_stride) >= context_room) {
    return InvalidArgument("option 'doc_stride' (" + std::to_string(doc_stride) +
                           ") must be smaller than the context tokens a window holds (" +
                           std::to_string(room - qenc.size()) + ")");
  }
  EncodeOptions enc_opt;
  enc_opt.truncation = {true, static_cast<size_t>(max_seq_len), static_cast<size_t>(doc_stride),
                        TruncationStrategy::kOnlySecond};
  EB_ASSIGN_OR_RETURN(st->enc, tokenizer_.EncodePair(question, st->context, enc_opt));
  work_.encoded_tokens += st->enc.TotalTokens();
  CollectWindows(st->enc, &st->windows);
  st->qw.resize(st->windows.size());
  Pending p;
  for (const Encoding* w : st->windows) p.windows.push_back({w, {}});
  p.take = [st](size_t w, const WindowOutput& o) {
    QaWindow& win = st->qw[w];
    win.tokens = ToTokenMeta(*st->windows[w]);
    win.start_logits.assign(o.start, o.start + o.tokens);
    win.end_logits.assign(o.end, o.end + o.tokens);
    return Status::Ok();
  };
  p.finish = [this, st](TensorSink*) -> Result<Json> {
    EB_ASSIGN_OR_RETURN(std::vector<Answer> answers,
                        AnswerQuestion(st->question, st->context, st->qw, st->opt, &work_.qa));
    OffsetMap map(st->context, st->unit);
    Json::Array result;
    for (const Answer& a : answers) {
      result.push_back(Json::MakeObject({{"score", Num(a.score)},
                                         {"start", Num(map(a.start))},
                                         {"end", Num(map(a.end))},
                                         {"answer", Str(a.answer)}}));
    }
    return Json::MakeArray(std::move(result));
  };
  return p;
}

Result<Engine::Pending> Engine::PrepareFeatureExtraction(const Json& req) {
  EB_RETURN_IF_ERROR(CheckKeys(req, "feature-extraction", {"text", "text_pair", "pooling", "normalize", "truncation"}));
  EB_ASSIGN_OR_RETURN(std::string text, NeedString(req, "text", "feature-extraction"));
  EB_ASSIGN_OR_RETURN(std::optional<std::string> pair, OptPair(req));
  std::string pooling = "none";
  EB_RETURN_IF_ERROR(OptString(req, "pooling", &pooling));
  if (pooling != "mean" && pooling != "cls" && pooling != "none") {
    return InvalidArgument("option 'pooling' is '" + pooling + "'; it must be none, mean or cls");
  }
  struct State {
    Encoding enc;
    bool pooled = false, normalize = false;
    Pooling pooling = Pooling::kMean;
    std::vector<double> dims;
    std::vector<float> data;  // the result, row-major
  };
  auto st = std::make_shared<State>();
  bool truncation = false;
  EB_RETURN_IF_ERROR(OptBool(req, "normalize", &st->normalize));
  EB_RETURN_IF_ERROR(OptBool(req, "truncation", &truncation));
  st->pooled = pooling != "none";
  st->pooling = pooling == "cls" ? Pooling::kCls : Pooling::kMean;
  EB_ASSIGN_OR_RETURN(st->enc, EncodeChecked(text, pair, truncation));
  const size_t h = static_cast<size_t>(model_->config.hidden);
  Pending p;
  p.windows.push_back({&st->enc, {}});
  // Pooled: only the pooled vector is kept from the pass (so a large batch holds no hidden states).
  p.take = [st, h](size_t, const WindowOutput& o) -> Status {
    const size_t t = o.tokens;
    if (st->pooled) {
      std::vector<int> mask(st->enc.attention_mask.begin(), st->enc.attention_mask.end());
      EB_ASSIGN_OR_RETURN(st->data, PoolTokenEmbeddings(o.hidden, t, h, mask, st->pooling, st->normalize));
      st->dims = {1, static_cast<double>(h)};
      return Status::Ok();
    }
    st->data.assign(o.hidden, o.hidden + t * h);
    if (st->normalize) {
      float* data = st->data.data();
      for (size_t i = 0; i < t; ++i) {
        double norm = 0;
        for (size_t j = 0; j < h; ++j) norm += double(data[i * h + j]) * data[i * h + j];
        norm = std::max(std::sqrt(norm), 1e-12);  // torch.nn.functional.normalize's eps
        for (size_t j = 0; j < h; ++j) data[i * h + j] = static_cast<float>(data[i * h + j] / norm);
      }
    }
    st->dims = {1, static_cast<double>(t), static_cast<double>(h)};
    return Status::Ok();
  };
  p.finish = [st](TensorSink* sink) -> Result<Json> {
    Json::Array dims;
    for (double d : st->dims) dims.push_back(Num(d));
    if (sink) {
      EB_ASSIGN_OR_RETURN(size_t offset, sink->Append(st->data.data(), st->data.size()));
      std::vector<float>().swap(st->data);
      return Json::MakeObject({{"dims", Json::MakeArray(std::move(dims))}, {"data_offset", Num(double(offset))}});
    }
    return Json::MakeObject({{"dims", Json::MakeArray(std::move(dims))}, {"data", FloatArray(st->data.data(), st->data.size())}});
  };
  return p;
}

Result<Engine::Pending> Engine::PrepareFillMask(const Json& req) {
  EB_RETURN_IF_ERROR(CheckKeys(req, "fill-mask", {"text", "top_k", "targets", "truncation"}));
  EB_ASSIGN_OR_RETURN(std::string text, NeedString(req, "text", "fill-mask"));
  struct State {
    FillMaskOptions opt;
    Encoding enc;
    std::vector<std::vector<FillMaskCandidate>> masks;
  };
  auto st = std::make_shared<State>();
  FillMaskOptions& opt = st->opt;
  EB_RETURN_IF_ERROR(OptInt(req, "top_k", 1, &opt.top_k));
  bool truncation = false;
  EB_RETURN_IF_ERROR(OptBool(req, "truncation", &truncation));
  opt.mask_token_id = tokenizer_.TokenToId("[MASK]");
  opt.pad_token_id = tokenizer_.pad_id();
  opt.decoder = decoder_;
  if (opt.mask_token_id < 0) return InvalidArgument("fill-mask: the tokenizer has no [MASK] token");
  for (const AddedToken& t : tokenizer_.added_tokens()) {
    if (t.special) opt.special_ids.push_back(t.id);
  }
  if (const Json* targets = req.Find("targets"); targets && !targets->is_null()) {
    // transformers takes each target's first token (with a warning when it splits); we take whole
    // vocabulary entries only and reject the rest, so that a target never changes meaning.
    std::vector<int64_t> ids;
    const Json::Array single = {*targets};
    const Json::Array& list = targets->is_array() ? targets->as_array() : single;
    for (const Json& t : list) {
      if (!t.is_string()) return InvalidArgument("option 'targets' must be a string or an array of strings");
      int32_t id = tokenizer_.TokenToId(t.as_string());
      if (id < 0) return InvalidArgument("fill-mask target '" + t.as_string() + "' is not a token of the vocabulary");
      ids.push_back(id);
    }
    if (ids.empty()) return InvalidArgument("option 'targets' must not be empty");
    opt.target_ids = std::move(ids);
  }
  EB_ASSIGN_OR_RETURN(st->enc, EncodeChecked(text, std::nullopt, truncation));
  std::vector<int32_t> positions;
  for (size_t i = 0; i < st->enc.size(); ++i) {
    if (st->enc.ids[i] == opt.mask_token_id) positions.push_back(static_cast<int32_t>(i));
  }
  if (positions.empty()) return InvalidArgument("no [MASK] token in the input");
  Pending p;
  p.windows.push_back({&st->enc, std::move(positions)});  // the vocabulary projection runs at the masks only
  // The head runs right after the pass, so a batch holds candidates, not (masks, vocab) logits.
  p.take = [this, st](size_t, const WindowOutput& o) -> Status {
    std::vector<float> logits(o.logits, o.logits + o.logits_rows * o.logits_cols);
    std::vector<int64_t> ids(st->enc.ids.begin(), st->enc.ids.end());
    EB_ASSIGN_OR_RETURN(st->masks, FillMask(ids, logits, vocab_, st->opt));
    return Status::Ok();
  };
  p.finish = [st](TensorSink*) -> Result<Json> {
    Json::Array per_mask;
    for (const auto& candidates : st->masks) {
      Json::Array one;
      for (const FillMaskCandidate& c : candidates) {
        one.push_back(Json::MakeObject({{"score", Num(c.score)},
                                        {"token", Num(static_cast<double>(c.token))},
                                        {"token_str", Str(c.token_str)},
                                        {"sequence", Str(c.sequence)}}));
      }
      per_mask.push_back(Json::MakeArray(std::move(one)));
    }
    return Json::MakeArray(std::move(per_mask));
  };
  return p;
}

}  // namespace edgebert
