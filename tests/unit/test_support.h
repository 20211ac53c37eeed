// Shared by the unit tests: doctest prints vectors element by element, a
// requestStacks entry as the tests write it, and distributions compared
// field by field.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "analyze/sample.h"
#include "store/span.h"

namespace test_support {

// A real file written by another project (one of ../shared/fixtures/real/):
// the copy a golden case keeps of it (tests/golden/real-*/), so the tests
// need nothing outside the repository. Empty when no case has it.
inline std::string real_file(std::string_view name) {
  namespace fs = std::filesystem;
  for (const fs::directory_entry& d : fs::directory_iterator(fs::path(TA_SOURCE_DIR) / "tests" / "golden")) {
    if (d.path().filename().string().rfind("real-", 0) != 0) continue;
    const fs::path file = d.path() / name;
    if (fs::exists(file)) return file.string();
  }
  return {};
}

// Every field of a distribution as expected.
inline void check_distribution(const ta::Distribution& got, const ta::Distribution& want) {
  CHECK(got.count == want.count);
  CHECK(got.min == want.min);
  CHECK(got.p50 == want.p50);
  CHECK(got.p90 == want.p90);
  CHECK(got.p99 == want.p99);
  CHECK(got.max == want.max);
}

struct CallSpec {
  std::string id;
  ta::Nanos start = 0;
  ta::Nanos duration = 0;
  std::string host;
  std::int16_t code = 200;
};

}  // namespace test_support

namespace doctest {
template <typename T>
struct StringMaker<std::vector<T>> {
  static String convert(const std::vector<T>& v) {
    String out = "{";
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (i > 0) out += ", ";
      out += toString(v[i]);
    }
    out += "}";
    return out;
  }
};
}  // namespace doctest
