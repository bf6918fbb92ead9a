// json_target.cc: the JSON reader (src/util/json.h) on arbitrary bytes. What the library parses from
// untrusted sources: config.json, tokenizer.json, packed model headers, requests (eb_run).
//
// Invariants: a document that parses dumps to JSON that parses again and dumps to the same bytes;
// the typed lookups never fail on a type they were not asked about.
#include <string>
#include <string_view>

#include "fuzz_targets.h"
#include "model/config.h"
#include "util/json.h"

namespace edgebert::fuzz {

namespace {

// Walks every value (depth is bounded by the parser) and exercises the accessors.
void Walk(const Json& v, int depth) {
  FuzzCheck(depth <= 300, "json: deeper than the parser's limit");
  switch (v.type()) {
    case Json::Type::kArray:
      for (size_t i = 0; i < v.size(); ++i) Walk(v[i], depth + 1);
      break;
    case Json::Type::kObject:
      for (const auto& [key, member] : v.as_object()) {
        FuzzCheck(v.Find(key) != nullptr, "json: Find misses a member key", key);
        (void)GetInt(v, key, "fuzz");
        (void)GetDouble(v, key, "fuzz");
        (void)GetString(v, key, "fuzz");
        (void)GetBool(v, key, "fuzz");
        Walk(member, depth + 1);
      }
      break;
    default:
      (void)v.as_int(-1);
      (void)v.as_double();
      (void)v.as_string();
      (void)v.as_bool();
      break;
  }
}

}  // namespace

void FuzzJson(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // The same bytes as a model config: the reader behind eb_convert_hf / eb_model_load_hf.
  (void)ParseModelConfig(text, "config.json");

  Result<Json> doc = ParseJson(text);
  if (!doc.ok()) return;
  Walk(*doc, 0);
  const std::string once = DumpJson(*doc);
  Result<Json> again = ParseJson(once);
  if (!again.ok()) FuzzFail("json: DumpJson wrote what ParseJson rejects", again.status().ToString() + " on " + once);
  const std::string twice = DumpJson(*again);
  if (once != twice) FuzzFail("json: dump -> parse -> dump changed the text", once + " vs " + twice);
}

}  // namespace edgebert::fuzz
