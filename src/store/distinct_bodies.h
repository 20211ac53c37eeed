// The records of one trace told apart by their bodies (span_codec.h): the
// same line read twice has the same body, so a repeat of a kept span is
// found by its bytes. Both drivers use it for a trace past
// --max-trace-spans, whose repeats are duplicates, not spans over the limit.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "store/hash_index.h"
#include "store/span_codec.h"
#include "util/hash.h"

namespace ta {

class DistinctBodies {
 public:
  // The body of a record as read_body finds it.
  static std::string_view body_of(const std::uint8_t* record) {
    const std::uint8_t* body;
    std::uint32_t size;
    read_body(record, body, size);
    return std::string_view(reinterpret_cast<const char*>(body), size);
  }
  // Whether one of the kept records has this body.
  bool contains(std::string_view body) const { return find(body, hash_bytes(body)); }
  // Keeps `record` when no kept one has its body; false when one has.
  bool insert(const std::uint8_t* record) {
    const std::string_view body = body_of(record);
    const std::uint64_t h = hash_bytes(body);
    if (find(body, h)) return false;
    records_.push_back(record);
    index_.insert(h, static_cast<std::uint32_t>(records_.size() - 1));
    return true;
  }
  std::size_t size() const { return records_.size(); }
  // The longest run of full slots in its index (util/longest_run.h).
  std::size_t longest_run() const { return index_.longest_run(); }
  void clear() {
    index_ = HashIndex();
    records_.clear();
  }

 private:
  bool find(std::string_view body, std::uint64_t h) const {
    return index_.find(body, h, [this](std::uint32_t v) { return body_of(records_[v]); }) != kNone;
  }
  HashIndex index_;
  std::vector<const std::uint8_t*> records_;
};

}  // namespace ta
