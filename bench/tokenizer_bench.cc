// tokenizer_bench.cc: tokenizer throughput (MB/s of UTF-8 input) on mixed-language documents.
//
// Reads EDGEBERT_TOK_DOCS (a JSON array of strings, made by bench/tokenizer/make_text.py) and
// EDGEBERT_TOK_JSON (a tokenizer.json; default: the shared uncased test vocabulary). Run through
// bench/tokenizer/run.sh to see it beside Hugging Face tokenizers and our wasm build.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"
#include "util/json.h"

namespace edgebert {
namespace {

std::string RepoRoot() {
  std::string f = __FILE__;  // <root>/bench/tokenizer_bench.cc
  return f.substr(0, f.rfind("/bench/"));
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Data {
  Tokenizer tok;
  std::vector<std::string> docs;
  size_t bytes = 0;
};

const Data* Load() {
  static const Data* data = [] {
    const char* docs_path = std::getenv("EDGEBERT_TOK_DOCS");
    const char* tok_path = std::getenv("EDGEBERT_TOK_JSON");
    const std::string tp = tok_path ? tok_path : RepoRoot() + "/tests/fixtures/vocab/uncased/tokenizer.json";
    auto tok = Tokenizer::FromTokenizerJson(ReadAll(tp));
    if (!tok.ok()) {
      std::fprintf(stderr, "%s: %s\n", tp.c_str(), tok.status().ToString().c_str());
      std::exit(1);
    }
    auto* d = new Data{std::move(tok).value(), {}, 0};
    if (!docs_path) {
      std::fprintf(stderr, "set EDGEBERT_TOK_DOCS to a JSON array of documents (bench/tokenizer/make_text.py)\n");
      std::exit(1);
    }
    auto docs = ParseJson(ReadAll(docs_path));
    if (!docs.ok() || !docs->is_array()) {
      std::fprintf(stderr, "%s: not a JSON array of strings\n", docs_path);
      std::exit(1);
    }
    for (const Json& j : docs->as_array()) {
      d->docs.push_back(j.as_string());
      d->bytes += d->docs.back().size();
    }
    return d;
  }();
  return data;
}

// One Encode per document, no truncation: the raw tokenizer speed.
void BM_EncodeDocuments(benchmark::State& state) {
  const Data* d = Load();
  size_t tokens = 0;
  for (auto _ : state) {
    for (const std::string& doc : d->docs) {
      auto enc = d->tok.Encode(doc);
      tokens += enc->size();
      benchmark::DoNotOptimize(enc->ids.data());
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * d->bytes));
  state.counters["tokens/s"] = benchmark::Counter(static_cast<double>(tokens), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_EncodeDocuments)->Unit(benchmark::kMillisecond)->MinTime(2.0);

// Question answering: a short question with each document, only_second, 384 tokens, stride 128.
void BM_EncodeQuestionAnswering(benchmark::State& state) {
  const Data* d = Load();
  EncodeOptions o;
  o.truncation = {true, 384, 128, TruncationStrategy::kOnlySecond};
  o.padding.strategy = PaddingStrategy::kMaxLength;
  o.padding.max_length = 384;
  const std::string question = "What is the capital of France?";
  for (auto _ : state) {
    for (const std::string& doc : d->docs) {
      auto enc = d->tok.EncodePair(question, doc, o);
      benchmark::DoNotOptimize(enc->ids.data());
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * d->bytes));
}
BENCHMARK(BM_EncodeQuestionAnswering)->Unit(benchmark::kMillisecond)->MinTime(2.0);

// The normalizer alone (decode, clean, CJK, NFD, strip accents, lowercase).
void BM_NormalizeOnly(benchmark::State& state) {
  const Data* d = Load();
  std::vector<NormChar> out;
  for (auto _ : state) {
    for (const std::string& doc : d->docs) {
      out.clear();
      d->tok.normalizer().Normalize(doc, 0, doc.size(), &out);
      benchmark::DoNotOptimize(out.data());
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * d->bytes));
}
BENCHMARK(BM_NormalizeOnly)->Unit(benchmark::kMillisecond)->MinTime(2.0);

}  // namespace
}  // namespace edgebert

BENCHMARK_MAIN();
