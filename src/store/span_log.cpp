#include "store/span_log.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <new>

#include "util/hash.h"
#include "util/huge_pages.h"

namespace ta {

namespace {
constexpr std::size_t kMaxSlab = 64u << 20;
constexpr std::uint32_t kMaxBlock = 64u << 10;
}  // namespace

SlabAllocator::~SlabAllocator() {
  for (const Mapping& m : maps_) ::munmap(m.base, m.size);
}

std::uint8_t* SlabAllocator::allocate(std::size_t bytes) {
  bytes = (bytes + 15) & ~std::size_t{15};
  if (static_cast<std::size_t>(end_ - bump_) < bytes) {
    // Slabs double up to kMaxSlab, so a small input maps little and a big
    // one few times.
    const std::size_t slab = std::max(next_slab_, (bytes + kHugePage - 1) & ~(kHugePage - 1));
    next_slab_ = std::min(next_slab_ * 2, kMaxSlab);
    const HugeMapping m = map_huge_pages(slab);
    if (!m.base) throw std::bad_alloc();
    maps_.push_back({m.base, m.length});
    bump_ = reinterpret_cast<std::uint8_t*>(m.start);
    end_ = bump_ + slab;
  }
  std::uint8_t* p = bump_;
  bump_ += bytes;
  return p;
}

std::uint8_t* SpanLog::Writer::reserve(Chain& c, std::size_t bytes) {
  if (static_cast<std::size_t>(c.end - c.tail) >= bytes) return c.tail;
  // Blocks of a partition double up to kMaxBlock: a small input touches
  // little memory, a big one walks few blocks.
  if (c.last) c.last->used = static_cast<std::uint32_t>(c.tail - c.last->data());
  const auto size = static_cast<std::uint32_t>(std::max<std::size_t>(c.next_size, bytes));
  c.next_size = std::min(c.next_size * 2, kMaxBlock);
  auto* b = reinterpret_cast<Block*>(memory_.allocate(sizeof(Block) + size));
  b->next = nullptr;
  b->used = 0;
  b->capacity = size;
  (c.last ? c.last->next : c.first) = b;
  c.last = b;
  c.tail = b->data();
  c.end = c.tail + size;
  return c.tail;
}

void SpanLog::Writer::add(const SpanRecord& r, std::uint32_t chunk, std::uint64_t line) {
  using namespace codec;
  if (!has_base_) {
    base_ = log_.base(r.start);
    has_base_ = true;
  }
  // The record's bytes, trace id first: the id as encoded is the key its
  // partition and its trace are found by.
  std::uint8_t* const key = key_.reserve(id_bound(r.trace_id));
  const auto key_size = static_cast<std::size_t>(put_id(key, r.trace_id) - key);
  Chain& c = chains_[partition_of(hash_bytes(std::string_view(reinterpret_cast<const char*>(key), key_size)))];
  std::uint8_t* const at = reserve(c, key_size + 10 + 10 + 3 + 11 + rest_bound(r));
  std::memcpy(at, key, key_size);
  std::uint8_t* p = at + key_size;
  p = put(p, chunk);
  p = put(p, line);
  // The body is written where it goes, after one byte for its size; the
  // rare body of 128 bytes or more moves up for a longer size.
  std::uint8_t* const size_at = p;
  std::uint8_t* const body = p + 1;
  p = put_offset(body, r.start - base_);
  p = put_rest(p, r, [this](std::string_view text) { return symbols_.intern(text); });
  const auto body_size = static_cast<std::size_t>(p - body);
  if (body_size < 0x80) {
    *size_at = static_cast<std::uint8_t>(body_size);
  } else {
    std::uint8_t size[10];
    const auto n = static_cast<std::size_t>(put(size, body_size) - size);
    std::memmove(body + n - 1, body, body_size);
    std::memcpy(size_at, size, n);
    p += n - 1;
  }
  c.tail = p;
  ++c.count;
  ++spans_;
}

SpanLog::Writer& SpanLog::writer() {
  std::lock_guard<std::mutex> hold(writers_lock_);
  writers_.push_back(std::make_unique<Writer>(*this));
  return *writers_.back();
}

void SpanLog::add(const SpanRecord& r, std::uint32_t file, std::uint32_t line) {
  if (writers_.empty()) writer();
  writers_.front()->add(r, file, line);
}

Nanos SpanLog::base(Nanos start) {
  std::lock_guard<std::mutex> hold(writers_lock_);
  if (!has_base_.load(std::memory_order_relaxed)) {
    base_.store(start, std::memory_order_relaxed);
    has_base_.store(true, std::memory_order_relaxed);
  }
  return base_.load(std::memory_order_relaxed);
}

std::uint64_t SpanLog::span_count() const {
  std::uint64_t n = 0;
  for (const auto& w : writers_) n += w->spans_;
  return n;
}

std::size_t SpanLog::group(std::size_t partition, Scratch& s) const {
  std::size_t records = 0;
  for (const auto& w : writers_) records += w->chains_[partition].count;
  s.keys.clear();
  s.hashes.clear();
  s.trace_of.clear();
  s.begin.assign(1, 0);
  std::size_t cap = 16;
  while (cap < records * 2) cap *= 2;
  s.slots.assign(cap, kNone);
  const std::size_t mask = cap - 1;
  auto for_each_record = [&](auto&& f) {
    for (const auto& w : writers_)
      for (const Writer::Block* b = w->chains_[partition].first; b; b = b->next) {
        const std::uint8_t* p = const_cast<Writer::Block*>(b)->data();
        const Writer::Chain& c = w->chains_[partition];
        const std::uint8_t* end = b == c.last ? c.tail : p + b->used;
        while (p < end) {
          const std::uint8_t* at = p;
          LogRecord r;
          p = read_record(p, r);
          f(r, at);
        }
      }
  };
  // Each record to its trace, traces numbered in order of first sight and
  // counted.
  for_each_record([&](const LogRecord& r, const std::uint8_t*) {
    const std::uint64_t h = hash_bytes(r.trace_key);
    std::uint32_t t;
    for (std::size_t i = h & mask;; i = (i + 1) & mask) {
      t = s.slots[i];
      if (t == kNone) {
        t = static_cast<std::uint32_t>(s.keys.size());
        s.slots[i] = t;
        s.keys.push_back(r.trace_key);
        s.hashes.push_back(h);
        s.begin.push_back(0);
        break;
      }
      if (s.hashes[t] == h && same_bytes(s.keys[t], r.trace_key)) break;
    }
    s.trace_of.push_back(t);
    ++s.begin[t + 1];
  });
  // Then side by side per trace (read again rather than kept: a trace of a
  // million spans has no room to spare), each trace's in input order.
  const std::size_t traces = s.keys.size();
  for (std::size_t t = 0; t < traces; ++t) s.begin[t + 1] += s.begin[t];
  s.cursor.assign(s.begin.begin(), s.begin.end() - 1);
  s.sorted.resize(records);
  std::size_t k = 0;
  for_each_record([&](const LogRecord& r, const std::uint8_t* at) {
    const std::uint32_t t = s.trace_of[k++];
    s.sorted[s.cursor[t]++] = Scratch::Entry{r.location, t, at};
  });
  auto by_location = [](const Scratch::Entry& a, const Scratch::Entry& b) { return a.location < b.location; };
  for (std::size_t t = 0; t < traces; ++t) {
    auto* first = s.sorted.data() + s.begin[t];
    auto* last = s.sorted.data() + s.begin[t + 1];
    // Each writer's records are in input order; only traces written by
    // several threads need sorting.
    if (!std::is_sorted(first, last, by_location)) std::sort(first, last, by_location);
  }
  // The traces' ids, decoded once each.
  s.id_text.clear();
  s.id_end.clear();
  for (const std::string_view key : s.keys) {
    append_id(key, s.id_text);
    s.id_end.push_back(s.id_text.size());
  }
  s.ids.clear();
  for (std::size_t t = 0, from = 0; t < traces; from = s.id_end[t++])
    s.ids.push_back(std::string_view(s.id_text).substr(from, s.id_end[t] - from));
  return traces;
}

void SpanLog::RefusedSpans::add(Refused r) {
  ++count;
  first.push_back(std::move(r));
  if (first.size() >= keep * 8 + 64) trim();  // in batches: linear overall
}

void SpanLog::RefusedSpans::take(RefusedSpans& other) {
  count += other.count;
  for (Refused& r : other.first) first.push_back(std::move(r));
  other = RefusedSpans{};
  trim();
}

void SpanLog::RefusedSpans::trim() {
  auto earlier = [](const Refused& a, const Refused& b) {
    return a.file != b.file ? a.file < b.file : a.line < b.line;
  };
  if (first.size() > keep) {
    std::nth_element(first.begin(), first.begin() + static_cast<std::ptrdiff_t>(keep), first.end(), earlier);
    first.resize(keep);
  }
  std::sort(first.begin(), first.end(), earlier);
}

void SpanLog::refuse(const Scratch& s, std::uint32_t from, std::uint32_t to, RefusedSpans& refused) const {
  for (std::uint32_t k = from; k < to; ++k) {
    const std::uint64_t location = s.sorted[k].location;
    Refused r;
    if (lines_.empty()) {
      r.file = static_cast<std::uint32_t>(location >> 32);
      r.line = static_cast<std::uint32_t>(location);
    } else {
      lines_.locate(location, r.file, r.line);
    }
    r.trace_id = std::string(s.ids[s.sorted[k].trace]);
    refused.add(std::move(r));
  }
}

void SpanLog::clear() {
  std::lock_guard<std::mutex> hold(writers_lock_);
  writers_.clear();
}

}  // namespace ta
