// The clock offsets of calls, counted by (host pair, offset): the table
// under a summary's offset tally (summary.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "util/hash.h"
#include "util/longest_run.h"

namespace ta {

// Counts per (host pair, offset), open addressing. Offset and Count are
// the entry's field types: a narrow table of 16-byte entries, or a wide one.
template <typename Offset, typename Count>
class PairOffsetCounts {
 public:
  struct Entry {
    std::uint64_t pair;
    Offset offset;
    Count count;  // 0: a free slot
  };
  // The entry for (pair, offset), made with a count of 0 if new.
  Entry& at(std::uint64_t pair, Offset offset) {
    if ((used_ + 1) * 4 > slots_.size() * 3) grow();
    for (std::size_t i = slot_of(pair, offset);; i = (i + 1) & (slots_.size() - 1)) {
      Entry& e = slots_[i];
      if (e.count == 0) {
        e = Entry{pair, offset, 0};
        ++used_;
        return e;
      }
      if (e.pair == pair && e.offset == offset) return e;
    }
  }
  template <typename F>
  void for_each(F&& f) const {
    for (const Entry& e : slots_)
      if (e.count) f(e.pair, e.offset, e.count);
  }
  void prefetch(std::uint64_t pair, Offset offset) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[slot_of(pair, offset)]);
  }
  std::size_t size() const { return used_; }
  // The longest run of full slots (util/longest_run.h).
  std::size_t longest_run() const {
    return ta::longest_run(slots_, [](const Entry& e) { return e.count != 0; });
  }

 private:
  // Keyed (util/hash.h): offsets come from the input's times.
  std::size_t slot_of(std::uint64_t pair, Offset offset) const {
    return static_cast<std::size_t>(hash_number_pair(pair, static_cast<std::uint64_t>(offset))) & (slots_.size() - 1);
  }
  void grow() {
    std::vector<Entry> old = std::move(slots_);
    slots_.assign(old.empty() ? 1024 : old.size() * 2, Entry{0, 0, 0});
    for (const Entry& e : old) {
      if (!e.count) continue;
      std::size_t i = slot_of(e.pair, e.offset);
      while (slots_[i].count) i = (i + 1) & (slots_.size() - 1);
      slots_[i] = e;
    }
  }
  std::vector<Entry> slots_;
  std::size_t used_ = 0;
};

}  // namespace ta
