// The span model every input format is parsed into.
#pragma once

#include <cstdint>
#include <string_view>

#include "util/basic_types.h"

namespace ta {



enum SpanFlag : std::uint16_t {
  kInferred = 1u << 0,      // made from a requestStacks entry with no line
  kOrphan = 1u << 1,        // parentSpanId names a span not in the trace
  kSkew = 1u << 2,          // starts before or ends after its parent
  kDuplicateId = 1u << 3,   // another, different line had the same spanId
  kCycle = 1u << 4,         // its parent link closed a cycle and was cut
  kCodeMismatch = 1u << 5,  // caller saw another status than it logged
  kError = 1u << 6,         // its status says error, or httpCode >= 500
  kMultiRoot = 1u << 7,     // one of several real roots of its trace
};

// Span::kind and Span::status hold these (parse/span_record.h) as bytes.
enum class SpanKind : std::uint8_t;
enum class StatusCode : std::uint8_t;
enum class LinkType : std::uint8_t;
inline constexpr std::uint8_t kStatusError = 2;     // StatusCode::kError
inline constexpr std::uint8_t kLinkFollowsFrom = 1;  // LinkType::kFollowsFrom
inline constexpr std::uint8_t kKindProducer = 4;     // SpanKind::kProducer
inline constexpr std::uint8_t kKindConsumer = 5;     // SpanKind::kConsumer

// One downstream call as the caller logged it (a requestStacks entry).
struct Call {
  TextRef span_id;
  Nanos start = 0;
  Nanos duration = 0;
  Symbol host = 0;
  std::int16_t http_code = kNoCode;
};

struct Span {
  TextRef span_id;
  TextRef parent_id;
  Nanos start = 0;
  Nanos duration = 0;
  Symbol host = 0;
  Symbol service = 0;
  Symbol operation = 0;
  Symbol group = 0;  // value of --group-by FIELD, when that is not built in
  std::uint32_t calls_begin = 0;
  std::uint32_t calls_count = 0;
  std::uint32_t file = 0;
  std::uint32_t line = 0;
  // The span's encoded record (location excluded), where the store keeps it:
  // equal bytes, the same line twice. Valid while the trace is assembled.
  const std::uint8_t* content = nullptr;
  std::uint32_t content_size = 0;
  std::int16_t http_code = kNoCode;
  std::uint16_t flags = 0;
  // A richer format's span: kind, status, how its parent was referenced,
  // Zipkin's shared server half, and where its encoded details (status
  // message, tags, events, links; store/span_details.h) are in the text.
  std::uint8_t kind = 0;
  std::uint8_t status = 0;
  std::uint8_t parent_link = 0;
  bool shared = false;
  TextRef details;

  Nanos end() const { return start + duration; }
};

}  // namespace ta
