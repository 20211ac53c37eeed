#include "live/live_assembler.h"

#include <algorithm>
#include <deque>
#include <limits>
#include <string>
#include <utility>

#include "analyze/critical_path.h"
#include "store/hash_index.h"
#include "util/hash.h"
#include "util/longest_run.h"

namespace ta {

// One open trace's span keys, each with three marks in its lowest bits, so
// a lookup touches one slot: expected (named by a span of the trace, not
// yet come), named as a parent (some span's parent: the span has a child),
// and waiting for a child (a client span that lists no callees). The keys of
// a trace lie together, in a table of their own (open addressing, linear
// probing, at most half full), so filing a span touches a few lines the
// trace's spans touched before rather than a line anywhere in one table of
// every open trace's keys, and writing the trace forgets its keys at once.
// Keys are keyed hashes (live::span_key): no span ids can be crafted to
// pile up in one run of slots.
class LiveAssembler::KeyTable {
 public:
  // Marks key seen; `wants_child`: it waits for a span that names it as its
  // parent. Returns how many more (+1) or fewer (-1) spans its trace now
  // waits for.
  int see(std::uint64_t key, bool wants_child) {
    std::uint64_t& slot = find_or_add(key);
    if (slot == 0) {
      slot = tag(key) | (wants_child ? kWaiting : 0);
      ++size_;
      return wants_child ? 1 : 0;
    }
    int change = 0;
    if (slot & kExpected) {
      slot &= ~kExpected;
      change = -1;
    }
    if (wants_child && !(slot & (kParent | kWaiting))) {
      slot |= kWaiting;
      ++change;
    }
    return change;
  }
  // Adds key as expected (a callee listed), unless it is there: +1 when new.
  int expect(std::uint64_t key) {
    std::uint64_t& slot = find_or_add(key);
    if (slot != 0) return 0;
    slot = tag(key) | kExpected;
    ++size_;
    return 1;
  }
  // The same for a span's parent, which now has a child: +1 when new, -1
  // when it was waiting for one.
  int expect_parent(std::uint64_t key) {
    std::uint64_t& slot = find_or_add(key);
    if (slot == 0) {
      slot = tag(key) | kExpected | kParent;
      ++size_;
      return 1;
    }
    const int change = (slot & kWaiting) ? -1 : 0;
    slot = (slot & ~kWaiting) | kParent;
    return change;
  }
  void prefetch() const { __builtin_prefetch(slots_.data()); }
  // Forgets every key; a large table is given back, a small one kept for
  // the next trace in the slot.
  void clear() {
    if (slots_.size() > kKeepSlots) {
      slots_ = {};
    } else {
      std::fill(slots_.begin(), slots_.end(), 0);
    }
    size_ = 0;
  }
  std::size_t size() const { return size_; }
  std::size_t longest_run() const {
    return ta::longest_run(slots_, [](std::uint64_t e) { return e != 0; });
  }

 private:
  static constexpr std::uint64_t kExpected = 1, kParent = 2, kWaiting = 4, kMarks = 7;
  static constexpr std::size_t kFirstSlots = 16, kKeepSlots = 64;
  // The key without its marks' bits, never 0.
  static std::uint64_t tag(std::uint64_t key) {
    key &= ~kMarks;
    return key ? key : kMarks + 1;
  }
  std::size_t home(std::uint64_t t) const { return (t >> 3) & (slots_.size() - 1); }
  // The slot holding key, or the empty one where it would go.
  std::uint64_t& find_or_add(std::uint64_t key) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    const std::uint64_t t = tag(key);
    std::size_t i = home(t);
    for (;; i = (i + 1) & (slots_.size() - 1))
      if (slots_[i] == 0 || (slots_[i] & ~kMarks) == t) return slots_[i];
  }
  void grow() {
    std::vector<std::uint64_t> slots(std::max(kFirstSlots, slots_.size() * 2), 0);
    const std::size_t mask = slots.size() - 1;
    for (std::uint64_t e : slots_) {
      if (!e) continue;
      std::size_t i = ((e & ~kMarks) >> 3) & mask;
      while (slots[i]) i = (i + 1) & mask;
      slots[i] = e;
    }
    slots_.swap(slots);
  }
  std::vector<std::uint64_t> slots_;
  std::size_t size_ = 0;
};

// Ids written lately, oldest first, each found by its exact text: texts
// one after another in a buffer, an entry for each in a queue, and an
// open-addressing index from texts to entries (no node per id). An id added
// again is found by its newest entry, and forgotten with it.
class LiveAssembler::WrittenIds {
  // An index value's text, for the index to compare.
  struct KeyOf {
    const WrittenIds* ids;
    std::string_view operator()(std::uint32_t v) const { return ids->text(ids->entry(v)); }
  };
  KeyOf key_of() const { return KeyOf{this}; }

 public:
  void add(Nanos at, std::string_view id) {
    const std::uint64_t h = hash_bytes(id);
    if (index_.find(id, h, key_of()) != kNone) index_.erase(id, h, key_of());
    entries_.push_back({at, texts_base_ + texts_.size(), static_cast<std::uint32_t>(id.size())});
    texts_.append(id);
    index_.insert(h, value_of(first_ + entries_.size() - 1));
  }
  bool contains(std::string_view id) const { return index_.find(id, hash_bytes(id), key_of()) != kNone; }
  std::size_t longest_run() const { return index_.longest_run(); }
  // Forgets the entries written before `before`, and the oldest past `cap`.
  void forget(Nanos before, std::size_t cap) {
    while (!entries_.empty() && (entries_.front().at < before || entries_.size() > cap)) {
      const std::string_view id = text(entries_.front());
      const std::uint64_t h = hash_bytes(id);
      if (index_.find(id, h, key_of()) == value_of(first_)) index_.erase(id, h, key_of());
      entries_.pop_front();
      ++first_;
    }
    // The texts of forgotten entries go once they are half the buffer.
    const std::uint64_t live_from = entries_.empty() ? texts_base_ + texts_.size() : entries_.front().text;
    const std::size_t dead = static_cast<std::size_t>(live_from - texts_base_);
    if (dead > (64u << 10) && dead * 2 > texts_.size()) {
      texts_.erase(0, dead);
      texts_base_ += dead;
    }
  }

 private:
  struct Entry {
    Nanos at;
    std::uint64_t text;  // where its text starts, counted from the first text ever added
    std::uint32_t size;
  };
  // Index values name entries by number modulo 2^32 - 1 (kNone is not a
  // value); far fewer entries than that are ever remembered at once.
  static constexpr std::uint64_t kValues = 0xffffffffu;
  static std::uint32_t value_of(std::uint64_t number) { return static_cast<std::uint32_t>(number % kValues); }
  const Entry& entry(std::uint32_t value) const {
    return entries_[static_cast<std::size_t>((value + kValues - first_ % kValues) % kValues)];
  }
  std::string_view text(const Entry& e) const {
    return std::string_view(texts_).substr(static_cast<std::size_t>(e.text - texts_base_), e.size);
  }
  std::deque<Entry> entries_;
  std::uint64_t first_ = 0;  // the number of entries_.front()
  std::string texts_;
  std::uint64_t texts_base_ = 0;  // where texts_[0] is, counted as Entry::text
  HashIndex index_;
};

struct LiveAssembler::Open {
  std::uint64_t seq = 0;  // order of first appearance; also tells a reused slot apart
  Nanos activity = 0;     // latest end of its spans
  std::uint32_t missing = 0;
  bool root = false;
  bool open = false;
  KeyTable keys;  // of its spans, their parents and callees
};

struct LiveAssembler::Due {
  Nanos activity;
  std::uint64_t seq;
  std::uint32_t slot;
  // Heap order: the earliest activity on top, ties by first appearance.
  bool operator<(const Due& o) const { return activity != o.activity ? activity > o.activity : seq > o.seq; }
};


void shape_trace(const TraceData& data, const SymbolTable& symbols, const AssembleOptions& options, ShownTrace& out) {
  Trace& t = out.trace;
  assemble(data, t, options);
  out.symbols = &symbols;
  critical_path(t, out.path);
  self_times(t, out.self);
  time_on_path(t, out.path, out.on_path);
}

LiveAssembler::LiveAssembler(const LiveOptions& options, Sink sink)
    : LiveAssembler(options, Handoff{}) {
  handoff_ = [this, sink = std::move(sink)](const TraceData& data, Emit why) {
    shape_trace(data, store_.symbols(), options_.assemble, shown_);
    sink(shown_, why);
  };
}

LiveAssembler::LiveAssembler(const LiveOptions& options, Handoff handoff)
    : options_(options),
      handoff_(std::move(handoff)),
      store_(options.max_trace_spans),
      written_(std::make_unique<WrittenIds>()),
      written_low_(std::make_unique<WrittenIds>()) {}

LiveAssembler::~LiveAssembler() = default;

std::size_t LiveAssembler::tracked_ids() const {
  std::size_t n = 0;
  for (const Open& o : open_) n += o.keys.size();
  return n;
}
std::size_t LiveAssembler::longest_key_run() const {
  std::size_t most = 0;
  for (const Open& o : open_) most = std::max(most, o.keys.longest_run());
  return most;
}
std::size_t LiveAssembler::queued() const { return due_.size(); }
std::size_t LiveAssembler::longest_written_run() const { return written_->longest_run(); }
std::size_t LiveAssembler::longest_half_bucket() const {
  std::size_t most = 0;
  for (std::size_t b = 0; b < long_halves_.bucket_count(); ++b) most = std::max(most, long_halves_.bucket_size(b));
  return most;
}

Nanos LiveAssembler::watermark() const {
  if (!any_) return std::numeric_limits<Nanos>::min();
  Nanos w = 0;
  return __builtin_sub_overflow(latest_, options_.window, &w) ? std::numeric_limits<Nanos>::min() : w;
}

LiveAssembler::Added LiveAssembler::add(const SpanRecord& r, std::uint32_t file, std::uint32_t line) {
  rest_.clear();
  keys_.clear();
  SymbolTable& symbols = store_.symbols();
  const live::Encoded e = live::encode(r, [&](std::string_view s) { return symbols.intern(s); }, rest_, keys_);
  return add(e.bind(reinterpret_cast<const std::uint8_t*>(rest_.data()), keys_.data()), file, line);
}

// A new id of 16 or 32 hex digits joins an open trace of the same low half
// when the rule of util/trace_ids.h allows it as far as the stream has
// shown: a short id joins the one long id met with its low half, and a
// long id takes over an open short-id trace when it is the first long id
// of that half. (The batch run applies the rule to the whole input.)
std::uint32_t LiveAssembler::join_slot(std::string_view trace_id, std::uint64_t trace_hash,
                                       const TraceIdHalves& h) {
  if (h.shape == TraceIdHalves::kOther) return kNone;
  if (h.shape == TraceIdHalves::kShort) {
    const auto it = long_halves_.find(h.low);
    if (it == long_halves_.end() || it->second.slot == kNone || it->second.longs != 1) return kNone;
    LongHalf& half = it->second;
    if (!std::exchange(half.noted, true)) notes_.push_back(joined_trace_note(trace_id, store_.trace_id(half.slot)));
    return half.slot;
  }
  // A long id new to the stream: it takes over the open short-id trace of its
  // half when it is the first long id of that half.
  LongHalf& half = long_halves_.try_emplace(std::string(h.low)).first->second;
  if (++half.longs != 1) return kNone;
  const std::uint32_t joined = short_slot(h.low);
  if (joined == kNone) return kNone;
  if (!std::exchange(half.noted, true)) notes_.push_back(joined_trace_note(store_.trace_id(joined), trace_id));
  store_.rename(joined, trace_id, trace_hash);
  half.slot = joined;
  return joined;
}

std::uint32_t LiveAssembler::short_slot(std::string_view low) const {
  const std::uint32_t slot = store_.find_slot(low, live::trace_hash(low));
  if (slot != kNone) return slot;
  const std::string padded = std::string(16, '0').append(low);
  return store_.find_slot(padded, live::trace_hash(padded));
}

// The trace in `slot`, of id halves h, is written: its low half no longer
// names it.
void LiveAssembler::forget_low_half(const TraceIdHalves& h, std::uint32_t slot) {
  if (h.shape != TraceIdHalves::kLong) return;
  const auto it = long_halves_.find(h.low);
  if (it != long_halves_.end() && it->second.slot == slot) long_halves_.erase(it);
}

LiveAssembler::Added LiveAssembler::add(const EncodedSpan& span, std::uint32_t file, std::uint32_t line) {
  const std::uint64_t trace_hash = span.trace_hash;
  if (!any_ || span.start > latest_) latest_ = span.start;
  any_ = true;
  std::uint32_t known = store_.find_slot(span.trace_id, trace_hash);
  TraceIdHalves halves;  // of a trace id new to the open traces
  if (known == kNone) {
    halves = trace_id_halves(span.trace_id);
    // Late: a trace written lately, or a short id whose low half is a
    // long-id trace's written lately (its spans are that trace's).
    if (written_->contains(span.trace_id) ||
        (halves.shape == TraceIdHalves::kShort && written_low_->contains(halves.low))) {
      ++counts_.late;
      expire();
      return Added::kLate;
    }
    known = join_slot(span.trace_id, trace_hash, halves);
  }
  // The trace's keys, fetched into cache while the span is stored.
  if (known != kNone) open_[known].keys.prefetch();
  const OpenTraces::Added added = store_.add(span.trace_id, trace_hash, span.start, span.rest, file, line, known);
  const std::uint32_t slot = added.slot;
  if (slot >= open_.size()) open_.resize(slot + 1);
  Open& o = open_[slot];
  if (added.new_trace) {
    if (halves.shape == TraceIdHalves::kLong) {
      const auto it = long_halves_.find(halves.low);  // join_slot met it
      if (it != long_halves_.end() && it->second.slot == kNone) it->second.slot = slot;
    }
    o.seq = next_seq_++;
    o.activity = span.end;
    o.missing = 0;
    o.root = false;
    o.open = true;
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
    o.activity = std::max(o.activity, span.end);
  }
  if (added.duplicate) {  // a repeat of a span of a trace at --max-trace-spans: counted on the trace
    expire();
    evict();
    return Added::kSpan;
  }
  if (!added.kept) {
    ++counts_.dropped;
    expire();
    evict();
    return Added::kDropped;
  }

  // What the trace waits for: the span itself no more (when named), a
  // child of a client span that lists no callees, its parent (if any) and
  // its callees.
  std::int64_t missing = o.missing;
  missing += o.keys.see(span.keys[0], span.wants_child);
  o.root |= span.root;
  std::size_t k = 1;
  for (const std::size_t parents = 1 + span.parent_keys; k < parents; ++k) missing += o.keys.expect_parent(span.keys[k]);
  for (; k < span.key_count; ++k) missing += o.keys.expect(span.keys[k]);
  o.missing = static_cast<std::uint32_t>(missing);
  if (o.root && o.missing == 0) {
    if (options_.settle_per_chunk)
      ready_.push_back({slot, o.seq});
    else
      emit(slot, Emit::kComplete);
  }
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
  written_->forget(forget, cap);
  written_low_->forget(forget, cap);
}

void LiveAssembler::evict() {
  while (open_count_ > options_.max_open_traces) {
    Due d{};
    if (!pop_due(d)) break;
    emit(d.slot, Emit::kEvicted);
  }
}

void LiveAssembler::emit(std::uint32_t slot, Emit why) {
  // Complete, though not settled yet when the window or the bound on open
  // traces took it: written as complete.
  if ((why == Emit::kWindow || why == Emit::kEvicted) && open_[slot].root && open_[slot].missing == 0)
    why = Emit::kComplete;
  const TraceData data = store_.at(slot);
  const TraceIdHalves halves = trace_id_halves(data.trace_id);
  forget_low_half(halves, slot);
  // Forget the trace's keys: its spans' ids, their parents' and callees'
  // (come or not).
  Open& o = open_[slot];
  o.keys.clear();
  // Remembered for late spans (none come after the end of input), a long
  // id's low half too: a span under the short id is of this trace.
  if (why != Emit::kEnd) {
    const Nanos written_at = any_ ? latest_ : std::numeric_limits<Nanos>::min();
    written_->add(written_at, data.trace_id);
    if (halves.shape == TraceIdHalves::kLong) written_low_->add(written_at, halves.low);
  }
  o.open = false;
  --open_count_;
  ++counts_.emitted[static_cast<int>(why)];
  handoff_(data, why);
  store_.release(slot);
}

void LiveAssembler::settle() {
  for (const auto& [slot, seq] : ready_) {
    const Open& o = open_[slot];
    if (o.open && o.seq == seq && o.root && o.missing == 0) emit(slot, Emit::kComplete);
  }
  ready_.clear();
}

void LiveAssembler::flush_all() {
  settle();
  std::vector<std::pair<std::uint64_t, std::uint32_t>> order;
  for (std::uint32_t slot = 0; slot < open_.size(); ++slot)
    if (open_[slot].open) order.emplace_back(open_[slot].seq, slot);
  std::sort(order.begin(), order.end());
  for (const auto& [seq, slot] : order) emit(slot, Emit::kEnd);
  due_.clear();
}

}  // namespace ta
