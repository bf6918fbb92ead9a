// pipeline.cc: the public C++ API (edgebert.h) as typed requests and results over the engine's
// JSON interface (pipeline/engine.h), so native callers get exactly what the wasm ABI gives JS.
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "edgebert.h"
#include "pipeline/engine.h"
#include "util/json.h"

namespace edgebert {
namespace {

constexpr int kMaxThreads = 256;  // a sanity bound: more GEMM threads than this is a mistake

struct FreeDeleter {
  void operator()(uint8_t* p) const { std::free(p); }
};
using AlignedBytes = std::unique_ptr<uint8_t, FreeDeleter>;

// A packed model is read in place and wants 64-byte alignment (docs/FORMAT.md).
Result<AlignedBytes> AllocAligned(size_t size) {
  constexpr size_t kAlign = 64;
  if (size > std::numeric_limits<size_t>::max() - kAlign) {
    return OutOfRange("a packed model of " + std::to_string(size) + " bytes does not fit in memory");
  }
  size_t rounded = std::max<size_t>((size + kAlign - 1) / kAlign * kAlign, kAlign);
  AlignedBytes p(static_cast<uint8_t*>(std::aligned_alloc(kAlign, rounded)));
  if (!p) return Internal("out of memory: " + std::to_string(size) + " bytes for the packed model");
  return p;
}

Status OpenError(const std::string& path, int err) {
  if (err == ENOENT || err == ENOTDIR) return NotFound(path + ": no such file");
  return IoError(path + ": " + std::strerror(err));
}

// Reads a whole file: `alloc(size)` gives the destination.
template <typename Alloc>
Status ReadWholeFile(const std::string& path, Alloc alloc) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return OpenError(path, errno);
  struct Closer {
    std::FILE* f;
    ~Closer() { std::fclose(f); }
  } closer{f};
  if (std::fseek(f, 0, SEEK_END) != 0) return IoError(path + ": cannot seek: " + std::strerror(errno));
  long end = std::ftell(f);
  if (end < 0) return IoError(path + ": cannot tell its size: " + std::strerror(errno));
  if (static_cast<unsigned long>(end) > std::numeric_limits<size_t>::max()) {
    return OutOfRange(path + ": " + std::to_string(end) + " bytes do not fit in memory on this platform");
  }
  if (std::fseek(f, 0, SEEK_SET) != 0) return IoError(path + ": cannot seek: " + std::strerror(errno));
  const size_t size = static_cast<size_t>(end);
  Result<uint8_t*> dst = alloc(size);
  if (!dst.ok()) return dst.status();
  if (size > 0 && std::fread(*dst, 1, size, f) != size) {
    return IoError(path + ": read fewer than its " + std::to_string(size) + " bytes");
  }
  return Status::Ok();
}

Result<std::string> ReadFileToString(const std::string& path) {
  std::string out;
  EB_RETURN_IF_ERROR(ReadWholeFile(path, [&](size_t n) -> Result<uint8_t*> {
    out.resize(n);
    return reinterpret_cast<uint8_t*>(out.data());
  }));
  return out;
}

bool FileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

Status CheckThreads(int threads) {
  if (threads < 1 || threads > kMaxThreads) {
    return InvalidArgument("threads is " + std::to_string(threads) + "; it must be 1 to " + std::to_string(kMaxThreads));
  }
  if (threads > 1 && !EDGEBERT_THREADS) {
    return Unsupported("threads is " + std::to_string(threads) + " but this build of edgebert has no thread support "
                       "(EDGEBERT_THREADS=0): it runs 1 thread");
  }
  return Status::Ok();
}

// ---- JSON <-> typed --------------------------------------------------------------------------------

Json Str(std::string s) { return Json::String(std::move(s)); }
Json Num(double d) { return Json::Number(d); }
Json Bool(bool b) { return Json::Bool(b); }

Status BadResponse(std::string_view task, std::string_view what) {
  return Internal(std::string(task) + ": the engine's response has no " + std::string(what));
}

// The member `key` of `obj` as a string / number, or Internal naming what is missing.
Result<std::string> GetStr(const Json& obj, const char* key, std::string_view task) {
  const Json* v = obj.Find(key);
  if (!v || !v->is_string()) return BadResponse(task, std::string("string '") + key + "'");
  return v->as_string();
}
Result<double> GetNum(const Json& obj, const char* key, std::string_view task) {
  const Json* v = obj.Find(key);
  if (!v || !v->is_number()) return BadResponse(task, std::string("number '") + key + "'");
  return v->as_double();
}
Result<size_t> GetOffset(const Json& obj, const char* key, std::string_view task) {
  const Json* v = obj.Find(key);
  if (!v || v->as_int(-1) < 0) return BadResponse(task, std::string("offset '") + key + "'");
  return static_cast<size_t>(v->as_int());
}

Result<Quantization> ParseQuantization(const std::string& name) {
  if (name == "int8") return Quantization::kInt8;
  if (name == "fp32") return Quantization::kFp32;
  return Internal("the engine reports quantization '" + name + "'");
}

Result<ModelInfo> ToModelInfo(const Json& j) {
  constexpr std::string_view kWhat = "model info";
  ModelInfo info;
  EB_ASSIGN_OR_RETURN(info.model_type, GetStr(j, "model_type", kWhat));
  EB_ASSIGN_OR_RETURN(info.architecture, GetStr(j, "architecture", kWhat));
  EB_ASSIGN_OR_RETURN(info.head, GetStr(j, "head", kWhat));
  if (const Json* tasks = j.Find("tasks")) {
    for (const Json& t : tasks->as_array()) info.tasks.push_back(t.as_string());
  }
  if (const Json* labels = j.Find("labels")) {
    // id2label as {"0": ..., "1": ...}, written in id order by the engine.
    for (const auto& kv : labels->as_object()) info.labels.push_back(kv.second.as_string());
  }
  EB_ASSIGN_OR_RETURN(double max_pos, GetNum(j, "max_position_embeddings", kWhat));
  EB_ASSIGN_OR_RETURN(double hidden, GetNum(j, "hidden_size", kWhat));
  EB_ASSIGN_OR_RETURN(double layers, GetNum(j, "num_layers", kWhat));
  EB_ASSIGN_OR_RETURN(double vocab, GetNum(j, "vocab_size", kWhat));
  info.max_position_embeddings = static_cast<int>(max_pos);
  info.hidden_size = static_cast<int>(hidden);
  info.num_layers = static_cast<int>(layers);
  info.vocab_size = static_cast<int>(vocab);
  EB_ASSIGN_OR_RETURN(std::string q, GetStr(j, "quantization", kWhat));
  EB_ASSIGN_OR_RETURN(info.quantization, ParseQuantization(q));
  return info;
}

Json StringArray(const std::vector<std::string>& v) {
  Json::Array a;
  a.reserve(v.size());
  for (const std::string& s : v) a.push_back(Str(s));
  return Json::MakeArray(std::move(a));
}

}  // namespace

// ---- names ----------------------------------------------------------------------------------------

const char* QuantizationName(Quantization q) { return q == Quantization::kFp32 ? "fp32" : "int8"; }

const char* ScoreFunctionName(ScoreFunction f) {
  switch (f) {
    case ScoreFunction::kSoftmax: return "softmax";
    case ScoreFunction::kSigmoid: return "sigmoid";
    case ScoreFunction::kNone: return "none";
    case ScoreFunction::kDefault: break;
  }
  return "default";
}

const char* AggregationName(Aggregation a) {
  switch (a) {
    case Aggregation::kSimple: return "simple";
    case Aggregation::kFirst: return "first";
    case Aggregation::kAverage: return "average";
    case Aggregation::kMax: return "max";
    case Aggregation::kNone: break;
  }
  return "none";
}

const char* PoolingModeName(PoolingMode p) {
  switch (p) {
    case PoolingMode::kMean: return "mean";
    case PoolingMode::kCls: return "cls";
    case PoolingMode::kNone: break;
  }
  return "none";
}

// ---- loading --------------------------------------------------------------------------------------

struct Pipeline::Impl {
  AlignedBytes packed;             // the packed file the engine reads in place (null for a checkpoint)
  std::unique_ptr<Engine> engine;  // declared after `packed`, so destroyed before it
  ModelInfo info;

  // What every loader shares once the engine is up: the info, the precision check, the threads.
  Status Finish(const LoadOptions& options) {
    EB_ASSIGN_OR_RETURN(info, ToModelInfo(engine->Info()));
    if (options.quantization == Quantization::kFp32 && info.quantization != Quantization::kFp32) {
      return InvalidArgument("quantization fp32 needs a Hugging Face checkpoint: a packed model (.ebm) holds int8 "
                             "weights only");
    }
    engine->SetMaxThreads(options.threads);
    return Status::Ok();
  }
};

Pipeline::Pipeline(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Pipeline::Pipeline(Pipeline&&) noexcept = default;
Pipeline& Pipeline::operator=(Pipeline&&) noexcept = default;
Pipeline::~Pipeline() = default;

Result<Pipeline> Pipeline::FromPackedBytes(const void* data, size_t size, const LoadOptions& options) {
  EB_RETURN_IF_ERROR(CheckThreads(options.threads));
  if (!data && size > 0) return InvalidArgument("FromPackedBytes: data is null but size is " + std::to_string(size));
  auto impl = std::make_unique<Impl>();
  EB_ASSIGN_OR_RETURN(impl->packed, AllocAligned(size));
  if (size > 0) std::memcpy(impl->packed.get(), data, size);
  EB_ASSIGN_OR_RETURN(impl->engine, Engine::FromPackedInPlace(impl->packed.get(), size));
  EB_RETURN_IF_ERROR(impl->Finish(options));
  return Pipeline(std::move(impl));
}

Result<Pipeline> Pipeline::FromHuggingFaceFiles(const std::vector<std::pair<std::string, std::string>>& files,
                                                const LoadOptions& options) {
  EB_RETURN_IF_ERROR(CheckThreads(options.threads));
  std::vector<std::pair<std::string, std::string_view>> views;
  views.reserve(files.size());
  for (const auto& [name, bytes] : files) views.emplace_back(name, bytes);
  EngineOptions engine_options;
  engine_options.prefer_int8 = options.quantization == Quantization::kInt8;
  auto impl = std::make_unique<Impl>();
  EB_ASSIGN_OR_RETURN(impl->engine, Engine::FromHfFiles(views, engine_options));
  EB_RETURN_IF_ERROR(impl->Finish(options));
  return Pipeline(std::move(impl));
}

Result<Pipeline> Pipeline::Load(const std::string& path, const LoadOptions& options) {
  EB_RETURN_IF_ERROR(CheckThreads(options.threads));
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return OpenError(path, errno);
  if (S_ISDIR(st.st_mode)) {
    // A Hugging Face checkpoint directory: the files the engine reads, where present.
    std::vector<std::pair<std::string, std::string>> files;
    for (const char* name : {"config.json", "model.safetensors", "tokenizer.json", "vocab.txt",
                             "tokenizer_config.json", "special_tokens_map.json"}) {
      const std::string file = path + "/" + name;
      const bool required = std::strcmp(name, "config.json") == 0 || std::strcmp(name, "model.safetensors") == 0;
      if (!required && !FileExists(file)) continue;
      auto bytes = ReadFileToString(file);
      if (!bytes.ok()) {
        if (bytes.status().code() == StatusCode::kNotFound && std::strcmp(name, "model.safetensors") == 0) {
          return NotFound(file + ": no such file (a Hugging Face checkpoint directory needs config.json and "
                          "model.safetensors; pytorch_model.bin is not read: re-save with safe_serialization=True)");
        }
        return bytes.status();
      }
      files.emplace_back(name, std::move(bytes).value());
    }
    auto p = FromHuggingFaceFiles(files, options);
    if (!p.ok()) return Status(p.status().code(), path + ": " + p.status().message());
    return p;
  }
  // A packed model: read straight into the aligned buffer the engine repacks in place.
  auto impl = std::make_unique<Impl>();
  size_t size = 0;
  EB_RETURN_IF_ERROR(ReadWholeFile(path, [&](size_t n) -> Result<uint8_t*> {
    size = n;
    EB_ASSIGN_OR_RETURN(impl->packed, AllocAligned(n));
    return impl->packed.get();
  }));
  auto engine = Engine::FromPackedInPlace(impl->packed.get(), size);
  if (!engine.ok()) {
    return Status(engine.status().code(), path + ": " + engine.status().message() +
                                              " (Load takes a packed .ebm file or a Hugging Face checkpoint directory)");
  }
  impl->engine = std::move(engine).value();
  EB_RETURN_IF_ERROR(impl->Finish(options));
  return Pipeline(std::move(impl));
}

const ModelInfo& Pipeline::Info() const { return impl_->info; }

Status Pipeline::SetThreads(int threads) {
  EB_RETURN_IF_ERROR(CheckThreads(threads));
  impl_->engine->SetMaxThreads(threads);
  return Status::Ok();
}

Result<std::string> Pipeline::RunJson(std::string_view task, std::string_view request_json) {
  EB_ASSIGN_OR_RETURN(Json request, ParseJson(request_json));
  EB_ASSIGN_OR_RETURN(Json response, impl_->engine->Run(task, request));
  return DumpJson(response);
}

// ---- tasks ----------------------------------------------------------------------------------------

Result<std::vector<ScoredLabel>> Pipeline::ClassifyText(const TextClassificationRequest& r) {
  constexpr std::string_view kTask = "text-classification";
  Json::Object req = {{"text", Str(r.text)}};
  if (r.text_pair) req.emplace_back("text_pair", Str(*r.text_pair));
  req.emplace_back("top_k", r.top_k ? Num(*r.top_k) : Json());
  req.emplace_back("function_to_apply", Str(ScoreFunctionName(r.function_to_apply)));
  req.emplace_back("truncation", Bool(r.truncation));
  EB_ASSIGN_OR_RETURN(Json out, impl_->engine->Run(kTask, Json::MakeObject(std::move(req))));
  std::vector<ScoredLabel> labels;
  for (const Json& o : out.as_array()) {
    ScoredLabel l;
    EB_ASSIGN_OR_RETURN(l.label, GetStr(o, "label", kTask));
    EB_ASSIGN_OR_RETURN(double score, GetNum(o, "score", kTask));
    l.score = static_cast<float>(score);  // the engine's float, exactly (float -> double -> float)
    labels.push_back(std::move(l));
  }
  return labels;
}

Result<std::vector<EntitySpan>> Pipeline::ClassifyTokens(const TokenClassificationRequest& r) {
  constexpr std::string_view kTask = "token-classification";
  Json::Object req = {{"text", Str(r.text)},
                      {"aggregation_strategy", Str(AggregationName(r.aggregation_strategy))},
                      {"ignore_labels", StringArray(r.ignore_labels)}};
  if (r.stride) req.emplace_back("stride", Num(*r.stride));
  req.emplace_back("truncation", Bool(r.truncation));
  req.emplace_back("offset_unit", Str("byte"));
  EB_ASSIGN_OR_RETURN(Json out, impl_->engine->Run(kTask, Json::MakeObject(std::move(req))));
  const char* label_key = r.aggregation_strategy == Aggregation::kNone ? "entity" : "entity_group";
  std::vector<EntitySpan> spans;
  for (const Json& o : out.as_array()) {
    EntitySpan e;
    EB_ASSIGN_OR_RETURN(e.entity, GetStr(o, label_key, kTask));
    EB_ASSIGN_OR_RETURN(double score, GetNum(o, "score", kTask));
    e.score = static_cast<float>(score);
    if (const Json* index = o.Find("index")) e.index = static_cast<int>(index->as_int(-1));
    EB_ASSIGN_OR_RETURN(e.word, GetStr(o, "word", kTask));
    EB_ASSIGN_OR_RETURN(e.start, GetOffset(o, "start", kTask));
    EB_ASSIGN_OR_RETURN(e.end, GetOffset(o, "end", kTask));
    spans.push_back(std::move(e));
  }
  return spans;
}

Result<std::vector<AnswerSpan>> Pipeline::AnswerQuestion(const QuestionAnsweringRequest& r) {
  constexpr std::string_view kTask = "question-answering";
  Json::Object req = {{"question", Str(r.question)},
                      {"context", Str(r.context)},
                      {"top_k", Num(r.top_k)},
                      {"max_answer_len", Num(r.max_answer_len)},
                      {"max_question_len", Num(r.max_question_len)},
                      {"handle_impossible_answer", Bool(r.handle_impossible_answer)},
                      {"align_to_words", Bool(r.align_to_words)},
                      {"offset_unit", Str("byte")}};
  if (r.max_seq_len) req.emplace_back("max_seq_len", Num(*r.max_seq_len));
  if (r.doc_stride) req.emplace_back("doc_stride", Num(*r.doc_stride));
  EB_ASSIGN_OR_RETURN(Json out, impl_->engine->Run(kTask, Json::MakeObject(std::move(req))));
  std::vector<AnswerSpan> answers;
  for (const Json& o : out.as_array()) {
    AnswerSpan a;
    EB_ASSIGN_OR_RETURN(a.score, GetNum(o, "score", kTask));
    EB_ASSIGN_OR_RETURN(a.start, GetOffset(o, "start", kTask));
    EB_ASSIGN_OR_RETURN(a.end, GetOffset(o, "end", kTask));
    EB_ASSIGN_OR_RETURN(a.answer, GetStr(o, "answer", kTask));
    answers.push_back(std::move(a));
  }
  return answers;
}

Result<Tensor> Pipeline::ExtractFeatures(const FeatureExtractionRequest& r) {
  constexpr std::string_view kTask = "feature-extraction";
  Json::Object req = {{"text", Str(r.text)}};
  if (r.text_pair) req.emplace_back("text_pair", Str(*r.text_pair));
  req.emplace_back("pooling", Str(PoolingModeName(r.pooling)));
  req.emplace_back("normalize", Bool(r.normalize));
  req.emplace_back("truncation", Bool(r.truncation));
  EB_ASSIGN_OR_RETURN(Json out, impl_->engine->Run(kTask, Json::MakeObject(std::move(req))));
  const Json* dims = out.Find("dims");
  const Json* data = out.Find("data");
  if (!dims || !dims->is_array() || !data || !data->is_array()) return BadResponse(kTask, "dims and data");
  Tensor t;
  size_t count = 1;
  for (const Json& d : dims->as_array()) {
    if (d.as_int(-1) < 0) return BadResponse(kTask, "valid dims");
    t.dims.push_back(static_cast<size_t>(d.as_int()));
    count *= t.dims.back();
  }
  if (count != data->size()) return BadResponse(kTask, "data matching its dims");
  t.data.reserve(count);
  for (const Json& x : data->as_array()) t.data.push_back(static_cast<float>(x.as_double()));
  return t;
}

Result<std::vector<std::vector<MaskPrediction>>> Pipeline::FillMask(const FillMaskRequest& r) {
  constexpr std::string_view kTask = "fill-mask";
  Json::Object req = {{"text", Str(r.text)}, {"top_k", Num(r.top_k)}};
  if (!r.targets.empty()) req.emplace_back("targets", StringArray(r.targets));
  req.emplace_back("truncation", Bool(r.truncation));
  EB_ASSIGN_OR_RETURN(Json out, impl_->engine->Run(kTask, Json::MakeObject(std::move(req))));
  std::vector<std::vector<MaskPrediction>> masks;
  for (const Json& one : out.as_array()) {
    std::vector<MaskPrediction> predictions;
    for (const Json& o : one.as_array()) {
      MaskPrediction p;
      EB_ASSIGN_OR_RETURN(double score, GetNum(o, "score", kTask));
      p.score = static_cast<float>(score);
      EB_ASSIGN_OR_RETURN(double token, GetNum(o, "token", kTask));
      p.token = static_cast<int64_t>(token);
      EB_ASSIGN_OR_RETURN(p.token_str, GetStr(o, "token_str", kTask));
      EB_ASSIGN_OR_RETURN(p.sequence, GetStr(o, "sequence", kTask));
      predictions.push_back(std::move(p));
    }
    masks.push_back(std::move(predictions));
  }
  return masks;
}

}  // namespace edgebert
