#include "live/live_assembler.h"

#include <algorithm>
#include <limits>

#include "analyze/critical_path.h"
#include "util/hash.h"

namespace ta {

// A set of 64-bit keys, each marked "seen" or "expected" in its lowest bit,
// so a lookup touches one array. Linear probing, backward-shift erase:
// memory follows the peak number of keys and there are no tombstones.
class LiveAssembler::KeySet {
 public:
  KeySet() : slots_(1024, 0) {}
  // Marks key seen: {it was new, it had been expected}.
  std::pair<bool, bool> see(std::uint64_t key) {
    std::uint64_t& slot = find_or_add(key);
    if (slot == 0) {
      slot = tag(key);
      ++size_;
      return {true, false};
    }
    const bool expected = slot & 1;
    slot &= ~std::uint64_t{1};
    return {false, expected};
  }
  // Adds key as expected; true when it was new.
  bool expect(std::uint64_t key) {
    std::uint64_t& slot = find_or_add(key);
    if (slot != 0) return false;
    slot = tag(key) | 1;
    ++size_;
    return true;
  }
  void prefetch(std::uint64_t key) const { __builtin_prefetch(&slots_[home(tag(key))]); }
  bool contains(std::uint64_t key) const {
    const std::uint64_t t = tag(key);
    for (std::size_t i = home(t);; i = (i + 1) & (slots_.size() - 1)) {
      if ((slots_[i] & ~std::uint64_t{1}) == t) return true;
      if (slots_[i] == 0) return false;
    }
  }
  void erase(std::uint64_t key) {
    const std::uint64_t t = tag(key);
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = home(t);
    for (;; i = (i + 1) & mask) {
      if (slots_[i] == 0) return;
      if ((slots_[i] & ~std::uint64_t{1}) == t) break;
    }
    // Shift back later entries of the probe run that may not stay behind the hole.
    for (std::size_t j = (i + 1) & mask;; j = (j + 1) & mask) {
      if (slots_[j] == 0) break;
      const std::size_t h = home(slots_[j] & ~std::uint64_t{1});
      if (((j - h) & mask) >= ((j - i) & mask)) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i] = 0;
    --size_;
  }
  std::size_t size() const { return size_; }

 private:
  // The key without its lowest bit, never 0.
  static std::uint64_t tag(std::uint64_t key) {
    key &= ~std::uint64_t{1};
    return key ? key : 2;
  }
  std::size_t home(std::uint64_t t) const { return (t >> 1) & (slots_.size() - 1); }
  // The slot holding key, or the empty one where it would go.
  std::uint64_t& find_or_add(std::uint64_t key) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    const std::uint64_t t = tag(key);
    std::size_t i = home(t);
    for (;; i = (i + 1) & (slots_.size() - 1))
      if (slots_[i] == 0 || (slots_[i] & ~std::uint64_t{1}) == t) return slots_[i];
  }
  void grow() {
    std::vector<std::uint64_t> slots(slots_.size() * 2, 0);
    const std::size_t mask = slots.size() - 1;
    for (std::uint64_t e : slots_) {
      if (!e) continue;
      std::size_t i = ((e & ~std::uint64_t{1}) >> 1) & mask;
      while (slots[i]) i = (i + 1) & mask;
      slots[i] = e;
    }
    slots_.swap(slots);
  }
  std::vector<std::uint64_t> slots_;
  std::size_t size_ = 0;
};

struct LiveAssembler::Open {
  std::uint64_t seq = 0;  // order of first appearance; also tells a reused slot apart
  Nanos activity = 0;     // latest end of its spans
  std::uint32_t missing = 0;
  bool root = false;
  bool open = false;
};

struct LiveAssembler::Due {
  Nanos activity;
  std::uint64_t seq;
  std::uint32_t slot;
  // Heap order: the earliest activity on top, ties by first appearance.
  bool operator<(const Due& o) const { return activity != o.activity ? activity > o.activity : seq > o.seq; }
};

namespace {


std::uint64_t span_key(std::string_view span_id, std::uint64_t trace_hash) {
  const std::uint64_t k = XXH3_64bits_withSeed(span_id.data(), span_id.size(), trace_hash);
  return k ? k : 1;
}

Nanos end_of(const SpanRecord& r) {
  Nanos end = r.start;
  return __builtin_add_overflow(r.start, r.duration, &end) ? std::numeric_limits<Nanos>::max() : end;
}

}  // namespace

LiveAssembler::LiveAssembler(const LiveOptions& options, Sink sink)
    : options_(options),
      sink_(std::move(sink)),
      store_(options.max_trace_spans),
      ids_(std::make_unique<KeySet>()),
      emitted_(std::make_unique<KeySet>()) {}

LiveAssembler::~LiveAssembler() = default;

std::size_t LiveAssembler::tracked_ids() const { return ids_->size(); }
std::size_t LiveAssembler::queued() const { return due_.size(); }

Nanos LiveAssembler::watermark() const {
  if (!any_) return std::numeric_limits<Nanos>::min();
  Nanos w = 0;
  return __builtin_sub_overflow(latest_, options_.window, &w) ? std::numeric_limits<Nanos>::min() : w;
}

LiveAssembler::Added LiveAssembler::add(const SpanRecord& r, std::uint32_t file, std::uint32_t line) {
  const std::uint64_t trace_hash = hash_bytes(r.trace_id);
  // The span's keys, fetched into cache while the span is stored.
  keys_.clear();
  keys_.push_back(span_key(r.span_id, trace_hash));
  if (!r.parent_id.empty()) keys_.push_back(span_key(r.parent_id, trace_hash));
  for (const CallRecord& c : r.calls) keys_.push_back(span_key(c.span_id, trace_hash));
  for (std::uint64_t k : keys_) ids_->prefetch(k);
  if (!any_ || r.start > latest_) latest_ = r.start;
  any_ = true;
  const std::uint32_t known = store_.find_slot(r.trace_id, trace_hash);
  if (known == kNone && emitted_->contains(trace_hash)) {
    ++counts_.late;
    expire();
    return Added::kLate;
  }
  const SpanStore::Added added = store_.add_to_slot(r, file, line, trace_hash, known);
  const std::uint32_t slot = added.slot;
  if (slot >= open_.size()) open_.resize(slot + 1);
  Open& o = open_[slot];
  if (added.new_trace) {
    o = Open{next_seq_++, end_of(r), 0, false, true};
    due_.push_back({o.activity, o.seq, slot});
    std::push_heap(due_.begin(), due_.end());
    ++open_count_;
    // Entries of traces written since stay until popped; past twice the open
    // traces, rebuild from those still open, so the queue follows them.
    if (due_.size() > 2 * open_count_ + 1024) {
      due_.clear();
      for (std::uint32_t s = 0; s < open_.size(); ++s)
        if (open_[s].open) due_.push_back({open_[s].activity, open_[s].seq, s});
      std::make_heap(due_.begin(), due_.end());
    }
    counts_.open_peak = std::max<std::uint64_t>(counts_.open_peak, open_count_);
  } else {
    o.activity = std::max(o.activity, end_of(r));
  }
  if (!added.kept) {
    ++counts_.dropped;
    expire();
    evict();
    return Added::kDropped;
  }

  if (ids_->see(keys_[0]).second) --o.missing;
  o.root |= r.parent_id.empty();
  // The parent (if any) and the callees must come too.
  for (std::size_t k = 1; k < keys_.size(); ++k) o.missing += ids_->expect(keys_[k]);
  if (o.root && o.missing == 0) emit(slot, Emit::kComplete);
  expire();
  evict();
  return Added::kSpan;
}

bool LiveAssembler::pop_due(Due& due) {
  while (!due_.empty()) {
    std::pop_heap(due_.begin(), due_.end());
    const Due d = due_.back();
    due_.pop_back();
    const Open& o = open_[d.slot];
    if (!o.open || o.seq != d.seq) continue;  // written already
    if (o.activity != d.activity) {            // active since: queue it again
      due_.push_back({o.activity, o.seq, d.slot});
      std::push_heap(due_.begin(), due_.end());
      continue;
    }
    due = d;
    return true;
  }
  return false;
}

void LiveAssembler::expire() {
  const Nanos mark = watermark();
  while (!due_.empty() && due_.front().activity < mark) {
    Due d{};
    if (!pop_due(d)) break;
    if (d.activity >= mark) {  // refreshed past the mark: keep waiting
      due_.push_back(d);
      std::push_heap(due_.begin(), due_.end());
      break;
    }
    emit(d.slot, Emit::kWindow);
  }
  // Forget written traces once the latest time is two windows past the
  // latest time when they were written (or when too many are remembered):
  // a span of theirs after that starts a new trace.
  Nanos forget = mark;
  if (__builtin_sub_overflow(mark, options_.window, &forget)) forget = std::numeric_limits<Nanos>::min();
  const std::size_t cap = std::max<std::size_t>(options_.max_open_traces * 4, 4096);
  while (!emitted_order_.empty() && (emitted_order_.front().first < forget || emitted_order_.size() > cap)) {
    emitted_->erase(emitted_order_.front().second);
    emitted_order_.pop_front();
  }
}

void LiveAssembler::evict() {
  while (open_count_ > options_.max_open_traces) {
    Due d{};
    if (!pop_due(d)) break;
    emit(d.slot, Emit::kEvicted);
  }
}

void LiveAssembler::emit(std::uint32_t slot, Emit why) {
  const TraceData& data = store_.at(slot);
  const std::uint64_t trace_hash = hash_bytes(data.trace_id);
  Trace& t = shown_.trace;
  assemble(data, t, options_.assemble);
  // Forget the trace's span keys: its spans' ids (an expected callee that
  // never came is an inferred span) and the parents that never came.
  for (std::uint32_t i = 0; i < t.size(); ++i) {
    const Span& s = t.spans[i];
    ids_->erase(span_key(t.span_id(i), trace_hash));
    // A parent that never came (an orphan's), or one not taken as the parent
    // (a requestStacks entry elsewhere named the caller, or a cycle was cut).
    if (s.parent_id.length && (t.parent[i] == kNone || t.str(s.parent_id) != t.span_id(t.parent[i])))
      ids_->erase(span_key(t.str(s.parent_id), trace_hash));
  }
  emitted_->see(trace_hash);
  emitted_order_.emplace_back(any_ ? latest_ : std::numeric_limits<Nanos>::min(), trace_hash);
  open_[slot].open = false;
  --open_count_;
  ++counts_.emitted[static_cast<int>(why)];
  store_.release_slot(slot);

  shown_.symbols = &store_.symbols();
  critical_path(t, shown_.path);
  self_times(t, shown_.self);
  time_on_path(t, shown_.path, shown_.on_path);
  sink_(shown_, why);
}

void LiveAssembler::flush_all() {
  std::vector<std::pair<std::uint64_t, std::uint32_t>> order;
  for (std::uint32_t slot = 0; slot < open_.size(); ++slot)
    if (open_[slot].open) order.emplace_back(open_[slot].seq, slot);
  std::sort(order.begin(), order.end());
  for (const auto& [seq, slot] : order) emit(slot, Emit::kEnd);
  due_.clear();
}

}  // namespace ta
