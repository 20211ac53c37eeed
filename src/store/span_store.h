// Spans grouped by traceId. Each trace owns its spans, calls and id bytes,
// so a finished trace can be released on its own.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "parse/span_record.h"
#include "store/span.h"
#include "store/symbols.h"

namespace ta {

struct TraceData {
  std::string trace_id;
  std::string text;  // span ids, parent ids and call ids
  std::vector<Span> spans;
  std::vector<Call> calls;
  std::uint32_t first_file = 0;
  std::uint32_t first_line = 0;

  std::string_view str(TextRef r) const { return {text.data() + r.offset, r.length}; }
  TextRef add_text(std::string_view s);
};

class SpanStore {
 public:
  // Copies a parsed record (whose views die with the next parse) into the
  // trace it belongs to.
  void add(const SpanRecord& record, std::uint32_t file, std::uint32_t line);

  std::size_t trace_count() const { return live_; }
  std::size_t span_count() const { return spans_; }
  const SymbolTable& symbols() const { return symbols_; }
  SymbolTable& symbols() { return symbols_; }

  // Live traces in order of first appearance.
  template <typename F>
  void for_each_trace(F&& f) const {
    for (const TraceData& t : traces_)
      if (!t.trace_id.empty()) f(t);
  }
  const TraceData* find(std::string_view trace_id) const;
  void release(std::string_view trace_id);

 private:
  std::deque<TraceData> traces_;
  std::unordered_map<std::string_view, std::uint32_t> index_;
  SymbolTable symbols_;
  std::size_t live_ = 0;
  std::size_t spans_ = 0;
};

}  // namespace ta
