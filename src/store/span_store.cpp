#include "store/span_store.h"

namespace ta {

TextRef TraceData::add_text(std::string_view s) {
  TextRef r{static_cast<std::uint32_t>(text.size()), static_cast<std::uint32_t>(s.size())};
  text.append(s);
  return r;
}

void SpanStore::add(const SpanRecord& r, std::uint32_t file, std::uint32_t line) {
  auto it = index_.find(r.trace_id);
  TraceData* trace;
  if (it == index_.end()) {
    trace = &traces_.emplace_back();
    trace->trace_id.assign(r.trace_id);
    trace->first_file = file;
    trace->first_line = line;
    index_.emplace(std::string_view(trace->trace_id), static_cast<std::uint32_t>(traces_.size() - 1));
    ++live_;
  } else {
    trace = &traces_[it->second];
  }
  Span s;
  s.span_id = trace->add_text(r.span_id);
  s.parent_id = trace->add_text(r.parent_id);
  s.start = r.start;
  s.duration = r.duration;
  s.host = symbols_.intern(r.host);
  s.service = symbols_.intern(r.service);
  s.operation = symbols_.intern(r.operation);
  s.group = symbols_.intern(r.group);
  s.calls_begin = static_cast<std::uint32_t>(trace->calls.size());
  s.calls_count = static_cast<std::uint32_t>(r.calls.size());
  s.file = file;
  s.line = line;
  s.content_hash = r.content_hash;
  s.http_code = r.http_code;
  for (const CallRecord& c : r.calls) {
    Call call;
    call.span_id = trace->add_text(c.span_id);
    call.start = c.start;
    call.duration = c.duration;
    call.host = symbols_.intern(c.host);
    call.http_code = c.http_code;
    trace->calls.push_back(call);
  }
  trace->spans.push_back(s);
  ++spans_;
}

const TraceData* SpanStore::find(std::string_view trace_id) const {
  auto it = index_.find(trace_id);
  return it == index_.end() ? nullptr : &traces_[it->second];
}

void SpanStore::release(std::string_view trace_id) {
  auto it = index_.find(trace_id);
  if (it == index_.end()) return;
  TraceData& t = traces_[it->second];
  index_.erase(it);
  spans_ -= t.spans.size();
  t = TraceData{};
  --live_;
}

}  // namespace ta
