// model.cc: binds DistilBERT/BERT weights by name and shape, and loads safetensors checkpoints.
#include "model/model.h"

#include <cmath>
#include <map>
#include <set>

#include "model/safetensors.h"
#include "model/safetensors_source.h"
#include "util/checked.h"

namespace edgebert {

const std::string_view* Model::FindFile(std::string_view name) const {
  for (const auto& [n, bytes] : files)
    if (n == name) return &bytes;
  return nullptr;
}

Status CheckWeightValues(const float* values, size_t count, const std::string& file, const std::string& name) {
  for (size_t i = 0; i < count; ++i) {
    if (std::fabs(values[i]) <= kMaxAbsWeight) continue;  // false for NaN too
    return InvalidArgument(file + ": tensor '" + name + "' value " + std::to_string(i) + " is " +
                           std::to_string(values[i]) + "; weights must be finite numbers of magnitude at most 1e6");
  }
  return Status::Ok();
}

void SinusoidalPositionTable(int n_pos, int dim, float* out) {
  // The same doubles as transformers' pos / np.power(10000, 2 * (j // 2) / dim), with the power
  // computed once per column instead of once per value.
  std::vector<double> denom(static_cast<size_t>(dim));
  for (int j = 0; j < dim; ++j) denom[j] = std::pow(10000.0, 2.0 * (j / 2) / dim);
  for (int pos = 0; pos < n_pos; ++pos)
    for (int j = 0; j < dim; ++j) {
      const double angle = pos / denom[j];
      out[static_cast<size_t>(pos) * dim + j] = static_cast<float>(j % 2 == 0 ? std::sin(angle) : std::cos(angle));
    }
}

namespace {

// Decides the head from the tensor names when config.json has no "architectures".
HeadKind InferHead(const ModelConfig& c, const TensorSource& src) {
  if (src.Has("qa_outputs.weight")) return HeadKind::kQuestionAnswering;
  if (src.Has("vocab_transform.weight") || src.Has("cls.predictions.transform.dense.weight")) return HeadKind::kMaskedLM;
  if (src.Has("classifier.weight")) {
    const bool pooled = c.family == ModelFamily::kDistilBert ? src.Has("pre_classifier.weight") : src.Has("pooler.dense.weight");
    return pooled ? HeadKind::kSequenceClassification : HeadKind::kTokenClassification;
  }
  return HeadKind::kNone;
}

class Binder {
 public:
  Binder(TensorSource* src, bool fp32, bool int8, Model* m) : src_(src), fp32_(fp32), int8_(int8), m_(m) {}

  Status LayerNorm(const std::string& base, LayerNormWeights* out) {
    const int64_t h = m_->config.hidden;
    EB_ASSIGN_OR_RETURN(out->gamma, src_->F32(base + ".weight", {h}));
    EB_ASSIGN_OR_RETURN(out->beta, src_->F32(base + ".bias", {h}));
    return Status::Ok();
  }

  // `quantize`: the int8 path runs this layer through QLinear; false keeps fp32 weights (heads).
  Status Lin(const std::string& base, int n, int k, bool quantize, Linear* out) {
    out->n = n;
    out->k = k;
    EB_ASSIGN_OR_RETURN(out->b, src_->F32(base + ".bias", {n}));
    if (fp32_ || !quantize) {
      EB_ASSIGN_OR_RETURN(out->w, src_->F32(base + ".weight", {n, k}));
    }
    if (int8_ && quantize) {
      out->q.n = n;
      out->q.k = k;
      EB_RETURN_IF_ERROR(src_->I8(base + ".weight", n, k, &out->q.weight, &out->q.scale));
      out->q.bias = out->b;
      EB_RETURN_IF_ERROR(src_->PrepareLinear(base + ".weight", &out->q));
    }
    return Status::Ok();
  }

  Status Bind() {
    ModelConfig& c = m_->config;
    if (!c.head_from_architectures) c.head = InferHead(c, *src_);
    const bool distil = c.family == ModelFamily::kDistilBert;
    const int H = c.hidden, I = c.intermediate, V = c.vocab_size;
    ModelWeights& w = m_->weights;

    // Embeddings.
    const std::string file = src_->FileName();
    const std::string word = "embeddings.word_embeddings.weight";
    if (!src_->Has(word)) return NotFound(file + ": missing tensor '" + word + "'");
    EB_ASSIGN_OR_RETURN(int64_t rows, src_->Rows(word));
    if (rows != V)
      return InvalidArgument("vocabulary size mismatch: config.json vocab_size is " + std::to_string(V) + " but " +
                             file + " '" + word + "' has " + std::to_string(rows) + " rows");
    w.word.rows = V;
    w.word.dim = H;
    if (fp32_) {
      EB_ASSIGN_OR_RETURN(w.word.f32, src_->F32(word, {V, H}));
    }
    if (int8_) EB_RETURN_IF_ERROR(src_->I8(word, V, H, &w.word.i8, &w.word.scale));
    const std::string pos = "embeddings.position_embeddings.weight";
    if (distil && c.sinusoidal_pos && !src_->Has(pos)) {
      // Computed, not read: nothing in the file bounds its size, only the config (F1 of issue 16:
      // 65536 x 65536 floats wrapped to 0 bytes in wasm32 and the table was written over memory).
      EB_ASSIGN_OR_RETURN(size_t bytes, BufferBytes({c.max_position, H}, sizeof(float),
                                                    "config.json: the sinusoidal position table "
                                                    "(max_position_embeddings x dim)"));
      m_->owned_f32.emplace_back(bytes / sizeof(float));
      SinusoidalPositionTable(c.max_position, H, m_->owned_f32.back().data());
      w.position = m_->owned_f32.back().data();
    } else {
      EB_ASSIGN_OR_RETURN(w.position, src_->F32(pos, {c.max_position, H}));
    }
    if (!distil) {
      EB_ASSIGN_OR_RETURN(w.token_type, src_->F32("embeddings.token_type_embeddings.weight", {c.type_vocab_size, H}));
    }
    EB_RETURN_IF_ERROR(LayerNorm("embeddings.LayerNorm", &w.embed_ln));

    // Encoder layers.
    w.layers.resize(c.num_layers);
    for (int l = 0; l < c.num_layers; ++l) {
      EncoderLayerWeights& L = w.layers[l];
      const std::string p = (distil ? "transformer.layer." : "encoder.layer.") + std::to_string(l) + ".";
      if (distil) {
        EB_RETURN_IF_ERROR(Lin(p + "attention.q_lin", H, H, true, &L.q));
        EB_RETURN_IF_ERROR(Lin(p + "attention.k_lin", H, H, true, &L.k));
        EB_RETURN_IF_ERROR(Lin(p + "attention.v_lin", H, H, true, &L.v));
        EB_RETURN_IF_ERROR(Lin(p + "attention.out_lin", H, H, true, &L.o));
        EB_RETURN_IF_ERROR(LayerNorm(p + "sa_layer_norm", &L.attn_ln));
        EB_RETURN_IF_ERROR(Lin(p + "ffn.lin1", I, H, true, &L.ffn_in));
        EB_RETURN_IF_ERROR(Lin(p + "ffn.lin2", H, I, true, &L.ffn_out));
        EB_RETURN_IF_ERROR(LayerNorm(p + "output_layer_norm", &L.ffn_ln));
      } else {
        EB_RETURN_IF_ERROR(Lin(p + "attention.self.query", H, H, true, &L.q));
        EB_RETURN_IF_ERROR(Lin(p + "attention.self.key", H, H, true, &L.k));
        EB_RETURN_IF_ERROR(Lin(p + "attention.self.value", H, H, true, &L.v));
        EB_RETURN_IF_ERROR(Lin(p + "attention.output.dense", H, H, true, &L.o));
        EB_RETURN_IF_ERROR(LayerNorm(p + "attention.output.LayerNorm", &L.attn_ln));
        EB_RETURN_IF_ERROR(Lin(p + "intermediate.dense", I, H, true, &L.ffn_in));
        EB_RETURN_IF_ERROR(Lin(p + "output.dense", H, I, true, &L.ffn_out));
        EB_RETURN_IF_ERROR(LayerNorm(p + "output.LayerNorm", &L.ffn_ln));
      }
    }

    // Heads.
    switch (c.head) {
      case HeadKind::kNone:
        if (!distil && src_->Has("pooler.dense.weight")) EB_RETURN_IF_ERROR(Lin("pooler.dense", H, H, true, &w.pooler));
        break;
      case HeadKind::kSequenceClassification:
      case HeadKind::kTokenClassification: {
        if (c.head == HeadKind::kSequenceClassification)
          EB_RETURN_IF_ERROR(Lin(distil ? "pre_classifier" : "pooler.dense", H, H, true, &w.pooler));
        if (!src_->Has("classifier.weight")) return NotFound(file + ": missing tensor 'classifier.weight'");
        EB_ASSIGN_OR_RETURN(int64_t labels, src_->Rows("classifier.weight"));
        if (labels <= 0 || labels > ModelConfigLimits::kMaxLabels)
          return InvalidArgument(file + ": 'classifier.weight' has " + std::to_string(labels) + " rows; expected 1.." +
                                 std::to_string(ModelConfigLimits::kMaxLabels) + " labels");
        if (!c.labels.empty() && static_cast<size_t>(labels) != c.labels.size())
          return InvalidArgument("config.json id2label has " + std::to_string(c.labels.size()) + " labels but " +
                                 file + " 'classifier.weight' has " + std::to_string(labels) + " rows");
        if (c.labels.empty())
          for (int64_t i = 0; i < labels; ++i) c.labels.push_back("LABEL_" + std::to_string(i));
        m_->num_labels = static_cast<int>(labels);
        EB_RETURN_IF_ERROR(Lin("classifier", m_->num_labels, H, false, &w.classifier));
        break;
      }
      case HeadKind::kQuestionAnswering:
        m_->num_labels = 2;
        EB_RETURN_IF_ERROR(Lin("qa_outputs", 2, H, false, &w.classifier));
        break;
      case HeadKind::kMaskedLM: {
        const std::string t = distil ? "vocab_transform" : "cls.predictions.transform.dense";
        EB_RETURN_IF_ERROR(Lin(t, H, H, true, &w.mlm_transform));
        EB_RETURN_IF_ERROR(LayerNorm(distil ? "vocab_layer_norm" : "cls.predictions.transform.LayerNorm", &w.mlm_ln));
        const std::string dec = distil ? "vocab_projector" : "cls.predictions.decoder";
        Linear& d = w.mlm_decoder;
        if (src_->Has(dec + ".weight")) {  // untied decoder (tie_word_embeddings: false)
          EB_RETURN_IF_ERROR(Lin(dec, V, H, true, &d));
        } else {  // tied: the decoder is the word embedding table, int8 rows = per-channel weights
          d.n = V;
          d.k = H;
          const std::string bias = distil ? "vocab_projector.bias" : "cls.predictions.bias";
          EB_ASSIGN_OR_RETURN(d.b, src_->F32(bias, {V}));
          d.w = w.word.f32;
          if (int8_) {
            d.q.n = V;
            d.q.k = H;
            d.q.weight = w.word.i8;
            d.q.scale = w.word.scale;
            d.q.bias = d.b;
            EB_RETURN_IF_ERROR(src_->PrepareLinear(word, &d.q));  // in place when the source can
          }
        }
        break;
      }
    }
    m_->has_fp32 = fp32_;
    m_->has_int8 = int8_;
    return Status::Ok();
  }

 private:
  TensorSource* src_;
  bool fp32_, int8_;
  Model* m_;
};

// A checkpoint's tensors for LoadHfModel: the Model owns the int8 weights it quantized, so each
// Linear weight is packed over itself (its storage grown to the packed size) instead of into a copy.
class OwnedSafetensorsSource : public SafetensorsSource {
 public:
  OwnedSafetensorsSource(const SafetensorsFile* file, Model* m) : SafetensorsSource(file, m), model_(m) {}
  Status PrepareLinear(const std::string& name, QLinearWeights* q) override {
    if (!packed_.insert(name).second) return Internal("'" + name + "' bound twice as a Linear weight");
    EB_ASSIGN_OR_RETURN(size_t bytes, BufferBytes({q->n, q->k}, 1, "model.safetensors: '" + name + "'"));
    for (std::vector<int8_t>& v : model_->owned_i8) {
      if (v.data() != q->weight || v.size() != bytes) continue;
      const size_t need = QLinearPackedBytes(q->n, q->k);
      if (v.size() < need) v.resize(need);
      q->weight = v.data();
      return PrepareQLinearInPlace(q, reinterpret_cast<uint8_t*>(v.data()), v.size());
    }
    return PrepareQLinear(q);
  }

 private:
  Model* model_;
  std::set<std::string> packed_;
};

}  // namespace

void UseTiedDecoderRows(Model* model) {
  ModelWeights& w = model->weights;
  const QLinearWeights& d = w.mlm_decoder.q;
  if (d.prepared && !d.weight && w.word.i8 && d.scale == w.word.scale) {
    w.word.i8 = nullptr;
    w.word.packed_rows = &d;
  }
}

Status BindModelWeights(TensorSource* src, bool fp32, bool int8, Model* model) {
  return Binder(src, fp32, int8, model).Bind();
}

Result<std::unique_ptr<Model>> LoadHfModel(std::string_view config_json, const uint8_t* safetensors,
                                           size_t safetensors_size, const HfLoadOptions& options) {
  if (!options.fp32 && !options.int8) return InvalidArgument("LoadHfModel: ask for fp32, int8 or both");
  auto model = std::make_unique<Model>();
  EB_ASSIGN_OR_RETURN(model->config, ParseModelConfig(config_json, "config.json"));
  EB_ASSIGN_OR_RETURN(SafetensorsFile file, ParseSafetensors(safetensors, safetensors_size, "model.safetensors"));
  OwnedSafetensorsSource src(&file, model.get());
  EB_RETURN_IF_ERROR(BindModelWeights(&src, options.fp32, options.int8, model.get()));
  UseTiedDecoderRows(model.get());
  return model;
}

}  // namespace edgebert
