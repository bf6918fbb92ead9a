// json.cc: recursive-descent JSON parser with bounded depth and exact error offsets.
#include "util/json.h"

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <iterator>

namespace edgebert {

struct Json::Node {
  std::atomic<uint32_t> refs{1};  // atomic: a const document may be copied from several threads
};
struct Json::StringNode : Json::Node {
  std::string v;
};
struct Json::ArrayNode : Json::Node {
  Array v;
};
struct Json::ObjectNode : Json::Node {
  Object v;
};

Json::Json(const Json& other) : type_(other.type_), bool_(other.bool_) {
  if (has_node()) {
    node_ = other.node_;
    if (node_) node_->refs.fetch_add(1, std::memory_order_relaxed);
  } else {
    num_ = other.num_;
  }
}

Json::Json(Json&& other) noexcept : type_(other.type_), bool_(other.bool_) {
  num_ = 0;
  if (has_node()) {
    node_ = other.node_;
    other.node_ = nullptr;
  } else {
    num_ = other.num_;
  }
  other.type_ = Type::kNull;
}

Json& Json::operator=(const Json& other) {
  if (this != &other) {
    Json copy(other);
    *this = std::move(copy);
  }
  return *this;
}

Json& Json::operator=(Json&& other) noexcept {
  if (this != &other) {
    Release();
    type_ = other.type_;
    bool_ = other.bool_;
    if (has_node()) {
      node_ = other.node_;
      other.node_ = nullptr;
    } else {
      num_ = other.num_;
    }
    other.type_ = Type::kNull;
  }
  return *this;
}

Json::~Json() { Release(); }

void Json::Release() {
  if (has_node() && node_ && node_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    switch (type_) {
      case Type::kString: delete static_cast<StringNode*>(node_); break;
      case Type::kArray: delete static_cast<ArrayNode*>(node_); break;
      default: delete static_cast<ObjectNode*>(node_); break;
    }
  }
  type_ = Type::kNull;
  num_ = 0;
}

Json Json::Bool(bool b) { Json j; j.type_ = Type::kBool; j.bool_ = b; return j; }
Json Json::Number(double d) { Json j; j.type_ = Type::kNumber; j.num_ = d; return j; }
template <typename N, typename V>
Json Json::WithNode(Type type, V v) {
  Json j;
  j.type_ = type;
  j.node_ = nullptr;
  if (!v.empty()) {
    auto* n = new N;
    n->v = std::move(v);
    j.node_ = n;
  }
  return j;
}
Json Json::String(std::string s) { return WithNode<StringNode>(Type::kString, std::move(s)); }
Json Json::MakeArray(Array a) { return WithNode<ArrayNode>(Type::kArray, std::move(a)); }
Json Json::MakeObject(Object o) { return WithNode<ObjectNode>(Type::kObject, std::move(o)); }

int64_t Json::as_int(int64_t dflt) const {
  if (!is_number() || !std::isfinite(num_) || std::floor(num_) != num_) return dflt;
  if (num_ < -9.2e18 || num_ > 9.2e18) return dflt;
  return static_cast<int64_t>(num_);
}

const std::string& Json::as_string() const {
  static const std::string kEmpty;
  return is_string() && node_ ? static_cast<const StringNode*>(node_)->v : kEmpty;
}
const Json::Array& Json::as_array() const {
  static const Array kEmpty;
  return is_array() && node_ ? static_cast<const ArrayNode*>(node_)->v : kEmpty;
}
const Json::Object& Json::as_object() const {
  static const Object kEmpty;
  return is_object() && node_ ? static_cast<const ObjectNode*>(node_)->v : kEmpty;
}
size_t Json::size() const {
  if (is_array()) return as_array().size();
  if (is_object()) return as_object().size();
  return 0;
}

const Json* Json::Find(std::string_view key) const {
  if (!is_object()) return nullptr;
  const Json* found = nullptr;
  for (const auto& kv : as_object()) {
    if (kv.first == key) found = &kv.second;
  }
  return found;
}

namespace {

class Parser {
 public:
  Parser(std::string_view text, const JsonParseOptions& opts) : s_(text), opts_(opts) {}

  Result<Json> ParseDocument() {
    // Checked before anything is allocated: the size, then each value as it is read.
    if (s_.size() > opts_.max_bytes)
      return InvalidArgument(Prefix() + "the document is " + std::to_string(s_.size()) +
                             " bytes, which exceeds the limit of " + std::to_string(opts_.max_bytes) + " bytes");
    SkipSpace();
    Json v;
    EB_RETURN_IF_ERROR(ParseValue(0, &v));
    SkipSpace();
    if (pos_ != s_.size()) return Error("unexpected trailing data");
    return v;
  }

 private:
  std::string Prefix() const { return opts_.what.empty() ? std::string() : std::string(opts_.what) + ": "; }

  Status Error(const std::string& what) const {
    // Line and column (1-based, in bytes) as an editor shows them; counted only on failure.
    size_t line = 1, column = 1;
    for (size_t i = 0; i < pos_ && i < s_.size(); ++i) {
      if (s_[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    return CorruptData(Prefix() + "JSON parse error at byte " + std::to_string(pos_) + " (line " +
                       std::to_string(line) + ", column " + std::to_string(column) + "): " + what);
  }

  void SkipSpace() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }

  bool Consume(std::string_view lit) {
    if (s_.substr(pos_, lit.size()) == lit) { pos_ += lit.size(); return true; }
    return false;
  }

  Status ParseValue(int depth, Json* out) {
    if (depth > opts_.max_depth) return Error("nesting deeper than " + std::to_string(opts_.max_depth));
    if (pos_ >= s_.size()) return Error("unexpected end of input");
    if (++values_ > opts_.max_values)
      return InvalidArgument(Prefix() + "more than " + std::to_string(opts_.max_values) +
                             " JSON values (the limit; at byte " + std::to_string(pos_) + ")");
    char c = s_[pos_];
    if (c == '{') return ParseObject(depth, out);
    if (c == '[') return ParseArray(depth, out);
    if (c == '"') {
      std::string str;
      EB_RETURN_IF_ERROR(ParseString(&str));
      *out = Json::String(std::move(str));
      return Status::Ok();
    }
    if (Consume("true")) { *out = Json::Bool(true); return Status::Ok(); }
    if (Consume("false")) { *out = Json::Bool(false); return Status::Ok(); }
    if (Consume("null")) { *out = Json(); return Status::Ok(); }
    if (Consume("NaN")) { *out = Json::Number(NAN); return Status::Ok(); }
    if (Consume("Infinity")) { *out = Json::Number(INFINITY); return Status::Ok(); }
    if (Consume("-Infinity")) { *out = Json::Number(-INFINITY); return Status::Ok(); }
    if (c == '-' || (c >= '0' && c <= '9')) return ParseNumber(out);
    return Error(std::string("unexpected character '") + c + "'");
  }

  Status ParseNumber(Json* out) {
    size_t start = pos_;
    if (s_[pos_] == '-') ++pos_;
    auto digits = [&] { size_t d = pos_; while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_; return pos_ - d; };
    if (pos_ < s_.size() && s_[pos_] == '0') ++pos_;
    else if (digits() == 0) return Error("invalid number");
    if (pos_ < s_.size() && s_[pos_] == '.') { ++pos_; if (digits() == 0) return Error("invalid number fraction"); }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (digits() == 0) return Error("invalid number exponent");
    }
    // strtod needs a terminated buffer; numbers are short.
    std::string tmp(s_.substr(start, pos_ - start));
    *out = Json::Number(std::strtod(tmp.c_str(), nullptr));
    return Status::Ok();
  }

  static void AppendUtf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) { out->push_back(static_cast<char>(cp)); }
    else if (cp < 0x800) { out->push_back(static_cast<char>(0xC0 | (cp >> 6))); out->push_back(static_cast<char>(0x80 | (cp & 0x3F))); }
    else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  Status ParseHex4(uint32_t* cp) {
    if (pos_ + 4 > s_.size()) return Error("truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      char h = s_[pos_++];
      v <<= 4;
      if (h >= '0' && h <= '9') v |= static_cast<uint32_t>(h - '0');
      else if (h >= 'a' && h <= 'f') v |= static_cast<uint32_t>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F') v |= static_cast<uint32_t>(h - 'A' + 10);
      else return Error("invalid hex digit in \\u escape");
    }
    *cp = v;
    return Status::Ok();
  }

  Status ParseString(std::string* out) {
    ++pos_;  // opening quote
    while (true) {
      if (pos_ >= s_.size()) return Error("unterminated string");
      unsigned char c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') { ++pos_; return Status::Ok(); }
      if (c < 0x20) return Error("control character in string");
      if (c == '\\') {
        ++pos_;
        if (pos_ >= s_.size()) return Error("unterminated escape");
        char e = s_[pos_++];
        switch (e) {
          case '"': out->push_back('"'); break;
          case '\\': out->push_back('\\'); break;
          case '/': out->push_back('/'); break;
          case 'b': out->push_back('\b'); break;
          case 'f': out->push_back('\f'); break;
          case 'n': out->push_back('\n'); break;
          case 'r': out->push_back('\r'); break;
          case 't': out->push_back('\t'); break;
          case 'u': {
            uint32_t cp = 0;
            EB_RETURN_IF_ERROR(ParseHex4(&cp));
            if (cp >= 0xD800 && cp <= 0xDBFF) {
              // A high surrogate must pair with a low one; a lone one becomes U+FFFD as Python does
              // not allow it in valid UTF-8 either.
              if (s_.substr(pos_, 2) == "\\u") {
                size_t save = pos_;
                pos_ += 2;
                uint32_t lo = 0;
                EB_RETURN_IF_ERROR(ParseHex4(&lo));
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                  cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                } else {
                  pos_ = save;
                  cp = 0xFFFD;
                }
              } else {
                cp = 0xFFFD;
              }
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
              cp = 0xFFFD;
            }
            AppendUtf8(cp, out);
            break;
          }
          default: return Error(std::string("invalid escape '\\") + e + "'");
        }
        continue;
      }
      // Validate one UTF-8 sequence (shortest form, no surrogates, <= U+10FFFF).
      size_t len = c < 0x80 ? 1 : (c >= 0xC2 && c <= 0xDF) ? 2 : (c >= 0xE0 && c <= 0xEF) ? 3 : (c >= 0xF0 && c <= 0xF4) ? 4 : 0;
      if (len == 0 || pos_ + len > s_.size()) return Error("invalid UTF-8 in string");
      for (size_t i = 1; i < len; ++i) {
        unsigned char cc = static_cast<unsigned char>(s_[pos_ + i]);
        if ((cc & 0xC0) != 0x80) return Error("invalid UTF-8 in string");
      }
      unsigned char c1 = len > 1 ? static_cast<unsigned char>(s_[pos_ + 1]) : 0;
      if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 >= 0xA0) || (c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 >= 0x90)) {
        return Error("invalid UTF-8 in string");
      }
      out->append(s_.data() + pos_, len);
      pos_ += len;
    }
  }

  // Elements and members gather on shared stacks and move into a vector of their exact size when
  // the container closes: no vector growth slack is kept per container.
  Status ParseArray(int depth, Json* out) {
    ++pos_;
    const size_t base = items_.size();
    SkipSpace();
    if (pos_ < s_.size() && s_[pos_] == ']') { ++pos_; *out = Json::MakeArray({}); return Status::Ok(); }
    while (true) {
      SkipSpace();
      Json v;
      EB_RETURN_IF_ERROR(ParseValue(depth + 1, &v));
      items_.push_back(std::move(v));
      SkipSpace();
      if (pos_ >= s_.size()) return Error("unterminated array");
      if (s_[pos_] == ',') { ++pos_; continue; }
      if (s_[pos_] == ']') { ++pos_; break; }
      return Error("expected ',' or ']' in array");
    }
    Json::Array items(std::make_move_iterator(items_.begin() + base), std::make_move_iterator(items_.end()));
    items_.resize(base);
    *out = Json::MakeArray(std::move(items));
    return Status::Ok();
  }

  Status ParseObject(int depth, Json* out) {
    ++pos_;
    const size_t base = members_.size();
    SkipSpace();
    if (pos_ < s_.size() && s_[pos_] == '}') { ++pos_; *out = Json::MakeObject({}); return Status::Ok(); }
    while (true) {
      SkipSpace();
      if (pos_ >= s_.size() || s_[pos_] != '"') return Error("expected a string key in object");
      std::string key;
      EB_RETURN_IF_ERROR(ParseString(&key));
      SkipSpace();
      if (pos_ >= s_.size() || s_[pos_] != ':') return Error("expected ':' after object key");
      ++pos_;
      SkipSpace();
      Json v;
      EB_RETURN_IF_ERROR(ParseValue(depth + 1, &v));
      members_.emplace_back(std::move(key), std::move(v));
      SkipSpace();
      if (pos_ >= s_.size()) return Error("unterminated object");
      if (s_[pos_] == ',') { ++pos_; continue; }
      if (s_[pos_] == '}') { ++pos_; break; }
      return Error("expected ',' or '}' in object");
    }
    Json::Object members(std::make_move_iterator(members_.begin() + base), std::make_move_iterator(members_.end()));
    members_.resize(base);
    *out = Json::MakeObject(std::move(members));
    return Status::Ok();
  }

  std::string_view s_;
  JsonParseOptions opts_;
  size_t pos_ = 0;
  size_t values_ = 0;
  Json::Array items_;     // elements of the arrays being read, innermost last
  Json::Object members_;  // members of the objects being read, innermost last
};

const Json* Member(const Json& obj, std::string_view key) { return obj.Find(key); }

std::string KeyName(std::string_view what, std::string_view key) {
  return std::string(what) + ": '" + std::string(key) + "'";
}

}  // namespace

namespace {

void DumpString(const std::string& s, std::string* out) {
  static const char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (c < 0x20) {
          out->append("\\u00");
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 15]);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

void DumpNumber(double d, std::string* out) {
  if (!std::isfinite(d)) {
    out->append("null");
    return;
  }
  if (std::floor(d) == d && std::fabs(d) < 1e15) {
    out->append(std::to_string(static_cast<long long>(d)));
    return;
  }
  char buf[32];
  for (int precision = 9; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, d);
    if (std::strtod(buf, nullptr) == d) break;
  }
  out->append(buf);
}

void DumpValue(const Json& v, std::string* out) {
  switch (v.type()) {
    case Json::Type::kNull: out->append("null"); break;
    case Json::Type::kBool: out->append(v.as_bool() ? "true" : "false"); break;
    case Json::Type::kNumber: DumpNumber(v.as_double(), out); break;
    case Json::Type::kString: DumpString(v.as_string(), out); break;
    case Json::Type::kArray: {
      out->push_back('[');
      bool first = true;
      for (const Json& e : v.as_array()) {
        if (!first) out->push_back(',');
        first = false;
        DumpValue(e, out);
      }
      out->push_back(']');
      break;
    }
    case Json::Type::kObject: {
      out->push_back('{');
      bool first = true;
      for (const auto& kv : v.as_object()) {
        if (!first) out->push_back(',');
        first = false;
        DumpString(kv.first, out);
        out->push_back(':');
        DumpValue(kv.second, out);
      }
      out->push_back('}');
      break;
    }
  }
}

}  // namespace

std::string DumpJson(const Json& value) {
  std::string out;
  DumpValue(value, &out);
  return out;
}

Result<Json> ParseJson(std::string_view text, const JsonParseOptions& opts) {
  return Parser(text, opts).ParseDocument();
}

std::string MinifyJson(std::string_view valid_json) {
  std::string out;
  out.reserve(valid_json.size());
  bool in_string = false;
  for (size_t i = 0; i < valid_json.size(); ++i) {
    const char c = valid_json[i];
    if (in_string) {
      out.push_back(c);
      if (c == '\\' && i + 1 < valid_json.size()) {
        out.push_back(valid_json[++i]);  // an escaped character, '"' included
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
      out.push_back(c);
    } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
      out.push_back(c);
    }
  }
  out.shrink_to_fit();
  return out;
}

Result<int64_t> GetInt(const Json& obj, std::string_view key, std::string_view what) {
  const Json* v = Member(obj, key);
  if (!v) return NotFound(KeyName(what, key) + " is missing");
  if (!v->is_number() || v->as_int(-1) != v->as_int(-2)) return InvalidArgument(KeyName(what, key) + " must be an integer");
  return v->as_int();
}
Result<double> GetDouble(const Json& obj, std::string_view key, std::string_view what) {
  const Json* v = Member(obj, key);
  if (!v) return NotFound(KeyName(what, key) + " is missing");
  if (!v->is_number()) return InvalidArgument(KeyName(what, key) + " must be a number");
  return v->as_double();
}
Result<std::string> GetString(const Json& obj, std::string_view key, std::string_view what) {
  const Json* v = Member(obj, key);
  if (!v) return NotFound(KeyName(what, key) + " is missing");
  if (!v->is_string()) return InvalidArgument(KeyName(what, key) + " must be a string");
  return v->as_string();
}
Result<bool> GetBool(const Json& obj, std::string_view key, std::string_view what) {
  const Json* v = Member(obj, key);
  if (!v) return NotFound(KeyName(what, key) + " is missing");
  if (!v->is_bool()) return InvalidArgument(KeyName(what, key) + " must be true or false");
  return v->as_bool();
}

}  // namespace edgebert
