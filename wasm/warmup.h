// warmup.h: one short forward pass when the first model of the process is loaded, so that V8 has
// compiled the encoder's functions (attention tiles, softmax, LayerNorm, GELU, quantizer, unpacks)
// with its optimizing tier before the first real request. V8 runs a wasm function as baseline
// (Liftoff) code until it has used its tiering budget; without this the first request after load
// ran 5-20% slower than the next ones (bench/README.md, "cold first call"). The GEMM kernels are
// warmed separately at weight packing (gemm_u8.cc: WarmUpTiering).
#pragma once

#include <algorithm>
#include <vector>

#include "encoder/encoder.h"

namespace edgebert_wasm {

inline void WarmUpEncoderOnce(const edgebert::Model& model, edgebert::Precision precision) {
  static bool done = false;
  if (done) return;
  done = true;
  // 24 tokens of low ids (every vocabulary has them), three passes: enough calls of each function
  // for V8's budget, about 10 ms of baseline code on DistilBERT-base. Errors (a model without the
  // weights of this precision) only mean nothing was warmed.
  const int seq = std::max(1, std::min(24, model.config.max_position));
  std::vector<int32_t> ids(static_cast<size_t>(seq));
  for (int i = 0; i < seq; ++i) ids[static_cast<size_t>(i)] = std::min(i + 1, model.config.vocab_size - 1);
  edgebert::EncoderInput in;
  in.batch = 1;
  in.seq_len = seq;
  in.input_ids = ids.data();
  edgebert::RunState rs;
  edgebert::EncoderOutput out;
  for (int pass = 0; pass < 3; ++pass) {
    if (!edgebert::EncoderForward(model, in, precision, &rs, &out).ok()) return;
  }
}

}  // namespace edgebert_wasm
