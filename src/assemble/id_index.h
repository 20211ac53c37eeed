// Open-addressing hash index for the span ids of one trace: one allocation
// per trace instead of one per span.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "store/span.h"
#include "util/hash.h"

namespace ta {

class IdIndex {
 public:
  explicit IdIndex(std::size_t expected = 0) { reset(expected); }

  // Empties the index, keeping its memory for the next trace.
  void reset(std::size_t expected) {
    std::size_t cap = 16;
    while (cap < expected * 2) cap *= 2;
    slots_.assign(cap, Slot{});
    size_ = 0;
  }

  // The value stored for `key`, or kNone.
  std::uint32_t find(std::string_view key) const {
    const std::uint64_t h = hash_bytes(key);
    const auto tag = static_cast<std::uint32_t>(h >> 32);
    for (std::size_t i = h & mask();; i = (i + 1) & mask()) {
      const Slot& s = slots_[i];
      if (s.value == kNone) return kNone;
      if (s.tag == tag && s.key == key) return s.value;
    }
  }

  // Inserts unless present; returns the value now stored for `key`.
  std::uint32_t insert(std::string_view key, std::uint32_t value) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    const std::uint64_t h = hash_bytes(key);
    const auto tag = static_cast<std::uint32_t>(h >> 32);
    for (std::size_t i = h & mask();; i = (i + 1) & mask()) {
      Slot& s = slots_[i];
      if (s.value == kNone) {
        s = Slot{key, value, tag};
        ++size_;
        return value;
      }
      if (s.tag == tag && s.key == key) return s.value;
    }
  }

 private:
  struct Slot {
    std::string_view key;
    std::uint32_t value = kNone;
    std::uint32_t tag = 0;  // high hash bits: most mismatches skip the compare
  };
  std::size_t mask() const { return slots_.size() - 1; }
  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.size() * 2, Slot{});
    size_ = 0;
    for (const Slot& s : old)
      if (s.value != kNone) insert(s.key, s.value);
  }

  std::vector<Slot> slots_;
  std::size_t size_ = 0;
};

}  // namespace ta
