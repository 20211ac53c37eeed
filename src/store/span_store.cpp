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

}  // namespace ta
