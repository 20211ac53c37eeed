// A stored span's details (status message, tags, events, links), read back
// from the bytes put_details wrote, for the writers. Only shown spans are
// read: assembly and analysis need just the kind, status and link type.
#pragma once

#include <string_view>
#include <vector>

#include "parse/span_record.h"

namespace ta {

struct SpanDetails {
  std::string_view status_message;
  std::vector<AttributeRecord> attributes;
  std::vector<EventRecord> events;  // times absolute
  std::vector<AttributeRecord> event_attributes;
  std::vector<LinkRecord> links;
};

// The views point into `payload`.
void decode_details(std::string_view payload, Nanos span_start, SpanDetails& out);

std::string_view kind_name(std::uint8_t kind);      // "server", "client", ...; "" when unset
std::string_view status_name(std::uint8_t status);  // "ok", "error"; "unset"
std::string_view link_name(LinkType type);          // "child_of", "follows_from", "link"

}  // namespace ta
