// model_format_test.cc: safetensors and config.json readers, the packed format, its converter,
// and every specific error they return on bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "encoder/encoder.h"
#include "model/config.h"
#include "model/model.h"
#include "model/packed.h"
#include "model/safetensors.h"
#include "model/xxhash64.h"
#include "test_util.h"

namespace edgebert {
namespace {

using testing::FixturePath;
using testing::ReadFileOrFail;

const uint8_t* U8(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

// A safetensors file from a header JSON and a data region.
std::string MakeSafetensors(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(n >> (8 * i));
  return out + header + data;
}

struct Fixture {
  std::string config, st, vocab, tokenizer_config;
};
Fixture ReadFixture(const std::string& name) {
  const std::string dir = FixturePath("models/" + name + "/");
  return {ReadFileOrFail(dir + "config.json"), ReadFileOrFail(dir + "model.safetensors"),
          ReadFileOrFail(dir + "vocab.txt"), ReadFileOrFail(dir + "tokenizer_config.json")};
}

// An aligned copy of a byte string, as the wasm side allocates it (64-byte aligned).
struct AlignedBuffer {
  explicit AlignedBuffer(const std::string& s) : storage(s.size() + 64) {
    uintptr_t p = reinterpret_cast<uintptr_t>(storage.data());
    data = storage.data() + ((64 - p % 64) % 64);
    std::memcpy(data, s.data(), s.size());
    size = s.size();
  }
  std::vector<uint8_t> storage;
  uint8_t* data;
  size_t size;
};

// ---- safetensors ---------------------------------------------------------------------------

TEST(ModelSafetensors, ReadsFixtureTensors) {
  const Fixture f = ReadFixture("bert_qa");
  auto file = ParseSafetensors(U8(f.st), f.st.size(), "model.safetensors");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  const SafeTensor* t = file->Find("qa_outputs.weight");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->dtype, SafeDType::kBF16);
  EXPECT_EQ(t->shape, (std::vector<int64_t>{2, 16}));
  std::vector<float> v;
  ASSERT_TRUE(SafeTensorToF32(*t, "x", &v).ok());
  EXPECT_EQ(v.size(), 32u);
}

TEST(ModelSafetensors, RejectsBadFiles) {
  const std::string data(8, '\0');
  auto code = [](const std::string& file) {
    return ParseSafetensors(U8(file), file.size(), "m.safetensors").status().code();
  };
  EXPECT_EQ(code(MakeSafetensors(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", data)), StatusCode::kOk);
  // Truncated: fewer than 8 bytes, header longer than the file, data beyond the end.
  EXPECT_EQ(code("abc"), StatusCode::kCorruptData);
  std::string big = MakeSafetensors("{}", "");
  big[0] = '\x7f';
  big[5] = '\x01';
  EXPECT_EQ(code(big), StatusCode::kCorruptData);
  EXPECT_EQ(code(MakeSafetensors(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", "1234")),
            StatusCode::kCorruptData);
  // Size disagreeing with shape and dtype; reversed offsets; header not JSON; unknown dtype.
  EXPECT_EQ(code(MakeSafetensors(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", data)),
            StatusCode::kCorruptData);
  EXPECT_EQ(code(MakeSafetensors(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", data)),
            StatusCode::kCorruptData);
  EXPECT_EQ(code(MakeSafetensors("{not json", data)), StatusCode::kCorruptData);
  EXPECT_EQ(code(MakeSafetensors(R"({"a":{"dtype":"F8_E4M3","shape":[8],"data_offsets":[0,8]}})", data)),
            StatusCode::kUnsupported);
  // Shapes whose element count overflows must not wrap around into a small size.
  EXPECT_EQ(code(MakeSafetensors(
                R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,4],"data_offsets":[0,0]}})", data)),
            StatusCode::kCorruptData);
}

TEST(ModelSafetensors, HalfConversionsRoundTripEveryValue) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = HalfToFloat(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    ASSERT_EQ(FloatToHalf(f), h) << std::hex << h;
  }
  EXPECT_EQ(HalfToFloat(0x3c00), 1.0f);
  EXPECT_EQ(HalfToFloat(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
  EXPECT_EQ(FloatToHalf(1.0f + std::ldexp(1.0f, -11)), 0x3c00);  // tie rounds to even
  EXPECT_EQ(BF16ToFloat(0x3f80), 1.0f);
  EXPECT_EQ(BF16ToFloat(0xc000), -2.0f);
}

// ---- config.json ---------------------------------------------------------------------------

TEST(ModelConfigTest, ReadsDistilBertAndBert) {
  auto d = ParseModelConfig(ReadFixture("distilbert_tokcls_sinusoidal").config, "config.json");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->family, ModelFamily::kDistilBert);
  EXPECT_EQ(d->head, HeadKind::kTokenClassification);
  EXPECT_TRUE(d->sinusoidal_pos);
  EXPECT_EQ(d->layer_norm_eps, 1e-12f);
  EXPECT_EQ(d->labels, (std::vector<std::string>{"O", "B-PER", "I-PER", "B-LOC", "I-LOC"}));
  auto b = ParseModelConfig(ReadFixture("bert_seqcls").config, "config.json");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->family, ModelFamily::kBert);
  EXPECT_EQ(b->head, HeadKind::kSequenceClassification);
  EXPECT_EQ(b->problem_type, ProblemType::kSingleLabel);
  EXPECT_EQ(b->layer_norm_eps, 1e-5f);
  EXPECT_EQ(b->hidden, 40);
  EXPECT_EQ(b->num_heads, 5);
  auto m = ParseModelConfig(ReadFixture("bert_seqcls_multi").config, "config.json");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->problem_type, ProblemType::kMultiLabel);
  EXPECT_EQ(m->activation, Activation::kGeluTanh);
}

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  const size_t p = s.find(from);
  EXPECT_NE(p, std::string::npos) << from;
  if (p != std::string::npos) s.replace(p, from.size(), to);
  return s;
}

TEST(ModelConfigTest, SpecificErrors) {
  const std::string base = ReadFixture("bert_seqcls").config;
  auto code = [](const std::string& j) { return ParseModelConfig(j, "config.json").status().code(); };
  EXPECT_EQ(code(Replace(base, "\"gelu\"", "\"silu\"")), StatusCode::kUnsupported);
  EXPECT_EQ(code(Replace(base, "BertForSequenceClassification", "BertForNextSentencePrediction")),
            StatusCode::kUnsupported);
  EXPECT_EQ(code(Replace(base, "\"model_type\": \"bert\"", "\"model_type\": \"roberta\"")), StatusCode::kUnsupported);
  EXPECT_EQ(code(Replace(base, "\"absolute\"", "\"relative_key\"")), StatusCode::kUnsupported);
  EXPECT_EQ(code(Replace(base, "\"hidden_size\"", "\"hidden_sz\"")), StatusCode::kNotFound);
  EXPECT_EQ(code(Replace(base, "\"num_attention_heads\": 5", "\"num_attention_heads\": 3")),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(code(Replace(base, "\"vocab_size\": ", "\"vocab_size\": -")), StatusCode::kInvalidArgument);
  EXPECT_EQ(code("{"), StatusCode::kCorruptData);
}

// ---- loading checkpoints -------------------------------------------------------------------

TEST(ModelLoad, HeadFromTensorNamesWithoutArchitectures) {
  for (const auto& [name, head] : {std::pair<const char*, HeadKind>{"bert_tokcls_relu", HeadKind::kTokenClassification},
                                   {"bert_seqcls", HeadKind::kSequenceClassification},
                                   {"distilbert_seqcls_multi", HeadKind::kSequenceClassification},
                                   {"distilbert_qa", HeadKind::kQuestionAnswering},
                                   {"bert_mlm", HeadKind::kMaskedLM}}) {
    Fixture f = ReadFixture(name);
    const size_t a = f.config.find("\"architectures\"");
    const size_t e = f.config.find("],", a);
    f.config.erase(a, e + 2 - a);
    auto m = LoadHfModel(f.config, U8(f.st), f.st.size());
    ASSERT_TRUE(m.ok()) << name << ": " << m.status().ToString();
    EXPECT_EQ((*m)->config.head, head) << name;
  }
}

TEST(ModelLoad, MissingTensorWrongShapeAndVocabularyMismatch) {
  const Fixture f = ReadFixture("bert_seqcls");
  // The architecture needs a tensor the file lacks: a token classification config on a base model.
  const Fixture base = ReadFixture("bert_base");
  auto missing = LoadHfModel(Replace(base.config, "\"BertModel\"", "\"BertForQuestionAnswering\""), U8(base.st),
                             base.st.size());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound) << missing.status().ToString();
  EXPECT_NE(missing.status().message().find("qa_outputs"), std::string::npos) << missing.status().message();
  // Intermediate size disagreeing with the FFN tensors.
  auto shape = LoadHfModel(Replace(f.config, "\"intermediate_size\": 60", "\"intermediate_size\": 64"), U8(f.st),
                           f.st.size());
  EXPECT_EQ(shape.status().code(), StatusCode::kInvalidArgument) << shape.status().ToString();
  EXPECT_NE(shape.status().message().find("shape"), std::string::npos);
  // vocab_size disagreeing with the word embeddings.
  auto vocab = LoadHfModel(Replace(f.config, "\"vocab_size\": ", "\"vocab_size\": 1"), U8(f.st), f.st.size());
  EXPECT_EQ(vocab.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(vocab.status().message().find("vocabulary size mismatch"), std::string::npos);
  // Labels disagreeing with the classifier.
  auto labels = LoadHfModel(Replace(f.config, "\"1\": \"positive\"", "\"1\": \"positive\", \"2\": \"x\""), U8(f.st),
                            f.st.size());
  EXPECT_EQ(labels.status().code(), StatusCode::kInvalidArgument) << labels.status().ToString();
}

TEST(ModelLoad, EncoderInputErrors) {
  const Fixture f = ReadFixture("bert_base");
  auto m = LoadHfModel(f.config, U8(f.st), f.st.size());
  ASSERT_TRUE(m.ok());
  const Model& model = **m;
  RunState rs;
  EncoderOutput out;
  std::vector<int32_t> ids(41, 5);
  EncoderInput in;
  in.batch = 1;
  in.seq_len = 41;  // the fixture's position table has 40 rows
  in.input_ids = ids.data();
  EXPECT_EQ(EncoderForward(model, in, Precision::kFp32, &rs, &out).code(), StatusCode::kOutOfRange);
  in.seq_len = 40;
  EXPECT_TRUE(EncoderForward(model, in, Precision::kFp32, &rs, &out).ok());
  ids[3] = model.config.vocab_size;
  EXPECT_EQ(EncoderForward(model, in, Precision::kFp32, &rs, &out).code(), StatusCode::kInvalidArgument);
  ids[3] = -1;
  EXPECT_EQ(EncoderForward(model, in, Precision::kInt8, &rs, &out).code(), StatusCode::kInvalidArgument);
  ids[3] = 5;
  std::vector<int32_t> types(40, 0);
  types[7] = 2;  // type_vocab_size is 2
  in.token_type_ids = types.data();
  EXPECT_EQ(EncoderForward(model, in, Precision::kFp32, &rs, &out).code(), StatusCode::kInvalidArgument);
  in.batch = 0;
  EXPECT_EQ(EncoderForward(model, in, Precision::kFp32, &rs, &out).code(), StatusCode::kInvalidArgument);
}

// ---- checksum ------------------------------------------------------------------------------

TEST(ModelXxHash64, MatchesReferenceVectors) {
  // Values from the reference implementation (libxxhash 0.8.1, XXH64).
  EXPECT_EQ(XxHash64("", 0), 0xef46db3751d8e999ull);
  EXPECT_EQ(XxHash64("a", 1), 0xd24ec4f1a98c6e5bull);
  EXPECT_EQ(XxHash64("abc", 3), 0x44bc2cf5ad770999ull);
  EXPECT_EQ(XxHash64("edgebert", 8), 0x98ec32af939d9dc3ull);
  std::string s;
  for (int r = 0; r < 4; ++r)
    for (int i = 0; i < 256; ++i) s += static_cast<char>(i);
  s += "xyz";  // 1027 bytes: stripes, 8-byte, and 1-byte tails
  EXPECT_EQ(XxHash64(s.data(), s.size()), 0xe146cb31b65bc21aull);
  EXPECT_EQ(XxHash64(s.data(), 100, 12345), 0x28ba1ae2de4de27ull);
}

// ---- packed format -------------------------------------------------------------------------

std::string Convert(const Fixture& f) {
  ConvertInputs in;
  in.config_json = f.config;
  in.safetensors = f.st;
  in.files = {{"vocab.txt", f.vocab}, {"tokenizer_config.json", f.tokenizer_config}};
  auto packed = ConvertToPacked(in);
  EXPECT_TRUE(packed.ok()) << packed.status().ToString();
  return packed.ok() ? *packed : std::string();
}

// Re-seals a modified file so that the checksum passes and the structural checks are what fail.
void Reseal(std::string* file) {
  const uint64_t h = XxHash64(file->data() + kPackedPreambleBytes, file->size() - kPackedPreambleBytes);
  for (int i = 0; i < 8; ++i) (*file)[24 + i] = static_cast<char>(h >> (8 * i));
}

TEST(ModelPacked, RoundTripRunsInPlaceAndMatchesDirectInt8) {
  for (const char* name : {"distilbert_seqcls", "bert_mlm", "distilbert_tokcls_sinusoidal", "bert_qa"}) {
    const Fixture f = ReadFixture(name);
    AlignedBuffer buf(Convert(f));
    auto packed = LoadPackedModel(buf.data, buf.size);
    ASSERT_TRUE(packed.ok()) << name << ": " << packed.status().ToString();
    const Model& pm = **packed;
    EXPECT_TRUE(pm.has_int8);
    EXPECT_FALSE(pm.has_fp32);
    // In place: the weights are views into the buffer, not copies.
    auto inside = [&](const void* p) { return p >= buf.data && p < buf.data + buf.size; };
    EXPECT_TRUE(inside(pm.weights.word.i8));
    EXPECT_TRUE(inside(pm.weights.layers[0].ffn_in.q.weight));
    EXPECT_TRUE(inside(pm.weights.embed_ln.gamma));
    EXPECT_EQ(reinterpret_cast<uintptr_t>(pm.weights.layers[0].q.q.weight) % 64, 0u);
    ASSERT_NE(pm.FindFile("vocab.txt"), nullptr);
    EXPECT_EQ(*pm.FindFile("vocab.txt"), f.vocab);
    EXPECT_EQ(*pm.FindFile("config.json"), MinifyJson(f.config));  // carried compacted

    // Same weights, same quantization, same kernels: int8 outputs equal the direct-load int8 path.
    auto direct = LoadHfModel(f.config, U8(f.st), f.st.size(), HfLoadOptions{false, true});
    ASSERT_TRUE(direct.ok());
    std::vector<int32_t> ids = {2, 10, 20, 30, 40, 50, 3};
    EncoderInput in;
    in.batch = 1;
    in.seq_len = static_cast<int>(ids.size());
    in.input_ids = ids.data();
    RunState rs1, rs2;
    EncoderOutput o1, o2;
    ASSERT_TRUE(EncoderForward(pm, in, Precision::kInt8, &rs1, &o1).ok());
    ASSERT_TRUE(EncoderForward(**direct, in, Precision::kInt8, &rs2, &o2).ok());
    for (size_t i = 0; i < ids.size() * o1.hidden; ++i)
      ASSERT_EQ(o1.last_hidden_state[i], o2.last_hidden_state[i]) << name << " " << i;
    // The fp32 path needs fp32 weights, which a packed model does not carry.
    EXPECT_EQ(EncoderForward(pm, in, Precision::kFp32, &rs1, &o1).code(), StatusCode::kInvalidArgument);
  }
}

TEST(ModelPacked, ConversionIsDeterministic) {
  const Fixture f = ReadFixture("bert_seqcls");
  EXPECT_EQ(Convert(f), Convert(f));
}

TEST(ModelPacked, SpecificErrors) {
  const Fixture f = ReadFixture("distilbert_qa");
  const std::string good = Convert(f);
  ASSERT_FALSE(good.empty());
  auto load = [](const std::string& file) {
    AlignedBuffer b(file);
    return LoadPackedModel(b.data, b.size).status();
  };
  ASSERT_TRUE(load(good).ok()) << load(good).ToString();

  // One corrupted byte anywhere after the preamble: checksum mismatch.
  for (size_t pos : {kPackedPreambleBytes + 5, good.size() / 2, good.size() - 70}) {
    std::string bad = good;
    bad[pos] ^= 0x01;
    const Status s = load(bad);
    EXPECT_EQ(s.code(), StatusCode::kCorruptData) << pos;
    EXPECT_NE(s.message().find("checksum"), std::string::npos) << s.message();
  }
  // Wrong magic, newer version, truncated, trailing bytes.
  std::string bad = good;
  bad[0] = 'X';
  EXPECT_EQ(load(bad).code(), StatusCode::kCorruptData);
  bad = good;
  bad[8] = 3;
  EXPECT_EQ(load(bad).code(), StatusCode::kUnsupported);
  EXPECT_EQ(load(good.substr(0, good.size() - 64)).code(), StatusCode::kCorruptData);
  EXPECT_EQ(load(good.substr(0, 20)).code(), StatusCode::kCorruptData);
  EXPECT_EQ(load(good + std::string(64, '\0')).code(), StatusCode::kCorruptData);

  // Structurally wrong tables with a valid checksum: offsets outside the file, misaligned, overlapping.
  const size_t first = good.find("\"offset\":");
  ASSERT_NE(first, std::string::npos);
  auto with_offset = [&](const std::string& value) {
    std::string s = good;
    const size_t end = s.find(',', first);
    const std::string digits = s.substr(first + 9, end - first - 9);
    if (value.size() > digits.size()) return std::string();  // keep the header length unchanged
    // Left-pad with spaces (valid JSON whitespace) so the header keeps its length.
    s.replace(first + 9, digits.size(), std::string(digits.size() - value.size(), ' ') + value);
    Reseal(&s);
    return s;
  };
  for (const char* off : {"1", "64", "9999"}) {
    const std::string s = with_offset(off);
    if (s.empty()) continue;
    EXPECT_EQ(load(s).code(), StatusCode::kCorruptData) << off;
  }
  // A header length beyond the file.
  bad = good;
  bad[12] = '\xff';
  bad[13] = '\xff';
  bad[14] = '\xff';
  EXPECT_EQ(load(bad).code(), StatusCode::kCorruptData);

  // Unaligned buffers are refused rather than read with misaligned floats.
  std::vector<uint8_t> raw(good.size() + 8);
  uint8_t* p = raw.data() + (reinterpret_cast<uintptr_t>(raw.data()) % 4 == 0 ? 1 : 0);
  std::memcpy(p, good.data(), good.size());
  EXPECT_EQ(LoadPackedModel(p, good.size()).status().code(), StatusCode::kInvalidArgument);
}

TEST(ModelPacked, ConverterRejectsVocabularyLargerThanTheModel) {
  Fixture f = ReadFixture("bert_qa");
  f.vocab += "extra1\nextra2\n";
  ConvertInputs in;
  in.config_json = f.config;
  in.safetensors = f.st;
  in.files = {{"vocab.txt", f.vocab}};
  auto r = ConvertToPacked(in);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("vocabulary size mismatch"), std::string::npos);
  in.files = {{"merges.txt", f.vocab}};
  EXPECT_EQ(ConvertToPacked(in).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace edgebert
