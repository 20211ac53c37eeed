// Shared by the unit tests: doctest prints vectors element by element, and
// a requestStacks entry as the tests write it.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "store/span.h"

namespace test_support {

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
