// Open-addressing hash index from strings to uint32 values, storing only the
// hash and the value: the key text lives with the value's owner and is
// fetched through key_of(value). Linear probing with backward-shift erase,
// so removing entries (released traces) leaves no tombstones.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "store/span.h"
#include "util/hash.h"
#include "util/longest_run.h"

namespace ta {

class HashIndex {
 public:
  HashIndex() : slots_(16) {}

  template <typename KeyOf>
  std::uint32_t find(std::string_view key, std::uint64_t hash, KeyOf&& key_of) const {
    for (std::size_t i = hash & mask();; i = (i + 1) & mask()) {
      const Slot& s = slots_[i];
      if (s.value == kNone) return kNone;
      if (s.hash == hash && same_bytes(key_of(s.value), key)) return s.value;
    }
  }

  // Brings the slot a lookup of `hash` starts at into the cache.
  void prefetch(std::uint64_t hash) const { __builtin_prefetch(&slots_[hash & mask()]); }

  // The key must not be present.
  void insert(std::uint64_t hash, std::uint32_t value) {
    if ((size_ + 1) * 4 > slots_.size() * 3) grow();
    place(hash, value);
    ++size_;
  }

  template <typename KeyOf>
  void erase(std::string_view key, std::uint64_t hash, KeyOf&& key_of) {
    std::size_t i = hash & mask();
    for (;; i = (i + 1) & mask()) {
      const Slot& s = slots_[i];
      if (s.value == kNone) return;
      if (s.hash == hash && same_bytes(key_of(s.value), key)) break;
    }
    // Shift later members of the probe run back over the hole.
    for (std::size_t j = (i + 1) & mask();; j = (j + 1) & mask()) {
      if (slots_[j].value == kNone) break;
      const std::size_t home = slots_[j].hash & mask();
      const bool movable = ((j - home) & mask()) >= ((j - i) & mask());
      if (movable) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i] = Slot{};
    --size_;
  }

  std::size_t size() const { return size_; }
  // The longest run of full slots (util/longest_run.h).
  std::size_t longest_run() const {
    return ta::longest_run(slots_, [](const Slot& s) { return s.value != kNone; });
  }

 private:
  struct Slot {
    std::uint64_t hash = 0;
    std::uint32_t value = kNone;
  };
  std::size_t mask() const { return slots_.size() - 1; }
  void place(std::uint64_t hash, std::uint32_t value) {
    std::size_t i = hash & mask();
    while (slots_[i].value != kNone) i = (i + 1) & mask();
    slots_[i] = Slot{hash, value};
  }
  void grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    for (const Slot& s : old)
      if (s.value != kNone) place(s.hash, s.value);
  }

  std::vector<Slot> slots_;
  std::size_t size_ = 0;
};

}  // namespace ta
