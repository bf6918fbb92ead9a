// json_test.cc: the JSON reader accepts what Python's json module writes and rejects the rest
// with a byte offset.
#include "util/json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace edgebert {
namespace {

TEST(Json, ParsesNestedDocument) {
  auto r = ParseJson(R"({"a": [1, 2.5, -3e2, true, false, null], "b": {"c": "x\u00e9\ud83d\ude00"}})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Json& a = *r->Find("a");
  ASSERT_EQ(a.size(), 6u);
  EXPECT_EQ(a[0].as_int(), 1);
  EXPECT_DOUBLE_EQ(a[1].as_double(), 2.5);
  EXPECT_DOUBLE_EQ(a[2].as_double(), -300);
  EXPECT_TRUE(a[3].as_bool());
  EXPECT_FALSE(a[4].as_bool(true));
  EXPECT_TRUE(a[5].is_null());
  EXPECT_EQ(r->Find("b")->Find("c")->as_string(), "x\xC3\xA9\xF0\x9F\x98\x80");
}

TEST(Json, KeepsKeyOrderAndLastDuplicateWins) {
  auto r = ParseJson(R"({"z": 1, "a": 2, "z": 3})");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->as_object().size(), 3u);
  EXPECT_EQ(r->as_object()[0].first, "z");
  EXPECT_EQ(r->Find("z")->as_int(), 3);
}

TEST(Json, AcceptsPythonNonFiniteNumbers) {
  auto r = ParseJson("[NaN, Infinity, -Infinity]");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(std::isnan((*r)[0].as_double()));
  EXPECT_TRUE(std::isinf((*r)[1].as_double()));
  EXPECT_LT((*r)[2].as_double(), 0);
}

TEST(Json, RejectsMalformedInputWithOffset) {
  const char* bad[] = {"", "{", "[1,]", "{\"a\" 1}", "\"abc", "01", "1.", "[1] x", "\"\\q\"", "\"\x01\"",
                       "\"\xC3\"", "\"\xED\xA0\x80\"", "tru", "{1: 2}"};
  for (const char* text : bad) {
    auto r = ParseJson(text);
    EXPECT_FALSE(r.ok()) << "accepted: " << text;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kCorruptData);
      EXPECT_NE(r.status().message().find("at byte"), std::string::npos);
    }
  }
}

TEST(Json, BoundsNestingDepth) {
  std::string deep(100000, '[');
  auto r = ParseJson(deep);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("nesting deeper"), std::string::npos);
}

TEST(Json, TypedGettersNameTheKey) {
  auto r = ParseJson(R"({"dim": 768, "eps": 1e-12, "act": "gelu", "flag": true, "frac": 1.5})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(GetInt(*r, "dim", "config.json").value(), 768);
  EXPECT_DOUBLE_EQ(GetDouble(*r, "eps", "config.json").value(), 1e-12);
  EXPECT_EQ(GetString(*r, "act", "config.json").value(), "gelu");
  EXPECT_TRUE(GetBool(*r, "flag", "config.json").value());
  auto missing = GetInt(*r, "n_layers", "config.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("'n_layers'"), std::string::npos);
  auto wrong = GetInt(*r, "frac", "config.json");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace edgebert

namespace edgebert {
namespace {

TEST(JsonDump, RoundTripsValuesExactly) {
  const char* text = R"({"s":"a\"b\\c\n\u0001é😀","n":[0,-3,1.5,0.1,3.4028234663852886e+38,1e-45],"b":[true,false,null],"o":{}})";
  auto r = ParseJson(text);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::string dumped = DumpJson(*r);
  auto again = ParseJson(dumped);
  ASSERT_TRUE(again.ok()) << dumped;
  EXPECT_EQ(DumpJson(*again), dumped);
  const Json& n = *again->Find("n");
  EXPECT_EQ(n[3].as_double(), 0.1);  // shortest round-trip form, not a rounded one
  EXPECT_EQ(n[4].as_double(), 3.4028234663852886e+38);
  EXPECT_EQ(n[5].as_double(), 1e-45);
  EXPECT_EQ(again->Find("s")->as_string(), "a\"b\\c\n\x01\xC3\xA9\xF0\x9F\x98\x80");
  EXPECT_EQ(DumpJson(Json::MakeArray({Json::Number(NAN), Json::Number(INFINITY)})), "[null,null]");
}

}  // namespace
}  // namespace edgebert
