// limits_test.cc: size arithmetic that cannot wrap (util/checked.h), the JSON reader's limits and
// the limits a config.json must meet (docs/LIMITS.md), natively as in wasm32.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "model/config.h"
#include "util/checked.h"
#include "util/json.h"

namespace edgebert {
namespace {

// ---- util/checked.h --------------------------------------------------------------------------

TEST(Checked, MulAndAddRefuseOverflow) {
  uint64_t r = 0;
  EXPECT_TRUE(CheckedMul(uint64_t{1} << 32, uint64_t{1} << 31, &r));
  EXPECT_EQ(r, uint64_t{1} << 63);
  EXPECT_FALSE(CheckedMul(uint64_t{1} << 32, uint64_t{1} << 32, &r));
  EXPECT_TRUE(CheckedMul(0, std::numeric_limits<uint64_t>::max(), &r));
  EXPECT_EQ(r, 0u);
  EXPECT_FALSE(CheckedAdd(std::numeric_limits<uint64_t>::max(), 1, &r));
  EXPECT_TRUE(CheckedAdd(std::numeric_limits<uint64_t>::max() - 1, 1, &r));
  EXPECT_TRUE(CheckedAlignUp(65, 64, &r));
  EXPECT_EQ(r, 128u);
  EXPECT_FALSE(CheckedAlignUp(std::numeric_limits<uint64_t>::max() - 3, 64, &r));
}

// The 32-bit address space limit holds on every build, so this native test fails where wasm32's
// size_t would have wrapped: F1 of issue 16 asked for 65536 x 65536 floats = 2^34 bytes, which is 0
// in a 32-bit size_t.
TEST(Checked, BufferBytesEnforcesTheWasm32LimitNatively) {
  auto ok = BufferBytes({512, 768}, 4, "positions");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, size_t{512} * 768 * 4);
  auto f1 = BufferBytes({65536, 65536}, 4, "config.json: the sinusoidal position table");
  ASSERT_FALSE(f1.ok());
  EXPECT_EQ(f1.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(f1.status().message().find("config.json: the sinusoidal position table: 65536 x 65536"),
            std::string::npos)
      << f1.status().message();
  EXPECT_NE(f1.status().message().find("4 GiB"), std::string::npos);
  // Exactly 4 GiB does not fit in a 32-bit size_t either; one byte less does.
  EXPECT_FALSE(BufferBytes({65536, 16384}, 4, "x").ok());
  EXPECT_TRUE(BufferBytes({int64_t{1} << 32}, 0, "x").ok());
  auto largest = BufferBytes({(int64_t{1} << 32) - 1}, 1, "x");
  ASSERT_TRUE(largest.ok());
  EXPECT_EQ(static_cast<uint64_t>(*largest), kMaxBufferBytes);
  // Overflow of uint64_t itself and negative counts.
  EXPECT_FALSE(BufferBytes({int64_t{1} << 40, int64_t{1} << 40}, 8, "x").ok());
  EXPECT_FALSE(BufferBytes({-1, 4}, 4, "x").ok());
}

// ---- JSON limits -----------------------------------------------------------------------------

TEST(JsonLimits, ValuesAreSmall) {
  // F7 of issue 16: a 52 MB document of 13M tiny arrays took 1,750 MB of wasm memory (34x), at
  // about 130 bytes a value. A value is now 16 bytes, and "" / [] / {} allocate nothing.
  EXPECT_LE(sizeof(Json), 16u);
}

TEST(JsonLimits, DocumentSizeIsCheckedFirst) {
  JsonParseOptions o;
  o.max_bytes = 100;
  o.what = "tokenizer.json";
  const std::string padded = "{}" + std::string(200, ' ');
  auto r = ParseJson(padded, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "tokenizer.json: the document is 202 bytes, which exceeds the limit of 100 bytes");
  EXPECT_TRUE(ParseJson("{}", o).ok());
}

TEST(JsonLimits, ValueCountIsBounded) {
  // 3M empty arrays (9 MB): above the default limit of 2^21 values, refused while reading.
  std::string many = "[";
  for (int i = 0; i < 3000000; ++i) many += i ? ",[]" : "[]";
  many += "]";
  auto r = ParseJson(many, "tokenizer.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("tokenizer.json: more than 2097152 JSON values"), std::string::npos)
      << r.status().message();
  JsonParseOptions o;
  o.max_values = 4;
  EXPECT_TRUE(ParseJson("[1, 2, 3]", o).ok());
  EXPECT_FALSE(ParseJson("[1, 2, 3, 4]", o).ok());
}

TEST(JsonLimits, ErrorsNameTheFileLineAndColumn) {
  auto r = ParseJson("{\n  \"a\": 1,\n  oops\n}", "tokenizer_config.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruptData);
  EXPECT_EQ(r.status().message(),
            "tokenizer_config.json: JSON parse error at byte 14 (line 3, column 3): expected a string key in object");
}

TEST(JsonLimits, CopiesShareAndOutliveTheirSource) {
  Json copy;
  {
    auto r = ParseJson(R"({"a": ["x", {"b": "a longer string than any small-string buffer"}], "e": [], "s": ""})");
    ASSERT_TRUE(r.ok());
    copy = *r;
    Json second = copy;
    copy = second;  // self-sharing assignment
  }
  EXPECT_EQ(copy.Find("a")->as_array()[1].Find("b")->as_string(), "a longer string than any small-string buffer");
  EXPECT_TRUE(copy.Find("e")->is_array());
  EXPECT_EQ(copy.Find("e")->size(), 0u);
  EXPECT_TRUE(copy.Find("s")->is_string());
  Json moved = std::move(copy);
  EXPECT_EQ(moved.Find("a")->size(), 2u);
  EXPECT_TRUE(copy.is_null());  // NOLINT(bugprone-use-after-move): documented moved-from state
}

TEST(JsonLimits, MinifyKeepsStringsAndNumbersExactly) {
  const std::string text = "{ \"a b\" : [ 1 ,\t2.5e3 ],\n \"q\\\" \\\\\" : \" x \\n \" }  ";
  ASSERT_TRUE(ParseJson(text).ok());
  const std::string min = MinifyJson(text);
  EXPECT_EQ(min, "{\"a b\":[1,2.5e3],\"q\\\" \\\\\":\" x \\n \"}");
  auto a = ParseJson(text), b = ParseJson(min);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(DumpJson(*a), DumpJson(*b));
}

// ---- config.json limits ----------------------------------------------------------------------

std::string DistilConfig(int dim, int positions, int layers = 2, int hidden_dim = 32, int vocab = 100,
                         bool sinusoidal = true) {
  return "{\"model_type\": \"distilbert\", \"architectures\": [\"DistilBertModel\"], \"dim\": " +
         std::to_string(dim) + ", \"n_layers\": " + std::to_string(layers) + ", \"n_heads\": 2, \"hidden_dim\": " +
         std::to_string(hidden_dim) + ", \"vocab_size\": " + std::to_string(vocab) +
         ", \"max_position_embeddings\": " + std::to_string(positions) +
         ", \"sinusoidal_pos_embds\": " + (sinusoidal ? "true" : "false") + "}";
}

// F1 of issue 16: each field was within its own limit, the position table they imply was not.
TEST(ConfigLimits, RefusesTablesAndMatricesBeyondTheLimits) {
  ASSERT_TRUE(ParseModelConfig(DistilConfig(16, 24), "config.json").ok());
  for (int dim : {65536, 4096}) {
    auto r = ParseModelConfig(DistilConfig(dim, 65536), "config.json");
    ASSERT_FALSE(r.ok()) << dim;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("config.json: max_position_embeddings x dim = 65536 x " + std::to_string(dim)),
              std::string::npos)
        << r.status().message();
  }
  // The FFN activations of a full-length sequence: 65536 positions x hidden_dim 2^18 floats would
  // be 2^36 bytes, 0 in wasm32's size_t, with every table and matrix within its limit.
  auto act = ParseModelConfig(DistilConfig(64, 65536, 2, 1 << 18), "config.json");
  ASSERT_FALSE(act.ok());
  EXPECT_NE(act.status().message().find("max_position_embeddings x hidden_dim = 65536 x 262144"), std::string::npos)
      << act.status().message();
  // One weight matrix: vocab x dim and hidden_dim x dim.
  auto vocab = ParseModelConfig(DistilConfig(8192, 512, 2, 32, 1 << 22), "config.json");
  ASSERT_FALSE(vocab.ok());
  EXPECT_NE(vocab.status().message().find("vocab_size x dim"), std::string::npos) << vocab.status().message();
  auto ffn = ParseModelConfig(DistilConfig(4096, 64, 2, 1 << 18), "config.json");
  ASSERT_FALSE(ffn.ok());
  EXPECT_NE(ffn.status().message().find("hidden_dim x dim"), std::string::npos) << ffn.status().message();
  // All the weights: each matrix within the limit, 256 layers of them not.
  auto total = ParseModelConfig(DistilConfig(8192, 512, 256, 16384), "config.json");
  ASSERT_FALSE(total.ok());
  EXPECT_NE(total.status().message().find("parameters"), std::string::npos) << total.status().message();
  // 10^6 layers: refused from config.json alone, naming the field.
  auto layers = ParseModelConfig(DistilConfig(16, 24, 1000000), "config.json");
  ASSERT_FALSE(layers.ok());
  EXPECT_EQ(layers.status().message(), "config.json: 'n_layers' is 1000000; expected 1..256");
}

TEST(ConfigLimits, ErrorsNameTheField) {
  auto replace = [](std::string s, const std::string& from, const std::string& to) {
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  const std::string good = DistilConfig(16, 24);
  auto act = ParseModelConfig(replace(good, "{", "{\"activation\": 5, "), "config.json");
  EXPECT_EQ(act.status().message(), "config.json: 'activation' must be a string");
  auto sin = ParseModelConfig(replace(good, "true", "\"yes\""), "config.json");
  EXPECT_EQ(sin.status().message(), "config.json: 'sinusoidal_pos_embds' must be true or false");
  auto pad = ParseModelConfig(replace(good, "{", "{\"pad_token_id\": 100, "), "config.json");
  EXPECT_EQ(pad.status().message(), "config.json: 'pad_token_id' is 100; expected an id in 0..99");
  auto heads = ParseModelConfig(replace(good, "\"n_heads\": 2", "\"n_heads\": 3"), "config.json");
  EXPECT_EQ(heads.status().message(), "config.json: dim 16 is not a multiple of n_heads 3");
  auto json = ParseModelConfig("{\"model_type\": ", "config.json");
  EXPECT_EQ(json.status().code(), StatusCode::kCorruptData);
  EXPECT_EQ(json.status().message().rfind("config.json: JSON parse error at byte 15", 0), 0u) << json.status().message();
  // A config.json of 3M tiny values is refused while it is read (it used to take 21x its size).
  std::string big = "{\"x\": [";
  for (int i = 0; i < 3000000; ++i) big += i ? ",0" : "0";
  big += "]}";
  auto many = ParseModelConfig(big, "config.json");
  ASSERT_FALSE(many.ok());
  EXPECT_NE(many.status().message().find("config.json: more than 2097152 JSON values"), std::string::npos)
      << many.status().message();
}

TEST(ConfigLimits, EstimatesTheModelSizeFromTheConfig) {
  // DistilBERT-base: 66.4M parameters in the embeddings and encoder.
  auto c = ParseModelConfig(DistilConfig(768, 512, 6, 3072, 30522, false), "config.json");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const ModelSizeEstimate e = EstimateModelSize(*c);
  EXPECT_EQ(e.parameters, 66362880);  // transformers' DistilBertModel(config).num_parameters()
  EXPECT_EQ(e.fp32_bytes, 4 * e.parameters);
  EXPECT_GT(e.int8_bytes, e.parameters);  // int8 weights plus fp32 biases, norms, tables, scales
  EXPECT_LT(e.int8_bytes, e.parameters * 11 / 10);
}

}  // namespace
}  // namespace edgebert
