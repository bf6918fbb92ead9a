// main.cc: the `edgebert` command-line tool (version; convert a Hugging Face checkpoint).
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "edgebert.h"
#include "model/packed.h"

namespace {

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

int Usage() {
  std::fprintf(stderr,
               "usage: edgebert version\n"
               "       edgebert convert <hf_dir> <out.edgebert>\n"
               "         hf_dir holds config.json and model.safetensors, and optionally vocab.txt,\n"
               "         tokenizer.json, tokenizer_config.json, special_tokens_map.json (carried along).\n");
  return 2;
}

int Convert(const std::string& dir, const std::string& out_path) {
  const auto t0 = std::chrono::steady_clock::now();
  std::string config, st;
  if (!ReadFile(dir + "/config.json", &config)) {
    std::fprintf(stderr, "edgebert convert: cannot read %s/config.json\n", dir.c_str());
    return 1;
  }
  if (!ReadFile(dir + "/model.safetensors", &st)) {
    std::fprintf(stderr, "edgebert convert: cannot read %s/model.safetensors (pytorch_model.bin is not supported; "
                 "re-save with safe_serialization=True)\n", dir.c_str());
    return 1;
  }
  std::vector<std::string> storage;
  storage.reserve(4);
  edgebert::ConvertInputs in;
  in.config_json = config;
  in.safetensors = st;
  for (const char* f : {"vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"}) {
    std::string bytes;
    if (!ReadFile(dir + "/" + f, &bytes)) continue;
    storage.push_back(std::move(bytes));
    in.files.emplace_back(f, storage.back());
  }
  edgebert::ConvertReport report;
  auto packed = edgebert::ConvertToPacked(in, &report);
  if (!packed.ok()) {
    std::fprintf(stderr, "edgebert convert: %s\n", packed.status().ToString().c_str());
    return 1;
  }
  std::ofstream out(out_path, std::ios::binary);
  out.write(packed->data(), static_cast<std::streamsize>(packed->size()));
  if (!out) {
    std::fprintf(stderr, "edgebert convert: cannot write %s\n", out_path.c_str());
    return 1;
  }
  float worst = 0;
  std::string worst_name;
  for (const auto& [name, err] : report.quant_error)
    if (err > worst) {
      worst = err;
      worst_name = name;
    }
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%s: %.1f MB (safetensors %.1f MB), %zu int8 tensors, worst per-row quantization error %.4f of max|w| "
              "(%s), %.0f ms\n",
              out_path.c_str(), packed->size() / 1e6, st.size() / 1e6, report.quant_error.size(), worst,
              worst_name.c_str(), ms);
  for (const auto& [name, _] : in.files) std::printf("  carried %s\n", name.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "version") == 0) {
    std::printf("edgebert %s\n", edgebert::Version());
    return 0;
  }
  if (argc == 4 && std::strcmp(argv[1], "convert") == 0) return Convert(argv[2], argv[3]);
  return Usage();
}
