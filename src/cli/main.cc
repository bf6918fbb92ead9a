// main.cc: the `edgebert` command-line tool (version; convert a checkpoint; run a task on a model).
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "edgebert.h"
#include "model/packed.h"
#include "util/json.h"

namespace {

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

const char kUsage[] =
    "usage: edgebert version\n"
    "       edgebert convert <hf_dir> <out.ebm>\n"
    "         hf_dir holds config.json and model.safetensors, and optionally vocab.txt,\n"
    "         tokenizer.json, tokenizer_config.json, special_tokens_map.json (carried along).\n"
    "       edgebert run <task> <model> <text> [options]\n"
    "         Runs one request and prints the pipeline's JSON, the same JSON the wasm module gives JS\n"
    "         (docs/API.md): offsets in UTF-16 code units unless --offset-unit says otherwise.\n"
    "         task: text-classification | token-classification | question-answering (<text> is the\n"
    "         context) | feature-extraction | fill-mask | tokenize.\n"
    "         model: a packed .ebm file or a Hugging Face checkpoint directory.\n"
    "         options (each sets the request key in parentheses; a task refuses keys it does not take):\n"
    "           --pair TEXT                 (text_pair) second text: classification, features, tokenize\n"
    "           --question Q                (question) required for question-answering\n"
    "           --top-k N|all               (top_k) all = every label (text-classification)\n"
    "           --function-to-apply F       (function_to_apply) default | softmax | sigmoid | none\n"
    "           --aggregation-strategy S    (aggregation_strategy) none | simple | first | average | max\n"
    "           --ignore-labels A,B         (ignore_labels) default O; '' ignores none\n"
    "           --stride N                  (stride) token-classification windows over long texts\n"
    "           --doc-stride N --max-answer-len N --max-seq-len N --max-question-len N\n"
    "           --handle-impossible-answer  --no-align-to-words   (question-answering)\n"
    "           --pooling none|mean|cls --normalize                (feature-extraction)\n"
    "           --targets A,B               (targets) fill-mask candidates\n"
    "           --truncation                (truncation) cut texts longer than the model\n"
    "           --offset-unit utf16|byte|codepoint   (offset_unit) default utf16\n"
    "           --request JSON              extra request keys as a JSON object (override the above)\n"
    "           --quantization int8|fp32    how a checkpoint directory is loaded (default int8)\n"
    "           --threads N                 int8 GEMM threads (default 1)\n"
    "       edgebert --help\n";

int Usage() {
  std::fputs(kUsage, stderr);
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

// "a,b" -> ["a", "b"]; "" -> [].
edgebert::Json CommaList(const std::string& s) {
  edgebert::Json::Array out;
  size_t start = 0;
  while (start < s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    out.push_back(edgebert::Json::String(s.substr(start, comma - start)));
    start = comma + 1;
  }
  return edgebert::Json::MakeArray(std::move(out));
}

bool ParseInt(const std::string& s, int* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(s.c_str(), &end, 10);
  if (*end != '\0' || errno != 0 || v < -(1L << 30) || v > (1L << 30)) return false;
  *out = static_cast<int>(v);
  return true;
}

int RunFail(const std::string& message) {
  std::fprintf(stderr, "edgebert run: %s\n", message.c_str());
  return 1;
}

// edgebert run <task> <model> <text> [options]: the request is built from the options, the model
// loaded through the public API (edgebert.h), and the engine's JSON response printed as is.
int Run(int argc, char** argv) {
  if (argc < 5) return Usage();
  const std::string task = argv[2], model_path = argv[3], text = argv[4];
  edgebert::Json::Object req;
  auto set = [&req](const std::string& key, edgebert::Json value) {
    for (auto& kv : req) {
      if (kv.first == key) {
        kv.second = std::move(value);
        return;
      }
    }
    req.emplace_back(key, std::move(value));
  };
  set(task == "question-answering" ? "context" : "text", edgebert::Json::String(text));
  edgebert::LoadOptions load;
  std::string extra;  // --request
  // Flags without a value, and flags with one (their request key and kind).
  struct Flag {
    const char* name;
    const char* key;
    enum { kBool, kNegBool, kString, kInt, kList, kTopK } kind;
  };
  static const Flag kFlags[] = {
      {"--pair", "text_pair", Flag::kString},
      {"--question", "question", Flag::kString},
      {"--top-k", "top_k", Flag::kTopK},
      {"--function-to-apply", "function_to_apply", Flag::kString},
      {"--aggregation-strategy", "aggregation_strategy", Flag::kString},
      {"--ignore-labels", "ignore_labels", Flag::kList},
      {"--stride", "stride", Flag::kInt},
      {"--doc-stride", "doc_stride", Flag::kInt},
      {"--max-answer-len", "max_answer_len", Flag::kInt},
      {"--max-seq-len", "max_seq_len", Flag::kInt},
      {"--max-question-len", "max_question_len", Flag::kInt},
      {"--handle-impossible-answer", "handle_impossible_answer", Flag::kBool},
      {"--no-align-to-words", "align_to_words", Flag::kNegBool},
      {"--pooling", "pooling", Flag::kString},
      {"--normalize", "normalize", Flag::kBool},
      {"--targets", "targets", Flag::kList},
      {"--truncation", "truncation", Flag::kBool},
      {"--offset-unit", "offset_unit", Flag::kString},
  };
  for (int i = 5; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--quantization" || arg == "--threads" || arg == "--request") {
      if (!has_value) return RunFail(arg + " needs a value");
      const std::string v = argv[++i];
      if (arg == "--request") {
        extra = v;
      } else if (arg == "--threads") {
        if (!ParseInt(v, &load.threads)) return RunFail("--threads needs an integer, got '" + v + "'");
      } else if (v == "int8" || v == "fp32") {
        load.quantization = v == "fp32" ? edgebert::Quantization::kFp32 : edgebert::Quantization::kInt8;
      } else {
        return RunFail("--quantization is '" + v + "'; it must be int8 or fp32");
      }
      continue;
    }
    const Flag* flag = nullptr;
    for (const Flag& f : kFlags) {
      if (arg == f.name) flag = &f;
    }
    if (!flag) return RunFail("unknown option '" + arg + "' (edgebert --help lists them)");
    if (flag->kind == Flag::kBool || flag->kind == Flag::kNegBool) {
      set(flag->key, edgebert::Json::Bool(flag->kind == Flag::kBool));
      continue;
    }
    if (!has_value) return RunFail(arg + " needs a value");
    const std::string v = argv[++i];
    int n = 0;
    switch (flag->kind) {
      case Flag::kString: set(flag->key, edgebert::Json::String(v)); break;
      case Flag::kList: set(flag->key, CommaList(v)); break;
      case Flag::kTopK:
        if (v == "all") {
          set(flag->key, edgebert::Json());
          break;
        }
        [[fallthrough]];
      case Flag::kInt:
        if (!ParseInt(v, &n)) return RunFail(arg + " needs an integer, got '" + v + "'");
        set(flag->key, edgebert::Json::Number(n));
        break;
      default: break;
    }
  }
  if (!extra.empty()) {
    auto json = edgebert::ParseJson(extra);
    if (!json.ok()) return RunFail("--request: " + json.status().ToString());
    if (!json->is_object()) return RunFail("--request must be a JSON object");
    for (const auto& kv : json->as_object()) set(kv.first, kv.second);
  }
  auto model = edgebert::Pipeline::Load(model_path, load);
  if (!model.ok()) return RunFail(model.status().ToString());
  auto out = model->RunJson(task, edgebert::DumpJson(edgebert::Json::MakeObject(std::move(req))));
  if (!out.ok()) return RunFail(out.status().ToString());
  std::printf("%s\n", out->c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0 ||
                    std::strcmp(argv[1], "help") == 0)) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (argc == 2 && std::strcmp(argv[1], "version") == 0) {
    std::printf("edgebert %s\n", edgebert::Version());
    return 0;
  }
  if (argc == 4 && std::strcmp(argv[1], "convert") == 0) return Convert(argv[2], argv[3]);
  if (argc >= 2 && std::strcmp(argv[1], "run") == 0) return Run(argc, argv);
  return Usage();
}
