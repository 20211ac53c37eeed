#include "store/span_log.h"

#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>
#include <numeric>

#include "util/hash.h"

namespace ta {

namespace {
// A slab's address space; pages are made resident a step at a time, the
// step doubling up to kMaxStep.
constexpr std::size_t kSlab = 32u << 20;
constexpr std::size_t kSmallPage = 4096;
constexpr std::size_t kMaxStep = 256u << 10;
// A chain's last block is half empty on average, and a writer has 256
// chains: blocks of 64 KiB left 8 MiB a writer unwritten but in memory,
// 16 KiB leave 2; a block still holds a hundred records.
constexpr std::uint32_t kMaxBlock = 16u << 10;

// A trace id as put_id encodes it starts with its header: 17 and 33 are 16
// and 32 lowercase hex digits packed two a byte, 32 and 64 are 16 and 32
// other characters as they are.
constexpr std::uint8_t kPacked16 = 17, kPacked32 = 33, kRaw16 = 32, kRaw32 = 64;

int hex_value(std::uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  c |= 0x20;
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

// The hash of a raw id of 16 or 32 characters: when its last 16 are hex
// digits (of any case), that of their value as packed ones give it.
[[gnu::noinline]] std::uint64_t raw_trace_hash(std::string_view key) {
  const auto* digits = reinterpret_cast<const std::uint8_t*>(key.data() + key.size() - 16);
  char low[8];
  for (std::size_t i = 0; i < 8; ++i) {
    const int high = hex_value(digits[2 * i]), value = hex_value(digits[2 * i + 1]);
    if (high < 0 || value < 0) return hash_bytes(key);
    low[i] = static_cast<char>(high << 4 | value);
  }
  return hash_bytes(std::string_view(low, 8));
}

// The hash that places a trace: its partition and its slot among the recent.
// An id of 16 or 32 hex digits is hashed by its last 16 alone, so that ids
// that may name one trace (util/trace_ids.h) meet in one partition.
inline std::uint64_t trace_hash(std::string_view key) {
  const auto head = static_cast<std::uint8_t>(key[0]);
  if (head == kPacked16 || head == kPacked32) return hash_bytes(key.substr(key.size() - 8));
  if (head == kRaw16 || head == kRaw32) [[unlikely]]
    return raw_trace_hash(key);
  return hash_bytes(key);
}

// What an encoded trace id may join (util/trace_ids.h), read off its bytes.
enum KeyShape : std::uint8_t { kOther, kSixteen, kZeroHigh, kLong, kShapes };

KeyShape key_shape(std::string_view key) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(key.data());
  auto hex = [](const std::uint8_t* from, std::size_t n) {
    return std::all_of(from, from + n, [](std::uint8_t c) { return hex_value(c) >= 0; });
  };
  switch (p[0]) {
    case kPacked16: return kSixteen;
    case kPacked32: return std::all_of(p + 1, p + 9, [](std::uint8_t b) { return b == 0; }) ? kZeroHigh : kLong;
    case kRaw16: return hex(p + 1, 16) ? kSixteen : kOther;
    case kRaw32:
      if (!hex(p + 1, 32)) return kOther;
      return std::all_of(p + 1, p + 17, [](std::uint8_t c) { return c == '0'; }) ? kZeroHigh : kLong;
    default: return kOther;
  }
}
}  // namespace

void SlabAllocator::release() {
  for (const Mapping& m : maps_) ::munmap(m.base, m.size);
  maps_.clear();
  bump_ = ready_ = end_ = nullptr;
  ready_total_ = 0;
}

void SlabAllocator::make_ready(std::uint8_t* until) {
  const auto page = static_cast<std::uintptr_t>(kSmallPage - 1);
  auto* to = reinterpret_cast<std::uint8_t*>((reinterpret_cast<std::uintptr_t>(until) + step_ + page) & ~page);
  if (to > end_) to = end_;
  // Where the kernel cannot populate ahead (before Linux 5.14), pages are
  // faulted in as they are written.
  if (::madvise(ready_, static_cast<std::size_t>(to - ready_), MADV_POPULATE_WRITE) != 0 && errno == ENOMEM)
    throw std::bad_alloc();
  ready_total_ += static_cast<std::size_t>(to - ready_);
  ready_ = to;
  step_ = std::min(step_ * 2, kMaxStep);
}

std::uint8_t* SlabAllocator::allocate(std::size_t bytes) {
  bytes = (bytes + 15) & ~std::size_t{15};
  if (static_cast<std::size_t>(end_ - bump_) < bytes) {
    const std::size_t slab = std::max(kSlab, (bytes + kSmallPage - 1) & ~(kSmallPage - 1));
    void* base = ::mmap(nullptr, slab, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) throw std::bad_alloc();
    // Small pages even where the system makes huge ones unasked.
    ::madvise(base, slab, MADV_NOHUGEPAGE);
    maps_.push_back({base, slab});
    bump_ = ready_ = static_cast<std::uint8_t*>(base);
    end_ = bump_ + slab;
  }
  std::uint8_t* p = bump_;
  bump_ += bytes;
  if (bump_ > ready_) make_ready(bump_);
  return p;
}

std::uint8_t* SpanLog::Writer::reserve(Chain& c, std::size_t bytes) {
  if (static_cast<std::size_t>(c.end - c.tail) >= bytes) return c.tail;
  // Blocks of a partition double up to kMaxBlock: a small input touches
  // little memory, a big one walks few blocks.
  if (c.last) c.last->used = static_cast<std::uint32_t>(c.tail - c.last->data());
  const auto size = static_cast<std::uint32_t>(std::max<std::size_t>(c.next_size, bytes));
  c.next_size = std::min(c.next_size * 2, kMaxBlock);
  const auto partition = static_cast<std::size_t>(&c - chains_);
  auto* b = reinterpret_cast<Block*>(memory_[stripe_of(partition)].allocate(sizeof(Block) + size));
  b->next = nullptr;
  b->used = 0;
  b->capacity = size;
  (c.last ? c.last->next : c.first) = b;
  c.last = b;
  c.tail = b->data();
  c.end = c.tail + size;
  return c.tail;
}

std::string_view SpanLog::Writer::Recent::id() const {
  if (size <= kInline) return std::string_view(reinterpret_cast<const char*>(key), size);
  const char* at;
  std::uint32_t bytes;
  std::memcpy(&at, key, sizeof at);
  std::memcpy(&bytes, key + sizeof at, sizeof bytes);
  return std::string_view(at, bytes);
}

void SpanLog::Writer::Recent::set(std::uint64_t h, std::uint32_t n, const std::uint8_t* id, std::size_t bytes) {
  hash = h;
  number = n;
  if (bytes <= kInline) {
    size = static_cast<std::uint8_t>(bytes);
    std::memcpy(key, id, bytes);
    return;
  }
  // An id too long to keep here. (Past 4 GiB its length is cut, and it is
  // never found again: its spans write it each time, which is still right.)
  size = kInline + 1;
  const auto length = static_cast<std::uint32_t>(bytes);
  std::memcpy(key, &id, sizeof id);
  std::memcpy(key + sizeof id, &length, sizeof length);
}

void SpanLog::Writer::add(const SpanRecord& r, std::uint32_t chunk, std::uint64_t line) {
  using namespace codec;
  if (!has_base_) {
    base_ = log_.base(r.start);
    has_base_ = true;
  }
  // The trace id, encoded, is what its partition and its trace are found by.
  std::uint8_t* const key = key_.reserve(id_bound(r.trace_id));
  const auto key_size = static_cast<std::uint32_t>(put_id(key, r.trace_id) - key);
  const std::string_view key_view(reinterpret_cast<const char*>(key), key_size);
  const std::uint64_t h = trace_hash(key_view);
  Chain& c = chains_[partition_of(h)];
  // Where the trace was seen lately is fetched while the body is written.
  Recent& seen = recent_[h & (kRecent - 1)];
  __builtin_prefetch(&seen);
  std::uint8_t* p = reserve(c, 3 + 11 + rest_bound(r) + 10 + key_size + 10 + 5);
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
  if (seen.hash == h && seen.size != 0 && same_bytes(seen.id(), key_view)) {
    p = put(p, static_cast<std::uint64_t>(c.traces - 1 - seen.number) << 1);
  } else {
    *p++ = 1;
    std::memcpy(p, key, key_size);
    seen.set(h, c.traces++, p, key_size);
    p += key_size;
  }
  if (chunk == c.chunk && line >= c.line) {
    p = put(p, (line - c.line) << 1);
  } else {
    p = put(p, (line << 1) | 1);
    p = put(p, chunk);
    c.chunk = chunk;
  }
  c.line = line;
  c.tail = p;
  // The chain is written to again a few hundred spans later: the line its
  // next record starts or runs into is fetched now (a first write to a
  // line of the log is otherwise a miss that stalls).
  __builtin_prefetch(p + 64, 1);
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

std::size_t SpanLog::held_bytes() const {
  std::size_t n = 0;
  for (const auto& w : writers_)
    for (const SlabAllocator& m : w->memory_) n += m.ready_bytes();
  return n;
}

std::uint64_t SpanLog::partition_records(std::size_t partition) const {
  std::uint64_t n = 0;
  for (const auto& w : writers_) n += w->chains_[partition].count;
  return n;
}

std::size_t SpanLog::group(std::size_t partition, Scratch& s, TraceJoinNotes& joins) const {
  const auto records = static_cast<std::size_t>(partition_records(partition));
  s.keys.clear();
  s.hashes.clear();
  s.trace_of.clear();
  s.begin.assign(1, 0);
  std::size_t cap = 16;
  while (cap < records * 2) cap *= 2;
  s.slots.assign(cap, kNone);
  const std::size_t mask = cap - 1;
  // Every record of the partition, chain by chain, each chain in order
  // (span_codec.h: a record's trace and location are known from the ones
  // before it).
  struct Read {
    bool chain_start;     // the chain's first record
    bool fresh;           // a new trace number; its id is `key`
    std::uint64_t back;   // else: the chain's back-th newest number
    std::string_view key;
    std::uint64_t location;
    const std::uint8_t* at;  // the record: its body size
  };
  using codec::get;
  auto for_each_record = [&](auto&& f) {
    for (const auto& w : writers_) {
      const Writer::Chain& c = w->chains_[partition];
      std::uint32_t chunk = 0;
      std::uint64_t line = 0;
      Read r{true, false, 0, {}, 0, nullptr};
      for (const Writer::Block* b = c.first; b; b = b->next) {
        const std::uint8_t* p = const_cast<Writer::Block*>(b)->data();
        const std::uint8_t* end = b == c.last ? c.tail : p + b->used;
        while (p < end) {
          r.at = p;
          const std::uint8_t* body;
          std::uint32_t size;
          p = read_body(p, body, size);
          const std::uint64_t trace = get(p);
          r.fresh = trace & 1;
          r.back = trace >> 1;
          if (r.fresh) {
            const std::uint8_t* const key = p;
            p = codec::id_end(p);
            r.key = std::string_view(reinterpret_cast<const char*>(key), static_cast<std::size_t>(p - key));
          }
          const std::uint64_t at = get(p);
          if (at & 1) {
            line = at >> 1;
            chunk = static_cast<std::uint32_t>(get(p));
          } else {
            line += at >> 1;
          }
          r.location = make_location(chunk, line);
          f(static_cast<const Read&>(r));
          r.chain_start = false;
        }
      }
    }
  };
  // Each record to its trace, traces numbered in order of first sight and
  // counted; an id is looked up once per trace number, not per record.
  for_each_record([&](const Read& r) {
    if (r.chain_start) s.numbers.clear();
    std::uint32_t t;
    if (!r.fresh) {
      t = s.numbers[s.numbers.size() - 1 - r.back];
    } else {
      const std::uint64_t h = hash_bytes(r.key);
      for (std::size_t i = h & mask;; i = (i + 1) & mask) {
        t = s.slots[i];
        if (t == kNone) {
          t = static_cast<std::uint32_t>(s.keys.size());
          s.slots[i] = t;
          s.keys.push_back(r.key);
          s.hashes.push_back(h);
          s.begin.push_back(0);
          break;
        }
        if (s.hashes[t] == h && same_bytes(s.keys[t], r.key)) break;
      }
      s.numbers.push_back(t);
    }
    s.trace_of.push_back(t);
    ++s.begin[t + 1];
  });
  // Short trace ids join long ones only where both kinds are.
  std::size_t shapes[kShapes] = {};
  for (const std::string_view key : s.keys) ++shapes[key_shape(key)];
  if ((shapes[kSixteen] && (shapes[kZeroHigh] || shapes[kLong])) || (shapes[kZeroHigh] && shapes[kLong]))
    join_traces(s, joins);
  // Then side by side per trace (read again rather than kept: a trace of a
  // million spans has no room to spare), each trace's in input order.
  const std::size_t traces = s.keys.size();
  for (std::size_t t = 0; t < traces; ++t) s.begin[t + 1] += s.begin[t];
  s.cursor.assign(s.begin.begin(), s.begin.end() - 1);
  s.sorted.resize(records);
  std::size_t k = 0;
  for_each_record([&](const Read& r) {
    const std::uint32_t t = s.trace_of[k++];
    Scratch::Entry& e = s.sorted[s.cursor[t]++];
    e.location = r.location;
    e.trace = t;
    e.order = static_cast<std::uint32_t>(k);
    e.record = r.at;
  });
  // A line is parsed by one thread, so its records are in order in one
  // chain: ties keep the walk's order, whatever thread read which chunk.
  auto by_location = [](const Scratch::Entry& a, const Scratch::Entry& b) {
    return a.location != b.location ? a.location < b.location : a.order < b.order;
  };
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

void SpanLog::join_traces(Scratch& s, TraceJoinNotes& joins) {
  const auto traces = static_cast<std::uint32_t>(s.keys.size());
  // The traces that may join, by the low half of their id, then by id: an
  // order of the ids alone, not of where they were met.
  s.joinable.clear();
  s.joinable_text.clear();
  std::vector<std::size_t>& ends = s.id_end;  // free until the ids are decoded for good
  ends.clear();
  for (std::uint32_t t = 0; t < traces; ++t) {
    if (key_shape(s.keys[t]) == kOther) continue;
    append_id(s.keys[t], s.joinable_text);
    ends.push_back(s.joinable_text.size());
    s.joinable.push_back({t, {}});
  }
  for (std::size_t j = 0, from = 0; j < s.joinable.size(); from = ends[j++])
    s.joinable[j].id = std::string_view(s.joinable_text).substr(from, ends[j] - from);
  auto low = [](std::string_view id) { return id.substr(id.size() - 16); };
  std::sort(s.joinable.begin(), s.joinable.end(), [&](const Scratch::Joinable& a, const Scratch::Joinable& b) {
    const std::string_view x = low(a.id), y = low(b.id);
    return x != y ? x < y : a.id < b.id;
  });
  s.into.resize(traces);
  std::iota(s.into.begin(), s.into.end(), 0u);
  bool joined = false;
  for (std::size_t from = 0, to; from < s.joinable.size(); from = to) {
    for (to = from + 1; to < s.joinable.size() && low(s.joinable[to].id) == low(s.joinable[from].id);) ++to;
    if (to - from == 1) continue;
    s.group_ids.clear();
    for (std::size_t j = from; j < to; ++j) s.group_ids.push_back(s.joinable[j].id);
    s.group_into.resize(to - from);
    s.notes.clear();
    join_low_half(s.group_ids, s.group_into, s.notes);
    for (std::size_t k = 0; k < to - from; ++k) {
      if (s.group_into[k] == k) continue;
      s.into[s.joinable[from + k].trace] = s.joinable[from + s.group_into[k]].trace;
      joined = true;
    }
    for (std::string& note : s.notes) joins.add(std::move(note));
  }
  if (!joined) return;
  // The traces left are numbered anew in their order; a joined one's
  // records count in the trace it joined.
  s.counts.assign(s.begin.begin() + 1, s.begin.end());
  s.renumber.resize(traces);
  std::uint32_t left = 0;
  for (std::uint32_t t = 0; t < traces; ++t) {
    if (s.into[t] != t) continue;
    s.renumber[t] = left;
    s.keys[left] = s.keys[t];
    s.hashes[left] = s.hashes[t];
    ++left;
  }
  s.keys.resize(left);
  s.hashes.resize(left);
  s.begin.assign(left + 1, 0);
  for (std::uint32_t t = 0; t < traces; ++t) {
    s.renumber[t] = s.renumber[s.into[t]];  // a joined trace joins one that is left
    s.begin[s.renumber[t] + 1] += s.counts[t];
  }
  for (std::uint32_t& t : s.trace_of) t = s.renumber[t];
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

void SpanLog::refuse(const Scratch& s, std::uint32_t k, RefusedSpans& refused) const {
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

void SpanLog::keep_distinct(Scratch& s, std::uint32_t from, std::uint32_t to, RefusedSpans& refused) const {
  s.bodies.clear();
  for (std::uint32_t k = from; k < to; ++k) {
    const std::uint8_t* record = s.sorted[k].record;
    // Kept: a repeat of a kept span, or one more distinct span within the limit.
    const bool keep = s.bodies.contains(DistinctBodies::body_of(record)) ||
                      (s.bodies.size() < max_trace_spans_ && s.bodies.insert(record));
    if (keep) {
      s.records.push_back({record, s.sorted[k].location});
    } else {
      refuse(s, k, refused);
    }
  }
}

void SpanLog::partition_done(std::size_t partition) {
  const std::size_t stripe = stripe_of(partition);
  if (stripe_done_[stripe].fetch_add(1, std::memory_order_acq_rel) + 1 != kStripePartitions) return;
  // The last of the stripe: no thread reads its records any more.
  std::lock_guard<std::mutex> hold(writers_lock_);
  for (auto& w : writers_) {
    w->memory_[stripe].release();
    for (std::size_t p = stripe * kStripePartitions; p < (stripe + 1) * kStripePartitions; ++p) {
      Writer::Chain& c = w->chains_[p];
      c.first = c.last = nullptr;
      c.tail = c.end = nullptr;
    }
  }
}

void SpanLog::clear() {
  std::lock_guard<std::mutex> hold(writers_lock_);
  writers_.clear();
}

}  // namespace ta
