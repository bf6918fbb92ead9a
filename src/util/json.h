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
  Type type_ = Type::kNull;
  bool bool_ = false;
  double num_ = 0;
  std::shared_ptr<const std::string> str_;
  std::shared_ptr<const Array> arr_;
  std::shared_ptr<const Object> obj_;
};

struct JsonParseOptions {
  int max_depth = 256;
};

// Parses a whole document; trailing non-space bytes are an error. Invalid UTF-8 in strings is an
// error (JSON must be UTF-8); NaN/Infinity are accepted as Python's json module writes them.
Result<Json> ParseJson(std::string_view text, const JsonParseOptions& opts = {});

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
