// model_robustness_test.cc: crafted checkpoints and packed files (issue 16): sizes that would wrap
// in wasm32, overlapping safetensors data, NaN and huge weights, bad tokenizer files, and errors
// that name the file and the field. Every crafted file is built here, not committed.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "encoder/encoder.h"
#include "model/config.h"
#include "model/model.h"
#include "model/packed.h"
#include "model/safetensors.h"
#include "model/xxhash64.h"
#include "test_util.h"
#include "util/json.h"

namespace edgebert {
namespace {

using testing::FixturePath;
using testing::ReadFileOrFail;

const uint8_t* U8(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

std::string MakeSafetensors(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  const uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(n >> (8 * i));
  return out + header + data;
}

Status ParseStatus(const std::string& file) {
  return ParseSafetensors(U8(file), file.size(), "model.safetensors").status();
}

// ---- safetensors: data_offsets tile the data region, names are unique (F8) -------------------

TEST(SafetensorsRobustness, RefusesOverlappingGappedAndTrailingData) {
  const std::string data16(16, '\0');
  // Two tensors over the same 8 bytes.
  Status s = ParseStatus(MakeSafetensors(
      R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
      std::string(8, '\0')));
  EXPECT_EQ(s.code(), StatusCode::kCorruptData);
  EXPECT_NE(s.message().find("overlapping"), std::string::npos) << s.message();
  // Partly overlapping.
  s = ParseStatus(MakeSafetensors(
      R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
      data16.substr(0, 12)));
  EXPECT_EQ(s.code(), StatusCode::kCorruptData);
  EXPECT_NE(s.message().find("model.safetensors: tensor 'b' has data_offsets [4, 12] but the previous tensor 'a' ends at 8"),
            std::string::npos)
      << s.message();
  // A gap between tensors, and bytes after the last one.
  s = ParseStatus(MakeSafetensors(
      R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
      data16.substr(0, 12)));
  EXPECT_EQ(s.code(), StatusCode::kCorruptData);
  EXPECT_NE(s.message().find("a gap"), std::string::npos) << s.message();
  s = ParseStatus(MakeSafetensors(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", data16));
  EXPECT_EQ(s.code(), StatusCode::kCorruptData);
  EXPECT_NE(s.message().find("cover 8 bytes of the 16-byte data region"), std::string::npos) << s.message();
  // Contiguous in any header order, and empty tensors, are fine (as Hugging Face writes them).
  EXPECT_TRUE(ParseStatus(MakeSafetensors(R"({"__metadata__":{"format":"pt"},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},)"
                                          R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                          R"("e":{"dtype":"F32","shape":[0],"data_offsets":[16,16]}})",
                                          data16))
                  .ok());
}

TEST(SafetensorsRobustness, RefusesDuplicateNames) {
  const Status s = ParseStatus(MakeSafetensors(
      R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
      std::string(8, '\0')));
  EXPECT_EQ(s.code(), StatusCode::kCorruptData);
  EXPECT_EQ(s.message(), "model.safetensors: the header has two entries named 'a'");
}

// ---- a tiny DistilBERT checkpoint written here -------------------------------------------------

struct Checkpoint {
  std::string config, safetensors;
};

// DistilBertModel with dim H, FFN I, vocabulary V, P positions (no position tensor when
// sinusoidal) and `layers` layers; every weight 0.01 except `poison` (name, value) at its first value.
Checkpoint TinyDistilBert(int H, int I, int V, int P, int layers, bool sinusoidal,
                          const std::pair<std::string, float>& poison = {}) {
  std::vector<std::pair<std::string, std::vector<int64_t>>> tensors = {
      {"distilbert.embeddings.word_embeddings.weight", {V, H}},
      {"distilbert.embeddings.LayerNorm.weight", {H}},
      {"distilbert.embeddings.LayerNorm.bias", {H}}};
  if (!sinusoidal) tensors.push_back({"distilbert.embeddings.position_embeddings.weight", {P, H}});
  for (int l = 0; l < layers; ++l) {
    const std::string p = "distilbert.transformer.layer." + std::to_string(l) + ".";
    for (const char* lin : {"attention.q_lin", "attention.k_lin", "attention.v_lin", "attention.out_lin"}) {
      tensors.push_back({p + lin + ".weight", {H, H}});
      tensors.push_back({p + lin + ".bias", {H}});
    }
    tensors.push_back({p + "ffn.lin1.weight", {I, H}});
    tensors.push_back({p + "ffn.lin1.bias", {I}});
    tensors.push_back({p + "ffn.lin2.weight", {H, I}});
    tensors.push_back({p + "ffn.lin2.bias", {H}});
    for (const char* ln : {"sa_layer_norm", "output_layer_norm"}) {
      tensors.push_back({p + ln + ".weight", {H}});
      tensors.push_back({p + ln + ".bias", {H}});
    }
  }
  std::string header = "{", data;
  for (const auto& [name, shape] : tensors) {
    int64_t n = 1;
    std::string dims;
    for (int64_t d : shape) {
      n *= d;
      dims += (dims.empty() ? "" : ",") + std::to_string(d);
    }
    std::vector<float> v(static_cast<size_t>(n), 0.01f);
    if (name == poison.first) v[0] = poison.second;
    const size_t begin = data.size();
    data.append(reinterpret_cast<const char*>(v.data()), v.size() * 4);
    header += (header.size() > 1 ? "," : "") + std::string("\"") + name + "\":{\"dtype\":\"F32\",\"shape\":[" + dims +
              "],\"data_offsets\":[" + std::to_string(begin) + "," + std::to_string(data.size()) + "]}";
  }
  header += "}";
  Checkpoint c;
  c.config = "{\"model_type\": \"distilbert\", \"architectures\": [\"DistilBertModel\"], \"dim\": " +
             std::to_string(H) + ", \"n_layers\": " + std::to_string(layers) + ", \"n_heads\": 2, \"hidden_dim\": " +
             std::to_string(I) + ", \"vocab_size\": " + std::to_string(V) +
             ", \"max_position_embeddings\": " + std::to_string(P) +
             ", \"sinusoidal_pos_embds\": " + (sinusoidal ? "true" : "false") + "}";
  c.safetensors = MakeSafetensors(header, data);
  return c;
}

TEST(ModelRobustness, TinyCheckpointLoads) {
  const Checkpoint c = TinyDistilBert(8, 12, 10, 6, 1, true);
  auto m = LoadHfModel(c.config, U8(c.safetensors), c.safetensors.size());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  // The sinusoidal table was computed: position 1, column 0 is sin(1).
  EXPECT_EQ((*m)->weights.position[8], static_cast<float>(std::sin(1.0)));
}

// F1 of issue 16, at the binder: a config that bypasses ParseModelConfig's limits (a caller's own
// ModelConfig) still cannot make the sinusoidal table wrap; the size is refused before allocating.
class StubSource : public TensorSource {
 public:
  explicit StubSource(size_t floats) : f32_(floats, 0.01f), i8_(floats, 1) {}
  std::string FileName() const override { return "stub"; }
  bool Has(const std::string& name) const override { return name == "embeddings.word_embeddings.weight"; }
  Result<int64_t> Rows(const std::string&) const override { return 1; }
  Result<const float*> F32(const std::string&, const std::vector<int64_t>&) override { return f32_.data(); }
  Status I8(const std::string&, int, int, const int8_t** q, const float** scale) override {
    *q = i8_.data();
    *scale = f32_.data();
    return Status::Ok();
  }

 private:
  std::vector<float> f32_;
  std::vector<int8_t> i8_;
};

TEST(ModelRobustness, SinusoidalTableSizeCannotWrap) {
  Model m;
  ModelConfig& c = m.config;
  c.family = ModelFamily::kDistilBert;
  c.head_from_architectures = true;
  c.sinusoidal_pos = true;
  c.vocab_size = 1;
  c.hidden = 65536;
  c.max_position = 65536;  // 2^32 floats: 0 bytes in wasm32's size_t, 16 GiB natively
  c.num_heads = 1;
  c.num_layers = 1;
  c.intermediate = 1;
  StubSource src(65536);
  const Status s = BindModelWeights(&src, /*fp32=*/false, /*int8=*/true, &m);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("sinusoidal position table"), std::string::npos) << s.message();
  EXPECT_TRUE(m.owned_f32.empty());  // nothing was allocated for it
}

// The encoder's buffers are sized from the request and the config: one that would wrap in wasm32
// is refused before anything is allocated (a Model made by hand, past ParseModelConfig's limits).
TEST(ModelRobustness, EncoderBufferSizesCannotWrap) {
  Model m;
  m.config.family = ModelFamily::kDistilBert;
  m.config.hidden = 64;
  m.config.num_heads = 1;
  m.config.num_layers = 1;
  m.config.intermediate = 1 << 18;
  m.config.max_position = 1 << 16;
  m.config.vocab_size = 10;
  m.has_int8 = true;
  std::vector<int32_t> ids(1 << 16, 1);
  EncoderInput in;
  in.batch = 1;
  in.seq_len = 1 << 16;  // 2^16 x 2^18 floats = 2^36 bytes for the FFN activations
  in.input_ids = ids.data();
  RunState rs;
  EncoderOutput out;
  const Status s = EncoderForward(m, in, Precision::kInt8, &rs, &out);
  EXPECT_EQ(s.code(), StatusCode::kOutOfRange);
  EXPECT_NE(s.message().find("4 GiB"), std::string::npos) << s.message();
}

// F8: NaN, infinite and huge weights are refused by the direct loader and by the converter.
TEST(ModelRobustness, RefusesNonFiniteAndHugeCheckpointWeights) {
  const std::string target = "distilbert.transformer.layer.0.ffn.lin1.bias";
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(), 1e30f, -2e6f}) {
    const Checkpoint c = TinyDistilBert(8, 12, 10, 6, 1, true, {target, bad});
    auto m = LoadHfModel(c.config, U8(c.safetensors), c.safetensors.size());
    ASSERT_FALSE(m.ok()) << bad;
    EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(m.status().message().find("model.safetensors: tensor '" + target + "' value 0 is"), std::string::npos)
        << m.status().message();
    ConvertInputs in;
    in.config_json = c.config;
    in.safetensors = c.safetensors;
    EXPECT_EQ(ConvertToPacked(in).status().code(), StatusCode::kInvalidArgument) << bad;
  }
  // 1e6 is the largest magnitude accepted.
  const Checkpoint ok = TinyDistilBert(8, 12, 10, 6, 1, true, {target, -1e6f});
  EXPECT_TRUE(LoadHfModel(ok.config, U8(ok.safetensors), ok.safetensors.size()).ok());
}

TEST(ModelRobustness, ErrorsNameTheFile) {
  Checkpoint c = TinyDistilBert(8, 12, 10, 6, 1, true);
  c.config.replace(c.config.find("\"dim\": 8"), 8, "\"dim\": 16");
  auto m = LoadHfModel(c.config, U8(c.safetensors), c.safetensors.size());
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().message(),
            "model.safetensors: tensor 'distilbert.embeddings.word_embeddings.weight' has shape [10, 8]; the config "
            "needs [10, 16]");
  c = TinyDistilBert(8, 12, 10, 6, 1, true);
  c.config.replace(c.config.find("\"vocab_size\": 10"), 16, "\"vocab_size\": 11");
  m = LoadHfModel(c.config, U8(c.safetensors), c.safetensors.size());
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().message(),
            "vocabulary size mismatch: config.json vocab_size is 11 but model.safetensors "
            "'embeddings.word_embeddings.weight' has 10 rows");
}

// ---- packed files -------------------------------------------------------------------------------

struct AlignedBuffer {
  explicit AlignedBuffer(const std::string& s) : storage(s.size() + 64) {
    const uintptr_t p = reinterpret_cast<uintptr_t>(storage.data());
    data = storage.data() + ((64 - p % 64) % 64);
    std::memcpy(data, s.data(), s.size());
    size = s.size();
  }
  std::vector<uint8_t> storage;
  uint8_t* data;
  size_t size;
};

struct Fixture {
  std::string config, st, vocab, tokenizer_config;
};
Fixture ReadFixture(const std::string& name) {
  const std::string dir = FixturePath("models/" + name + "/");
  return {ReadFileOrFail(dir + "config.json"), ReadFileOrFail(dir + "model.safetensors"),
          ReadFileOrFail(dir + "vocab.txt"), ReadFileOrFail(dir + "tokenizer_config.json")};
}

Result<std::string> Convert(const Fixture& f, std::vector<std::pair<std::string, std::string_view>> files) {
  ConvertInputs in;
  in.config_json = f.config;
  in.safetensors = f.st;
  in.files = std::move(files);
  return ConvertToPacked(in);
}

// The offset of an entry's data, from the packed header.
size_t EntryOffset(const std::string& packed, const std::string& name) {
  const uint32_t header_bytes = static_cast<uint8_t>(packed[12]) | static_cast<uint8_t>(packed[13]) << 8 |
                                static_cast<uint8_t>(packed[14]) << 16 | static_cast<uint32_t>(static_cast<uint8_t>(packed[15])) << 24;
  auto header = ParseJson(packed.substr(kPackedPreambleBytes, header_bytes));
  EXPECT_TRUE(header.ok());
  for (const Json& e : header->Find("entries")->as_array())
    if (e.Find("name")->as_string() == name) return static_cast<size_t>(e.Find("offset")->as_int());
  ADD_FAILURE() << "no entry " << name;
  return 0;
}

void Reseal(std::string* file) {
  const uint64_t h = XxHash64(file->data() + kPackedPreambleBytes, file->size() - kPackedPreambleBytes);
  for (int i = 0; i < 8; ++i) (*file)[24 + i] = static_cast<char>(h >> (8 * i));
}

// F8: a packed file's checksum only proves its bytes are the ones written; NaN, infinite or huge
// fp32 values (weights or int8 scales) in a crafted file are refused at load.
TEST(PackedRobustness, RefusesNonFiniteAndHugeWeightsUnderAValidChecksum) {
  const Fixture f = ReadFixture("distilbert_qa");
  auto good = Convert(f, {{"vocab.txt", f.vocab}});
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  {
    AlignedBuffer b(*good);
    ASSERT_TRUE(LoadPackedModel(b.data, b.size).ok());
  }
  for (const char* name : {"embeddings.LayerNorm.weight", "transformer.layer.1.ffn.lin2.bias",
                           "transformer.layer.0.attention.q_lin.weight.scale", "qa_outputs.weight"}) {
    for (float bad : {std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::infinity(), 3e38f}) {
      std::string file = *good;
      std::memcpy(&file[EntryOffset(file, name) + 4], &bad, 4);  // the tensor's second value
      Reseal(&file);
      AlignedBuffer b(file);
      const Status s = LoadPackedModel(b.data, b.size).status();
      EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << name << " " << bad;
      EXPECT_NE(s.message().find(std::string("packed model: tensor '") + name + "' value 1 is"), std::string::npos)
          << s.message();
    }
  }
}

// F7: JSON files are carried compacted, so whitespace padding is not kept for the model's lifetime.
TEST(PackedRobustness, CarriesJsonFilesCompacted) {
  const Fixture f = ReadFixture("distilbert_qa");
  const std::string padded = "{" + std::string(1 << 20, ' ') + "\"do_lower_case\":\n true}";
  auto packed = Convert(f, {{"vocab.txt", f.vocab}, {"tokenizer_config.json", padded}});
  ASSERT_TRUE(packed.ok()) << packed.status().ToString();
  EXPECT_LT(packed->size(), f.st.size() + f.vocab.size() + 4096);
  AlignedBuffer b(*packed);
  auto m = LoadPackedModel(b.data, b.size);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_NE((*m)->FindFile("tokenizer_config.json"), nullptr);
  EXPECT_EQ(*(*m)->FindFile("tokenizer_config.json"), "{\"do_lower_case\":true}");
  EXPECT_EQ(*(*m)->FindFile("vocab.txt"), f.vocab);  // not JSON: verbatim
}

// F8/F9: the converter builds the tokenizer the engine would build, so a bad tokenizer file is
// refused at conversion, naming the file.
TEST(PackedRobustness, ConverterValidatesTokenizerFiles) {
  const Fixture f = ReadFixture("distilbert_qa");
  auto bad_config = Convert(f, {{"vocab.txt", f.vocab}, {"tokenizer_config.json", "{\"do_lower_case\": tru}"}});
  ASSERT_FALSE(bad_config.ok());
  EXPECT_EQ(bad_config.status().code(), StatusCode::kCorruptData);
  EXPECT_EQ(bad_config.status().message().rfind("tokenizer_config.json: JSON parse error at byte 18", 0), 0u)
      << bad_config.status().message();
  auto bad_map = Convert(f, {{"vocab.txt", f.vocab}, {"special_tokens_map.json", "[]"}});
  ASSERT_FALSE(bad_map.ok());
  EXPECT_EQ(bad_map.status().message(), "special_tokens_map.json: the top level is not a JSON object");
  // A tokenizer.json the engine cannot use (not WordPiece) was carried and failed only at load.
  auto bpe = Convert(f, {{"tokenizer.json", R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}})"}});
  ASSERT_FALSE(bpe.ok());
  EXPECT_EQ(bpe.status().code(), StatusCode::kUnsupported);
  EXPECT_EQ(bpe.status().message().rfind("tokenizer.json: ", 0), 0u) << bpe.status().message();
  // The fixture's own files pass.
  EXPECT_TRUE(Convert(f, {{"vocab.txt", f.vocab}, {"tokenizer_config.json", f.tokenizer_config}}).ok());
}

}  // namespace
}  // namespace edgebert
