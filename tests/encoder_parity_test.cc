// encoder_parity_test.cc: the encoder against transformers on the tiny random fixtures
// (tests/fixtures/models/*, made by scripts/fixtures/make_model_fixtures.py).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "encoder/encoder.h"
#include "gemm/gemm_u8.h"
#include "model/model.h"
#include "model/safetensors.h"
#include "test_util.h"

namespace edgebert {
namespace {

using testing::FixturePath;
using testing::ReadFileOrFail;
using testing::ReadJsonFixture;

const char* kModels[] = {"distilbert_base",     "distilbert_seqcls", "distilbert_seqcls_multi",
                         "distilbert_tokcls_sinusoidal", "distilbert_qa", "distilbert_mlm",
                         "bert_base",           "bert_seqcls",       "bert_seqcls_multi",
                         "bert_tokcls_relu",    "bert_qa",           "bert_mlm"};

std::unique_ptr<Model> LoadFixtureModel(const std::string& name, const HfLoadOptions& opts = {}) {
  const std::string dir = FixturePath("models/" + name + "/");
  const std::string config = ReadFileOrFail(dir + "config.json");
  const std::string st = ReadFileOrFail(dir + "model.safetensors");
  auto m = LoadHfModel(config, reinterpret_cast<const uint8_t*>(st.data()), st.size(), opts);
  EXPECT_TRUE(m.ok()) << name << ": " << m.status().ToString();
  return m.ok() ? std::move(m).value() : nullptr;
}

std::vector<int32_t> FlatInts(const Json& rows) {
  std::vector<int32_t> v;
  for (const Json& r : rows.as_array())
    for (const Json& x : r.as_array()) v.push_back(static_cast<int32_t>(x.as_int()));
  return v;
}

std::vector<float> Floats(const Json* j) {
  std::vector<float> v;
  if (j)
    for (const Json& x : j->as_array()) v.push_back(static_cast<float>(x.as_double()));
  return v;
}

struct CaseInput {
  std::vector<int32_t> ids, mask, types, mlm;
  EncoderInput in;
};

void MakeInput(const Json& c, CaseInput* ci) {
  const Json& ids = *c.Find("input_ids");
  ci->ids = FlatInts(ids);
  ci->mask = FlatInts(*c.Find("attention_mask"));
  ci->in.batch = static_cast<int>(ids.size());
  ci->in.seq_len = static_cast<int>(ids[0].size());
  ci->in.input_ids = ci->ids.data();
  ci->in.attention_mask = ci->mask.data();
  if (const Json* t = c.Find("token_type_ids")) {
    ci->types = FlatInts(*t);
    ci->in.token_type_ids = ci->types.data();
  }
  if (const Json* p = c.Find("mlm_positions")) {
    for (const Json& bt : p->as_array())
      ci->mlm.push_back(static_cast<int32_t>(bt[0].as_int() * ci->in.seq_len + bt[1].as_int()));
    ci->in.mlm_positions = ci->mlm.data();
    ci->in.num_mlm_positions = static_cast<int>(ci->mlm.size());
  }
}

// Max |a - b| over n values, with the index of the worst one for the failure message.
float MaxAbsDiff(const float* a, const std::vector<float>& b, size_t* worst) {
  float m = 0;
  for (size_t i = 0; i < b.size(); ++i) {
    const float d = std::fabs(a[i] - b[i]);
    if (!(d <= m)) {
      m = d;
      *worst = i;
    }
  }
  return m;
}

// The outputs the case's JSON records, as (name, pointer into our output, expected values).
std::vector<std::tuple<std::string, const float*, std::vector<float>>> Compared(const Json& c,
                                                                                const EncoderOutput& out) {
  std::vector<std::tuple<std::string, const float*, std::vector<float>>> r;
  r.emplace_back("last_hidden_state", out.last_hidden_state, Floats(c.Find("last_hidden_state")));
  if (c.Find("pooler_output")) r.emplace_back("pooler_output", out.pooled, Floats(c.Find("pooler_output")));
  if (c.Find("logits")) r.emplace_back("logits", out.logits, Floats(c.Find("logits")));
  if (c.Find("mlm_logits")) r.emplace_back("mlm_logits", out.logits, Floats(c.Find("mlm_logits")));
  if (c.Find("start_logits")) {
    r.emplace_back("start_logits", out.start_logits, Floats(c.Find("start_logits")));
    r.emplace_back("end_logits", out.end_logits, Floats(c.Find("end_logits")));
  }
  return r;
}

class EncoderParity : public ::testing::TestWithParam<const char*> {};

// fp32 path vs transformers fp32. Budget 1e-4 absolute: both sides are fp32 with different
// summation orders (our 4-way partial dot products and double-precision LayerNorm statistics vs
// PyTorch's kernels); over depths of at most a few hundred sums per output and 1-3 layers whose
// activations are O(1-10), rounding differences stay within ~1e-5, and the fixtures' 7 significant
// digits add at most 5e-7 relative. A real bug (wrong mask, eps, order of ops) moves outputs by 1e-2+.
TEST_P(EncoderParity, Fp32MatchesTransformers) {
  const std::string name = GetParam();
  auto model = LoadFixtureModel(name);
  ASSERT_TRUE(model);
  const Json expected = ReadJsonFixture("models/" + name + "/expected.json");
  EXPECT_EQ(model->config.architecture, expected.Find("architecture")->as_string());
  RunState rs;  // reused across cases on purpose: buffers must not leak state between calls
  float worst_all = 0;
  for (const Json& c : expected.Find("cases")->as_array()) {
    CaseInput ci;
    MakeInput(c, &ci);
    EncoderOutput out;
    ASSERT_TRUE(EncoderForward(*model, ci.in, Precision::kFp32, &rs, &out).ok());
    for (const auto& [what, got, want] : Compared(c, out)) {
      ASSERT_NE(got, nullptr) << name << " " << what;
      ASSERT_FALSE(want.empty()) << what;
      size_t worst = 0;
      const float d = MaxAbsDiff(got, want, &worst);
      worst_all = std::max(worst_all, d);
      EXPECT_LE(d, 1e-4f) << name << " case " << c.Find("name")->as_string() << " " << what << "[" << worst
                          << "]: got " << got[worst] << " want " << want[worst];
    }
  }
  RecordProperty("max_abs_error", std::to_string(worst_all));
  std::printf("[ parity ] %-30s fp32 max abs error vs transformers %.3g\n", name.c_str(), worst_all);
}

// int8 path vs our fp32 path on the same random fixtures. Random weights (std 0.2) are a harsh case
// for per-tensor-row quantization: int8 weights and per-token uint8 activations each carry ~0.4%
// relative rounding noise, compounding through layers; LayerNorm keeps hidden states O(1). The
// bounds: hidden states within 0.15 abs (~5% of their typical magnitude of ~1-3), and the argmax of
// every classification/QA/MLM row agrees unless the fp32 top-2 margin is below 0.05 (a tie that
// quantization noise may legitimately flip).
TEST_P(EncoderParity, Int8CloseToFp32) {
  const std::string name = GetParam();
  auto model = LoadFixtureModel(name);
  ASSERT_TRUE(model);
  const Json expected = ReadJsonFixture("models/" + name + "/expected.json");
  RunState rs32, rs8;
  float worst_hidden = 0, worst_logit = 0;
  int rows = 0, agree = 0;
  for (const Json& c : expected.Find("cases")->as_array()) {
    CaseInput ci;
    MakeInput(c, &ci);
    EncoderOutput o32, o8;
    ASSERT_TRUE(EncoderForward(*model, ci.in, Precision::kFp32, &rs32, &o32).ok());
    ASSERT_TRUE(EncoderForward(*model, ci.in, Precision::kInt8, &rs8, &o8).ok());
    const size_t n = static_cast<size_t>(o32.batch) * o32.seq_len * o32.hidden;
    for (size_t i = 0; i < n; ++i) {
      // Compare real tokens only: padding rows are defined but meaningless.
      const size_t tok = i / o32.hidden;
      if (ci.mask[tok] == 0) continue;
      worst_hidden = std::max(worst_hidden, std::fabs(o32.last_hidden_state[i] - o8.last_hidden_state[i]));
    }
    auto check_rows = [&](const float* a, const float* b, int nrows, int ncols, const int32_t* rowmask) {
      for (int r = 0; r < nrows; ++r) {
        if (rowmask && rowmask[r] == 0) continue;
        const float* ar = a + static_cast<size_t>(r) * ncols;
        const float* br = b + static_cast<size_t>(r) * ncols;
        for (int j = 0; j < ncols; ++j) worst_logit = std::max(worst_logit, std::fabs(ar[j] - br[j]));
        const int am = static_cast<int>(std::max_element(ar, ar + ncols) - ar);
        const int bm = static_cast<int>(std::max_element(br, br + ncols) - br);
        float second = -1e30f;
        for (int j = 0; j < ncols; ++j)
          if (j != am) second = std::max(second, ar[j]);
        ++rows;
        if (am == bm) {
          ++agree;
        } else {
          EXPECT_LT(ar[am] - second, 0.05f) << name << ": int8 flipped a row whose fp32 margin is clear";
        }
      }
    };
    if (o32.logits) {
      const bool per_token = model->config.head == HeadKind::kTokenClassification;
      check_rows(o32.logits, o8.logits, o32.logits_rows, o32.logits_cols, per_token ? ci.mask.data() : nullptr);
    }
    if (o32.start_logits) {
      // Argmax over positions of each sequence (how QA decodes), real tokens only.
      for (int b = 0; b < o32.batch; ++b) {
        const int len = static_cast<int>(std::count(ci.mask.begin() + b * o32.seq_len,
                                                    ci.mask.begin() + (b + 1) * o32.seq_len, 1));
        check_rows(o32.start_logits + b * o32.seq_len, o8.start_logits + b * o32.seq_len, 1, len, nullptr);
        check_rows(o32.end_logits + b * o32.seq_len, o8.end_logits + b * o32.seq_len, 1, len, nullptr);
      }
    }
  }
  EXPECT_LE(worst_hidden, 0.15f) << name;
  std::printf("[ int8   ] %-30s hidden max abs err vs fp32 %.3g, logits %.3g, argmax agree %d/%d\n", name.c_str(),
              worst_hidden, worst_logit, agree, rows);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, EncoderParity, ::testing::ValuesIn(kModels),
                         [](const ::testing::TestParamInfo<const char*>& i) { return std::string(i.param); });

// A sequence's outputs do not depend on what it is batched with: padded keys get exactly zero
// attention weight, per-token quantization and int32 accumulation are row-independent, so real
// tokens must match a batch of one bit for bit, in both precisions.
TEST(EncoderModel, PaddedBatchEqualsSingleSequences) {
  for (const char* name : {"bert_seqcls", "distilbert_tokcls_sinusoidal", "bert_qa"}) {
    auto model = LoadFixtureModel(name);
    ASSERT_TRUE(model);
    const Json expected = ReadJsonFixture(std::string("models/") + name + "/expected.json");
    const Json* batch_case = nullptr;
    for (const Json& c : expected.Find("cases")->as_array())
      if (c.Find("name")->as_string() == "padded_batch") batch_case = &c;
    ASSERT_NE(batch_case, nullptr);
    CaseInput ci;
    MakeInput(*batch_case, &ci);
    const int T = ci.in.seq_len, H = model->config.hidden;
    for (Precision p : {Precision::kFp32, Precision::kInt8}) {
      RunState rs_batch, rs_one;
      EncoderOutput ob, o1;
      ASSERT_TRUE(EncoderForward(*model, ci.in, p, &rs_batch, &ob).ok());
      for (int b = 0; b < ci.in.batch; ++b) {
        const int len = static_cast<int>(std::count(ci.mask.begin() + b * T, ci.mask.begin() + (b + 1) * T, 1));
        EncoderInput one;
        one.batch = 1;
        one.seq_len = len;
        one.input_ids = ci.ids.data() + b * T;
        one.token_type_ids = ci.in.token_type_ids ? ci.types.data() + b * T : nullptr;
        ASSERT_TRUE(EncoderForward(*model, one, p, &rs_one, &o1).ok());
        for (int i = 0; i < len * H; ++i) {
          ASSERT_EQ(o1.last_hidden_state[i], ob.last_hidden_state[static_cast<size_t>(b) * T * H + i])
              << name << " precision " << static_cast<int>(p) << " sequence " << b << " value " << i;
        }
        if (ob.logits && model->config.head == HeadKind::kSequenceClassification) {
          for (int j = 0; j < ob.logits_cols; ++j) ASSERT_EQ(o1.logits[j], ob.logits[b * ob.logits_cols + j]);
        }
        if (ob.start_logits) {
          for (int t = 0; t < len; ++t) ASSERT_EQ(o1.start_logits[t], ob.start_logits[b * T + t]);
        }
      }
    }
  }
}

// Threads split the GEMMs by output rows and the rest of the layer by (sequence, head), rows or
// aligned blocks: no value is summed differently, so any thread count gives the same bits. Every
// piece is forced to split here (GemmU8SplitAnyWorkForTest), since these small models' pieces are
// below the work that makes a split worth it. (The single-threaded wasm build runs one thread
// whatever max_threads says; this then checks the same path twice.)
TEST(EncoderModel, ThreadsGiveTheSameBits) {
  GemmU8SplitAnyWorkForTest(true);
  for (const char* name : {"bert_seqcls", "distilbert_tokcls_sinusoidal", "bert_qa"}) {
    auto model = LoadFixtureModel(name);
    ASSERT_TRUE(model);
    const Json expected = ReadJsonFixture(std::string("models/") + name + "/expected.json");
    for (const Json& c : expected.Find("cases")->as_array()) {
      CaseInput ci;
      MakeInput(c, &ci);
      for (Precision p : {Precision::kFp32, Precision::kInt8}) {
        RunState one;
        EncoderOutput o1;
        ASSERT_TRUE(EncoderForward(*model, ci.in, p, &one, &o1).ok());
        const size_t n = static_cast<size_t>(ci.in.batch) * ci.in.seq_len * model->config.hidden;
        const std::vector<float> want(o1.last_hidden_state, o1.last_hidden_state + n);
        const size_t nl = static_cast<size_t>(o1.logits_rows) * o1.logits_cols;
        const std::vector<float> want_logits(o1.logits, o1.logits + nl);
        const size_t ns = o1.start_logits ? static_cast<size_t>(ci.in.batch) * ci.in.seq_len : 0;
        const std::vector<float> want_start(o1.start_logits, o1.start_logits + ns);
        for (int threads : {2, 3, 4}) {
          RunState rs;
          rs.qscratch.max_threads = threads;
          EncoderOutput o;
          ASSERT_TRUE(EncoderForward(*model, ci.in, p, &rs, &o).ok());
          // A batch of at least `threads` sequences splits by whole sequences (the 3-sequence batch
          // with 2 threads: two that way, the third with its loops split); a build without threads
          // (single-thread wasm) runs one.
          GemmU8Scratch limit;
          limit.set_max_threads(threads);
          const int usable = limit.max_threads();
          EXPECT_EQ(!rs.parts.empty(), usable > 1 && ci.in.batch >= usable) << name << " threads " << threads;
          for (size_t i = 0; i < n; ++i) {
            ASSERT_EQ(o.last_hidden_state[i], want[i]) << name << " case " << c.Find("name")->as_string() << " precision "
                                                       << static_cast<int>(p) << " threads " << threads << " value " << i;
          }
          ASSERT_EQ(static_cast<size_t>(o.logits_rows) * o.logits_cols, nl);
          for (size_t i = 0; i < nl; ++i) ASSERT_EQ(o.logits[i], want_logits[i]) << name << " threads " << threads << " logit " << i;
          for (size_t i = 0; i < ns; ++i) ASSERT_EQ(o.start_logits[i], want_start[i]) << name << " threads " << threads << " start " << i;
        }
      }
    }
  }
  GemmU8SplitAnyWorkForTest(false);
}

TEST(EncoderModel, SinusoidalTableMatchesCheckpoint) {
  // The checkpoint stores the table transformers computed (fp32); ours must reproduce it.
  auto model = LoadFixtureModel("distilbert_tokcls_sinusoidal");
  ASSERT_TRUE(model);
  ASSERT_TRUE(model->config.sinusoidal_pos);
  const ModelConfig& c = model->config;
  std::vector<float> table(static_cast<size_t>(c.max_position) * c.hidden);
  SinusoidalPositionTable(c.max_position, c.hidden, table.data());
  // Both compute in double and round once to fp32; libm sin/cos may differ by an ulp of double,
  // which can flip the fp32 rounding: allow 1 fp32 ulp of values <= 1 (6e-8).
  for (size_t i = 0; i < table.size(); ++i) ASSERT_NEAR(table[i], model->weights.position[i], 6e-8f) << i;
}

// A sinusoidal checkpoint without its position tensor: the loader computes the table, and the
// outputs still match transformers.
TEST(EncoderModel, SinusoidalTableGeneratedWhenAbsent) {
  const std::string dir = FixturePath("models/distilbert_tokcls_sinusoidal/");
  const std::string config = ReadFileOrFail(dir + "config.json");
  const std::string st = ReadFileOrFail(dir + "model.safetensors");
  auto file = ParseSafetensors(reinterpret_cast<const uint8_t*>(st.data()), st.size(), "st");
  ASSERT_TRUE(file.ok());
  // Rebuild the file without distilbert.embeddings.position_embeddings.weight.
  std::string header = "{", data;
  for (const SafeTensor& t : file->tensors) {
    if (t.name == "distilbert.embeddings.position_embeddings.weight") continue;
    std::string shape;
    for (size_t d = 0; d < t.shape.size(); ++d) shape += (d ? "," : "") + std::to_string(t.shape[d]);
    header += (header.size() > 1 ? "," : "") + std::string("\"") + t.name + "\":{\"dtype\":\"" + t.dtype_name +
              "\",\"shape\":[" + shape + "],\"data_offsets\":[" + std::to_string(data.size()) + "," +
              std::to_string(data.size() + t.nbytes) + "]}";
    data.append(reinterpret_cast<const char*>(t.data), t.nbytes);
  }
  header += "}";
  std::string stripped(8, '\0');
  for (int i = 0; i < 8; ++i) stripped[i] = static_cast<char>(static_cast<uint64_t>(header.size()) >> (8 * i));
  stripped += header + data;
  auto m = LoadHfModel(config, reinterpret_cast<const uint8_t*>(stripped.data()), stripped.size());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const Json expected = ReadJsonFixture("models/distilbert_tokcls_sinusoidal/expected.json");
  RunState rs;
  for (const Json& c : expected.Find("cases")->as_array()) {
    CaseInput ci;
    MakeInput(c, &ci);
    EncoderOutput out;
    ASSERT_TRUE(EncoderForward(**m, ci.in, Precision::kFp32, &rs, &out).ok());
    for (const auto& [what, got, want] : Compared(c, out)) {
      size_t worst = 0;
      EXPECT_LE(MaxAbsDiff(got, want, &worst), 1e-4f) << what << "[" << worst << "]";  // as in Fp32MatchesTransformers
    }
  }
  // Without the table and without sinusoidal_pos_embds, the tensor is simply missing.
  const std::string on = "\"sinusoidal_pos_embds\": true";
  std::string plain = config;
  ASSERT_NE(plain.find(on), std::string::npos);
  plain.replace(plain.find(on), on.size(), "\"sinusoidal_pos_embds\": false");
  auto missing = LoadHfModel(plain, reinterpret_cast<const uint8_t*>(stripped.data()), stripped.size());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound) << missing.status().ToString();
}

}  // namespace
}  // namespace edgebert
