// model_bindings.cc: low-level C ABI over src/model and src/encoder (the engine's eb_model_* ABI in
// engine_bindings.cc is the product API): load a packed model in place, convert a checkpoint, run
// the int8 encoder and read raw hidden states/logits. Used by bench/encoder/wasm_bench.mjs.
// Every int return is a StatusCode (0 = ok); eb_last_error() has the message.
#include <emscripten/emscripten.h>

#include <malloc.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "aligned_buffer.h"
#include "encoder/encoder.h"
#include "last_error.h"
#include "model/packed.h"

namespace {

int Report(const edgebert::Status& s) {
  edgebert::wasm::LastError() = s.ok() ? "" : s.ToString();
  return static_cast<int>(s.code());
}

}  // namespace

extern "C" {

// A 64-byte-aligned heap buffer for a packed model: copy the file here, then eb_enc_model_load it.
// It must stay alive until eb_enc_model_free (the model repacks its weights in it).
EMSCRIPTEN_KEEPALIVE void* eb_enc_buffer_alloc(size_t n) { return edgebert::wasm::AlignedAlloc64(n); }
EMSCRIPTEN_KEEPALIVE void eb_enc_buffer_free(void* p) { std::free(p); }

// Bytes currently allocated by malloc (for memory benchmarks; the wasm memory itself only grows).
EMSCRIPTEN_KEEPALIVE size_t eb_enc_heap_in_use() { return mallinfo().uordblks; }

// Validates the packed file in `data` and binds a model to it in place (LoadPackedModelInPlace:
// the Linear weights are repacked over themselves); *out gets the handle.
EMSCRIPTEN_KEEPALIVE int eb_enc_model_load(uint8_t* data, size_t size, edgebert::Model** out) {
  *out = nullptr;
  if (!edgebert::wasm::InHeap(data, size))
    return Report(edgebert::InvalidArgument("eb_enc_model_load: " + std::to_string(size) +
                                            " bytes at the model pointer lie outside the wasm heap"));
  auto m = edgebert::LoadPackedModelInPlace(data, size);
  if (!m.ok()) return Report(m.status());
  *out = std::move(m).value().release();
  edgebert::WarmUpEncoderTiering();  // as Engine does at load (src/encoder/encoder.h)
  return Report(edgebert::Status::Ok());
}

EMSCRIPTEN_KEEPALIVE void eb_enc_model_free(edgebert::Model* m) { delete m; }

// info[0..7] = hidden, layers, heads, vocab_size, max_position, num_labels, head kind, family
// (head kind: 0 base, 1 sequence cls, 2 token cls, 3 QA, 4 masked LM; family: 0 DistilBERT, 1 BERT).
EMSCRIPTEN_KEEPALIVE int eb_enc_model_info(const edgebert::Model* m, int32_t* info) {
  const edgebert::ModelConfig& c = m->config;
  const int32_t v[8] = {c.hidden, c.num_layers, c.num_heads, c.vocab_size, c.max_position, m->num_labels,
                        static_cast<int32_t>(c.head), static_cast<int32_t>(c.family)};
  std::memcpy(info, v, sizeof v);
  return 0;
}

// A file carried by the packed model (e.g. "vocab.txt", "tokenizer.json"): *data/*size view it.
EMSCRIPTEN_KEEPALIVE int eb_enc_model_file(const edgebert::Model* m, const char* name, const char** data, size_t* size) {
  const std::string_view* f = m->FindFile(name);
  if (!f) return Report(edgebert::NotFound(std::string("packed model carries no file '") + name + "'"));
  *data = f->data();
  *size = f->size();
  return Report(edgebert::Status::Ok());
}

// Converts a checkpoint to a packed model. vocab (vocab.txt) may be null. *out is a buffer from
// eb_enc_buffer_alloc (free it with eb_enc_buffer_free), ready for eb_enc_model_load.
EMSCRIPTEN_KEEPALIVE int eb_enc_model_convert(const char* config, size_t config_len, const uint8_t* st, size_t st_len,
                                          const char* vocab, size_t vocab_len, uint8_t** out, size_t* out_len) {
  *out = nullptr;
  *out_len = 0;
  if (!edgebert::wasm::InHeap(config, config_len) || !edgebert::wasm::InHeap(st, st_len) ||
      !edgebert::wasm::InHeap(vocab, vocab_len))
    return Report(edgebert::InvalidArgument("eb_enc_model_convert: a (pointer, length) lies outside the wasm heap"));
  edgebert::ConvertInputs in;
  in.config_json = std::string_view(config, config_len);
  in.safetensors = std::string_view(reinterpret_cast<const char*>(st), st_len);
  if (vocab) in.files.emplace_back("vocab.txt", std::string_view(vocab, vocab_len));
  auto packed = edgebert::ConvertToPacked(in);
  if (!packed.ok()) return Report(packed.status());
  auto* buf = static_cast<uint8_t*>(eb_enc_buffer_alloc(packed->size()));
  if (!buf) return Report(edgebert::Internal("out of memory for the packed model"));
  std::memcpy(buf, packed->data(), packed->size());
  *out = buf;
  *out_len = packed->size();
  return Report(edgebert::Status::Ok());
}

EMSCRIPTEN_KEEPALIVE edgebert::RunState* eb_enc_runstate_new() { return new edgebert::RunState(); }
EMSCRIPTEN_KEEPALIVE void eb_enc_runstate_free(edgebert::RunState* rs) { delete rs; }

// Runs the int8 encoder on a padded batch (mask and types may be null). On success:
// outs[0..4] = last_hidden_state (B,T,H), pooled (B,H), logits (rows, cols), start, end (B,T)
// (null when the head has none); dims[0..4] = batch, seq_len, hidden, logits rows, logits cols.
// The outputs live in the RunState until its next run.
EMSCRIPTEN_KEEPALIVE int eb_enc_run(const edgebert::Model* m, edgebert::RunState* rs, int batch, int seq_len,
                                        const int32_t* ids, const int32_t* mask, const int32_t* types,
                                        const float** outs, int32_t* dims) {
  edgebert::EncoderInput in;
  in.batch = batch;
  in.seq_len = seq_len;
  in.input_ids = ids;
  in.attention_mask = mask;
  in.token_type_ids = types;
  edgebert::EncoderOutput o;
  const edgebert::Status s = edgebert::EncoderForward(*m, in, edgebert::Precision::kInt8, rs, &o);
  if (!s.ok()) return Report(s);
  outs[0] = o.last_hidden_state;
  outs[1] = o.pooled;
  outs[2] = o.logits;
  outs[3] = o.start_logits;
  outs[4] = o.end_logits;
  dims[0] = o.batch;
  dims[1] = o.seq_len;
  dims[2] = o.hidden;
  dims[3] = o.logits_rows;
  dims[4] = o.logits_cols;
  return Report(s);
}

}  // extern "C"
