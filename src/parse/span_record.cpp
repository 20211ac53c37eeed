#include "parse/span_record.h"

#include <functional>

namespace ta {
namespace {

std::uint64_t mix(std::uint64_t h, std::uint64_t v) {
  // splitmix64 finaliser over the running value
  h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  h ^= h >> 31;
  h *= 0xbf58476d1ce4e5b9ull;
  return h ^ (h >> 29);
}

std::uint64_t text(std::uint64_t h, std::string_view s) {
  return mix(mix(h, std::hash<std::string_view>{}(s)), s.size());
}

}  // namespace

std::uint64_t content_hash(const SpanRecord& r) {
  std::uint64_t h = 0x51ed270b27a1c0deull;
  h = text(h, r.trace_id);
  h = text(h, r.span_id);
  h = text(h, r.parent_id);
  h = text(h, r.host);
  h = text(h, r.service);
  h = text(h, r.operation);
  h = mix(h, static_cast<std::uint64_t>(r.start));
  h = mix(h, static_cast<std::uint64_t>(r.duration));
  h = mix(h, static_cast<std::uint64_t>(r.http_code));
  for (const CallRecord& c : r.calls) {
    h = text(h, c.span_id);
    h = text(h, c.host);
    h = mix(h, static_cast<std::uint64_t>(c.start));
    h = mix(h, static_cast<std::uint64_t>(c.duration));
    h = mix(h, static_cast<std::uint64_t>(c.http_code));
  }
  return h;
}

}  // namespace ta
