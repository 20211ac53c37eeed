// The longest run of full slots in an open-addressing table with linear
// probing: the most a lookup may probe. Keys crafted to share a slot make
// one run as long as their number; keyed hashing (util/hash.h) keeps every
// run short. For tests of that (tests/unit/keyed_tables_test.cpp).
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace ta {

// full(slot) says whether a slot holds an entry. A run may wrap around
// the table's end.
template <typename Slot, typename Full>
std::size_t longest_run(const std::vector<Slot>& slots, Full&& full) {
  const std::size_t n = slots.size();
  std::size_t start = 0;  // an empty slot: no run crosses it
  while (start < n && full(slots[start])) ++start;
  if (start == n) return n;
  std::size_t longest = 0, run = 0;
  for (std::size_t k = 1; k <= n; ++k) {
    run = full(slots[(start + k) % n]) ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  return longest;
}

}  // namespace ta
