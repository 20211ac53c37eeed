// Open-addressing hash index for the span ids of one trace: one allocation
// per trace instead of one per span. A slot holds only a value and a tag
// (8 bytes); the key of a stored value is asked of the caller (key_of), so
// a trace of a million spans probes a table of megabytes, not tens of them.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "store/span.h"
#include "util/hash.h"
#include "util/longest_run.h"

namespace ta {

class IdIndex {
 public:
  explicit IdIndex(std::size_t expected = 0) { reset(expected); }

  // Empties the index, keeping its memory for the next trace; `expected`
  // keys fit without growing.
  void reset(std::size_t expected) {
    std::size_t cap = 16;
    while (cap * 3 < expected * 4) cap *= 2;
    slots_.assign(cap, Slot{});
    size_ = 0;
  }

  // The value stored for `key`, or kNone. key_of(value) is the key stored
  // with a value.
  template <typename KeyOf>
  std::uint32_t find(std::string_view key, KeyOf&& key_of) const {
    const std::uint64_t h = hash_bytes(key);
    const auto tag = static_cast<std::uint32_t>(h >> 32);
    for (std::size_t i = h & mask();; i = (i + 1) & mask()) {
      const Slot& s = slots_[i];
      if (s.value == kNone) return kNone;
      if (s.tag == tag && same_bytes(key_of(s.value), key)) return s.value;
    }
  }

  // Brings the slot where `key` would be into cache, for a find or insert
  // a few keys later: in a trace of a million spans nearly every probe
  // misses the cache.
  // A table that fits in cache is left alone: the hash would be computed
  // twice for nothing.
  void prefetch(std::string_view key) const {
    if (slots_.size() >= kPrefetchFrom) __builtin_prefetch(&slots_[hash_bytes(key) & mask()]);
  }

  // Inserts unless present; returns the value now stored for `key`.
  template <typename KeyOf>
  std::uint32_t insert(std::string_view key, std::uint32_t value, KeyOf&& key_of) {
    if ((size_ + 1) * 4 > slots_.size() * 3) grow(key_of);
    const std::uint64_t h = hash_bytes(key);
    const auto tag = static_cast<std::uint32_t>(h >> 32);
    for (std::size_t i = h & mask();; i = (i + 1) & mask()) {
      Slot& s = slots_[i];
      if (s.value == kNone) {
        s = Slot{value, tag};
        ++size_;
        return value;
      }
      if (s.tag == tag && same_bytes(key_of(s.value), key)) return s.value;
    }
  }

  // The longest run of full slots (util/longest_run.h).
  std::size_t longest_run() const {
    return ta::longest_run(slots_, [](const Slot& s) { return s.value != kNone; });
  }

 private:
  static constexpr std::size_t kPrefetchFrom = 1 << 15;  // slots: 256 KiB
  struct Slot {
    std::uint32_t value = kNone;
    std::uint32_t tag = 0;  // high hash bits: most mismatches skip the compare
  };
  std::size_t mask() const { return slots_.size() - 1; }
  template <typename KeyOf>
  void grow(KeyOf&& key_of) {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.size() * 2, Slot{});
    for (const Slot& s : old) {
      if (s.value == kNone) continue;
      for (std::size_t i = hash_bytes(key_of(s.value)) & mask();; i = (i + 1) & mask()) {
        if (slots_[i].value == kNone) {
          slots_[i] = s;
          break;
        }
      }
    }
  }

  std::vector<Slot> slots_;
  std::size_t size_ = 0;
};

}  // namespace ta
