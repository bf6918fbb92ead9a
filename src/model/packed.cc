// packed.cc: writing (ConvertToPacked) and in-place reading (LoadPackedModel) of packed models.
#include "model/packed.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <set>

#include "model/safetensors.h"
#include "model/safetensors_source.h"
#include "model/xxhash64.h"
#include "tokenizer/tokenizer.h"
#include "util/checked.h"
#include "util/json.h"

namespace edgebert {
namespace {

const char* const kAllowedFiles[] = {"config.json", "vocab.txt", "tokenizer.json", "tokenizer_config.json",
                                     "special_tokens_map.json"};

bool AllowedFile(const std::string& name) {
  for (const char* f : kAllowedFiles)
    if (name == f) return true;
  return false;
}

// Offsets and sizes of a packed file are laid out and read in uint64_t, then checked to fit a
// buffer (FitsBuffer) before anything is allocated or indexed with them.
uint64_t AlignUp(uint64_t x) {
  uint64_t r = 0;
  return CheckedAlignUp(x, kPackedAlignment, &r) ? r : std::numeric_limits<uint64_t>::max();
}

void PutU32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
void PutU64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint32_t GetU32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
uint64_t GetU64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

std::string JsonEscape(const std::string& s) {
  std::string r = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      r += '\\';
      r += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      r += buf;
    } else {
      r += static_cast<char>(c);
    }
  }
  return r + "\"";
}

// One entry of the packed file's table.
struct Entry {
  std::string name;
  std::string dtype;  // "f32", "i8", "bytes"
  std::vector<int64_t> shape;
  const void* data = nullptr;
  size_t size = 0;
  uint64_t offset = 0;  // uint64_t: the converter lays the file out before checking it fits a buffer
  size_t room = 0;  // bytes reserved at offset for the packed layout of a Linear weight (>= size), or 0
  size_t Extent() const { return std::max(size, room); }
};

size_t DTypeBytes(const std::string& dtype) {
  if (dtype == "f32") return 4;
  if (dtype == "i8" || dtype == "bytes") return 1;
  return 0;
}

// Records every tensor the binder asks for, in order: that list is the packed file's content.
class RecordingSource : public TensorSource {
 public:
  explicit RecordingSource(TensorSource* inner) : inner_(inner) {}
  bool Has(const std::string& name) const override { return inner_->Has(name); }
  Result<int64_t> Rows(const std::string& name) const override { return inner_->Rows(name); }
  std::string FileName() const override { return inner_->FileName(); }
  Result<const float*> F32(const std::string& name, const std::vector<int64_t>& shape) override {
    EB_ASSIGN_OR_RETURN(const float* p, inner_->F32(name, shape));
    uint64_t bytes = sizeof(float);
    for (int64_t d : shape)
      if (d < 0 || !CheckedMul(bytes, static_cast<uint64_t>(d), &bytes) || !FitsBuffer(bytes))
        return InvalidArgument(FileName() + ": tensor '" + name + "' is too large for a packed model");
    Add(name, "f32", shape, p, static_cast<size_t>(bytes));
    return p;
  }
  Status I8(const std::string& name, int n, int k, const int8_t** q, const float** scale) override {
    EB_RETURN_IF_ERROR(inner_->I8(name, n, k, q, scale));
    EB_ASSIGN_OR_RETURN(size_t bytes, BufferBytes({n, k}, 1, FileName() + ": tensor '" + name + "'"));
    Add(name, "i8", {n, k}, *q, bytes);
    Add(name + ".scale", "f32", {n}, *scale, static_cast<size_t>(n) * 4);
    return Status::Ok();
  }
  // A Linear weight: reserve room for the GEMM's packed layout so a loader can pack in place.
  Status PrepareLinear(const std::string& name, QLinearWeights* q) override {
    for (Entry& e : entries)
      if (e.name == name && e.dtype == "i8") e.room = QLinearRoomBytes(q->n, q->k);
    return inner_->PrepareLinear(name, q);
  }
  std::vector<Entry> entries;

 private:
  void Add(const std::string& name, const char* dtype, std::vector<int64_t> shape, const void* data, size_t size) {
    if (!seen_.insert(name).second) return;
    Entry e;
    e.name = name;
    e.dtype = dtype;
    e.shape = std::move(shape);
    e.data = data;
    e.size = size;
    entries.push_back(std::move(e));
  }
  TensorSource* inner_;
  std::set<std::string> seen_;
};

// Tensors of a packed file, as views into its buffer.
class PackedSource : public TensorSource {
 public:
  // `mutable_base`: the same buffer when the loader may pack Linear weights in place, else null.
  PackedSource(const uint8_t* base, uint8_t* mutable_base, const std::map<std::string, Entry>* entries)
      : base_(base), mutable_base_(mutable_base), entries_(entries) {}
  std::string FileName() const override { return "packed model"; }
  bool Has(const std::string& name) const override { return entries_->count(name) > 0; }
  Result<int64_t> Rows(const std::string& name) const override {
    auto it = entries_->find(name);
    if (it == entries_->end()) return NotFound("packed model: missing tensor '" + name + "'");
    if (it->second.shape.size() != 2) return CorruptData("packed model: tensor '" + name + "' is not 2-D");
    return it->second.shape[0];
  }
  // The checksum only proves the bytes are the ones written: a crafted file's NaN, infinite or
  // huge weights are refused here, as the converter refuses them in a checkpoint.
  Result<const float*> F32(const std::string& name, const std::vector<int64_t>& shape) override {
    EB_ASSIGN_OR_RETURN(const Entry* e, Get(name, "f32", shape));
    const auto* p = reinterpret_cast<const float*>(base_ + e->offset);
    EB_RETURN_IF_ERROR(CheckWeightValues(p, e->size / sizeof(float), "packed model", name));
    return p;
  }
  Status I8(const std::string& name, int n, int k, const int8_t** q, const float** scale) override {
    EB_ASSIGN_OR_RETURN(const Entry* e, Get(name, "i8", {n, k}));
    EB_ASSIGN_OR_RETURN(const float* s, F32(name + ".scale", {n}));
    for (int i = 0; i < n; ++i)
      if (!(s[i] > 0))
        return CorruptData("packed model: '" + name + ".scale' row " + std::to_string(i) + " is not a positive number");
    *q = reinterpret_cast<const int8_t*>(base_ + e->offset);
    *scale = s;
    return Status::Ok();
  }
  // In place when the buffer is ours and the entry's room fits this build's layout; deferred to
  // PackInPlace so that nothing is written before the whole model is validated.
  Status PrepareLinear(const std::string& name, QLinearWeights* q) override {
    auto it = entries_->find(name);
    if (mutable_base_ && it != entries_->end() && it->second.room >= QLinearPackedBytes(q->n, q->k)) {
      for (const Deferred& d : deferred_)
        if (d.name == &it->first) return Internal("packed model: '" + name + "' bound twice as a Linear weight");
      // PrepareQLinearInPlace's own checks, made now: packing must not fail halfway.
      if (q->n <= 0 || q->k <= 0 || q->k > kQLinearMaxDepth || !q->scale ||
          reinterpret_cast<const uint8_t*>(q->weight) != mutable_base_ + it->second.offset)
        return PrepareQLinear(q);  // reports the error (or packs a copy)
      deferred_.push_back({&it->first, q, mutable_base_ + it->second.offset, it->second.room});
      return Status::Ok();
    }
    return PrepareQLinear(q);
  }
  Status PackInPlace() {
    for (const Deferred& d : deferred_) EB_RETURN_IF_ERROR(PrepareQLinearInPlace(d.q, d.room, d.room_bytes));
    deferred_.clear();
    return Status::Ok();
  }

 private:
  Result<const Entry*> Get(const std::string& name, const char* dtype, const std::vector<int64_t>& shape) const {
    auto it = entries_->find(name);
    if (it == entries_->end()) return NotFound("packed model: missing tensor '" + name + "'");
    const Entry& e = it->second;
    if (e.dtype != dtype)
      return InvalidArgument("packed model: tensor '" + name + "' is " + e.dtype + "; expected " + dtype);
    if (e.shape != shape)
      return InvalidArgument("packed model: tensor '" + name + "' has shape " + SafetensorsSource::ShapeString(e.shape) +
                             "; the config needs " + SafetensorsSource::ShapeString(shape));
    return &e;
  }
  struct Deferred {
    const std::string* name;
    QLinearWeights* q;
    uint8_t* room;
    size_t room_bytes;
  };
  const uint8_t* base_;
  uint8_t* mutable_base_;
  const std::map<std::string, Entry>* entries_;
  std::vector<Deferred> deferred_;
};

// The tokenizer the engine builds from these files (pipeline/engine.cc, MakeTokenizer: tokenizer.json
// first, else vocab.txt with its optional configs), built once here so that the converter refuses a
// bad tokenizer file, naming it, before a page spends the conversion and a load on it.
Status CheckTokenizerFiles(const std::vector<std::pair<std::string, std::string_view>>& files) {
  const std::string_view* tokenizer_json = nullptr;
  const std::string_view* vocab_txt = nullptr;
  std::string_view config, map;
  for (const auto& [name, bytes] : files) {
    if (name == "vocab.txt") {
      vocab_txt = &bytes;
      continue;
    }
    // Every JSON file parses, as an object, with its name in the error.
    EB_ASSIGN_OR_RETURN(const Json j, ParseJson(bytes, name));
    if (!j.is_object()) return InvalidArgument(name + ": the top level is not a JSON object");
    if (name == "tokenizer.json") tokenizer_json = &bytes;
    if (name == "tokenizer_config.json") config = bytes;
    if (name == "special_tokens_map.json") map = bytes;
  }
  auto named = [](const char* file, const Status& s) {
    if (s.message().rfind(file, 0) == 0) return s;
    return Status(s.code(), std::string(file) + ": " + s.message());
  };
  if (tokenizer_json) {
    auto t = Tokenizer::FromTokenizerJson(*tokenizer_json);
    if (!t.ok()) return named("tokenizer.json", t.status());
  } else if (vocab_txt) {
    auto t = Tokenizer::FromVocabFiles(*vocab_txt, config, map);
    if (!t.ok()) return named("vocab.txt", t.status());
  }
  return Status::Ok();
}

Status CheckVocabulary(const ModelConfig& c, const std::vector<std::pair<std::string, std::string_view>>& files,
                       bool parse_tokenizer_json) {
  for (const auto& [name, bytes] : files) {
    if (name != "vocab.txt" && !(parse_tokenizer_json && name == "tokenizer.json")) continue;
    EB_ASSIGN_OR_RETURN(int64_t n, CountVocabulary(name, bytes));
    // A tokenizer may use fewer ids than the embedding table has rows (padded vocabularies), never more.
    if (n > c.vocab_size)
      return InvalidArgument("vocabulary size mismatch: " + name + " has " + std::to_string(n) +
                             " tokens but the model's vocab_size is " + std::to_string(c.vocab_size));
  }
  return Status::Ok();
}

}  // namespace

Result<int64_t> CountVocabulary(std::string_view file_name, std::string_view bytes) {
  if (file_name == "vocab.txt") {
    int64_t lines = std::count(bytes.begin(), bytes.end(), '\n');
    if (!bytes.empty() && bytes.back() != '\n') ++lines;
    return lines;
  }
  if (file_name == "tokenizer.json") {
    EB_ASSIGN_OR_RETURN(const Json j, ParseJson(bytes, "tokenizer.json"));
    const Json* model = j.Find("model");
    const Json* vocab = model ? model->Find("vocab") : nullptr;
    if (!vocab) return InvalidArgument("tokenizer.json has no model.vocab");
    int64_t n = static_cast<int64_t>(vocab->size());
    if (const Json* added = j.Find("added_tokens"))
      for (const Json& t : added->as_array()) {
        const int64_t id = t.Find("id") ? t.Find("id")->as_int(-1) : -1;
        if (id < 0 || id >= ModelConfigLimits::kMaxVocab)
          return InvalidArgument("tokenizer.json: added_tokens has an 'id' that is not an integer in 0.." +
                                 std::to_string(ModelConfigLimits::kMaxVocab - 1));
        n = std::max<int64_t>(n, id + 1);
      }
    return n;
  }
  return InvalidArgument(std::string(file_name) + " is not a vocabulary file");
}

Result<std::string> ConvertToPacked(const ConvertInputs& in, ConvertReport* report) {
  for (const auto& [name, bytes] : in.files)
    if (!AllowedFile(name) || name == "config.json")
      return InvalidArgument("convert: '" + name + "' is not a tokenizer file edgebert carries (vocab.txt, "
                             "tokenizer.json, tokenizer_config.json, special_tokens_map.json)");
  Model model;
  EB_ASSIGN_OR_RETURN(model.config, ParseModelConfig(in.config_json, "config.json"));
  EB_RETURN_IF_ERROR(CheckTokenizerFiles(in.files));
  EB_RETURN_IF_ERROR(CheckVocabulary(model.config, in.files, /*parse_tokenizer_json=*/true));
  const auto* st = reinterpret_cast<const uint8_t*>(in.safetensors.data());
  EB_ASSIGN_OR_RETURN(SafetensorsFile file, ParseSafetensors(st, in.safetensors.size(), "model.safetensors"));
  SafetensorsSource hf(&file, &model);
  RecordingSource rec(&hf);
  // fp32 = false: Linear weights are recorded as int8 only (heads keep fp32, see Binder::Lin).
  EB_RETURN_IF_ERROR(BindModelWeights(&rec, /*fp32=*/false, /*int8=*/true, &model));

  // Quantization error report: re-read the fp32 weights and compare with their dequantization.
  if (report) {
    report->quant_error.clear();
    for (const Entry& e : rec.entries) {
      if (e.dtype != "i8") continue;
      std::vector<float> w;
      const SafeTensor* t = hf.Lookup(e.name);
      if (!t || !SafeTensorToF32(*t, "model.safetensors", &w).ok()) continue;
      const int64_t n = e.shape[0], k = e.shape[1];
      const auto* q = static_cast<const int8_t*>(e.data);
      const float* scale = nullptr;
      for (const Entry& s : rec.entries)
        if (s.name == e.name + ".scale") scale = static_cast<const float*>(s.data);
      float worst = 0;
      for (int64_t r = 0; r < n; ++r) {
        float amax = 0, err = 0;
        for (int64_t i = 0; i < k; ++i) {
          amax = std::max(amax, std::fabs(w[r * k + i]));
          err = std::max(err, std::fabs(w[r * k + i] - scale[r] * q[r * k + i]));
        }
        if (amax > 0) worst = std::max(worst, err / amax);
      }
      report->quant_error.emplace_back(e.name, worst);
    }
  }

  // Table: files first (config.json, then the tokenizer files), then tensors in binding order.
  // JSON files are carried compacted (MinifyJson; all of them parsed above): whitespace padding
  // would otherwise be kept in memory for the model's lifetime.
  std::vector<std::string> compacted;
  compacted.reserve(in.files.size() + 1);
  std::vector<Entry> entries;
  auto add_file = [&](const std::string& name, std::string_view bytes) {
    Entry e;
    e.name = name;
    e.dtype = "bytes";
    e.shape = {static_cast<int64_t>(bytes.size())};
    e.data = bytes.data();
    e.size = bytes.size();
    entries.push_back(std::move(e));
  };
  compacted.push_back(MinifyJson(in.config_json));
  add_file("config.json", compacted.back());
  for (const auto& [name, bytes] : in.files) {
    if (name == "vocab.txt") {
      add_file(name, bytes);
    } else {
      compacted.push_back(MinifyJson(bytes));
      add_file(name, compacted.back());
    }
  }
  for (Entry& e : rec.entries) entries.push_back(std::move(e));

  // Offsets depend on the header's length, which depends on the offsets' digits: iterate until stable.
  std::string header;
  uint64_t data_start = 0;
  for (int pass = 0; pass < 4; ++pass) {
    uint64_t off = AlignUp(kPackedPreambleBytes + header.size());
    data_start = off;
    for (Entry& e : entries) {
      e.offset = off;
      off = AlignUp(off + e.Extent());
    }
    std::string h = "{\"format\":\"edgebert\",\"architecture\":" + JsonEscape(model.config.architecture) +
                    ",\"head\":" + JsonEscape(HeadKindName(model.config.head)) + ",\"entries\":[";
    for (size_t i = 0; i < entries.size(); ++i) {
      const Entry& e = entries[i];
      h += (i ? ",\n" : "\n") + std::string("{\"name\":") + JsonEscape(e.name) + ",\"dtype\":\"" + e.dtype +
           "\",\"shape\":[";
      for (size_t d = 0; d < e.shape.size(); ++d) h += (d ? "," : "") + std::to_string(e.shape[d]);
      h += "],\"offset\":" + std::to_string(e.offset) + ",\"size\":" + std::to_string(e.size);
      if (e.room) h += ",\"room\":" + std::to_string(e.room);
      h += "}";
    }
    h += "\n]}\n";
    if (h == header) break;
    header = std::move(h);
  }
  if (AlignUp(kPackedPreambleBytes + header.size()) != data_start) return Internal("packed header layout did not converge");
  const uint64_t file_size = entries.empty() ? data_start : AlignUp(entries.back().offset + entries.back().Extent());
  // Each offset is at most file_size, so one check covers them all (they were summed in uint64_t).
  if (!FitsBuffer(file_size) || file_size < data_start)
    return InvalidArgument("convert: the packed model would be " + std::to_string(file_size) +
                           " bytes, more than the 4 GiB a buffer may have (docs/LIMITS.md)");

  std::string out(static_cast<size_t>(file_size), '\0');
  auto* p = reinterpret_cast<uint8_t*>(out.data());
  std::memcpy(p, kPackedMagic, 8);
  PutU32(p + 8, kPackedVersion);
  PutU32(p + 12, static_cast<uint32_t>(header.size()));
  PutU64(p + 16, file_size);
  std::memcpy(p + kPackedPreambleBytes, header.data(), header.size());
  for (const Entry& e : entries)
    if (e.size) std::memcpy(p + e.offset, e.data, e.size);  // little-endian hosts: f32 bytes as stored
  PutU64(p + 24, XxHash64(p + kPackedPreambleBytes, static_cast<size_t>(file_size) - kPackedPreambleBytes));
  if (report) report->packed_bytes = file_size;
  return out;
}

namespace {

// mutable_data: null (read-only buffer, Linear weights packed into copies) or data itself.
Result<std::unique_ptr<Model>> LoadPacked(const uint8_t* data, uint8_t* mutable_data, size_t size) {
  if (reinterpret_cast<uintptr_t>(data) % 4 != 0)
    return InvalidArgument("packed model: the buffer must be 4-byte aligned (64 recommended) to be read in place");
  if (size < kPackedPreambleBytes)
    return CorruptData("packed model: " + std::to_string(size) + " bytes is shorter than the 32-byte preamble (truncated file?)");
  if (std::memcmp(data, kPackedMagic, 8) != 0)
    return CorruptData("packed model: wrong magic (expected \"EDGEBERT\"); this is not an edgebert packed model");
  const uint32_t version = GetU32(data + 8);
  if (version != 1 && version != kPackedVersion)
    return Unsupported("packed model: format version " + std::to_string(version) + "; this build reads versions 1 to " +
                       std::to_string(kPackedVersion) + (version > kPackedVersion ? " (a newer edgebert wrote it)" : ""));
  const uint32_t header_bytes = GetU32(data + 12);
  const uint64_t file_size = GetU64(data + 16);
  if (file_size != size)
    return CorruptData("packed model: the preamble says " + std::to_string(file_size) + " bytes but the buffer has " +
                       std::to_string(size) + (size < file_size ? " (truncated file?)" : " (trailing bytes)"));
  if (header_bytes > size - kPackedPreambleBytes)
    return CorruptData("packed model: header length " + std::to_string(header_bytes) + " exceeds the file");
  const uint64_t checksum = GetU64(data + 24);
  const uint64_t actual = XxHash64(data + kPackedPreambleBytes, size - kPackedPreambleBytes);
  if (checksum != actual) return CorruptData("packed model: checksum mismatch (the file is corrupted)");

  EB_ASSIGN_OR_RETURN(const Json header, ParseJson(std::string_view(reinterpret_cast<const char*>(data + kPackedPreambleBytes),
                                                                    header_bytes),
                                                   "packed model header"));
  const Json* list = header.Find("entries");
  if (!list || !list->is_array()) return CorruptData("packed model: header has no 'entries' array");

  // Entries: known dtype, 64-byte-aligned offsets after the header, in order, inside the file,
  // and sizes matching their shapes.
  std::map<std::string, Entry> entries;
  uint64_t next = AlignUp(kPackedPreambleBytes + header_bytes);
  for (const Json& j : list->as_array()) {
    Entry e;
    const Json* name = j.Find("name");
    const Json* dtype = j.Find("dtype");
    const Json* shape = j.Find("shape");
    if (!name || !name->is_string() || !dtype || !dtype->is_string() || !shape || !shape->is_array())
      return CorruptData("packed model: an entry lacks name, dtype or shape");
    e.name = name->as_string();
    e.dtype = dtype->as_string();
    const std::string where = "packed model: entry '" + e.name + "'";
    const size_t elem = DTypeBytes(e.dtype);
    if (elem == 0) return CorruptData(where + " has unknown dtype '" + e.dtype + "'");
    const int64_t off = j.Find("offset") ? j.Find("offset")->as_int(-1) : -1;
    const int64_t sz = j.Find("size") ? j.Find("size")->as_int(-1) : -1;
    if (off < 0 || sz < 0) return CorruptData(where + " lacks a non-negative offset and size");
    uint64_t numel = 1;
    for (const Json& d : shape->as_array()) {
      const int64_t v = d.as_int(-1);
      if (v < 0 || (v > 0 && numel > (uint64_t{1} << 40) / static_cast<uint64_t>(v)))
        return CorruptData(where + " has an invalid shape");
      numel *= static_cast<uint64_t>(v);
      e.shape.push_back(v);
    }
    if (numel * elem != static_cast<uint64_t>(sz))
      return CorruptData(where + " has size " + std::to_string(sz) + " but its shape needs " + std::to_string(numel * elem));
    // Version 2: an i8 entry may reserve "room" bytes (>= size) at its offset for the GEMM's
    // packed layout; the next entry starts after the room.
    int64_t room = 0;
    if (const Json* r = j.Find("room")) {
      room = r->as_int(-1);
      if (version < 2) return CorruptData(where + " has a 'room', which version-1 files do not have");
      if (e.dtype != "i8" || room < sz)
        return CorruptData(where + " has room " + std::to_string(room) + "; only an i8 entry has room, at least its size " +
                           std::to_string(sz));
    }
    const int64_t extent = std::max(sz, room);
    if (static_cast<uint64_t>(off) % kPackedAlignment != 0 || static_cast<uint64_t>(off) < next ||
        static_cast<uint64_t>(off) > size || static_cast<uint64_t>(extent) > size - static_cast<uint64_t>(off))
      return CorruptData(where + " at offset " + std::to_string(off) + " (+" + std::to_string(extent) +
                         " bytes) is misaligned, overlaps the previous entry or lies outside the file");
    e.offset = static_cast<uint64_t>(off);
    e.size = static_cast<size_t>(sz);
    e.room = static_cast<size_t>(room);
    next = AlignUp(e.offset + e.Extent());
    if (!entries.emplace(e.name, e).second) return CorruptData(where + " appears twice");
  }

  auto model = std::make_unique<Model>();
  for (const auto& [name, e] : entries)
    if (e.dtype == "bytes") model->files.emplace_back(name, std::string_view(reinterpret_cast<const char*>(data + e.offset), e.size));
  const std::string_view* config = model->FindFile("config.json");
  if (!config) return NotFound("packed model: no config.json entry");
  EB_ASSIGN_OR_RETURN(model->config, ParseModelConfig(*config, "packed model config.json"));
  EB_RETURN_IF_ERROR(CheckVocabulary(model->config, model->files, /*parse_tokenizer_json=*/false));
  PackedSource src(data, mutable_data, &entries);
  EB_RETURN_IF_ERROR(BindModelWeights(&src, /*fp32=*/false, /*int8=*/true, model.get()));
  EB_RETURN_IF_ERROR(src.PackInPlace());  // the first write to the buffer, after every check
  UseTiedDecoderRows(model.get());
  return model;
}

}  // namespace

Result<std::unique_ptr<Model>> LoadPackedModel(const uint8_t* data, size_t size) {
  return LoadPacked(data, nullptr, size);
}

Result<std::unique_ptr<Model>> LoadPackedModelInPlace(uint8_t* data, size_t size) {
  return LoadPacked(data, data, size);
}

}  // namespace edgebert
