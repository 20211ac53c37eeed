// The keys of a native span line, shared by the careful (simdjson) reading and
// the fast reading of flat lines.
#pragma once

#include <string>
#include <string_view>

namespace ta {

enum SpanKey : unsigned {
  kTraceId, kSpanId, kParentSpanId, kTimestamp, kDuration, kHttpCode, kService, kOperation,
  kRequestStacks, kHost, kName, kGroup,
  // Optional details (kind, tags object, logs array): only the careful
  // reading takes them; the flat reading gives such a line up.
  kKind, kTags, kLogs,
  kOtherKey
};

inline SpanKey span_key(std::string_view key, const std::string& group_field) {
  switch (key.size()) {
    case 4:
      if (key == "host") return kHost;
      if (key == "name") return kName;
      if (key == "kind") return kKind;
      if (key == "tags") return kTags;
      if (key == "logs") return kLogs;
      break;
    case 7:
      if (key == "traceId") return kTraceId;
      if (key == "service") return kService;
      break;
    case 6:
      if (key == "spanId") return kSpanId;
      break;
    case 8:
      if (key == "duration") return kDuration;
      if (key == "httpCode") return kHttpCode;
      break;
    case 9:
      if (key == "timestamp") return kTimestamp;
      if (key == "operation") return kOperation;
      break;
    case 12:
      if (key == "parentSpanId") return kParentSpanId;
      break;
    case 13:
      if (key == "requestStacks") return kRequestStacks;
      break;
    default:
      break;
  }
  if (!group_field.empty() && key == group_field) return kGroup;
  return kOtherKey;
}

}  // namespace ta
