// Sorting the short lists nearly every span has (its children, its
// critical-path candidates: none to a few): by insertion, inline, where
// std::sort's call and set-up cost more than the sorting. An element
// already in place is only compared, field by field, not copied (a copy of
// what was just written is read back across the stores of its fields, and
// waits for them).
#pragma once

#include <algorithm>
#include <cstddef>

namespace ta {

inline constexpr std::ptrdiff_t kSmallSort = 16;

// Sorts [first, last) by `less`: by insertion up to kSmallSort elements,
// else by std::sort. `less` must be a strict total order (ties broken),
// so the order is the same either way.
template <typename T, typename Less>
void sort_small(T* first, T* last, Less less) {
  if (last - first < 2) return;
  if (last - first > kSmallSort) {
    std::sort(first, last, less);
    return;
  }
  for (T* i = first + 1; i < last; ++i) {
    if (!less(*i, i[-1])) continue;
    const T v = *i;
    T* j = i;
    for (; j > first && less(v, j[-1]); --j) *j = j[-1];
    *j = v;
  }
}

}  // namespace ta
