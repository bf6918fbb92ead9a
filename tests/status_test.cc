// status_test.cc: Status/Result carry codes and messages; the macros propagate them.
#include "util/status.h"

#include <gtest/gtest.h>

#include <string>

namespace edgebert {
namespace {

Result<int> Half(int x) {
  if (x % 2) return InvalidArgument("odd value " + std::to_string(x));
  return x / 2;
}

Result<int> Quarter(int x) {
  EB_ASSIGN_OR_RETURN(int h, Half(x));
  EB_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

TEST(Status, OkAndErrorsFormat) {
  EXPECT_TRUE(Status::Ok().ok());
  EXPECT_EQ(Status::Ok().ToString(), "Ok");
  Status s = CorruptData("model.bin: bad magic");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.ToString(), "CorruptData: model.bin: bad magic");
}

TEST(Status, ResultPropagatesThroughMacros) {
  EXPECT_EQ(Quarter(12).value(), 3);
  auto r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "odd value 3");
}

TEST(Status, ResultFromOkStatusIsAnInternalError) {
  Result<int> r = Status::Ok();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace edgebert
