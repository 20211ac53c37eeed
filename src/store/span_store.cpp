#include "store/span_store.h"

#include <algorithm>
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
  const bool at_limit = t.span_count >= max_trace_spans_;
  if (at_limit) {
    // The record's body as the blob would hold it: is it a repeat?
    body_.clear();
    std::uint8_t* p = codec::put_offset(body_.reserve(10 + rest.size()), start - t.base);
    body_.commit(std::copy_n(reinterpret_cast<const std::uint8_t*>(rest.data()), rest.size(), p));
    switch (limit_check(slot, std::string_view(reinterpret_cast<const char*>(body_.data()), body_.size()))) {
      case AtLimit::kRepeat:
        ++t.duplicates;
        return {slot, false, new_trace, true};
      case AtLimit::kFull:
        ++t.dropped;
        return {slot, false, new_trace};
      case AtLimit::kRoom:
        break;
    }
  }
  const std::size_t offset = t.blob.size;
  append_record(t.blob, arena_, start - t.base, reinterpret_cast<const std::uint8_t*>(rest.data()), rest.size(), file,
                line);
  if (at_limit) file_body(slot, offset);
  ++t.span_count;
  ++spans_;
  return {slot, true, new_trace};
}

// The body of the record at `offset` in the trace's blob.
std::string_view SpanStore::body_at(std::uint32_t slot, std::size_t offset) const {
  const std::uint8_t* b;
  std::uint32_t size;
  read_body(traces_[slot].blob.data + offset, b, size);
  return std::string_view(reinterpret_cast<const char*>(b), size);
}

bool SpanStore::file_body(std::uint32_t slot, std::size_t offset) {
  Full& full = full_[slot];
  auto key_of = [&](std::uint32_t v) { return body_at(slot, full.at[v]); };
  const std::string_view b = body_at(slot, offset);
  const std::uint64_t h = hash_bytes(b);
  if (full.bodies.find(b, h, key_of) != kNone) return false;
  full.at.push_back(static_cast<std::uint32_t>(offset));
  full.bodies.insert(h, static_cast<std::uint32_t>(full.at.size() - 1));
  return true;
}

SpanStore::AtLimit SpanStore::limit_check(std::uint32_t slot, std::string_view body) {
  if (!full_.contains(slot)) {
    // First time at the limit: every record so far (file and line follow
    // each body), repeats filed once.
    full_[slot];
    const Blob& blob = traces_[slot].blob;
    for (const std::uint8_t* p = blob.data; p < blob.data + blob.size;) {
      const auto offset = static_cast<std::size_t>(p - blob.data);
      const std::uint8_t* b;
      std::uint32_t size;
      p = read_body(p, b, size);
      codec::get(p);
      codec::get(p);
      file_body(slot, offset);
    }
  }
  const Full& full = full_.at(slot);
  auto key_of = [&](std::uint32_t v) { return body_at(slot, full.at[v]); };
  if (full.bodies.find(body, hash_bytes(body), key_of) != kNone) return AtLimit::kRepeat;
  return full.at.size() >= max_trace_spans_ ? AtLimit::kFull : AtLimit::kRoom;
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
  full_.erase(slot);
  t = TraceData{};
  free_slots_.push_back(slot);
}

void SpanStore::release_all() {
  traces_ = {};
  arena_.clear();
  free_slots_ = {};
  index_ = HashIndex();
  full_.clear();
  spans_ = 0;
}

}  // namespace ta
