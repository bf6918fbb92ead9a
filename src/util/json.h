// json.h: a small, strict JSON reader (RFC 8259) for config.json, tokenizer.json and test fixtures.
//
// Why our own: the library must not throw across the wasm boundary and must stay small; the
// inputs are untrusted (users drop files on a page), so depth and sizes are bounded and every
// failure is a Status naming the byte offset.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/status.h"

namespace edgebert {

class Json {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };
  using Array = std::vector<Json>;
  using Object = std::vector<std::pair<std::string, Json>>;  // file order kept

  Json() = default;
  Json(const Json& other);
  Json(Json&& other) noexcept;
  Json& operator=(const Json& other);
  Json& operator=(Json&& other) noexcept;
  ~Json();
  static Json Bool(bool b);
  static Json Number(double d);
  static Json String(std::string s);
  static Json MakeArray(Array a);
  static Json MakeObject(Object o);

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_bool() const { return type_ == Type::kBool; }
  bool is_number() const { return type_ == Type::kNumber; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_object() const { return type_ == Type::kObject; }

  // Accessors return a default when the type differs; use the is_*() checks or the
  // Get* helpers below when the difference matters.
  bool as_bool(bool dflt = false) const { return is_bool() ? bool_ : dflt; }
  double as_double(double dflt = 0) const { return is_number() ? num_ : dflt; }
  int64_t as_int(int64_t dflt = 0) const;  // dflt unless a number that is an exact integer
  const std::string& as_string() const;    // "" unless a string
  const Array& as_array() const;           // empty unless an array
  const Object& as_object() const;         // empty unless an object
  size_t size() const;                     // elements of an array or members of an object

  // Object lookup: nullptr when absent or not an object (last duplicate key wins, as in Python).
  const Json* Find(std::string_view key) const;
  const Json& operator[](size_t i) const { return as_array()[i]; }

 private:
  // 16 bytes a value (documents of tiny values must not cost 30x their size, docs/LIMITS.md): a
  // number or bool inline; a string, array or object as one shared, reference-counted heap node
  // (null for "", [] and {}), so copies are cheap and values immutable.
  struct Node;
  struct StringNode;
  struct ArrayNode;
  struct ObjectNode;
  bool has_node() const { return type_ == Type::kString || type_ == Type::kArray || type_ == Type::kObject; }
  // A string, array or object value: its node N holds v, or no node when v is empty.
  template <typename N, typename V>
  static Json WithNode(Type type, V v);
  void Release();
  Type type_ = Type::kNull;
  bool bool_ = false;
  union {
    double num_ = 0;
    Node* node_;
  };
};

// Limits on an untrusted document, checked before anything is allocated for what exceeds them
// (the size first, then each value as it is read). The defaults fit the largest tokenizer.json of
// a BERT-family model with a wide margin (multilingual BERT's: 9.6 MB, about 120k values);
// callers reading smaller files pass tighter ones (config.json: ConfigJsonOptions in config.cc).
struct JsonParseOptions {
  int max_depth = 256;                // nesting of arrays and objects
  size_t max_bytes = size_t{64} << 20;  // document size
  size_t max_values = size_t{1} << 21;  // values of every kind (each costs 16 bytes, docs/LIMITS.md)
  std::string_view what;              // the file, named in every error (e.g. "tokenizer.json")
};

// Parses a whole document; trailing non-space bytes are an error. Invalid UTF-8 in strings is an
// error (JSON must be UTF-8); NaN/Infinity are accepted as Python's json module writes them.
// Errors: CorruptData "<what>: JSON parse error at byte N (line L, column C): ...", or
// InvalidArgument "<what>: ... exceeds the limit of ..." for a document beyond the options' limits.
Result<Json> ParseJson(std::string_view text, const JsonParseOptions& opts = {});

// Shorthand: the default limits, errors naming `what`.
inline Result<Json> ParseJson(std::string_view text, std::string_view what) {
  JsonParseOptions o;
  o.what = what;
  return ParseJson(text, o);
}

// `valid_json` (a document ParseJson accepted) without the whitespace between tokens: the same
// document, byte for byte inside strings and numbers. The converter carries JSON files compacted,
// so padding is not kept for a model's lifetime.
std::string MinifyJson(std::string_view valid_json);

// Serializes a value as compact JSON (UTF-8 passed through; control characters, quotes and
// backslashes escaped). Numbers use the shortest form that reads back to the same double, so
// float32 results survive exactly; NaN and infinities, which JSON lacks, are written as null.
std::string DumpJson(const Json& value);

// Typed member lookups for config readers: a missing key gives NotFound, a wrong type
// InvalidArgument, both naming `what` (e.g. "config.json") and the key.
Result<int64_t> GetInt(const Json& obj, std::string_view key, std::string_view what);
Result<double> GetDouble(const Json& obj, std::string_view key, std::string_view what);
Result<std::string> GetString(const Json& obj, std::string_view key, std::string_view what);
Result<bool> GetBool(const Json& obj, std::string_view key, std::string_view what);

}  // namespace edgebert
