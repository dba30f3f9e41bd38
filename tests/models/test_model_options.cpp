#include "medkd/models/model_options.h"

#include <gtest/gtest.h>

#include "medkd/core/error.h"
#include "test_support.h"

using medkd::models::ModelOptionReader;
using medkd::testing::error_of;

namespace {

const std::vector<std::string> kToyKeys = {"depth", "sizes"};

}  // namespace

TEST(ModelOptionReader, NullOptionsReadAsEmpty) {
  for (const YAML::Node& options : {YAML::Node(), YAML::Load("~")}) {
    const ModelOptionReader reader("toy", options, kToyKeys);
    EXPECT_FALSE(reader.has("depth"));
  }
  const ModelOptionReader absent("toy", YAML::Node()["options"], kToyKeys);  // an undefined node
  EXPECT_FALSE(absent.has("depth"));
}

TEST(ModelOptionReader, UnknownKeysAreAnErrorListingTheValidOnes) {
  EXPECT_EQ(
      error_of([] { ModelOptionReader("toy", YAML::Load("{depth: 3, colour: red}"), kToyKeys); }),
      "unknown toy option 'colour' (valid: depth, sizes)");
  EXPECT_EQ(error_of([] { ModelOptionReader("toy", YAML::Load("[1, 2]"), kToyKeys); }),
            "toy options must be a map, got '[1, 2]'");
}

TEST(ModelOptionReader, AWrongTypeNamesTheModelKeyAndExpectedType) {
  const ModelOptionReader good("toy", YAML::Load("{depth: 3}"), kToyKeys);
  EXPECT_TRUE(good.has("depth"));
  EXPECT_FALSE(good.has("sizes"));
  EXPECT_EQ(good.get<int64_t>("depth", "an integer"), 3);

  const ModelOptionReader bad("toy", YAML::Load("{depth: deep}"), kToyKeys);
  EXPECT_EQ(error_of([&] { bad.get<int64_t>("depth", "an integer"); }),
            "toy option 'depth' must be an integer, got 'deep'");
}

TEST(ModelOptionReader, OneIntegerReadsAsAListOfOne) {
  const auto sizes = [](const std::string& yaml) {
    return ModelOptionReader("toy", YAML::Load(yaml), kToyKeys)
        .get_integer_or_list("sizes", "a list of integers", "an integer");
  };
  EXPECT_EQ(sizes("{sizes: 8}"), std::vector<int64_t>({8}));
  EXPECT_EQ(sizes("{sizes: [4, 8, 16]}"), std::vector<int64_t>({4, 8, 16}));
  EXPECT_EQ(error_of([&] { sizes("{sizes: [4, x]}"); }),
            "toy option 'sizes' must be a list of integers, got '[4, x]'");
  EXPECT_EQ(error_of([&] { sizes("{sizes: big}"); }),
            "toy option 'sizes' must be an integer, got 'big'");
}
