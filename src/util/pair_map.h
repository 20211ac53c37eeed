// A small open-addressing map from 64-bit keys (two symbols packed) to
// values, for the per-call tallies of analysis: one probe, no node per entry.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "util/chunked_vector.h"
#include "util/hash.h"
#include "util/longest_run.h"

namespace ta {

template <typename V>
class PairMap {
 public:
  PairMap() : slots_(64) {}
  V& operator[](std::uint64_t key) {
    const std::uint64_t h = mix(key);
    std::size_t i = h & (slots_.size() - 1);
    for (;; i = (i + 1) & (slots_.size() - 1)) {
      const Slot& s = slots_[i];
      if (s.value == kEmpty) break;
      if (s.tag == tag_of(h) && entries_[s.value].first == key) return entries_[s.value].second;
    }
    if ((entries_.size() + 1) * 2 > slots_.size()) {
      grow();
      return (*this)[key];
    }
    slots_[i] = Slot{tag_of(h), static_cast<std::uint32_t>(entries_.size())};
    return entries_.emplace_back(key, V{}).second;
  }
  const V* find(std::uint64_t key) const { return const_cast<PairMap*>(this)->find(key); }
  V* find(std::uint64_t key) {
    const std::size_t at = index_of(key);
    return at == kNotFound ? nullptr : &entries_[at].second;
  }
  // Where the key's entry is in entries(), or kNotFound.
  static constexpr std::size_t kNotFound = ~std::size_t{0};
  std::size_t index_of(std::uint64_t key) const {
    const std::uint64_t h = mix(key);
    for (std::size_t i = h & (slots_.size() - 1);; i = (i + 1) & (slots_.size() - 1)) {
      const Slot& s = slots_[i];
      if (s.value == kEmpty) return kNotFound;
      if (s.tag == tag_of(h) && entries_[s.value].first == key) return s.value;
    }
  }
  // Bringing a key's entry into the cache ahead of its use, in two steps a
  // few keys apart: its slot, then (the slot read) the entry it names.
  void prefetch_slot(std::uint64_t key) const { __builtin_prefetch(&slots_[mix(key) & (slots_.size() - 1)]); }
  void prefetch_entry(std::uint64_t key) const {
    const Slot& s = slots_[mix(key) & (slots_.size() - 1)];
    if (s.value != kEmpty) __builtin_prefetch(&entries_[s.value]);
  }
  using Entries = ChunkedVector<std::pair<std::uint64_t, V>>;
  Entries& entries() { return entries_; }
  std::size_t size() const { return entries_.size(); }
  // The longest run of full slots (util/longest_run.h).
  std::size_t longest_run() const {
    return ta::longest_run(slots_, [](const Slot& s) { return s.value != kEmpty; });
  }
  // The entries, the map left empty (its index freed).
  Entries take_entries() {
    slots_ = std::vector<Slot>(64);
    return std::move(entries_);
  }

 private:
  static constexpr std::uint32_t kEmpty = 0xffffffffu;
  // 32 bits of the key's hash beside its entry's index (the slot indexes
  // with the low bits): a probe reads the slots only, and an entry (values
  // can be large) once its tag matches, nearly always the one sought.
  // 8 bytes a slot: a fleet's pairs number as many as its calls.
  struct Slot {
    std::uint32_t tag = 0;
    std::uint32_t value = kEmpty;
  };
  static std::uint64_t mix(std::uint64_t k) { return hash_number(k); }
  static std::uint32_t tag_of(std::uint64_t h) { return static_cast<std::uint32_t>(h >> 32); }
  void grow() {
    // The entries hold every key: the old index goes before the new one is
    // made, so a fleet's table is not indexed twice at that moment.
    const std::size_t size = slots_.size() * 2;
    slots_ = std::vector<Slot>();
    slots_.assign(size, Slot{});
    for (std::uint32_t v = 0; v < entries_.size(); ++v) {
      const std::uint64_t h = mix(entries_[v].first);
      std::size_t i = h & (slots_.size() - 1);
      while (slots_[i].value != kEmpty) i = (i + 1) & (slots_.size() - 1);
      slots_[i] = Slot{tag_of(h), v};
    }
  }

  std::vector<Slot> slots_;
  // In blocks: a fleet's pairs take tens of megabytes, which a vector
  // would hold twice over while it doubles.
  Entries entries_;
};

}  // namespace ta
