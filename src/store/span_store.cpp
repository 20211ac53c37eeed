#include "store/span_store.h"

#include <cstring>

#include "store/span_codec.h"
#include "util/hash.h"

namespace ta {

bool SpanStore::add(const SpanRecord& r, std::uint32_t file, std::uint32_t line) {
  return add(r, file, line, hash_bytes(r.trace_id));
}

bool SpanStore::add(const SpanRecord& r, std::uint32_t file, std::uint32_t line, std::uint64_t hash) {
  return add_to_slot(r, file, line, hash).kept;
}

std::uint32_t SpanStore::find_slot(std::string_view trace_id, std::uint64_t hash) const {
  auto key_of = [this](std::uint32_t v) { return std::string_view(traces_[v].trace_id); };
  return index_.find(trace_id, hash, key_of);
}

SpanStore::Added SpanStore::add_to_slot(const SpanRecord& r, std::uint32_t file, std::uint32_t line,
                                        std::uint64_t hash) {
  return add_to_slot(r, file, line, hash, find_slot(r.trace_id, hash));
}

SpanStore::Added SpanStore::add_to_slot(const SpanRecord& r, std::uint32_t file, std::uint32_t line,
                                        std::uint64_t hash, std::uint32_t slot) {
  const bool new_trace = slot == kNone;
  if (new_trace) slot = new_slot(r.trace_id, hash, r.start);
  TraceData& t = traces_[slot];
  if (t.span_count >= max_trace_spans_) {
    ++t.dropped;
    return {slot, false, new_trace};
  }
  encode_span(r, file, line, t.base, table(), t.blob, arena_);
  ++t.span_count;
  ++spans_;
  return {slot, true, new_trace};
}

std::uint32_t SpanStore::new_slot(std::string_view trace_id, std::uint64_t hash, Nanos start) {
  std::uint32_t slot;
  if (free_slots_.empty()) {
    slot = static_cast<std::uint32_t>(traces_.size());
    traces_.emplace_back();
  } else {
    slot = free_slots_.back();
    free_slots_.pop_back();
  }
  TraceData& t = traces_[slot];
  t.trace_id = arena_.copy(trace_id);
  t.base = start;
  index_.insert(hash, slot);
  return slot;
}

namespace {

// One entry of StagedSpans, as stage_span wrote it.
struct StagedEntry {
  std::uint64_t hash;
  std::string_view id;
  Nanos start;
  const std::uint8_t* rest;
  std::uint32_t rest_size, file, line;
  // Reads the entry at p; returns the next one.
  const std::uint8_t* read(const std::uint8_t* p) {
    std::uint32_t id_size;
    std::memcpy(&hash, p, 8);
    std::memcpy(&id_size, p + 8, 4);
    id = std::string_view(reinterpret_cast<const char*>(p + 12), id_size);
    p += 12 + id_size;
    std::memcpy(&start, p, 8);
    std::memcpy(&rest_size, p + 8, 4);
    rest = p + 12;
    p = rest + rest_size;
    std::memcpy(&file, p, 4);
    std::memcpy(&line, p + 4, 4);
    return p + 8;
  }
};

}  // namespace

std::size_t SpanStore::add_staged(const StagedSpans& staged, std::vector<FullTrace>& full) {
  const std::uint8_t* p = staged.bytes.data();
  // The index slot of each span's trace is fetched 8 spans ahead (mostly
  // a cache miss: the index is megabytes). `ahead` walks the entries.
  const std::uint8_t* ahead = p;
  StagedEntry e;
  auto fetch = [&] {
    ahead = e.read(ahead);
    index_.prefetch(e.hash);
  };
  const std::size_t lead = std::min<std::size_t>(staged.count, 8);
  for (std::size_t k = 0; k < lead; ++k) fetch();
  std::size_t kept = 0;
  for (std::size_t k = 0; k < staged.count; ++k) {
    if (k + lead < staged.count) fetch();
    p = e.read(p);
    std::uint32_t slot = find_slot(e.id, e.hash);
    if (slot == kNone) slot = new_slot(e.id, e.hash, e.start);
    TraceData& t = traces_[slot];
    if (t.span_count >= max_trace_spans_) {
      ++t.dropped;
      full.push_back({e.file, e.line, std::string(t.trace_id)});
      continue;
    }
    append_record(t.blob, arena_, e.start - t.base, e.rest, e.rest_size, e.file, e.line);
    ++t.span_count;
    ++kept;
  }
  spans_ += kept;
  return kept;
}

const TraceData* SpanStore::find(std::string_view trace_id) const {
  auto key_of = [this](std::uint32_t v) { return std::string_view(traces_[v].trace_id); };
  const std::uint32_t slot = index_.find(trace_id, hash_bytes(trace_id), key_of);
  return slot == kNone ? nullptr : &traces_[slot];
}

void SpanStore::release(std::string_view trace_id) {
  auto key_of = [this](std::uint32_t v) { return std::string_view(traces_[v].trace_id); };
  const std::uint64_t h = hash_bytes(trace_id);
  const std::uint32_t slot = index_.find(trace_id, h, key_of);
  if (slot == kNone) return;
  index_.erase(trace_id, h, key_of);
  free_trace(slot);
}

void SpanStore::release_slot(std::uint32_t slot) {
  auto key_of = [this](std::uint32_t v) { return std::string_view(traces_[v].trace_id); };
  const std::string_view id = traces_[slot].trace_id;
  index_.erase(id, hash_bytes(id), key_of);
  free_trace(slot);
}

void SpanStore::free_trace(std::uint32_t slot) {
  TraceData& t = traces_[slot];
  spans_ -= t.span_count;
  arena_.free(t.blob);
  arena_.free_text(t.trace_id);
  t = TraceData{};
  free_slots_.push_back(slot);
}

void SpanStore::release_all() {
  traces_ = {};
  arena_.clear();
  free_slots_ = {};
  index_ = HashIndex();
  spans_ = 0;
}

ShardedStore::ShardedStore(std::size_t shards, std::size_t max_trace_spans) {
  for (std::size_t i = 0; i < std::max<std::size_t>(shards, 1); ++i)
    shards_.push_back(std::make_unique<Shard>(max_trace_spans, &symbols_));
}

bool ShardedStore::add(const SpanRecord& r, std::uint32_t file, std::uint32_t line) {
  const std::uint64_t h = hash_bytes(r.trace_id);
  Shard& s = *shards_[shard_of(h)];
  std::lock_guard<std::mutex> lock(s.mu);
  std::lock_guard<std::mutex> symbols(symbols_lock_);
  return s.store.add(r, file, line, h);
}

std::size_t ShardedStore::add_staged(std::vector<StagedSpans>& staged, std::vector<FullTrace>& full) {
  std::size_t kept = 0, left = 0;
  for (const StagedSpans& s : staged) left += s.count > 0;
  auto file = [&](std::size_t i) {
    kept += shards_[i]->store.add_staged(staged[i], full);
    staged[i].clear();
    --left;
  };
  while (left > 0) {
    bool filed = false;
    for (std::size_t i = 0; i < staged.size(); ++i) {
      if (staged[i].count == 0) continue;
      std::unique_lock<std::mutex> lock(shards_[i]->mu, std::try_to_lock);
      if (!lock.owns_lock()) continue;
      file(i);
      filed = true;
    }
    if (filed) continue;
    for (std::size_t i = 0; i < staged.size(); ++i) {  // every lock was taken: wait for one
      if (staged[i].count == 0) continue;
      std::lock_guard<std::mutex> lock(shards_[i]->mu);
      file(i);
      break;
    }
  }
  return kept;
}

std::size_t ShardedStore::trace_count() const {
  std::size_t n = 0;
  for (const auto& s : shards_) n += s->store.trace_count();
  return n;
}

const TraceData* ShardedStore::find(std::string_view trace_id, const SymbolTable** symbols) const {
  const SpanStore& s = shards_[shard_of(hash_bytes(trace_id))]->store;
  if (symbols) *symbols = &s.symbols();
  return s.find(trace_id);
}

}  // namespace ta
