// encoder_bench.cc: DistilBERT-base geometry (random weights made at startup, never committed):
// packed size, load time from buffer (read-only: weights packed into copies; in place: repacked
// over themselves), encoder latency per sequence length.
//
//   build/<dir>/bench/encoder_bench [--write_packed=/tmp/distilbert-base.edgebert] [benchmark flags]
//
// --write_packed also writes the packed file for bench/encoder/wasm_bench.mjs.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "encoder/encoder.h"
#include "model/packed.h"

namespace edgebert {
namespace {

// DistilBERT-base: vocab 30522, dim 768, 6 layers, 12 heads, FFN 3072, 512 positions.
constexpr int kV = 30522, kH = 768, kL = 6, kHeads = 12, kI = 3072, kP = 512;

const char* kConfig = R"({"architectures":["DistilBertModel"],"model_type":"distilbert","vocab_size":30522,
"dim":768,"n_layers":6,"n_heads":12,"hidden_dim":3072,"max_position_embeddings":512,"activation":"gelu",
"sinusoidal_pos_embds":false,"pad_token_id":0})";

// A fp32 safetensors checkpoint with random weights (std 0.02 like transformers' init; LayerNorm
// gamma 1, beta 0).
std::string MakeCheckpoint() {
  std::vector<std::pair<std::string, std::vector<int64_t>>> tensors = {
      {"embeddings.word_embeddings.weight", {kV, kH}},
      {"embeddings.position_embeddings.weight", {kP, kH}},
      {"embeddings.LayerNorm.weight", {kH}},
      {"embeddings.LayerNorm.bias", {kH}}};
  for (int l = 0; l < kL; ++l) {
    const std::string p = "transformer.layer." + std::to_string(l) + ".";
    for (const char* n : {"attention.q_lin", "attention.k_lin", "attention.v_lin", "attention.out_lin"}) {
      tensors.push_back({p + n + ".weight", {kH, kH}});
      tensors.push_back({p + n + ".bias", {kH}});
    }
    tensors.push_back({p + "sa_layer_norm.weight", {kH}});
    tensors.push_back({p + "sa_layer_norm.bias", {kH}});
    tensors.push_back({p + "ffn.lin1.weight", {kI, kH}});
    tensors.push_back({p + "ffn.lin1.bias", {kI}});
    tensors.push_back({p + "ffn.lin2.weight", {kH, kI}});
    tensors.push_back({p + "ffn.lin2.bias", {kH}});
    tensors.push_back({p + "output_layer_norm.weight", {kH}});
    tensors.push_back({p + "output_layer_norm.bias", {kH}});
  }
  std::string header = "{";
  size_t off = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    size_t n = 1;
    std::string shape;
    for (size_t d = 0; d < tensors[i].second.size(); ++d) {
      n *= tensors[i].second[d];
      shape += (d ? "," : "") + std::to_string(tensors[i].second[d]);
    }
    header += (i ? "," : "") + std::string("\"distilbert.") + tensors[i].first + "\":{\"dtype\":\"F32\",\"shape\":[" +
              shape + "],\"data_offsets\":[" + std::to_string(off) + "," + std::to_string(off + n * 4) + "]}";
    off += n * 4;
  }
  header += "}";
  while (header.size() % 8) header += ' ';
  std::string out(8 + header.size() + off, '\0');
  const uint64_t hl = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(hl >> (8 * i));
  std::memcpy(&out[8], header.data(), header.size());
  std::mt19937 rng(42);
  std::normal_distribution<float> normal(0.f, 0.02f);
  float* data = reinterpret_cast<float*>(&out[8 + header.size()]);  // 8-aligned: header padded
  size_t at = 0;
  for (const auto& [name, shape] : tensors) {
    size_t n = 1;
    for (int64_t d : shape) n *= d;
    const bool ln = name.find("LayerNorm") != std::string::npos || name.find("layer_norm") != std::string::npos;
    const bool gamma = ln && name.find("weight") != std::string::npos;
    for (size_t i = 0; i < n; ++i) data[at + i] = ln ? (gamma ? 1.f : 0.f) : normal(rng);
    at += n;
  }
  return out;
}

struct Packed {
  std::vector<uint8_t> storage;
  uint8_t* data = nullptr;
  size_t size = 0;
  size_t safetensors_size = 0;
};

Packed& GetPacked() {
  static Packed p = [] {
    Packed r;
    const std::string st = MakeCheckpoint();
    r.safetensors_size = st.size();
    ConvertInputs in;
    in.config_json = kConfig;
    in.safetensors = st;
    auto packed = ConvertToPacked(in);
    if (!packed.ok()) {
      std::fprintf(stderr, "convert failed: %s\n", packed.status().ToString().c_str());
      std::exit(1);
    }
    r.storage.resize(packed->size() + 64);
    r.data = r.storage.data() + (64 - reinterpret_cast<uintptr_t>(r.storage.data()) % 64) % 64;
    std::memcpy(r.data, packed->data(), packed->size());
    r.size = packed->size();
    return r;
  }();
  return p;
}

void BM_LoadPacked(benchmark::State& state) {
  Packed& p = GetPacked();
  for (auto _ : state) {
    auto m = LoadPackedModel(p.data, p.size);
    if (!m.ok()) state.SkipWithError(m.status().ToString().c_str());
    benchmark::DoNotOptimize(m);
  }
  state.counters["packed_MB"] = p.size / 1e6;
  state.counters["safetensors_MB"] = p.safetensors_size / 1e6;
}
BENCHMARK(BM_LoadPacked)->Unit(benchmark::kMillisecond);

// The engine's path (eb_model_load): the buffer is handed over and the Linear weights are repacked
// over themselves. Each iteration loads a fresh copy of the file (the copy is not timed).
void BM_LoadPackedInPlace(benchmark::State& state) {
  Packed& p = GetPacked();
  std::vector<uint8_t> storage(p.size + 64);
  uint8_t* buf = storage.data() + (64 - reinterpret_cast<uintptr_t>(storage.data()) % 64) % 64;
  for (auto _ : state) {
    state.PauseTiming();
    std::memcpy(buf, p.data, p.size);
    state.ResumeTiming();
    auto m = LoadPackedModelInPlace(buf, p.size);
    if (!m.ok()) state.SkipWithError(m.status().ToString().c_str());
    benchmark::DoNotOptimize(m);
  }
  state.counters["packed_MB"] = p.size / 1e6;
}
BENCHMARK(BM_LoadPackedInPlace)->Unit(benchmark::kMillisecond);

void BM_EncoderInt8(benchmark::State& state) {
  Packed& p = GetPacked();
  static auto model = LoadPackedModel(p.data, p.size);
  const int T = static_cast<int>(state.range(0));
  std::vector<int32_t> ids(T);
  std::mt19937 rng(1);
  for (int& id : ids) id = static_cast<int>(rng() % kV);
  EncoderInput in;
  in.batch = 1;
  in.seq_len = T;
  in.input_ids = ids.data();
  RunState rs;
  EncoderOutput out;
  for (auto _ : state) {
    Status s = EncoderForward(**model, in, Precision::kInt8, &rs, &out);
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
    benchmark::DoNotOptimize(out.last_hidden_state);
  }
  state.counters["tokens/s"] = benchmark::Counter(static_cast<double>(T), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_EncoderInt8)->Arg(16)->Arg(64)->Arg(128)->Arg(512)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace edgebert

int main(int argc, char** argv) {
  std::vector<char*> rest;
  std::string write_packed;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--write_packed=", 15) == 0) write_packed = argv[i] + 15;
    else rest.push_back(argv[i]);
  }
  if (!write_packed.empty()) {
    const auto t0 = std::chrono::steady_clock::now();
    edgebert::Packed& p = edgebert::GetPacked();
    std::ofstream(write_packed, std::ios::binary).write(reinterpret_cast<const char*>(p.data), p.size);
    std::printf("wrote %s: %.1f MB packed (fp32 safetensors %.1f MB), %.1f s\n", write_packed.c_str(), p.size / 1e6,
                p.safetensors_size / 1e6,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  int n = static_cast<int>(rest.size());
  benchmark::Initialize(&n, rest.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
