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
  rest_.clear();
  std::uint8_t* p = rest_.reserve(codec::rest_bound(r));
  SymbolTable& symbols = table();
  rest_.commit(codec::put_rest(p, r, [&](std::string_view s) { return symbols.intern(s); }));
  return add_encoded(r.trace_id, hash, r.start,
                     std::string_view(reinterpret_cast<const char*>(rest_.data()), rest_.size()), file, line, slot);
}

SpanStore::Added SpanStore::add_encoded(std::string_view trace_id, std::uint64_t hash, Nanos start,
                                        std::string_view rest, std::uint32_t file, std::uint32_t line,
                                        std::uint32_t slot) {
  const bool new_trace = slot == kNone;
  if (new_trace) slot = new_slot(trace_id, hash, start);
  TraceData& t = traces_[slot];
  if (t.span_count >= max_trace_spans_) {
    ++t.dropped;
    return {slot, false, new_trace};
  }
  append_record(t.blob, arena_, start - t.base, reinterpret_cast<const std::uint8_t*>(rest.data()), rest.size(), file,
                line);
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

void SpanStore::rename(std::uint32_t slot, std::string_view trace_id, std::uint64_t hash) {
  auto key_of = [this](std::uint32_t v) { return std::string_view(traces_[v].trace_id); };
  TraceData& t = traces_[slot];
  index_.erase(t.trace_id, hash_bytes(t.trace_id), key_of);
  arena_.free_text(t.trace_id);
  t.trace_id = arena_.copy(trace_id);
  index_.insert(hash, slot);
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
