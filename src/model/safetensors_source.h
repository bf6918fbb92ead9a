// safetensors_source.h: a TensorSource over a parsed safetensors checkpoint (internal to src/model/).
#pragma once

#include <cmath>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "model/model.h"
#include "model/safetensors.h"
#include "util/checked.h"

namespace edgebert {

// Tensors of a safetensors checkpoint, converted to fp32 (and quantized) into the Model's storage.
class SafetensorsSource : public TensorSource {
 public:
  SafetensorsSource(const SafetensorsFile* file, Model* m) : file_(file), m_(m) {
    for (const SafeTensor& t : file->tensors) {
      for (const char* p : {"distilbert.", "bert."})
        if (t.name.rfind(p, 0) == 0) prefix_ = p;
    }
  }

  // Canonical name -> tensor: tries the name as is, then with the base-model prefix, and the
  // pre-2019 LayerNorm names (gamma/beta) of old BERT checkpoints.
  const SafeTensor* Lookup(const std::string& name) const {
    std::vector<std::string> candidates = {name, prefix_ + name};
    if (name.find("LayerNorm") != std::string::npos) {
      std::string alt = name;
      if (alt.size() > 7 && alt.compare(alt.size() - 7, 7, ".weight") == 0) alt.replace(alt.size() - 7, 7, ".gamma");
      else if (alt.size() > 5 && alt.compare(alt.size() - 5, 5, ".bias") == 0) alt.replace(alt.size() - 5, 5, ".beta");
      candidates.push_back(alt);
      candidates.push_back(prefix_ + alt);
    }
    for (const std::string& n : candidates)
      if (const SafeTensor* t = file_->Find(n)) return t;
    return nullptr;
  }

  std::string FileName() const override { return kFile; }

  bool Has(const std::string& name) const override { return Lookup(name) != nullptr; }

  Result<int64_t> Rows(const std::string& name) const override {
    const SafeTensor* t = Lookup(name);
    if (!t) return NotFound(std::string(kFile) + ": missing tensor '" + prefix_ + name + "'");
    if (t->shape.size() != 2) return InvalidArgument(std::string(kFile) + ": tensor '" + t->name + "' is not 2-D");
    return t->shape[0];
  }

  Result<const float*> F32(const std::string& name, const std::vector<int64_t>& shape) override {
    auto it = f32_.find(name);
    if (it != f32_.end()) return m_->owned_f32[it->second].data();
    const SafeTensor* t = Lookup(name);
    if (!t) return NotFound(std::string(kFile) + ": missing tensor '" + prefix_ + name + "'");
    if (t->shape != shape)
      return InvalidArgument(std::string(kFile) + ": tensor '" + t->name + "' has shape " + ShapeString(t->shape) +
                             "; the config needs " + ShapeString(shape));
    std::vector<float> v;
    EB_RETURN_IF_ERROR(SafeTensorToF32(*t, kFile, &v));
    EB_RETURN_IF_ERROR(CheckWeightValues(v.data(), v.size(), kFile, t->name));
    m_->owned_f32.push_back(std::move(v));
    f32_[name] = m_->owned_f32.size() - 1;
    return m_->owned_f32.back().data();
  }

  Status I8(const std::string& name, int n, int k, const int8_t** q, const float** scale) override {
    auto it = i8_.find(name);
    if (it == i8_.end()) {
      // Quantize from the cached fp32 copy when the fp32 path keeps one; otherwise from a temporary,
      // so an int8-only model does not hold fp32 weights it never reads.
      const float* w = nullptr;
      std::vector<float> tmp;
      if (auto f = f32_.find(name); f != f32_.end()) {
        w = m_->owned_f32[f->second].data();
      } else {
        const SafeTensor* t = Lookup(name);
        if (!t) return NotFound(std::string(kFile) + ": missing tensor '" + prefix_ + name + "'");
        if (t->shape != std::vector<int64_t>{n, k})
          return InvalidArgument(std::string(kFile) + ": tensor '" + t->name + "' has shape " +
                                 ShapeString(t->shape) + "; the config needs " + ShapeString({n, k}));
        EB_RETURN_IF_ERROR(SafeTensorToF32(*t, kFile, &tmp));
        EB_RETURN_IF_ERROR(CheckWeightValues(tmp.data(), tmp.size(), kFile, t->name));
        w = tmp.data();
      }
      EB_ASSIGN_OR_RETURN(size_t bytes, BufferBytes({n, k}, 1, std::string(kFile) + ": '" + name + "'"));
      m_->owned_i8.emplace_back(bytes);
      m_->owned_f32.emplace_back(static_cast<size_t>(n));
      QuantizeWeightsPerChannel(w, n, k, m_->owned_i8.back().data(), m_->owned_f32.back().data());
      it = i8_.emplace(name, std::make_pair(m_->owned_i8.size() - 1, m_->owned_f32.size() - 1)).first;
    }
    *q = m_->owned_i8[it->second.first].data();
    *scale = m_->owned_f32[it->second.second].data();
    return Status::Ok();
  }

  static std::string ShapeString(const std::vector<int64_t>& s) {
    std::string r = "[";
    for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
    return r + "]";
  }

 private:
  static constexpr const char* kFile = "model.safetensors";
  const SafetensorsFile* file_;
  Model* m_;
  std::string prefix_;
  std::map<std::string, size_t> f32_;                     // name -> owned_f32 index
  std::map<std::string, std::pair<size_t, size_t>> i8_;  // name -> (owned_i8, owned_f32 scale) index
};

}  // namespace edgebert
