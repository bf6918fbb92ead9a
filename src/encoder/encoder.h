// encoder.h: the DistilBERT/BERT encoder forward pass and its task heads, fp32 and int8 paths.
#pragma once

#include <cstdint>
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
  // Masked LM only: flat positions (b * seq_len + t) to compute vocabulary logits for; null = all.
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

// Activations of one forward pass, kept between calls so a steady stream of requests does not
// allocate. Buffers only grow.
struct RunState {
  std::vector<float> x;       // (B*T, H) the residual stream
  std::vector<float> q, k, v; // (B*T, H)
  std::vector<float> ctx;     // (B*T, H) attention output before out_lin
  std::vector<float> tmp;     // (B*T, H) sublayer output before add & norm
  std::vector<float> ffn;     // (B*T, I)
  std::vector<float> scores;  // (32, T) attention scores of a block of query rows
  std::vector<float> kt;      // (H / heads, T) one head's keys, transposed
  std::vector<float> pooled;  // (B, H)
  std::vector<float> head_in; // (B or P, H)
  std::vector<float> logits;  // head outputs
  std::vector<float> start, end;  // (B*T) QA
  std::vector<int32_t> rows;  // (P) MLM positions
  std::vector<float> outlier_x;      // (rows, k) int8 path: a Linear's input without its outliers
  std::vector<int64_t> outlier_pairs;  // (rows * outliers) (column << 32 | row)
  std::vector<float> outlier_col;      // (n) a dequantized weight column
  QLinearScratch qscratch;
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

}  // namespace edgebert
