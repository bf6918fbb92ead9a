// encoder.h: the DistilBERT/BERT encoder forward pass and its task heads, fp32 and int8 paths.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "gemm/qlinear.h"
#include "model/model.h"
#include "util/status.h"

namespace edgebert {

enum class Precision {
  kFp32,  // fp32 weights and math: the exactness reference against transformers
  kInt8,  // Linear layers through QLinear (int8 weights per output channel, activations quantized
          // per token at run time, int32 accumulation); LayerNorm, softmax, GELU stay fp32
};

// A padded batch, laid out as transformers takes it.
struct EncoderInput {
  int batch = 0;
  int seq_len = 0;
  const int32_t* input_ids = nullptr;       // (batch, seq_len)
  const int32_t* attention_mask = nullptr;  // (batch, seq_len), 1 = token, 0 = padding; null = all 1
  const int32_t* token_type_ids = nullptr;  // (batch, seq_len), BERT segment ids; null = all 0
  // Masked LM only: flat positions (b * seq_len + t) to compute vocabulary logits for; null = all,
  // none (num_mlm_positions 0) = no vocabulary logits.
  const int32_t* mlm_positions = nullptr;
  int num_mlm_positions = 0;
};

// Views into the RunState, valid until the next EncoderForward with the same RunState.
struct EncoderOutput {
  int batch = 0, seq_len = 0, hidden = 0;
  const float* last_hidden_state = nullptr;  // (batch, seq_len, hidden)
  // BERT: tanh(pooler(h[:, 0])) for BertModel and *ForSequenceClassification.
  // DistilBERT *ForSequenceClassification: relu(pre_classifier(h[:, 0])). Null otherwise.
  const float* pooled = nullptr;  // (batch, hidden)
  // Sequence classification (batch, labels); token classification (batch * seq_len, labels);
  // masked LM (positions, vocab). Null for base models and QA.
  const float* logits = nullptr;
  int logits_rows = 0, logits_cols = 0;
  const float* start_logits = nullptr;  // QA: (batch, seq_len)
  const float* end_logits = nullptr;    // QA: (batch, seq_len)
};

// Working memory that grows without initializing its contents (std::vector::resize would zero-fill:
// ~12 MB at 384 tokens, which in wasm a first inference did on baseline code, ~8 ms). Growing
// discards the contents; every user writes before it reads. The sanitizer build checks that: it
// fills new storage with 0xff bytes (NaN as floats), which the encoder tests would see.
template <typename T>
class ScratchBuffer {
 public:
  T* Grow(size_t n) {
    if (n > capacity_) {
      data_.reset(new T[n]);  // default-initialized: no fill
      capacity_ = n;
#if defined(EDGEBERT_POISON_SCRATCH)
      std::memset(static_cast<void*>(data_.get()), 0xff, n * sizeof(T));
#endif
    }
    return data_.get();
  }
  // What the last Grow returned (its contents as written since).
  T* data() { return data_.get(); }

 private:
  std::unique_ptr<T[]> data_;
  size_t capacity_ = 0;
};

// Activations of one forward pass, kept between calls so a steady stream of requests does not
// allocate. Buffers only grow.
struct RunState {
  ScratchBuffer<float> x;       // (B*T, H) the residual stream
  ScratchBuffer<float> q, k, v; // (B*T, H)
  ScratchBuffer<float> ctx;     // (B*T, H) attention output before out_lin
  ScratchBuffer<float> tmp;     // (B*T, H) sublayer output before add & norm
  ScratchBuffer<float> ffn;     // (B*T, I)
  ScratchBuffer<float> scores;  // (32, T) attention scores of a block of query rows
  ScratchBuffer<float> kt;      // (H / heads, T) one head's keys, transposed (fp32 path)
  ScratchBuffer<int16_t> attn_i16;   // per thread: one head's q, k, v^T and a block of p in int16
  ScratchBuffer<float> attn_scales;  // per thread: their scales
  ScratchBuffer<float> pooled;  // (B, H)
  ScratchBuffer<float> head_in; // (B or P, H)
  ScratchBuffer<float> logits;  // head outputs
  ScratchBuffer<float> start, end;  // (B*T) QA
  ScratchBuffer<int32_t> rows;  // (P) MLM positions
  ScratchBuffer<int64_t> outlier_pairs;  // (rows * outliers) (column << 32 | row)
  ScratchBuffer<float> outlier_col;      // (threads, n) a dequantized weight column per thread
  ScratchBuffer<float> quantize_row;     // (threads, k) a row with its outliers zeroed, per thread
  QLinearScratch qscratch;
  // Per thread, for a batch split by whole sequences (encoder.cc): scratch of each thread's share.
  std::vector<std::unique_ptr<RunState>> parts;
};

// Runs the encoder and the model's head. Errors: InvalidArgument for a malformed batch or a token
// id / segment id out of range, OutOfRange for a sequence longer than the position table,
// InvalidArgument when the model lacks the weights of the requested precision.
Status EncoderForward(const Model& model, const EncoderInput& in, Precision precision, RunState* rs,
                      EncoderOutput* out);

// wasm: calls the encoder's own functions (attention with its tiles and softmax, GELU, LayerNorm,
// residual adds) on small inputs until V8's optimized code for them is in (util/tiering.h), once per
// process, at most ~20 ms; model loaders call it so that the first inference does not run on baseline
// code. Natively it does nothing.
void WarmUpEncoderTiering();

// Building blocks, exposed for tests.
void LayerNormRows(float* x, int rows, int dim, const LayerNormWeights& ln, float eps);
void ApplyActivation(Activation act, float* x, size_t n);
// y (m, n) = x (m, k) W^T + b, fp32.
void LinearF32(const float* x, int m, const Linear& l, float* y);
// Multi-head self-attention of B sequences of T tokens as EncoderForward runs it: q, k, v, ctx are
// (B * T, H) rows, mask (B * T) or null; kInt8 runs the int16 products, kFp32 the fp32 ones.
void SelfAttention(const float* q, const float* k, const float* v, const int32_t* mask, int B, int T, int H,
                   int heads, Precision precision, RunState* rs, float* ctx);

}  // namespace edgebert
