// model.h: a loaded DistilBERT/BERT model: config plus views of every weight the encoder reads.
//
// The weights are views. For a packed model (model/packed.h) they point into the caller's file
// buffer, read in place; for a safetensors checkpoint loaded directly they point into storage the
// Model owns (fp32 copies and, if asked, their int8 quantization).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gemm/qlinear.h"
#include "model/config.h"
#include "util/status.h"

namespace edgebert {

// y = x W^T + b. A model made for the fp32 path has `w`; one made for the int8 path has `q`
// (int8 per output channel). Small heads (classifier, qa_outputs) always keep `w` and run in fp32.
struct Linear {
  int n = 0;                 // out_features
  int k = 0;                 // in_features
  const float* w = nullptr;  // (n, k) fp32 or null
  const float* b = nullptr;  // (n)
  QLinearWeights q;          // q.weight (n, k) int8 or null (also null once packed in place); q.bias == b
};

struct LayerNormWeights {
  const float* gamma = nullptr;  // (hidden)
  const float* beta = nullptr;   // (hidden)
};

// An embedding table in fp32, int8 per row (symmetric, scale per row), or both.
struct EmbeddingTable {
  int rows = 0;
  int dim = 0;
  const float* f32 = nullptr;    // (rows, dim)
  const int8_t* i8 = nullptr;    // (rows, dim), null when the rows live in packed_rows
  const float* scale = nullptr;  // (rows)
  // A tied MLM decoder packed in place over the int8 rows: they are read back from its packed
  // layout (QLinearDequantizedRow) and i8 is null. Set by UseTiedDecoderRows.
  const QLinearWeights* packed_rows = nullptr;
};

struct EncoderLayerWeights {
  Linear q, k, v;            // (hidden, hidden) each: q_lin/k_lin/v_lin, attention.self.query/key/value
  Linear o;                  // (hidden, hidden): out_lin, attention.output.dense
  LayerNormWeights attn_ln;  // sa_layer_norm, attention.output.LayerNorm
  Linear ffn_in;             // (intermediate, hidden): ffn.lin1, intermediate.dense
  Linear ffn_out;            // (hidden, intermediate): ffn.lin2, output.dense
  LayerNormWeights ffn_ln;   // output_layer_norm, output.LayerNorm
};

struct ModelWeights {
  EmbeddingTable word;                // (vocab, hidden)
  const float* position = nullptr;    // (max_position, hidden)
  const float* token_type = nullptr;  // (type_vocab, hidden), BERT only
  LayerNormWeights embed_ln;
  std::vector<EncoderLayerWeights> layers;
  // Sequence classification: BERT pooler.dense (+tanh) or DistilBERT pre_classifier (+ReLU) on
  // token 0, (hidden, hidden). BertModel keeps its pooler too when the checkpoint has one.
  Linear pooler;
  Linear classifier;  // (num_labels, hidden) seq/token classification; (2, hidden) qa_outputs
  // Masked LM: transform (hidden, hidden) + activation + LayerNorm, then the decoder (vocab, hidden),
  // whose weights are the word embeddings unless the checkpoint stores untied ones.
  Linear mlm_transform;
  LayerNormWeights mlm_ln;
  Linear mlm_decoder;
};

struct Model {
  Model() = default;
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  ModelConfig config;
  ModelWeights weights;
  int num_labels = 0;        // classifier rows (2 for QA, 0 for base and MLM models)
  bool has_fp32 = false;     // every Linear has `w`: the fp32 path can run
  bool has_int8 = false;     // every encoder Linear has `q`: the int8 path can run
  // Files carried by a packed model (config.json, vocab.txt, tokenizer.json, ...), as views.
  std::vector<std::pair<std::string, std::string_view>> files;
  const std::string_view* FindFile(std::string_view name) const;

  // Storage behind the views when the model owns it (direct safetensors loading, or fp32 tables
  // generated at load such as DistilBERT's sinusoidal positions).
  std::vector<std::vector<float>> owned_f32;
  std::vector<std::vector<int8_t>> owned_i8;
};

// Where the weight binder gets tensors from (a safetensors file or a packed model). Names are the
// canonical ones of docs/FORMAT.md: Hugging Face names without the "distilbert."/"bert." prefix.
class TensorSource {
 public:
  virtual ~TensorSource() = default;
  // The file the tensors come from, for messages ("model.safetensors", "packed model").
  virtual std::string FileName() const = 0;
  virtual bool Has(const std::string& name) const = 0;
  // Rows of a 2-D tensor (to size heads); NotFound when absent.
  virtual Result<int64_t> Rows(const std::string& name) const = 0;
  // fp32 view of a tensor whose shape must be exactly `shape`.
  virtual Result<const float*> F32(const std::string& name, const std::vector<int64_t>& shape) = 0;
  // int8 per-row view of an (n, k) weight and its (n) scales.
  virtual Status I8(const std::string& name, int n, int k, const int8_t** q, const float** scale) = 0;
  // Prepares the QLinear of the Linear weight `name` (q filled from I8). The default packs a copy
  // (PrepareQLinear); a source owning the weights' storage may pack them in place instead, now or
  // once binding has succeeded (then q->prepared is set when the load returns).
  virtual Status PrepareLinear(const std::string& name, QLinearWeights* q) {
    (void)name;
    return PrepareQLinear(q);
  }
};

// The largest magnitude an fp32 weight (or int8 scale) may have: far above any trained BERT-family
// weight (they are below 100), low enough that corrupted or crafted values (NaN, infinities,
// 1e38) are refused at load instead of making every request fail (docs/FORMAT.md).
constexpr float kMaxAbsWeight = 1e6f;

// OK when every value is finite and at most kMaxAbsWeight in magnitude; otherwise
// InvalidArgument "<file>: tensor '<name>' value <i> is nan (...)".
Status CheckWeightValues(const float* values, size_t count, const std::string& file, const std::string& name);

// Binds every weight the config's architecture needs, checking names and shapes. fp32/int8 pick
// which representations of the Linear weights are requested (see Model::has_fp32/has_int8).
Status BindModelWeights(TensorSource* src, bool fp32, bool int8, Model* model);

// After in-place packing: when the tied MLM decoder was packed over the word embedding rows, the
// embedding lookup reads them through it (EmbeddingTable::packed_rows). No-op otherwise.
void UseTiedDecoderRows(Model* model);

// Options for loading a Hugging Face checkpoint directly.
struct HfLoadOptions {
  bool fp32 = true;  // keep fp32 weights (the exactness reference path)
  bool int8 = true;  // quantize Linear weights and word embeddings at load (the int8 path)
};

// Loads config.json text and model.safetensors bytes. The safetensors buffer may be freed after
// the call (weights are copied, converted to fp32 and/or quantized).
Result<std::unique_ptr<Model>> LoadHfModel(std::string_view config_json, const uint8_t* safetensors,
                                           size_t safetensors_size, const HfLoadOptions& options = {});

// DistilBERT's sinusoidal position table (sinusoidal_pos_embds): (n_pos, dim) as transformers
// computes it, in double precision then rounded to fp32. `out` holds n_pos x dim floats (the
// caller sizes it with BufferBytes, util/checked.h).
void SinusoidalPositionTable(int n_pos, int dim, float* out);

}  // namespace edgebert
