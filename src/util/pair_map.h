// A small open-addressing map from 64-bit keys (two symbols packed) to
// values, for the per-call tallies of analysis: one probe, no node per entry.
//
// A fleet's table has nearly as many pairs as calls, and then a lookup a
// call is a cache miss a call, and the index is megabytes of new memory:
// such a table can drop its index and take each call as an entry of its
// own, appended in order (list, append), then be put in order (by the
// keys' keyed hashes, then the keys) and have each key's entries
// merged into one (settle), in passes that mostly read and write in order.
// A settled table is searched by halves, or indexed again (reindex). The
// order follows the process's hash key; what is made of a table must not
// (the report puts pairs in the order of their names).
#pragma once

#include <algorithm>
#include <cstdint>
#include <stdexcept>
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
  // How the entries are kept. kIndexed: a key once, found through the
  // index. kListed: appended, a key maybe several times, and no index.
  // kSorted: a key once, in order (before()), found by binary search.
  enum class Mode : std::uint8_t { kIndexed, kListed, kSorted };
  Mode mode() const { return mode_; }

  V& operator[](std::uint64_t key) {
    if (mode_ != Mode::kIndexed) [[unlikely]] reindex();
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
    if (mode_ != Mode::kIndexed) [[unlikely]] {
      const std::size_t at = lower_bound(key);
      return at < entries_.size() && entries_[at].first == key ? at : kNotFound;
    }
    const std::uint64_t h = mix(key);
    for (std::size_t i = h & (slots_.size() - 1);; i = (i + 1) & (slots_.size() - 1)) {
      const Slot& s = slots_[i];
      if (s.value == kEmpty) return kNotFound;
      if (s.tag == tag_of(h) && entries_[s.value].first == key) return s.value;
    }
  }
  // The order of a settled table: by the keys' keyed hashes (order_of),
  // then (two keys of one hash) by the keys. The same in every table, and
  // refined by any number of the hash's bits: settle deals by as many as
  // leave a bucket an entry or two.
  static std::uint64_t order_of(std::uint64_t key) { return mix(key); }
  static bool before(std::uint64_t x, std::uint64_t y) {
    return x != y && before(order_of(x), x, order_of(y), y);
  }
  // The same, the keys' order_of given (a walk that keeps them).
  static bool before(std::uint64_t x_order, std::uint64_t x, std::uint64_t y_order, std::uint64_t y) {
    return x_order != y_order ? x_order < y_order : x < y;
  }
  // kSorted: the first entry not before `key` (size() if none).
  std::size_t lower_bound(std::uint64_t key) const {
    if (mode_ != Mode::kSorted) throw std::logic_error("PairMap: a search of a table not in order");
    std::size_t lo = 0, hi = entries_.size();
    while (lo < hi) {
      const std::size_t mid = lo + (hi - lo) / 2;
      if (before(entries_[mid].first, key)) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  // Entries are appended from now on, not looked up (the index is freed).
  void list() {
    slots_ = std::vector<Slot>(64);
    mode_ = Mode::kListed;
  }
  // kListed: a new entry for `key`, whether or not the table has one.
  V& append(std::uint64_t key) { return entries_.emplace_back(key, V{}).second; }
  // Puts the entries in order (before()) and merges each key's into one
  // (merge(V& to, V& from)): kSorted. A radix sort by the keys' hashes in
  // two passes: the first deals the whole table in place by the hashes'
  // top kTopBits (kTops places written at a time, each with its next entry
  // fetched ahead: a fleet's table is tens of megabytes); the second moves
  // each part that made (a few hundred kilobytes, in the cache) out by as
  // many of the next bits as the part has entries, so that nearly every
  // bucket holds one key, and writes it back from the front, a key's
  // entries merged. Dealing by all the bits at once in place missed the
  // cache at every entry, and sorting buckets of dozens took as long as the
  // dealing. A part of more than kApart entries (a pair called many times)
  // is dealt in place instead, so that no copy is larger than that. Keyed
  // hashes: no input can pile its pairs into one bucket.
  template <typename Merge>
  void settle(Merge&& merge) {
    // A list until it is done: a merge that throws leaves no table called
    // sorted (or indexed) that is not.
    slots_ = std::vector<Slot>(64);
    mode_ = Mode::kListed;
    const std::size_t n = entries_.size();
    if (n == 0) {
      mode_ = Mode::kSorted;
      return;
    }
    std::vector<std::size_t> top(kTops + 1), low, next;
    auto top_of = [](std::uint64_t key) { return order_of(key) >> (64 - kTopBits); };
    in_blocks(0, n, [&](Entry* e, Entry* end) {
      for (; e != end; ++e) ++top[top_of(e->first) + 1];
    });
    for (std::size_t t = 0; t < kTops; ++t) top[t + 1] += top[t];
    deal(0, top, next, top_of);
    auto in_order = [](const Entry& x, const Entry& y) { return before(x.first, y.first); };
    std::vector<Entry> apart;  // a part, by bucket; or a bucket across two blocks
    std::size_t w = 0;
    // Writes [e, last), in order, from w on, each key's entries merged.
    auto write = [&](Entry* e, Entry* const last) {
      while (e != last) {
        Entry* same = e + 1;
        for (; same != last && same->first == e->first; ++same) merge(e->second, same->second);
        if (&entries_[w] != e) entries_[w] = std::move(*e);
        ++w;
        e = same;
      }
    };
    // Sorts and writes the entries [a, b) of a part dealt in place.
    auto settle_bucket = [&](std::size_t a, std::size_t b) {
      if (a == b) return;
      if (Entries::one_block(a, b)) {
        Entry* first = &entries_[a];
        std::sort(first, first + (b - a), in_order);
        write(first, first + (b - a));
        return;
      }
      // Across blocks: one pair's many entries are merged where they are.
      std::size_t i = a + 1;
      while (i < b && entries_[i].first == entries_[a].first) ++i;
      if (i == b) {
        for (i = a + 1; i < b; ++i) merge(entries_[a].second, entries_[i].second);
        if (w != a) entries_[w] = std::move(entries_[a]);
        ++w;
        return;
      }
      apart.clear();
      for (i = a; i < b; ++i) apart.push_back(std::move(entries_[i]));
      std::sort(apart.begin(), apart.end(), in_order);
      write(apart.data(), apart.data() + apart.size());
    };
    for (std::size_t t = 0; t < kTops; ++t) {
      const std::size_t from = top[t], to = top[t + 1];
      if (from == to) continue;
      // Buckets by the bits below the top ones: about as many as entries.
      int bits = 1;
      while (bits < kMaxLowBits && (std::size_t{1} << bits) < to - from) ++bits;
      const int shift = 64 - kTopBits - bits;
      const std::size_t mask = (std::size_t{1} << bits) - 1;
      auto low_of = [shift, mask](std::uint64_t key) { return (order_of(key) >> shift) & mask; };
      low.assign((std::size_t{1} << bits) + 1, 0);
      in_blocks(from, to, [&](Entry* e, Entry* end) {
        for (; e != end; ++e) ++low[low_of(e->first) + 1];
      });
      for (std::size_t b = 0; b + 1 < low.size(); ++b) low[b + 1] += low[b];
      if (to - from > kApart) {
        deal(from, low, next, low_of);
        for (std::size_t b = 0; b + 1 < low.size(); ++b) settle_bucket(from + low[b], from + low[b + 1]);
        continue;
      }
      next.assign(low.begin(), low.end() - 1);
      apart.resize(to - from);
      in_blocks(from, to, [&](Entry* e, Entry* end) {
        for (; e != end; ++e) apart[next[low_of(e->first)]++] = std::move(*e);
      });
      for (std::size_t b = 0; b + 1 < low.size(); ++b) {
        Entry* first = apart.data() + low[b];
        Entry* last = apart.data() + low[b + 1];
        if (last - first > 1) std::sort(first, last, in_order);
        write(first, last);
      }
    }
    entries_.truncate(w);
    mode_ = Mode::kSorted;
  }
  // Whole blocks of entries past the last given back.
  void trim() { entries_.trim(); }
  // An index again for the entries (a key once each: not kListed).
  void reindex() {
    if (mode_ == Mode::kIndexed) return;
    if (mode_ == Mode::kListed) throw std::logic_error("PairMap: an index of a table whose keys repeat");
    std::size_t size = 64;
    while (size < 2 * (entries_.size() + 1)) size *= 2;
    index(size);
    mode_ = Mode::kIndexed;
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
    mode_ = Mode::kIndexed;
    return std::move(entries_);
  }

 private:
  using Entry = std::pair<std::uint64_t, V>;
  // settle's passes: the first by the hash's top kTopBits, the second by up
  // to kMaxLowBits more (a part of 2^kMaxLowBits entries or fewer in its
  // buckets by ones and twos).
  static constexpr int kTopBits = 7, kMaxLowBits = 16;
  // The most entries settle moves out at once (1.5 MiB of a fleet's).
  static constexpr std::size_t kApart = std::size_t{1} << 16;
  static constexpr std::size_t kTops = std::size_t{1} << kTopBits;
  // Deals the entries from `from` on in place by part(key), an American
  // flag sort's pass: start[p] is where part p's entries begin (counted
  // from `from`), start[p + 1] where they end. The next place of a part is
  // fetched two cache lines ahead.
  template <typename Part>
  void deal(std::size_t from, const std::vector<std::size_t>& start, std::vector<std::size_t>& next, Part&& part) {
    constexpr std::size_t kAhead = 2 * 64 / sizeof(Entry) + 1;
    const std::size_t parts = start.size() - 1;
    next.assign(start.begin(), start.end() - 1);
    for (std::size_t p = 0; p < parts; ++p) {
      while (next[p] < start[p + 1]) {
        Entry& here = entries_[from + next[p]];
        std::size_t d = part(here.first);
        if (d == p) {
          ++next[p];
          continue;
        }
        // A cycle: the entry goes to its part's next place, and the one
        // there to its own, until one belongs here.
        Entry held = std::move(here);
        while (d != p) {
          const std::size_t at = next[d]++;
          if (at + kAhead < start[d + 1]) __builtin_prefetch(&entries_[from + at + kAhead], 1);
          std::swap(held, entries_[from + at]);
          d = part(held.first);
        }
        entries_[from + next[p]++] = std::move(held);
      }
    }
  }
  // f(first, last) over the entries [from, to), a block's at a time.
  template <typename F>
  void in_blocks(std::size_t from, std::size_t to, F&& f) {
    while (from < to) {
      const std::size_t until = std::min(to, (from / Entries::kBlock + 1) * Entries::kBlock);
      Entry* first = &entries_[from];
      f(first, first + (until - from));
      from = until;
    }
  }
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
  void grow() { index(slots_.size() * 2); }
  void index(std::size_t size) {
    // The entries hold every key: the old index goes before the new one is
    // made, so a fleet's table is not indexed twice at that moment.
    slots_ = std::vector<Slot>();
    slots_.assign(size, Slot{});
    // A fleet's pairs are indexed again at random places of a table of
    // megabytes: each entry's slot is fetched kAhead entries before it is
    // written (its hash kept until then).
    constexpr std::uint32_t kAhead = 16;
    const auto n = static_cast<std::uint32_t>(entries_.size());
    std::uint64_t ahead[kAhead];
    auto fetch = [&](std::uint32_t v) {
      const std::uint64_t h = mix(entries_[v].first);
      ahead[v % kAhead] = h;
      __builtin_prefetch(&slots_[h & (size - 1)], 1);
    };
    for (std::uint32_t v = 0; v < n && v < kAhead; ++v) fetch(v);
    for (std::uint32_t v = 0; v < n; ++v) {
      const std::uint64_t h = ahead[v % kAhead];
      if (v + kAhead < n) fetch(v + kAhead);
      std::size_t i = h & (size - 1);
      while (slots_[i].value != kEmpty) i = (i + 1) & (size - 1);
      slots_[i] = Slot{tag_of(h), v};
    }
  }

  std::vector<Slot> slots_;
  // In blocks: a fleet's pairs take tens of megabytes, which a vector
  // would hold twice over while it doubles.
  Entries entries_;
  Mode mode_ = Mode::kIndexed;
};

}  // namespace ta
