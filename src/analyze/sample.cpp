#include "analyze/sample.h"

#include <algorithm>
#include <array>
#include <bit>

#include "util/distinct_count.h"
#include "util/small_sort.h"

namespace ta {

namespace {

template <typename T>
Distribution distribution_of(T* v, std::size_t n) {
  Distribution d;
  d.count = n;
  if (n == 0) return d;
  // ceil(p% of n), 0-based
  auto rank_of = [&](std::size_t p) { return std::max<std::size_t>((p * n + 99) / 100, 1) - 1; };
  if (n <= kSmallSort) {
    // A few values (most of a fleet's pairs of several calls): sorted in
    // place, by insertion, for less than the selections below cost.
    sort_small(v, v + n, [](T x, T y) { return x < y; });
    d.min = v[0];
    d.max = v[n - 1];
    d.p50 = v[rank_of(50)];
    d.p90 = v[rank_of(90)];
    d.p99 = v[rank_of(99)];
    return d;
  }
  // Selection instead of a full sort: each rank partitions the rest, so
  // the three cost about 2n steps together.
  auto rank = [&](std::size_t p, std::size_t from) {
    const std::size_t k = rank_of(p);
    std::nth_element(v + from, v + k, v + n);
    return k;
  };
  const auto [lo, hi] = std::minmax_element(v, v + n);
  d.min = *lo;
  d.max = *hi;
  const std::size_t k50 = rank(50, 0);
  d.p50 = v[k50];
  const std::size_t k90 = rank(90, k50);
  d.p90 = v[k90];
  d.p99 = v[rank(99, k90)];
  return d;
}
template <typename T>
Distribution distribution_of(std::vector<T>& v) {
  return distribution_of(v.data(), v.size());
}

}  // namespace

Distribution distribution(std::vector<Nanos>& v) { return distribution_of(v); }
Distribution distribution(Nanos* values, std::size_t n) { return distribution_of(values, n); }

namespace {

// Bucket of a magnitude at precision p (P = 2^p buckets per power of two):
// below 2P each value has its own; above, [2^e, 2^(e+1)) is cut into P.
std::uint32_t bucket_of(std::uint64_t m, int p) {
  const std::uint64_t exact = std::uint64_t{2} << p;
  if (m < exact) return static_cast<std::uint32_t>(m);
  const int e = 63 - std::countl_zero(m);  // > p
  const auto sub = static_cast<std::uint32_t>((m >> (e - p)) & ((std::uint64_t{1} << p) - 1));
  return static_cast<std::uint32_t>(exact) + (static_cast<std::uint32_t>(e - p - 1) << p) + sub;
}

// The middle of a bucket.
std::uint64_t middle_of(std::uint32_t b, int p) {
  const std::uint64_t exact = std::uint64_t{2} << p;
  if (b < exact) return b;
  const int e = p + 1 + static_cast<int>((b - exact) >> p);
  const std::uint64_t sub = (b - exact) & ((std::uint64_t{1} << p) - 1);
  const std::uint64_t low = ((std::uint64_t{1} << p) + sub) << (e - p);
  return low + ((std::uint64_t{1} << (e - p)) >> 1);
}

// Keys in value order: negative values below 2^31, the rest above.
constexpr std::uint32_t kZeroKey = 0x80000000u;

}  // namespace

// Counts per bucket key. Dense (a count for every key between the lowest
// and the highest seen: one step per value) or sparse (only keys that hold
// values, found by binary search: memory follows the spread of the values).
struct Sample::Histogram {
  int precision = 6;
  bool sparse = false;
  std::uint32_t lo = 0;             // dense: key of counts[0]
  std::vector<std::uint32_t> keys;  // sparse: sorted
  std::vector<std::uint64_t> counts;
  std::uint64_t count = 0;
  Nanos min = std::numeric_limits<Nanos>::max();
  Nanos max = std::numeric_limits<Nanos>::min();

  std::uint32_t key_of(Nanos v) const {
    if (v < 0) return kZeroKey - 1 - bucket_of(0 - static_cast<std::uint64_t>(v), precision);
    return kZeroKey + bucket_of(static_cast<std::uint64_t>(v), precision);
  }
  Nanos value_of(std::uint32_t key) const {
    if (key >= kZeroKey) {
      const std::uint64_t m = middle_of(key - kZeroKey, precision);
      return m >= std::uint64_t{1} << 63 ? max : static_cast<Nanos>(m);
    }
    const std::uint64_t m = middle_of(kZeroKey - 1 - key, precision);
    return m >= std::uint64_t{1} << 63 ? min : -static_cast<Nanos>(m);
  }
  std::size_t size() const { return counts.size(); }
  std::uint32_t key_at(std::size_t i) const { return sparse ? keys[i] : lo + static_cast<std::uint32_t>(i); }

  // Sparse: keys not yet in order wait here, a few at a time, and are
  // merged in all at once (a key inserted in order moves all after it, and
  // a live run's host pairs meet new keys through the run).
  static constexpr std::size_t kPending = 32;
  std::vector<std::pair<std::uint32_t, std::uint64_t>> pending;
  // The keys in order (sparse: before they are read).
  void settle() {
    if (pending.empty()) return;
    std::sort(pending.begin(), pending.end());
    std::size_t from = keys.size(), at = keys.size() + pending.size();
    keys.resize(at);
    counts.resize(at);
    // Merged from the back, in place.
    for (std::size_t p = pending.size(); p > 0;) {
      --at;
      if (from > 0 && keys[from - 1] > pending[p - 1].first) {
        --from;
        keys[at] = keys[from];
        counts[at] = counts[from];
      } else {
        --p;
        keys[at] = pending[p].first;
        counts[at] = pending[p].second;
      }
    }
    pending.clear();
  }
  void add_key(std::uint32_t key, std::uint64_t n) {
    if (sparse) {
      const auto it = std::lower_bound(keys.begin(), keys.end(), key);
      if (it != keys.end() && *it == key) {
        counts[static_cast<std::size_t>(it - keys.begin())] += n;
        return;
      }
      for (auto& [k, c] : pending) {
        if (k == key) {
          c += n;
          return;
        }
      }
      pending.emplace_back(key, n);
      if (pending.size() == kPending) settle();
      return;
    }
    if (counts.empty()) {
      lo = key;
      counts.assign(1, 0);
    } else if (key < lo) {
      counts.insert(counts.begin(), lo - key, 0);
      lo = key;
    } else if (key - lo >= counts.size()) {
      counts.resize(key - lo + 1, 0);
    }
    counts[key - lo] += n;
  }
  void add(Nanos v, std::uint64_t n = 1) {
    count += n;
    min = std::min(min, v);
    max = std::max(max, v);
    add_key(key_of(v), n);
  }
  // Values in ascending order, into an empty histogram.
  void add_in_order(const std::vector<std::pair<Nanos, std::uint64_t>>& values) {
    if (sparse) {
      keys.reserve(values.size());
      counts.reserve(values.size());
    }
    for (const auto& [v, n] : values) {
      count += n;
      min = std::min(min, v);
      max = std::max(max, v);
      const std::uint32_t key = key_of(v);
      if (sparse && !keys.empty() && keys.back() == key) {
        counts.back() += n;
      } else if (sparse) {
        keys.push_back(key);
        counts.push_back(n);
      } else {
        add_key(key, n);
      }
    }
  }
  void add(const Histogram& o) {  // same precision, settled
    if (o.count == 0) return;
    count += o.count;
    min = std::min(min, o.min);
    max = std::max(max, o.max);
    for (std::size_t i = 0; i < o.size(); ++i)
      if (o.counts[i]) add_key(o.key_at(i), o.counts[i]);
  }
  // The value of rank k (1-based) in ascending order, clamped to [min, max]
  // (settled).
  Nanos at_rank(std::uint64_t k) const {
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < size(); ++i) {
      seen += counts[i];
      if (seen >= k) return std::clamp(value_of(key_at(i)), min, max);
    }
    return max;
  }
};

Sample::Sample() = default;
Sample::Sample(std::size_t exact_limit, int precision, bool sparse)
    : limit_(exact_limit), precision_(precision), sparse_(sparse) {}
Sample::~Sample() = default;
Sample::Sample(Sample&&) noexcept = default;
Sample& Sample::operator=(Sample&&) noexcept = default;

namespace {
// Past this many distinct values, a sample whose values repeat fewer than
// twice on average is listed instead: its table would outweigh the list.
constexpr std::size_t kCountedDistinct = 4096;
// A young list's values are counted once they repeat this many times over
// (a table takes 32 bytes or more a distinct value, the list 4 a value);
// distinct values estimated (util/distinct_count.h), not sorted out.
constexpr std::uint64_t kCountedRepeats = 8;
// A list this long is no longer looked at: it stays listed.
constexpr std::uint64_t kLastLook = 1u << 16;
}  // namespace

template <typename F>
void Sample::for_each_exact(F&& f) const {
  for (const Slot& s : table_)
    if (s.count) f(s.value, s.count);
  for (std::int32_t v : narrow_) f(static_cast<Nanos>(v), 1);
  for (Nanos v : values_) f(v, 1);
}

void Sample::grow_table() {
  std::vector<Slot> old = std::move(table_);
  // Small at first: a live run holds a sample for each of up to
  // --max-labels hosts and pairs, most with a value or two.
  const std::size_t cap = old.empty() ? 4 : old.size() * 2;
  table_.assign(cap, Slot{0, 0});
  shift_ = 64 - std::countr_zero(cap);
  for (const Slot& s : old) {
    if (!s.count) continue;
    std::size_t i = slot_of(s.value);
    while (table_[i].count) i = (i + 1) & (cap - 1);
    table_[i] = s;
  }
}

void Sample::count_value(Nanos v, std::uint64_t n) {
  if (table_.empty()) grow_table();
  for (std::size_t i = slot_of(v);; i = (i + 1) & (table_.size() - 1)) {
    Slot& s = table_[i];
    if (s.count == 0) {
      if ((distinct_ + 1) * 2 > table_.size()) {
        if (distinct_ >= kCountedDistinct && distinct_ * 2 > total_) {
          to_list();
          list(v, n);
          return;
        }
        grow_table();
        count_value(v, n);
        return;
      }
      s = Slot{v, n};
      ++distinct_;
      total_ += n;
      return;
    }
    if (s.value == v) {
      s.count += n;
      total_ += n;
      return;
    }
  }
}

void Sample::to_list() {
  std::vector<Slot> table = std::move(table_);
  table_ = {};
  distinct_ = 0;
  listed_ = true;
  young_ = false;
  const std::uint64_t total = total_;
  total_ = 0;
  narrow_.reserve(total + total / 2);
  for (const Slot& s : table)
    if (s.count) list(s.value, s.count);
}

void Sample::list(Nanos v, std::uint64_t n) {
  if (young_ && n > 1) {
    // Copies of a value (a merged count): counted from here on.
    to_counted();
    push(v, n);
    return;
  }
  if (young_ && total_ + n >= kFirstLook) {
    // Looked at each time it reaches a power of two from 64 on (the values
    // it holds then), until it is long.
    if (total_ >= kLastLook) {
      young_ = false;
    } else if (std::bit_floor(total_ + n) > std::bit_floor(std::max<std::uint64_t>(total_, 1))) {
      look_at_list();
      if (!listed_) {
        count_value(v, n);
        return;
      }
    }
  }
  total_ += n;
  if (!wide_ && v == static_cast<std::int32_t>(v)) {
    if (narrow_.capacity() == 0) narrow_.reserve(8);
    narrow_.insert(narrow_.end(), n, static_cast<std::int32_t>(v));
    return;
  }
  widen();
  values_.insert(values_.end(), n, v);
}

void Sample::look_at_list() {
  const double distinct = estimate_distinct(static_cast<std::size_t>(total_), [&](auto&& mark) {
    auto hash = [](Nanos v) { return hash_number(static_cast<std::uint64_t>(v)); };
    if (wide_) {
      for (const Nanos v : values_) mark(hash(v));
    } else {
      for (const std::int32_t v : narrow_) mark(hash(v));
    }
  });
  if (static_cast<double>(total_) < distinct * kCountedRepeats) return;
  to_counted();  // they repeat
}

void Sample::to_counted() {
  const std::vector<std::int32_t> narrow = std::move(narrow_);
  const std::vector<Nanos> values = std::move(values_);
  narrow_ = {};
  values_ = {};
  wide_ = false;
  listed_ = false;
  young_ = false;
  total_ = 0;
  // Through push: a table that outgrows its values lists them again.
  for (std::int32_t v : narrow) push(v, 1);
  for (Nanos v : values) push(v, 1);
}

void Sample::widen() {
  if (wide_) return;
  values_.reserve(narrow_.size() + narrow_.size() / 2 + 1);
  values_.assign(narrow_.begin(), narrow_.end());
  narrow_ = {};
  wide_ = true;
}

void Sample::to_histogram() {
  hist_ = std::make_unique<Histogram>();
  hist_->precision = precision_;
  hist_->sparse = sparse_;
  // The exact values in order, so that each bucket is added at the end
  // (a bucket added before others shifts them: a live run makes a histogram
  // of 64 values for each of thousands of host pairs).
  std::vector<std::pair<Nanos, std::uint64_t>> exact;
  exact.reserve(table_.empty() ? narrow_.size() + values_.size() : distinct_);
  for_each_exact([&](Nanos v, std::uint64_t n) { exact.emplace_back(v, n); });
  std::sort(exact.begin(), exact.end());
  hist_->add_in_order(exact);
  table_ = {};
  narrow_ = {};
  values_ = {};
  distinct_ = 0;
  total_ = 0;
  listed_ = young_ = wide_ = false;
}

void Sample::push(Nanos v, std::uint64_t n) {
  if (n == 0) return;
  if (hist_ || total_ + n > limit_) {
    if (!hist_) to_histogram();
    hist_->add(v, n);
  } else if (listed_) {
    list(v, n);
  } else {
    count_value(v, n);
  }
}

void Sample::merge(Sample&& o) {
  const std::size_t other_limit = o.limit_;
  const int other_precision = o.precision_;
  const bool other_sparse = o.sparse_;
  if (count() == 0) {  // take it whole, shape included
    *this = std::move(o);
  } else if (!hist_ && !o.hist_ && total_ + o.total_ <= limit_) {
    if (young_ && !o.young_) {
      // The older one takes the young one's values: a counted sample is
      // not listed for a young list's sake.
      Sample young = std::move(*this);
      *this = std::move(o);
      o = std::move(young);
    }
    if (o.young_ && !listed_) {  // a young list into a counted sample: counted there
      o.for_each_exact([&](Nanos v, std::uint64_t n) { push(v, n); });
    } else if (!listed_ && !o.listed_) {
      for (const Slot& s : o.table_)
        if (s.count) push(s.value, s.count);
    } else {
      const std::uint64_t before = total_;
      if (!listed_) to_list();
      if (!o.listed_) o.to_list();
      // Appended at once, grown to exactly the size needed: merged samples
      // are the largest, and the usual doubling would be memory for nothing.
      if (wide_ || o.wide_) {
        widen();
        o.widen();
        values_.reserve(values_.size() + o.values_.size());
        values_.insert(values_.end(), o.values_.begin(), o.values_.end());
      } else {
        narrow_.reserve(narrow_.size() + o.narrow_.size());
        narrow_.insert(narrow_.end(), o.narrow_.begin(), o.narrow_.end());
      }
      total_ += o.total_;
      // Two young lists (only then is this one young): looked at once if a
      // look fell due among the values appended, as pushing them one by
      // one would have (the values are the same either way).
      if (young_ && total_ >= kFirstLook) {
        if (before >= kLastLook) {
          young_ = false;
        } else if (std::bit_floor(total_) > std::bit_floor(std::max<std::uint64_t>(before, 1))) {
          look_at_list();
        }
      }
    }
  } else {
    if (!hist_) to_histogram();
    o.for_each_exact([&](Nanos v, std::uint64_t n) { hist_->add(v, n); });
    if (o.hist_) o.hist_->settle();
    if (o.hist_ && o.hist_->precision == hist_->precision) {
      hist_->add(*o.hist_);
    } else if (o.hist_) {  // another precision: each bucket as its middle value
      for (std::size_t i = 0; i < o.hist_->size(); ++i) {
        if (!o.hist_->counts[i]) continue;
        const Nanos v = std::clamp(o.hist_->value_of(o.hist_->key_at(i)), o.hist_->min, o.hist_->max);
        hist_->add_key(hist_->key_of(v), o.hist_->counts[i]);
      }
      hist_->count += o.hist_->count;
      hist_->min = std::min(hist_->min, o.hist_->min);
      hist_->max = std::max(hist_->max, o.hist_->max);
    }
  }
  o = Sample(other_limit, other_precision, other_sparse);
}

std::uint64_t Sample::counted() const { return hist_->count; }

Distribution Sample::summarize() {
  if (listed_) return wide_ ? distribution_of(values_) : distribution_of(narrow_);
  auto rank = [](std::uint64_t p, std::uint64_t n) { return std::max<std::uint64_t>((p * n + 99) / 100, 1); };
  Distribution d;
  if (!hist_) {
    // Counted: the distinct values in order, ranks found by their counts.
    d.count = total_;
    if (d.count == 0) return d;
    // A few values (a fleet's pairs have hundreds of thousands of samples
    // of one or two) are sorted on the stack, with no allocation.
    constexpr std::size_t kFew = 16;
    std::array<Slot, kFew> few;
    std::vector<Slot> many;
    Slot* held = few.data();
    std::size_t room = kFew;
    if (distinct_ > kFew) {
      many.resize(distinct_);
      held = many.data();
      room = distinct_;
    }
    std::size_t n = 0;
    for (const Slot& s : table_)
      if (s.count && n < room) held[n++] = s;  // distinct_ counts them: never past room
    std::sort(held, held + n, [](const Slot& a, const Slot& b) { return a.value < b.value; });
    d.min = held[0].value;
    d.max = held[n - 1].value;
    const std::uint64_t ranks[3] = {rank(50, d.count), rank(90, d.count), rank(99, d.count)};
    Nanos* out[3] = {&d.p50, &d.p90, &d.p99};
    std::uint64_t seen = 0;
    std::size_t next = 0;
    for (std::size_t i = 0; i < n && next < 3; ++i) {
      seen += held[i].count;
      while (next < 3 && seen >= ranks[next]) *out[next++] = held[i].value;
    }
    return d;
  }
  hist_->settle();
  d.count = hist_->count;
  if (d.count == 0) return d;
  d.min = hist_->min;
  d.max = hist_->max;
  d.p50 = hist_->at_rank(rank(50, d.count));
  d.p90 = hist_->at_rank(rank(90, d.count));
  d.p99 = hist_->at_rank(rank(99, d.count));
  return d;
}

}  // namespace ta
