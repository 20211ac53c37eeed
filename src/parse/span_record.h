// A span as parsed from one line, before it is stored. The views point into
// the parser's buffers and die with the next parse.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "store/span.h"

namespace ta {

struct CallRecord {
  std::string_view span_id;
  Nanos start = 0;
  Nanos duration = 0;
  std::string_view host;
  std::int16_t http_code = kNoCode;
};

struct SpanRecord {
  std::string_view trace_id;
  std::string_view span_id;
  std::string_view parent_id;  // empty: no parent ("0", "", null, absent)
  std::string_view host;
  std::string_view service;
  std::string_view operation;
  std::string_view group;  // value of the --group-by field, when asked for
  Nanos start = 0;
  Nanos duration = 0;
  std::int16_t http_code = kNoCode;
  std::vector<CallRecord> calls;
};

}  // namespace ta
