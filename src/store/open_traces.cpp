#include "store/open_traces.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

#include "util/hash.h"

namespace ta {

// Blocks of kSize bytes aligned to kSize, so a record's block is found from
// its address. A record too large for one takes a block of its own, of a
// whole number of kSize, and starts in its first kSize bytes all the same.
class OpenTraces::Blocks {
 public:
  static constexpr std::size_t kSize = 64u << 10;
  // Readable bytes after any record: decoding reads a little past a body.
  static constexpr std::size_t kRoom = 64;
  static constexpr std::size_t kSpares = 64;  // 4 MiB

  explicit Blocks(std::size_t& bytes) : bytes_(bytes) {}
  Blocks(const Blocks&) = delete;
  Blocks& operator=(const Blocks&) = delete;
  ~Blocks() {
    while (first_) {
      Header* next = first_->next;
      std::free(first_);
      first_ = next;
    }
    while (spare_) {
      Header* next = spare_->next;
      std::free(spare_);
      spare_ = next;
    }
  }

  // Room for a record of n bytes, counted as held.
  std::uint8_t* append(std::size_t n) {
    if (!current_ || static_cast<std::size_t>(end_ - tail_) < n + kRoom) next_block(n);
    std::uint8_t* p = tail_;
    tail_ += n;
    ++current_->held;
    return p;
  }
  // The record at p is no longer held; its block goes back when it held the last.
  void drop(const std::uint8_t* p) {
    Header* h = header_of(p);
    if (--h->held == 0 && h != current_) give_back(h);
  }

 private:
  struct Header {
    Header* prev;
    Header* next;
    std::size_t size;
    std::uint32_t held;  // records of open traces in the block
  };
  static constexpr std::size_t kHead = (sizeof(Header) + 15) & ~std::size_t{15};
  static Header* header_of(const std::uint8_t* p) {
    return reinterpret_cast<Header*>(reinterpret_cast<std::uintptr_t>(p) & ~(std::uintptr_t{kSize} - 1));
  }

  void next_block(std::size_t n) {
    Header* old = current_;
    const std::size_t size = std::max(kSize, (kHead + n + kRoom + kSize - 1) & ~(kSize - 1));
    Header* h = nullptr;
    if (size == kSize && spare_) {
      h = spare_;
      spare_ = h->next;
      --spares_;
    } else {
      h = static_cast<Header*>(std::aligned_alloc(kSize, size));
      if (!h) throw std::bad_alloc();
    }
    *h = Header{nullptr, first_, size, 0};
    if (first_) first_->prev = h;
    first_ = h;
    bytes_ += size;
    current_ = h;
    tail_ = reinterpret_cast<std::uint8_t*>(h) + kHead;
    end_ = reinterpret_cast<std::uint8_t*>(h) + size;
    if (old && old->held == 0) give_back(old);
  }
  void give_back(Header* h) {
    (h->prev ? h->prev->next : first_) = h->next;
    if (h->next) h->next->prev = h->prev;
    bytes_ -= h->size;
    if (h->size == kSize && spares_ < kSpares) {
      // Kept for the next blocks: a stream frees blocks about as often as it
      // needs them, and memory given back to the system faults in again.
      h->next = spare_;
      spare_ = h;
      ++spares_;
    } else {
      std::free(h);
    }
  }

  std::size_t& bytes_;
  Header* first_ = nullptr;  // every block held, newest first
  Header* current_ = nullptr;
  Header* spare_ = nullptr;  // blocks given back, kept for reuse (a list through next)
  std::size_t spares_ = 0;
  std::uint8_t* tail_ = nullptr;
  std::uint8_t* end_ = nullptr;
};

namespace {
// Blocks that hold more than twice the open records' bytes and this are compacted.
constexpr std::size_t kSparseSlack = 1u << 20;
// A released trace keeps its lists for the next trace in its slot, up to this.
constexpr std::size_t kKeepCapacity = 256;
}  // namespace

OpenTraces::OpenTraces(std::size_t max_trace_spans)
    : blocks_(std::make_unique<Blocks>(block_bytes_)), max_trace_spans_(max_trace_spans) {}

OpenTraces::~OpenTraces() = default;

std::uint32_t OpenTraces::find_slot(std::string_view trace_id, std::uint64_t hash) const {
  return index_.find(trace_id, hash, key_of());
}

std::optional<TraceData> OpenTraces::find(std::string_view trace_id) const {
  const std::uint32_t slot = find_slot(trace_id, hash_bytes(trace_id));
  if (slot == kNone) return std::nullopt;
  return at(slot);
}

TraceData OpenTraces::at(std::uint32_t slot) const {
  const Trace& t = traces_[slot];
  TraceData d;
  d.trace_id = t.id;
  d.records = t.records.data();
  d.record_count = t.records.size();
  d.base = t.base;
  d.span_count = static_cast<std::uint32_t>(t.records.size());
  d.dropped = t.dropped;
  d.duplicates = t.duplicates;
  return d;
}

std::uint32_t OpenTraces::new_slot(std::string_view trace_id, std::uint64_t hash, Nanos start) {
  std::uint32_t slot;
  if (free_slots_.empty()) {
    slot = static_cast<std::uint32_t>(traces_.size());
    traces_.emplace_back();
  } else {
    slot = free_slots_.back();
    free_slots_.pop_back();
  }
  Trace& t = traces_[slot];
  t.id.assign(trace_id);
  t.base = start;
  t.open = true;
  index_.insert(hash, slot);
  return slot;
}

OpenTraces::Added OpenTraces::add(const SpanRecord& r, std::uint32_t file, std::uint32_t line) {
  rest_.clear();
  std::uint8_t* p = rest_.reserve(codec::rest_bound(r));
  rest_.commit(codec::put_rest(p, r, [this](std::string_view s) { return symbols_.intern(s); }));
  const std::uint64_t hash = hash_bytes(r.trace_id);
  const std::string_view rest(reinterpret_cast<const char*>(rest_.data()), rest_.size());  // add writes elsewhere
  return add(r.trace_id, hash, r.start, rest, file, line, find_slot(r.trace_id, hash));
}

OpenTraces::Added OpenTraces::add(std::string_view trace_id, std::uint64_t hash, Nanos start, std::string_view rest,
                                  std::uint32_t file, std::uint32_t line, std::uint32_t slot) {
  const bool new_trace = slot == kNone;
  if (new_trace) slot = new_slot(trace_id, hash, start);
  Trace& t = traces_[slot];
  // The record's head: its body's size, then the body's start.
  std::uint8_t offset[10], head[20];
  const auto offset_size = static_cast<std::size_t>(codec::put_offset(offset, start - t.base) - offset);
  std::uint8_t* h = codec::put(head, offset_size + rest.size());
  h = std::copy_n(offset, offset_size, h);
  const std::string_view head_view(reinterpret_cast<const char*>(head), static_cast<std::size_t>(h - head));

  const bool at_limit = t.records.size() >= max_trace_spans_;
  if (at_limit) {
    if (!t.distinct) {  // first time at the limit: every record so far, repeats filed once
      t.distinct = std::make_unique<DistinctBodies>();
      for (const RecordRef& r : t.records) t.distinct->insert(r.record);
    }
    body_.assign(reinterpret_cast<const char*>(offset), offset_size);
    body_.append(rest);
    if (t.distinct->contains(body_)) {
      ++t.duplicates;
      return {slot, false, new_trace, true};
    }
    if (t.distinct->size() >= max_trace_spans_) {
      ++t.dropped;
      return {slot, false, new_trace};
    }
  }
  const std::uint8_t* record = append(head_view, rest);
  Trace& kept = traces_[slot];
  if (kept.records.empty()) kept.records.reserve(4);  // room for a few spans at once (a reused slot's is ready)
  kept.records.push_back({record, (std::uint64_t{file} << 32) | line});
  kept.bytes += head_view.size() + rest.size();
  if (at_limit) kept.distinct->insert(record);
  ++spans_;
  compact_if_sparse();
  return {slot, true, new_trace};
}

const std::uint8_t* OpenTraces::append(std::string_view head, std::string_view rest) {
  const std::size_t n = head.size() + rest.size();
  std::uint8_t* p = blocks_->append(n);
  // The head is a few bytes: copied by hand rather than by a call.
  for (std::size_t i = 0; i < head.size(); ++i) p[i] = static_cast<std::uint8_t>(head[i]);
  std::memcpy(p + head.size(), rest.data(), rest.size());
  record_bytes_ += n;
  return p;
}

void OpenTraces::compact_if_sparse() {
  if (block_bytes_ <= 2 * record_bytes_ + kSparseSlack) return;
  for (Trace& t : traces_) {
    if (!t.open) continue;
    for (RecordRef& r : t.records) {
      const std::size_t n = record_size(r.record);
      std::uint8_t* copy = blocks_->append(n);
      std::memcpy(copy, r.record, n);
      blocks_->drop(r.record);
      r.record = copy;
    }
    if (t.distinct) {  // its records moved: filed again, in order, as they were
      t.distinct->clear();
      for (const RecordRef& r : t.records) t.distinct->insert(r.record);
    }
  }
}

void OpenTraces::rename(std::uint32_t slot, std::string_view trace_id, std::uint64_t hash) {
  Trace& t = traces_[slot];
  index_.erase(t.id, hash_bytes(t.id), key_of());
  t.id.assign(trace_id);
  index_.insert(hash, slot);
}

void OpenTraces::release(std::uint32_t slot) {
  Trace& t = traces_[slot];
  index_.erase(t.id, hash_bytes(t.id), key_of());
  for (const RecordRef& r : t.records) blocks_->drop(r.record);
  spans_ -= t.records.size();
  record_bytes_ -= t.bytes;
  if (t.records.capacity() > kKeepCapacity) t.records = {};
  t.records.clear();
  if (t.id.capacity() > 64) t.id = {};
  t.id.clear();
  t.base = 0;
  t.dropped = t.duplicates = 0;
  t.bytes = 0;
  t.distinct.reset();
  t.open = false;
  free_slots_.push_back(slot);
}

}  // namespace ta
