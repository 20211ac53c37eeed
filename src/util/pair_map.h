// A small open-addressing map from 64-bit keys (two symbols packed) to
// values, for the per-call tallies of analysis: one probe, no node per entry.
//
// A fleet's table has nearly as many pairs as calls, and then a lookup a
// call is a cache miss a call, and the index is megabytes of new memory:
// such a table can drop its index and take each call as an entry of its
// own, appended in order (list, append), then be put in order (by the top
// bits of the keys' hashes, then the keys) and have each key's entries
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
  // The order of a settled table: by the top bits of the keys' hashes
  // (kBucketBits: a bucket of entries), then by the keys.
  static constexpr int kBucketBits = 14;
  static std::size_t bucket_of(std::uint64_t key) { return mix(key) >> (64 - kBucketBits); }
  static bool before(std::uint64_t x, std::uint64_t y) {
    const std::size_t bx = bucket_of(x), by = bucket_of(y);
    return bx != by ? bx < by : x < y;
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
  // (merge(V& to, V& from)): kSorted. The entries are dealt into their
  // buckets in place (each bucket filled from its front: 16,384 places
  // written at a time, a megabyte of cache lines, each with the next entry
  // there fetched ahead), then each bucket (a few dozen entries for a
  // fleet's hundreds of thousands) sorted by key in the cache, its keys'
  // entries merged, and written from the front. Keyed hashes: no input
  // can pile its pairs into one bucket.
  template <typename Merge>
  void settle(Merge&& merge) {
    using Entry = std::pair<std::uint64_t, V>;
    slots_ = std::vector<Slot>(64);
    mode_ = Mode::kSorted;
    const std::size_t n = entries_.size();
    if (n == 0) return;
    constexpr std::size_t kBuckets = std::size_t{1} << kBucketBits;
    std::vector<std::size_t> start(kBuckets + 1), next(kBuckets);
    for (std::size_t i = 0; i < n; ++i) ++start[bucket_of(entries_[i].first) + 1];
    for (std::size_t b = 0; b < kBuckets; ++b) start[b + 1] += start[b];
    std::copy(start.begin(), start.end() - 1, next.begin());
    constexpr std::size_t kAhead = 64 / sizeof(Entry) + 1;  // the next cache line
    auto fetch_next = [&](std::size_t d) {
      if (next[d] + kAhead < start[d + 1]) __builtin_prefetch(&entries_[next[d] + kAhead], 1);
    };
    for (std::size_t b = 0; b < kBuckets; ++b) {
      if (next[b] < start[b + 1]) __builtin_prefetch(&entries_[next[b]], 1);
    }
    for (std::size_t b = 0; b < kBuckets; ++b) {
      while (next[b] < start[b + 1]) {
        Entry& here = entries_[next[b]];
        std::size_t d = bucket_of(here.first);
        if (d == b) {
          ++next[b];
          continue;
        }
        // A cycle: the entry goes to its bucket's next place, and the one
        // there to its own, until one belongs here.
        Entry held = std::move(here);
        while (d != b) {
          std::swap(held, entries_[next[d]++]);
          fetch_next(d);
          d = bucket_of(held.first);
        }
        entries_[next[b]++] = std::move(held);
      }
    }
    auto by_key = [](const Entry& x, const Entry& y) { return x.first < y.first; };
    std::vector<Entry> apart;  // a bucket across two blocks
    std::size_t w = 0;
    auto write = [&](Entry* from, Entry* to) {
      for (Entry* e = from; e != to;) {
        Entry* same = e + 1;
        for (; same != to && same->first == e->first; ++same) merge(e->second, same->second);
        if (&entries_[w] != e) entries_[w] = std::move(*e);
        ++w;
        e = same;
      }
    };
    for (std::size_t b = 0; b < kBuckets; ++b) {
      const std::size_t from = start[b], to = start[b + 1];
      if (from == to) continue;
      if (Entries::one_block(from, to)) {
        Entry* first = &entries_[from];
        std::sort(first, first + (to - from), by_key);
        write(first, first + (to - from));
        continue;
      }
      apart.clear();
      for (std::size_t i = from; i < to; ++i) apart.push_back(std::move(entries_[i]));
      std::sort(apart.begin(), apart.end(), by_key);
      write(apart.data(), apart.data() + apart.size());
    }
    entries_.truncate(w);
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
