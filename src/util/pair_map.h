// A small open-addressing map from 64-bit keys (two symbols packed) to
// values, for the per-call tallies of analysis: one probe, no node per entry.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "util/hash.h"

namespace ta {

template <typename V>
class PairMap {
 public:
  PairMap() : slots_(64, kEmpty) {}

  V& operator[](std::uint64_t key) {
    std::size_t i = mix(key) & (slots_.size() - 1);
    for (;; i = (i + 1) & (slots_.size() - 1)) {
      const std::uint32_t v = slots_[i];
      if (v == kEmpty) break;
      if (entries_[v].first == key) return entries_[v].second;
    }
    if ((entries_.size() + 1) * 2 > slots_.size()) {
      grow();
      return (*this)[key];
    }
    slots_[i] = static_cast<std::uint32_t>(entries_.size());
    return entries_.emplace_back(key, V{}).second;
  }

  const V* find(std::uint64_t key) const { return const_cast<PairMap*>(this)->find(key); }
  V* find(std::uint64_t key) {
    for (std::size_t i = mix(key) & (slots_.size() - 1);; i = (i + 1) & (slots_.size() - 1)) {
      const std::uint32_t v = slots_[i];
      if (v == kEmpty) return nullptr;
      if (entries_[v].first == key) return &entries_[v].second;
    }
  }

  std::vector<std::pair<std::uint64_t, V>>& entries() { return entries_; }
  std::size_t size() const { return entries_.size(); }

 private:
  static constexpr std::uint32_t kEmpty = 0xffffffffu;
  static std::uint64_t mix(std::uint64_t k) { return hash_number(k); }
  void grow() {
    slots_.assign(slots_.size() * 2, kEmpty);
    for (std::uint32_t v = 0; v < entries_.size(); ++v) {
      std::size_t i = mix(entries_[v].first) & (slots_.size() - 1);
      while (slots_[i] != kEmpty) i = (i + 1) & (slots_.size() - 1);
      slots_[i] = v;
    }
  }

  std::vector<std::uint32_t> slots_;
  std::vector<std::pair<std::uint64_t, V>> entries_;
};

}  // namespace ta
