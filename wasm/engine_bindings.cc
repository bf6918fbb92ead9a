// engine_bindings.cc: the engine's C ABI for JavaScript (docs/API.md, "The C ABI").
//
// Every int return is a StatusCode (0 = Ok); on failure eb_last_error() has the message. Models
// are integer handles. Buffers passed in are allocated by JS with eb_malloc; results handed out
// are allocated with eb_malloc and freed by JS with eb_free. Nothing here throws (the library is
// built with -fno-exceptions); a wasm trap inside a call is caught on the JS side.
#include <emscripten/emscripten.h>
#include <emscripten/heap.h>
#include <emscripten/threading.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "aligned_buffer.h"
#include "edgebert.h"
#include "gemm/gemm_u8.h"
#include "last_error.h"
#include "model/packed.h"
#include "pipeline/engine.h"
#include "util/json.h"

namespace {

using edgebert::Engine;
using edgebert::Json;
using edgebert::Status;

struct LoadedModel {
  std::unique_ptr<Engine> engine;
  void* bytes = nullptr;  // the packed file the engine reads in place (owned; eb_malloc'd by JS)
};
std::map<int, LoadedModel> g_models;
int g_next_handle = 1;

#if EDGEBERT_THREADS
// The pthreads build starts with one GEMM thread per logical core, up to the pool it was linked
// with (wasm/CMakeLists.txt: PTHREAD_POOL_SIZE=4), so no thread is created on the hot path.
constexpr int kThreadPool = 4;
int DefaultThreads() { return std::max(1, std::min(kThreadPool, emscripten_num_logical_cores())); }
int g_threads = DefaultThreads();
#else
constexpr int kThreadPool = 1;
int g_threads = 1;
#endif

bool g_threads_measured = false;  // eb_set_threads_measured

void AddModel(int handle, LoadedModel m) {
  m.engine->SetMaxThreads(g_threads, g_threads_measured);
  g_models[handle] = std::move(m);
}

int Fail(const Status& s) {
  edgebert::wasm::LastError() = s.message();
  return static_cast<int>(s.code());
}

int Ok() {
  edgebert::wasm::LastError().clear();
  return 0;
}

// Copies `s` into an eb_malloc'd, NUL-terminated buffer.
char* CopyOut(const std::string& s) {
  char* p = static_cast<char*>(std::malloc(s.size() + 1));
  if (p) std::memcpy(p, s.c_str(), s.size() + 1);
  return p;
}

int ReturnJson(const Json& value, char** out_json) {
  *out_json = CopyOut(edgebert::DumpJson(value));
  if (!*out_json) return Fail(edgebert::Internal("out of memory writing the result"));
  return Ok();
}

// files_json: {"name": {"ptr": P, "len": N}, ...}, byte ranges of the wasm heap, by file name.
// Each range must lie inside the heap as it is now: a wrong ptr or len is an error naming the file,
// not a read past the end of memory.
edgebert::Result<std::vector<std::pair<std::string, std::string_view>>> ParseFileRefs(const char* files_json,
                                                                                      const char* what) {
  edgebert::JsonParseOptions opts;
  const std::string files_what = std::string(what) + ": files_json";
  opts.what = files_what;
  opts.max_bytes = 1 << 20;  // a few names and numbers
  auto files = edgebert::ParseJson(files_json ? files_json : "", opts);
  if (!files.ok()) return files.status();
  if (!files->is_object()) return edgebert::InvalidArgument(files_what + " must be an object");
  const uint64_t heap = emscripten_get_heap_size();
  std::vector<std::pair<std::string, std::string_view>> list;
  for (const auto& [name, ref] : files->as_object()) {
    const Json* ptr = ref.Find("ptr");
    const Json* len = ref.Find("len");
    const int64_t p = ptr ? ptr->as_int(-1) : -1, n = len ? len->as_int(-1) : -1;
    if (p < 0 || n < 0) {
      return edgebert::InvalidArgument(std::string(what) + ": file '" + name + "' needs integer ptr and len");
    }
    if (static_cast<uint64_t>(p) > heap || static_cast<uint64_t>(n) > heap - static_cast<uint64_t>(p) ||
        (p == 0 && n > 0)) {
      return edgebert::InvalidArgument(std::string(what) + ": file '" + name + "' at ptr " + std::to_string(p) +
                                       " with len " + std::to_string(n) + " lies outside the " +
                                       std::to_string(heap) + "-byte wasm heap");
    }
    list.emplace_back(name, std::string_view(reinterpret_cast<const char*>(static_cast<uintptr_t>(p)),
                                             static_cast<size_t>(n)));
  }
  return list;
}

Engine* FindEngine(int handle) {
  auto it = g_models.find(handle);
  return it == g_models.end() ? nullptr : it->second.engine.get();
}

// What eb_run_batch and eb_run_classify share: the model, the first index and the JSON array of
// requests checked (errors name `fn`), then Engine::RunBatch with `options` (batch_size and
// first_index set here).
edgebert::Result<edgebert::BatchResult> RunBatchCall(const char* fn, int handle, const char* task,
                                                     const char* requests_json, int batch_size, int first_index,
                                                     edgebert::BatchOptions options) {
  Engine* e = FindEngine(handle);
  if (!e) return edgebert::InvalidArgument("no model with handle " + std::to_string(handle));
  if (first_index < 0) {
    return edgebert::InvalidArgument(std::string(fn) + ": first_index is " + std::to_string(first_index) +
                                     "; it must be at least 0");
  }
  auto req = edgebert::ParseJson(requests_json ? requests_json : "", std::string(fn) + " requests");
  if (!req.ok()) return req.status();
  if (!req->is_array()) return edgebert::InvalidArgument(std::string(fn) + ": the requests must be a JSON array");
  options.batch_size = batch_size;
  options.first_index = static_cast<size_t>(first_index);
  return e->RunBatch(task, req->as_array(), options);
}

}  // namespace

extern "C" {

// Loads a packed model. On success the engine owns `bytes` (freed by eb_model_free) and has
// repacked its weights in place (the buffer no longer holds the file); on failure the caller still
// owns it.
EMSCRIPTEN_KEEPALIVE int eb_model_load(uint8_t* bytes, size_t len, int* out_handle) {
  if (!edgebert::wasm::InHeap(bytes, len))
    return Fail(edgebert::InvalidArgument("eb_model_load: " + std::to_string(len) +
                                          " bytes at the model pointer lie outside the wasm heap"));
  auto engine = Engine::FromPackedInPlace(bytes, len);
  if (!engine.ok()) return Fail(engine.status());
  int handle = g_next_handle++;
  AddModel(handle, LoadedModel{std::move(engine).value(), bytes});
  *out_handle = handle;
  return Ok();
}

// files_json: {"config.json": {"ptr": p, "len": n}, "model.safetensors": {...}, ...}. Produces a
// packed model (eb_malloc'd) that eb_model_load takes.
EMSCRIPTEN_KEEPALIVE int eb_convert_hf(const char* files_json, uint8_t** out_bytes, size_t* out_len) {
  auto files = ParseFileRefs(files_json, "eb_convert_hf");
  if (!files.ok()) return Fail(files.status());
  edgebert::ConvertInputs in;
  for (const auto& [name, bytes] : *files) {
    if (name == "config.json") in.config_json = bytes;
    else if (name == "model.safetensors") in.safetensors = bytes;
    else in.files.emplace_back(name, bytes);
  }
  auto packed = edgebert::ConvertToPacked(in);
  if (!packed.ok()) return Fail(packed.status());
  // The packed file is read in place, so it must be 64-byte aligned in the heap.
  void* p = edgebert::wasm::AlignedAlloc64(packed->size());
  if (!p) return Fail(edgebert::Internal("out of memory for the packed model"));
  std::memcpy(p, packed->data(), packed->size());
  *out_bytes = static_cast<uint8_t*>(p);
  *out_len = packed->size();
  return Ok();
}

// A Hugging Face checkpoint (files_json as for eb_convert_hf) loaded directly, without packing:
// `quantization` "fp32" keeps fp32 weights (the exact path, parity with transformers), "int8"
// quantizes at load. The input buffers stay owned by the caller and may be freed afterwards.
EMSCRIPTEN_KEEPALIVE int eb_model_load_hf(const char* files_json, const char* quantization, int* out_handle) {
  std::string q = quantization ? quantization : "";
  if (q != "fp32" && q != "int8") {
    return Fail(edgebert::InvalidArgument("quantization is '" + q + "'; it must be int8 or fp32"));
  }
  auto list = ParseFileRefs(files_json, "eb_model_load_hf");
  if (!list.ok()) return Fail(list.status());
  edgebert::EngineOptions opt;
  opt.prefer_int8 = q == "int8";
  auto engine = Engine::FromHfFiles(*list, opt);
  if (!engine.ok()) return Fail(engine.status());
  int handle = g_next_handle++;
  AddModel(handle, LoadedModel{std::move(engine).value(), nullptr});
  *out_handle = handle;
  return Ok();
}

// Checks config.json alone (len bytes at `config`), before the weights are fetched: the same parse
// and limits as loading (ParseModelConfig, docs/LIMITS.md), so a config that loading would refuse
// (unsupported architecture, 10^6 layers, a position table beyond the limits) is refused here
// with the same message. *out_json (eb_malloc'd, free with eb_free) describes the model:
// {"model_type", "architecture", "head", "hidden", "layers", "heads", "intermediate", "vocab_size",
//  "max_position", "parameters", "fp32_bytes", "int8_bytes"}; the byte counts estimate the weights
// of LoadHfModel's fp32 path and of the packed (int8) model.
EMSCRIPTEN_KEEPALIVE int eb_config_check(const char* config, size_t len, char** out_json) {
  if (out_json) *out_json = nullptr;
  if (!edgebert::wasm::InHeap(config, len))
    return Fail(edgebert::InvalidArgument("eb_config_check: " + std::to_string(len) +
                                          " bytes at the config pointer lie outside the wasm heap"));
  auto c = edgebert::ParseModelConfig(std::string_view(config ? config : "", len), "config.json");
  if (!c.ok()) return Fail(c.status());
  if (!out_json) return Ok();
  const edgebert::ModelSizeEstimate e = edgebert::EstimateModelSize(*c);
  return ReturnJson(
      Json::MakeObject({{"model_type", Json::String(c->family == edgebert::ModelFamily::kBert ? "bert" : "distilbert")},
                        {"architecture", Json::String(c->architecture)},
                        {"head", Json::String(c->head_from_architectures ? edgebert::HeadKindName(c->head) : "")},
                        {"hidden", Json::Number(c->hidden)},
                        {"layers", Json::Number(c->num_layers)},
                        {"heads", Json::Number(c->num_heads)},
                        {"intermediate", Json::Number(c->intermediate)},
                        {"vocab_size", Json::Number(c->vocab_size)},
                        {"max_position", Json::Number(c->max_position)},
                        {"parameters", Json::Number(static_cast<double>(e.parameters))},
                        {"fp32_bytes", Json::Number(static_cast<double>(e.fp32_bytes))},
                        {"int8_bytes", Json::Number(static_cast<double>(e.int8_bytes))}}),
      out_json);
}

EMSCRIPTEN_KEEPALIVE int eb_model_info(int handle, char** out_json) {
  Engine* e = FindEngine(handle);
  if (!e) return Fail(edgebert::InvalidArgument("no model with handle " + std::to_string(handle)));
  return ReturnJson(e->Info(), out_json);
}

EMSCRIPTEN_KEEPALIVE int eb_run(int handle, const char* task, const char* request_json, char** out_json) {
  Engine* e = FindEngine(handle);
  if (!e) return Fail(edgebert::InvalidArgument("no model with handle " + std::to_string(handle)));
  auto req = edgebert::ParseJson(request_json ? request_json : "", "eb_run request");
  if (!req.ok()) return Fail(req.status());
  auto result = e->Run(task ? task : "", *req);
  if (!result.ok()) return Fail(result.status());
  return ReturnJson(*result, out_json);
}

// Runs a JSON array of requests of one task as batches (Engine::RunBatch): `batch_size` sequences
// per encoder pass at most (1..256), `first_index` the caller's index of the first request (error
// messages say "input N: ..."). *out_json (eb_malloc'd) is the array of responses in input order;
// feature-extraction responses are {"dims": [...], "data_offset": k} and their values are the
// floats [k, k + product(dims)) of *out_data (eb_malloc'd, float32, null when there are none;
// *out_floats of them). On failure nothing is allocated and the outputs are null / 0.
EMSCRIPTEN_KEEPALIVE int eb_run_batch(int handle, const char* task, const char* requests_json, int batch_size,
                                      int first_index, char** out_json, float** out_data, size_t* out_floats) {
  if (!out_json || !out_data || !out_floats) {
    return Fail(edgebert::InvalidArgument("eb_run_batch: the output pointers must not be null"));
  }
  *out_json = nullptr;
  *out_data = nullptr;
  *out_floats = 0;
  edgebert::BatchOptions options;
  options.binary_tensors = true;
  auto result = RunBatchCall("eb_run_batch", handle, task ? task : "", requests_json, batch_size, first_index, options);
  if (!result.ok()) return Fail(result.status());
  float* data = nullptr;
  const size_t floats = result->tensor_data.size();
  if (floats > 0) {
    // tensor_data fits a buffer (TensorSink checks the size), so this product cannot wrap.
    const size_t bytes = floats * sizeof(float);
    data = static_cast<float*>(std::malloc(bytes));
    if (!data) return Fail(edgebert::Internal("out of memory writing the batch's tensors"));
    std::memcpy(data, result->tensor_data.data(), bytes);
    std::vector<float>().swap(result->tensor_data);
  }
  char* json = CopyOut(edgebert::DumpJson(Json::MakeArray(std::move(result->results))));
  if (!json) {
    std::free(data);
    return Fail(edgebert::Internal("out of memory writing the result"));
  }
  *out_json = json;
  *out_data = data;
  *out_floats = floats;
  return Ok();
}

// text-classification without a JSON response (the JSON path's number formatting and parsing are
// a measurable part of a short call): requests_json, batch_size and first_index as for eb_run_batch
// (the same checks and errors). *out (eb_malloc'd, *out_words 32-bit words) holds, per request in
// input order, its label count n and then n x (int32 label id, float32 score), best first: the
// labels and scores eb_run_batch writes as [{"label", "score"}, ...] (names: eb_model_info's
// "labels"). On failure nothing is allocated and the outputs are null / 0.
EMSCRIPTEN_KEEPALIVE int eb_run_classify(int handle, const char* requests_json, int batch_size, int first_index,
                                         int32_t** out, size_t* out_words) {
  if (!out || !out_words) return Fail(edgebert::InvalidArgument("eb_run_classify: the output pointers must not be null"));
  *out = nullptr;
  *out_words = 0;
  edgebert::BatchOptions options;
  options.label_scores = true;
  auto result = RunBatchCall("eb_run_classify", handle, "text-classification", requests_json, batch_size, first_index,
                             options);
  if (!result.ok()) return Fail(result.status());
  size_t words = 0;
  for (const auto& labels : result->labels) words += 1 + 2 * labels.size();
  // Labels are at most the model's (int), requests at most what a heap holds: no wrap.
  auto* p = static_cast<int32_t*>(std::malloc(std::max<size_t>(words, 1) * sizeof(int32_t)));
  if (!p) return Fail(edgebert::Internal("out of memory writing the result"));
  size_t at = 0;
  for (const auto& labels : result->labels) {
    p[at++] = static_cast<int32_t>(labels.size());
    for (const edgebert::LabelScore& l : labels) {
      p[at++] = l.label_id;
      std::memcpy(&p[at++], &l.score, sizeof(float));
    }
  }
  *out = p;
  *out_words = words;
  return Ok();
}

EMSCRIPTEN_KEEPALIVE void eb_model_free(int handle) {
  auto it = g_models.find(handle);
  if (it == g_models.end()) return;
  void* bytes = it->second.bytes;
  g_models.erase(it);  // the engine goes before the bytes it reads
  std::free(bytes);
}

// Threads an encoder pass uses, for every model loaded now and later: OutOfRange above the pool
// (4), Unsupported above 1 in the single-threaded build. eb_set_threads_measured: up to n, each
// model measuring per size of pass whether n threads beat one (pipeline/thread_choice.h); what
// threads: 'auto' runs.
static int SetThreads(int n, bool measured) {
  if (n < 1) return Fail(edgebert::InvalidArgument("threads must be at least 1, got " + std::to_string(n)));
  if (n > 1 && !EDGEBERT_THREADS) {
    return Fail(edgebert::Unsupported("this is the single-threaded build (edgebert.wasm): it runs 1 thread; "
                                      "edgebert-threads.wasm needs a cross-origin isolated page"));
  }
  if (n > kThreadPool) {
    return Fail(edgebert::OutOfRange("threads is " + std::to_string(n) + " but the build's pool has " +
                                     std::to_string(kThreadPool)));
  }
  g_threads = n;
  g_threads_measured = measured;
  for (auto& [handle, m] : g_models) m.engine->SetMaxThreads(n, measured);
  return Ok();
}

EMSCRIPTEN_KEEPALIVE int eb_set_threads(int n) { return SetThreads(n, false); }
EMSCRIPTEN_KEEPALIVE int eb_set_threads_measured(int n) { return SetThreads(n, true); }

// Called by worker/wasm_loader.mjs once the relaxed-SIMD kernel is wired and probed: turns it on
// for models loaded from now on, after checking it against the scalar reference (gemm_u8.h).
// Returns 1 when it is on, 0 when not (the build has none, or the check failed).
EMSCRIPTEN_KEEPALIVE int eb_gemm_set_relaxed(int on) { return edgebert::GemmU8SetRelaxedKernel(on != 0) ? 1 : 0; }

// Diagnostics: `cases` random GEMMs through the kernel in use against the scalar reference; returns
// how many differ (tests/browser/relaxed_kernel.test.mjs).
EMSCRIPTEN_KEEPALIVE int eb_gemm_check(int seed, int cases) {
  return edgebert::GemmU8CheckAgainstReference(static_cast<uint32_t>(seed), cases);
}

EMSCRIPTEN_KEEPALIVE int eb_build_info(char** out_json) {
  const bool threaded = EDGEBERT_THREADS != 0;
  return ReturnJson(Json::MakeObject({{"version", Json::String(edgebert::Version())},
                                      {"simd", Json::Bool(true)},
                                      {"threaded_build", Json::Bool(threaded)},
                                      {"threads", Json::Number(g_threads)},
                                      {"threads_measured", Json::Bool(g_threads_measured)},
                                      {"relaxed_simd", Json::Bool(edgebert::GemmU8RelaxedKernel())},
                                      {"gemm_kernel", Json::String(edgebert::GemmU8KernelName())}}),
                    out_json);
}

}  // extern "C"
