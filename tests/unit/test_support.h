// Shared by the unit tests: doctest prints vectors element by element.
#pragma once

#include <doctest/doctest.h>

#include <vector>

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
