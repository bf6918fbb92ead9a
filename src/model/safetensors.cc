// safetensors.cc: bounds-checked parsing of model.safetensors and dtype conversion to fp32.
#include "model/safetensors.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <set>

#include "util/checked.h"
#include "util/json.h"

namespace edgebert {
namespace {

struct DTypeInfo {
  const char* name;
  SafeDType dtype;
  size_t bytes;
};
constexpr DTypeInfo kDTypes[] = {
    {"F32", SafeDType::kF32, 4}, {"F16", SafeDType::kF16, 2}, {"BF16", SafeDType::kBF16, 2},
    {"F64", SafeDType::kF64, 8}, {"I64", SafeDType::kI64, 8}, {"I32", SafeDType::kI32, 4},
    {"I16", SafeDType::kI16, 2}, {"I8", SafeDType::kI8, 1},   {"U8", SafeDType::kU8, 1},
    {"BOOL", SafeDType::kBool, 1},
};

// Safetensors headers of real checkpoints are a few hundred KB; 100 MB is the library's own cap.
constexpr uint64_t kMaxHeaderBytes = 100u << 20;

uint64_t ReadU64LE(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

uint16_t ReadU16LE(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }

}  // namespace

int64_t SafeTensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

const SafeTensor* SafetensorsFile::Find(std::string_view name) const {
  for (const SafeTensor& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

Result<SafetensorsFile> ParseSafetensors(const uint8_t* data, size_t size, std::string_view what) {
  const std::string w(what);
  if (size < 8) return CorruptData(w + ": " + std::to_string(size) + " bytes is too short for a safetensors header");
  const uint64_t header_len = ReadU64LE(data);
  if (header_len > size - 8)
    return CorruptData(w + ": header length " + std::to_string(header_len) + " exceeds the file size " +
                       std::to_string(size) + " (truncated file?)");
  if (header_len > kMaxHeaderBytes)
    return CorruptData(w + ": header length " + std::to_string(header_len) + " exceeds the 100 MB limit");
  JsonParseOptions opts;
  opts.max_bytes = kMaxHeaderBytes;
  const std::string header_what = w + " header";
  opts.what = header_what;
  EB_ASSIGN_OR_RETURN(const Json header, ParseJson(std::string_view(reinterpret_cast<const char*>(data + 8),
                                                                    static_cast<size_t>(header_len)), opts));
  const Json* json = &header;
  if (!json->is_object()) return CorruptData(w + ": header is not a JSON object");

  const uint8_t* region = data + 8 + header_len;
  const uint64_t region_size = size - 8 - header_len;
  SafetensorsFile file;
  std::set<std::string_view> names;
  for (const auto& [name, entry] : json->as_object()) {
    const std::string where = w + ": tensor '" + name + "'";
    // Hugging Face's reader keeps one entry per name; two would make Find() ambiguous.
    if (!names.insert(name).second)
      return CorruptData(w + ": the header has two entries named '" + name + "'");
    if (name == "__metadata__") continue;
    if (!entry.is_object()) return CorruptData(where + " is not a JSON object");
    const Json* dt = entry.Find("dtype");
    const Json* shape = entry.Find("shape");
    const Json* offs = entry.Find("data_offsets");
    if (!dt || !dt->is_string() || !shape || !shape->is_array() || !offs || !offs->is_array() || offs->size() != 2)
      return CorruptData(where + " needs a string 'dtype', an array 'shape' and 'data_offsets' [begin, end]");
    SafeTensor t;
    t.name = name;
    t.dtype_name = dt->as_string();
    size_t elem = 0;
    for (const DTypeInfo& info : kDTypes)
      if (t.dtype_name == info.name) {
        t.dtype = info.dtype;
        elem = info.bytes;
      }
    if (elem == 0) return Unsupported(where + " has dtype '" + t.dtype_name + "', which edgebert does not read");
    uint64_t numel = 1;
    for (const Json& d : shape->as_array()) {
      const int64_t v = d.as_int(-1);
      if (v < 0) return CorruptData(where + " has a shape entry that is not a non-negative integer");
      if (v != 0 && numel > std::numeric_limits<uint64_t>::max() / 8 / static_cast<uint64_t>(v))
        return CorruptData(where + " has a shape whose element count overflows");
      numel *= static_cast<uint64_t>(v);
      t.shape.push_back(v);
    }
    const int64_t begin = (*offs)[0].as_int(-1), end = (*offs)[1].as_int(-1);
    if (begin < 0 || end < begin || static_cast<uint64_t>(end) > region_size)
      return CorruptData(where + " has data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                         "] outside the data region of " + std::to_string(region_size) + " bytes (truncated file?)");
    t.nbytes = static_cast<size_t>(end - begin);
    if (numel * elem != t.nbytes)
      return CorruptData(where + " holds " + std::to_string(t.nbytes) + " bytes but its shape and dtype need " +
                         std::to_string(numel * elem));
    t.data = region + begin;
    file.tensors.push_back(std::move(t));
  }
  // As Hugging Face's safetensors library requires: sorted by offset, the tensors tile the data
  // region exactly, each starting where the previous one ends (no overlap, no gap, nothing after),
  // so no byte is read as two tensors and none is left unaccounted for.
  std::vector<const SafeTensor*> by_offset;
  for (const SafeTensor& t : file.tensors) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(), [](const SafeTensor* a, const SafeTensor* b) {
    return a->data != b->data ? a->data < b->data : a->nbytes < b->nbytes;
  });
  uint64_t expected = 0;
  const SafeTensor* previous = nullptr;
  for (const SafeTensor* t : by_offset) {
    const uint64_t begin = static_cast<uint64_t>(t->data - region);
    if (begin != expected)
      return CorruptData(w + ": tensor '" + t->name + "' has data_offsets [" + std::to_string(begin) + ", " +
                         std::to_string(begin + t->nbytes) + "] but " +
                         (previous ? "the previous tensor '" + previous->name + "' ends at "
                                   : std::string("the data region starts at ")) +
                         std::to_string(expected) + (begin < expected ? " (overlapping tensors)" : " (a gap)"));
    expected = begin + t->nbytes;
    previous = t;
  }
  if (expected != region_size)
    return CorruptData(w + ": the tensors cover " + std::to_string(expected) + " bytes of the " +
                       std::to_string(region_size) + "-byte data region (trailing bytes or a truncated header)");
  return file;
}

float HalfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);  // inf / nan
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  } else if (mant == 0) {
    bits = sign;
  } else {  // subnormal half: normalise
    exp = 113;
    while ((mant & 0x400) == 0) {
      mant <<= 1;
      --exp;
    }
    bits = sign | (exp << 23) | ((mant & 0x3ff) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t FloatToHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000);
  const uint32_t ax = x & 0x7fffffffu;
  if (ax >= 0x7f800000u) return sign | 0x7c00 | (ax > 0x7f800000u ? 0x200 : 0);  // inf / nan
  if (ax >= 0x477ff000u) return sign | 0x7c00;                                  // rounds to inf
  if (ax < 0x38800000u) {  // result is subnormal (or zero): round mant * 2^-24 to an integer
    if (ax < 0x33000000u) return sign;
    const uint32_t e = ax >> 23;
    const uint32_t m = (ax & 0x7fffff) | 0x800000;
    const uint32_t shift = 126 - e;  // 14..24 for e in 102..112
    uint32_t r = m >> shift;
    const uint32_t rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (r & 1))) ++r;
    return sign | static_cast<uint16_t>(r);
  }
  uint32_t r = ax - 0x38000000u;  // rebias exponent 127 -> 15
  const uint32_t rem = r & 0x1fff;
  r >>= 13;
  if (rem > 0x1000 || (rem == 0x1000 && (r & 1))) ++r;
  return sign | static_cast<uint16_t>(r);
}

float BF16ToFloat(uint16_t b) {
  const uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

Status SafeTensorToF32(const SafeTensor& t, std::string_view what, std::vector<float>* out) {
  // F16/BF16 double in size as fp32: a tensor that fits in the file may not fit as floats.
  EB_ASSIGN_OR_RETURN(size_t bytes, BufferBytes({t.numel()}, sizeof(float),
                                                std::string(what) + ": tensor '" + t.name + "' as fp32"));
  const size_t n = bytes / sizeof(float);
  out->resize(n);
  switch (t.dtype) {
    case SafeDType::kF32:
      std::memcpy(out->data(), t.data, n * 4);  // memcpy: the data may not be 4-byte aligned
      return Status::Ok();
    case SafeDType::kF16:
      for (size_t i = 0; i < n; ++i) (*out)[i] = HalfToFloat(ReadU16LE(t.data + 2 * i));
      return Status::Ok();
    case SafeDType::kBF16:
      for (size_t i = 0; i < n; ++i) (*out)[i] = BF16ToFloat(ReadU16LE(t.data + 2 * i));
      return Status::Ok();
    default:
      return Unsupported(std::string(what) + ": tensor '" + t.name + "' has dtype " + t.dtype_name +
                         "; weights must be F32, F16 or BF16");
  }
}

}  // namespace edgebert
