// model_inplace_test.cc: packed format version 2 (room reserved per Linear weight) and in-place
// loading (LoadPackedModelInPlace): identical outputs to the copy path on every fixture model,
// version-1 files, and the specific errors of corrupt or truncated reserved areas.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "encoder/encoder.h"
#include "gemm/qlinear.h"
#include "model/model.h"
#include "model/packed.h"
#include "model/xxhash64.h"
#include "pipeline/engine.h"
#include "test_util.h"

namespace edgebert {
namespace {

using testing::FixturePath;
using testing::ReadFileOrFail;

const char* const kFixtureModels[] = {"bert_base",  "bert_mlm",         "bert_qa",          "bert_seqcls",
                                      "bert_seqcls_multi", "bert_tokcls_relu", "distilbert_base", "distilbert_mlm",
                                      "distilbert_qa", "distilbert_seqcls", "distilbert_seqcls_multi",
                                      "distilbert_tokcls_sinusoidal"};

std::string ConvertFixture(const std::string& name) {
  const std::string dir = FixturePath("models/" + name + "/");
  const std::string config = ReadFileOrFail(dir + "config.json");
  const std::string st = ReadFileOrFail(dir + "model.safetensors");
  const std::string vocab = ReadFileOrFail(dir + "vocab.txt");
  const std::string tokenizer_config = ReadFileOrFail(dir + "tokenizer_config.json");
  ConvertInputs in;
  in.config_json = config;
  in.safetensors = st;
  in.files = {{"vocab.txt", vocab}, {"tokenizer_config.json", tokenizer_config}};
  auto packed = ConvertToPacked(in);
  EXPECT_TRUE(packed.ok()) << name << ": " << packed.status().ToString();
  return packed.ok() ? *packed : std::string();
}

// A 64-byte-aligned copy, as the wasm side allocates it.
struct AlignedBuffer {
  explicit AlignedBuffer(const std::string& s) : storage(s.size() + 64) {
    const uintptr_t p = reinterpret_cast<uintptr_t>(storage.data());
    data = storage.data() + (64 - p % 64) % 64;
    std::copy(s.begin(), s.end(), data);
    size = s.size();
  }
  bool Holds(const std::string& s) const { return size == s.size() && std::memcmp(data, s.data(), size) == 0; }
  std::vector<uint8_t> storage;
  uint8_t* data;
  size_t size;
};

uint32_t HeaderBytes(const std::string& file) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(file[12 + i]);
  return v;
}

// Rewrites the JSON header with `edit` (same length: a shorter result is padded with spaces, a
// longer one gives ""), optionally sets the version, and re-seals the checksum, so that the
// structural checks are what a test exercises.
std::string EditHeader(const std::string& file, const std::function<std::string(std::string)>& edit,
                       uint32_t version = 0) {
  const uint32_t n = HeaderBytes(file);
  std::string header = edit(file.substr(kPackedPreambleBytes, n));
  if (header.size() > n) return "";
  header.resize(n, ' ');
  std::string out = file;
  out.replace(kPackedPreambleBytes, n, header);
  if (version) out[8] = static_cast<char>(version);
  const uint64_t h = XxHash64(out.data() + kPackedPreambleBytes, out.size() - kPackedPreambleBytes);
  for (int i = 0; i < 8; ++i) out[24 + i] = static_cast<char>(h >> (8 * i));
  return out;
}

// The header line of entry `name` ({"name":"<name>",...}).
std::pair<size_t, size_t> EntryLine(const std::string& header, const std::string& name) {
  const size_t start = header.find("{\"name\":\"" + name + "\"");
  EXPECT_NE(start, std::string::npos) << name;
  return {start, header.find('}', start) + 1};
}

// Removes every ,"room":N: the same file as version 1 wrote it (rooms become padding).
std::string DropRooms(std::string header) {
  for (size_t at; (at = header.find(",\"room\":")) != std::string::npos;) {
    const size_t end = header.find('}', at);
    header.erase(at, end - at);
  }
  return header;
}

// Runs the int8 encoder (and head) on a fixed input; returns every output value.
std::vector<float> RunAll(const Model& m) {
  std::vector<int32_t> ids = {2, 10, 20, 30, 40, 50, 60, 70, 3};
  std::vector<int32_t> mask(ids.size(), 1);
  mask.back() = 0;
  EncoderInput in;
  in.batch = 1;
  in.seq_len = static_cast<int>(ids.size());
  in.input_ids = ids.data();
  in.attention_mask = mask.data();
  RunState rs;
  EncoderOutput o;
  const Status s = EncoderForward(m, in, Precision::kInt8, &rs, &o);
  EXPECT_TRUE(s.ok()) << s.ToString();
  std::vector<float> all;
  if (!s.ok()) return all;
  all.assign(o.last_hidden_state, o.last_hidden_state + ids.size() * o.hidden);
  if (o.pooled) all.insert(all.end(), o.pooled, o.pooled + o.hidden);
  if (o.logits) all.insert(all.end(), o.logits, o.logits + static_cast<size_t>(o.logits_rows) * o.logits_cols);
  if (o.start_logits) all.insert(all.end(), o.start_logits, o.start_logits + ids.size());
  if (o.end_logits) all.insert(all.end(), o.end_logits, o.end_logits + ids.size());
  return all;
}

std::vector<const Linear*> EncoderLinears(const Model& m) {
  std::vector<const Linear*> out;
  for (const EncoderLayerWeights& L : m.weights.layers)
    for (const Linear* l : {&L.q, &L.k, &L.v, &L.o, &L.ffn_in, &L.ffn_out}) out.push_back(l);
  return out;
}

TEST(ModelInPlace, WritesVersion2WithRoomForEveryLinearWeight) {
  const std::string file = ConvertFixture("bert_seqcls");
  ASSERT_FALSE(file.empty());
  EXPECT_EQ(file[8], 2);
  const std::string header = file.substr(kPackedPreambleBytes, HeaderBytes(file));
  // Linear weights have room, sized for every shipped kernel; other tensors (embeddings, heads) none.
  const auto [s, e] = EntryLine(header, "encoder.layer.0.intermediate.dense.weight");
  const std::string line = header.substr(s, e - s);
  auto parsed = ParseJson(line);
  ASSERT_TRUE(parsed.ok()) << line;
  const Json* shape = parsed->Find("shape");
  ASSERT_NE(parsed->Find("room"), nullptr) << line;
  const int n = static_cast<int>((*shape)[0].as_int()), k = static_cast<int>((*shape)[1].as_int());
  EXPECT_EQ(static_cast<size_t>(parsed->Find("room")->as_int()), QLinearRoomBytes(n, k));
  EXPECT_GE(QLinearRoomBytes(n, k), QLinearPackedBytes(n, k));
  const auto [ws, we] = EntryLine(header, "embeddings.word_embeddings.weight");
  EXPECT_EQ(header.substr(ws, we - ws).find("room"), std::string::npos);
  const auto [cs, ce] = EntryLine(header, "classifier.weight");
  EXPECT_EQ(header.substr(cs, ce - cs).find("room"), std::string::npos);
}

TEST(ModelInPlace, RoomCoversThisBuildsLayoutForAllShapes) {
  for (int n = 1; n <= 40; ++n)
    for (int k : {1, 2, 15, 16, 17, 31, 33, 384, 767, 768, 1000, 3072})
      EXPECT_GE(QLinearRoomBytes(n, k), QLinearPackedBytes(n, k)) << n << " x " << k;
}

// The acceptance test of in-place packing: on every fixture model the outputs are bit for bit
// those of the copy path, the weights are packed over themselves (no int8 row-major view left)
// and the buffer is no longer the file; LoadHfModel (int8) packs its own storage in place alike.
TEST(ModelInPlace, IdenticalToCopyPathOnEveryFixtureModel) {
  for (const char* name : kFixtureModels) {
    const std::string file = ConvertFixture(name);
    ASSERT_FALSE(file.empty()) << name;
    AlignedBuffer copy_buf(file), inplace_buf(file);
    auto copied = LoadPackedModel(copy_buf.data, copy_buf.size);
    auto inplace = LoadPackedModelInPlace(inplace_buf.data, inplace_buf.size);
    ASSERT_TRUE(copied.ok()) << name << ": " << copied.status().ToString();
    ASSERT_TRUE(inplace.ok()) << name << ": " << inplace.status().ToString();
    EXPECT_TRUE(copy_buf.Holds(file)) << name << ": the copy path must not write to the buffer";
    EXPECT_FALSE(inplace_buf.Holds(file)) << name;
    for (const Linear* l : EncoderLinears(**inplace)) {
      EXPECT_EQ(l->q.weight, nullptr) << name;
      EXPECT_NE(l->q.prepared, nullptr) << name;
    }
    for (const Linear* l : EncoderLinears(**copied)) EXPECT_NE(l->q.weight, nullptr) << name;
    // A tied MLM decoder is packed over the word embedding rows, which are then read through it.
    if ((*inplace)->config.head == HeadKind::kMaskedLM) {
      EXPECT_EQ((*inplace)->weights.word.i8, nullptr) << name;
      EXPECT_EQ((*inplace)->weights.word.packed_rows, &(*inplace)->weights.mlm_decoder.q) << name;
      EXPECT_NE((*copied)->weights.word.i8, nullptr) << name;
    }
    const std::vector<float> a = RunAll(**copied), b = RunAll(**inplace);
    ASSERT_EQ(a.size(), b.size()) << name;
    ASSERT_FALSE(a.empty()) << name;
    for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i], b[i]) << name << " output " << i;

    // LoadHfModel owns the weights it quantizes: packed over themselves too, same outputs.
    const std::string dir = FixturePath(std::string("models/") + name + "/");
    const std::string config = ReadFileOrFail(dir + "config.json");
    const std::string st = ReadFileOrFail(dir + "model.safetensors");
    auto direct = LoadHfModel(config, reinterpret_cast<const uint8_t*>(st.data()), st.size(), HfLoadOptions{false, true});
    ASSERT_TRUE(direct.ok()) << name << ": " << direct.status().ToString();
    for (const Linear* l : EncoderLinears(**direct)) EXPECT_EQ(l->q.weight, nullptr) << name;
    if ((*direct)->config.head == HeadKind::kMaskedLM) {
      EXPECT_EQ((*direct)->weights.word.i8, nullptr) << name;
    }
    EXPECT_EQ(RunAll(**direct), a) << name;
  }
}

TEST(ModelInPlace, DequantizedColumnsReadTheFileValues) {
  const std::string file = ConvertFixture("distilbert_seqcls");
  AlignedBuffer copy_buf(file), inplace_buf(file);
  auto copied = LoadPackedModel(copy_buf.data, copy_buf.size);
  auto inplace = LoadPackedModelInPlace(inplace_buf.data, inplace_buf.size);
  ASSERT_TRUE(copied.ok() && inplace.ok());
  const auto lc = EncoderLinears(**copied), li = EncoderLinears(**inplace);
  for (size_t i = 0; i < lc.size(); ++i) {
    const QLinearWeights& q = lc[i]->q;
    std::vector<float> got(q.n);
    for (int col = 0; col < q.k; ++col) {
      QLinearDequantizedColumn(li[i]->q, col, got.data());
      for (int r = 0; r < q.n; ++r)
        ASSERT_EQ(got[r], q.scale[r] * static_cast<float>(q.weight[static_cast<size_t>(r) * q.k + col]))
            << "linear " << i << " (" << r << ", " << col << ")";
    }
  }
}

TEST(ModelInPlace, EngineFromPackedInPlaceAnswersLikeTheCopy) {
  const std::string file = ConvertFixture("distilbert_seqcls");
  AlignedBuffer a(file), b(file);
  auto copied = Engine::FromPacked(a.data, a.size);
  auto inplace = Engine::FromPackedInPlace(b.data, b.size);
  ASSERT_TRUE(copied.ok()) << copied.status().ToString();
  ASSERT_TRUE(inplace.ok()) << inplace.status().ToString();
  auto req = ParseJson(R"({"text": "a short sentence to classify", "top_k": null})");
  ASSERT_TRUE(req.ok());
  auto ra = (*copied)->Run("text-classification", *req);
  auto rb = (*inplace)->Run("text-classification", *req);
  ASSERT_TRUE(ra.ok()) << ra.status().ToString();
  ASSERT_TRUE(rb.ok()) << rb.status().ToString();
  EXPECT_EQ(DumpJson(*ra), DumpJson(*rb));
}

TEST(ModelInPlace, Version1FilesLoadThroughTheCopyPath) {
  const std::string v2 = ConvertFixture("bert_qa");
  const std::string v1 = EditHeader(v2, DropRooms, 1);
  ASSERT_FALSE(v1.empty());
  ASSERT_EQ(v1.find("\"room\""), std::string::npos);
  AlignedBuffer ref_buf(v2), buf(v1);
  auto ref = LoadPackedModel(ref_buf.data, ref_buf.size);
  auto m = LoadPackedModelInPlace(buf.data, buf.size);
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_TRUE(buf.Holds(v1)) << "a version-1 file has no room: nothing is written";
  EXPECT_NE((*m)->weights.layers[0].q.q.weight, nullptr);
  EXPECT_EQ(RunAll(**ref), RunAll(**m));
  // A room in a version-1 file is not something version 1 had.
  const std::string v1_room = v2.substr(0, 8) + std::string(1, '\1') + v2.substr(9);
  std::string resealed = EditHeader(v1_room, [](std::string h) { return h; });
  AlignedBuffer bad(resealed);
  const Status s = LoadPackedModel(bad.data, bad.size).status();
  EXPECT_EQ(s.code(), StatusCode::kCorruptData) << s.ToString();
  EXPECT_NE(s.message().find("version-1"), std::string::npos) << s.message();
}

TEST(ModelInPlace, NewerVersionsAreUnsupported) {
  std::string f = ConvertFixture("bert_qa");
  f[8] = 3;
  AlignedBuffer b(f);
  const Status s = LoadPackedModelInPlace(b.data, b.size).status();
  EXPECT_EQ(s.code(), StatusCode::kUnsupported);
  EXPECT_NE(s.message().find("version 3"), std::string::npos) << s.message();
  EXPECT_TRUE(b.Holds(f));
}

TEST(ModelInPlace, CorruptOrTruncatedRoomsAreRejectedBeforeAnyWrite) {
  const std::string good = ConvertFixture("distilbert_qa");
  ASSERT_FALSE(good.empty());
  const std::string lin = "transformer.layer.0.ffn.lin1.weight";
  auto load = [](const std::string& file) {
    AlignedBuffer b(file);
    const Status s = LoadPackedModelInPlace(b.data, b.size).status();
    EXPECT_TRUE(b.Holds(file)) << "a failed in-place load must leave the buffer as it was: " << s.ToString();
    return s;
  };
  auto expect_corrupt = [&](const std::string& file, const char* what) {
    ASSERT_FALSE(file.empty()) << what;
    const Status s = load(file);
    EXPECT_EQ(s.code(), StatusCode::kCorruptData) << what << ": " << s.ToString();
  };
  // The room's value in the entry line of `lin`.
  auto edit_room = [&](const std::function<std::string(const std::string&)>& f) {
    return EditHeader(good, [&](std::string h) {
      const auto [s, e] = EntryLine(h, lin);
      const size_t at = h.find("\"room\":", s) + 7;
      const size_t end = h.find('}', at);
      EXPECT_LT(end, e + 1);
      h.replace(at, end - at, f(h.substr(at, end - at)));
      return h;
    });
  };
  // Smaller than the tensor.
  expect_corrupt(edit_room([](const std::string&) { return "1"; }), "room < size");
  // Into the next entry: as many 9s as the room has digits, beyond the gap to the next offset.
  expect_corrupt(edit_room([](const std::string& r) { return std::string(r.size(), '9'); }), "room overlaps");
  // Negative and non-integer.
  expect_corrupt(edit_room([](const std::string&) { return "-5"; }), "negative room");
  expect_corrupt(edit_room([](const std::string&) { return "1.5"; }), "fractional room");
  // A room on an fp32 tensor (the informative architecture string shortened to make space).
  expect_corrupt(EditHeader(good,
                            [&](std::string h) {
                              const size_t a = h.find("\"architecture\":\"") + 16;
                              h.replace(a, h.find('"', a) - a, "x");
                              const auto [s, e] = EntryLine(h, "transformer.layer.0.ffn.lin1.bias");
                              h.insert(e - 1, ",\"room\":12288");
                              return h;
                            }),
                 "room on f32");
  // The last room reaching past the end of the file: the file truncated inside it. The
  // preamble's size is checked first (truncated), so also check a table whose last room grows.
  expect_corrupt(good.substr(0, good.size() - 64), "truncated file");
  // One flipped byte inside a reserved area (zeros in the file): the checksum covers rooms.
  {
    const std::string header = good.substr(kPackedPreambleBytes, HeaderBytes(good));
    const auto [s, e] = EntryLine(header, lin);
    auto line = ParseJson(header.substr(s, e - s));
    ASSERT_TRUE(line.ok());
    const size_t off = static_cast<size_t>(line->Find("offset")->as_int());
    const size_t size = static_cast<size_t>(line->Find("size")->as_int());
    const size_t room = static_cast<size_t>(line->Find("room")->as_int());
    ASSERT_GT(room, size) << "the fixture's ffn weight needs padding room (sums at least)";
    std::string bad = good;
    bad[off + room - 1] ^= 0x10;
    const Status st = load(bad);
    EXPECT_EQ(st.code(), StatusCode::kCorruptData);
    EXPECT_NE(st.message().find("checksum"), std::string::npos) << st.message();
  }
  // A structurally valid file that fails binding (a required tensor renamed) writes nothing.
  {
    const std::string renamed = EditHeader(good, [&](std::string h) {
      const size_t at = h.find("\"transformer.layer.1.ffn.lin2.weight\"");
      h[at + 1] = 'X';
      return h;
    });
    const Status s = load(renamed);
    EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.ToString();
  }
  AlignedBuffer ok(good);
  EXPECT_TRUE(LoadPackedModelInPlace(ok.data, ok.size).ok());
}

}  // namespace
}  // namespace edgebert
