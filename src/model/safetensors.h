// safetensors.h: reader for Hugging Face model.safetensors files (views into the caller's bytes).
//
// Layout (https://github.com/huggingface/safetensors): u64 little-endian header length N, N bytes of
// JSON {"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}, then the
// data region; offsets are relative to the data region. Every length and offset is checked against
// the buffer before any tensor is exposed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace edgebert {

enum class SafeDType { kF32, kF16, kBF16, kF64, kI64, kI32, kI16, kI8, kU8, kBool };

struct SafeTensor {
  std::string name;
  SafeDType dtype = SafeDType::kF32;
  std::string dtype_name;        // as written in the file ("F32", "BF16", ...)
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;  // into the caller's buffer; not necessarily aligned
  size_t nbytes = 0;
  int64_t numel() const;
};

struct SafetensorsFile {
  std::vector<SafeTensor> tensors;  // file order
  // nullptr when absent.
  const SafeTensor* Find(std::string_view name) const;
};

// Parses the header and validates every entry against `size`. `what` names the file in messages.
// The returned views point into `data`, which must outlive the result.
Result<SafetensorsFile> ParseSafetensors(const uint8_t* data, size_t size, std::string_view what);

// Copies an F32/F16/BF16 tensor into fp32 (out gets numel() values). Other dtypes: Unsupported.
Status SafeTensorToF32(const SafeTensor& t, std::string_view what, std::vector<float>* out);

// IEEE half and bfloat16 conversions (round-to-nearest-even when narrowing).
float HalfToFloat(uint16_t h);
uint16_t FloatToHalf(float f);
float BF16ToFloat(uint16_t b);

}  // namespace edgebert
