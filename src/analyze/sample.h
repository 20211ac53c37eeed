// The values behind one distribution. Exact by default: every value is kept
// and percentiles are nearest-rank. A young sample lists its values, 4
// bytes each (a fleet has tens of thousands of caller -> callee pairs of a
// few dozen calls: a list is an eighth of a table's size, and a push writes
// where the last one did). Each time the list doubles from 64 values, it is
// looked at: once its values repeat 8 times over, they are counted, each
// distinct value once with its count (durations logged in whole
// milliseconds: a few hundred distinct values among millions); a counted
// sample whose values stop repeating is listed again, for good. Either way
// the percentiles are exact, and a sample of a million spans takes
// kilobytes instead of megabytes. A bounded sample (live mode, where input
// never ends) keeps its first values exactly and, past that, counts values
// in log-scaled buckets: each power of two is cut into 2^precision buckets,
// and a percentile is the middle of its bucket, within 2^-(precision+1) of
// the exact value (precision 6: 0.8%).
// Memory follows the spread of the values, not their number.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

#include "store/span.h"
#include "util/hash.h"
#include "util/longest_run.h"

namespace ta {

// Exact nearest-rank percentiles: pN is the smallest value with at least N%
// of the values at or below it.
struct Distribution {
  std::uint64_t count = 0;
  Nanos min = 0, p50 = 0, p90 = 0, p99 = 0, max = 0;
};
Distribution distribution(std::vector<Nanos>& values);  // reorders values
Distribution distribution(Nanos* values, std::size_t n);  // reorders values

class Sample {
 public:
  Sample();
  // sparse: keep only buckets that hold values (less memory for values
  // spread wide, a binary search per value instead of one step).
  explicit Sample(std::size_t exact_limit, int precision = 6, bool sparse = false);
  Sample(Sample&&) noexcept;
  Sample& operator=(Sample&&) noexcept;
  ~Sample();

  void push(Nanos v) {
    if (listed_ && !wide_ && !hist_ && total_ < limit_ && narrow_.size() < narrow_.capacity() &&
        v == static_cast<std::int32_t>(v) && !(young_ && look_due(total_ + 1))) {
      // Listed, with room, and no look due: appended.
      narrow_.push_back(static_cast<std::int32_t>(v));
      ++total_;
      return;
    }
    if (!listed_ && !hist_ && total_ < limit_) {
      // Counted: one probe of a small table, nearly always a hit.
      if (!table_.empty()) {
        for (std::size_t i = slot_of(v);; i = (i + 1) & (table_.size() - 1)) {
          Slot& s = table_[i];
          if (s.count == 0) break;
          if (s.value == v) {
            ++s.count;
            ++total_;
            return;
          }
        }
      }
    }
    push(v, 1);
  }
  // n copies of v.
  void push(Nanos v, std::uint64_t n);
  // Brings the slot a push of v would update into the cache.
  void prefetch(Nanos v) const {
    if (!table_.empty()) {
      __builtin_prefetch(&table_[slot_of(v)]);
    } else if (listed_ && !wide_) {
      __builtin_prefetch(narrow_.data() + narrow_.size());
    }
  }
  // Takes every value of `other`.
  void merge(Sample&& other);
  std::uint64_t count() const { return hist_ ? counted() : total_; }
  bool exact() const { return !hist_; }
  bool empty() const { return count() == 0; }
  // The distribution; reorders the kept values.
  Distribution summarize();
  // The memory its values take (for tests and estimates).
  std::size_t held_bytes() const {
    return table_.capacity() * sizeof(Slot) + narrow_.capacity() * sizeof(std::int32_t) +
           values_.capacity() * sizeof(Nanos);
  }
  // The longest run of full slots in its table of counted values
  // (util/longest_run.h; 0 while its values are listed).
  std::size_t longest_run() const {
    return ta::longest_run(table_, [](const Slot& s) { return s.count != 0; });
  }
  void shrink() {
    narrow_.shrink_to_fit();
    values_.shrink_to_fit();
  }

 private:
  struct Histogram;
  // A young list is looked at as it grows to 64 values, 128, 256...
  static constexpr std::uint64_t kFirstLook = 64;
  static bool look_due(std::uint64_t total) { return total >= kFirstLook && (total & (total - 1)) == 0; }
  struct Slot {
    Nanos value;
    std::uint64_t count;  // 0: a free slot
  };
  // Values come from the input: keyed (util/hash.h), so none can be
  // crafted to pile up in one slot.
  std::size_t slot_of(Nanos v) const {
    return static_cast<std::size_t>(hash_number(static_cast<std::uint64_t>(v)) >> shift_);
  }
  void count_value(Nanos v, std::uint64_t n);
  void grow_table();
  void to_list();
  void look_at_list();  // a young list's values counted once they repeat
  void to_counted();    // a young list's values counted
  void list(Nanos v, std::uint64_t n);
  void widen();
  std::uint64_t counted() const;
  void to_histogram();
  template <typename F>
  void for_each_exact(F&& f) const;  // f(value, count) for every value held exactly

  // Exact values, counted: (value, count) slots, open addressing, at most
  // half full.
  std::vector<Slot> table_;
  std::size_t distinct_ = 0;
  int shift_ = 64;
  // Exact values, listed (while young, or once they hardly repeat): 32 bits
  // each while they all fit (most durations and offsets in nanoseconds do,
  // up to ±2.1 s), else 64.
  bool listed_ = true;
  bool young_ = true;  // listed, and looked at as it grows
  std::vector<std::int32_t> narrow_;
  std::vector<Nanos> values_;
  bool wide_ = false;
  std::uint64_t total_ = 0;  // values held exactly
  std::size_t limit_ = std::numeric_limits<std::size_t>::max();
  int precision_ = 6;
  bool sparse_ = false;
  std::unique_ptr<Histogram> hist_;
};

}  // namespace ta
