#include "store/span_details.h"

#include "store/span_codec.h"

namespace ta {
namespace {

struct Reader {
  const std::uint8_t* p;
  const std::uint8_t* end;
  bool ok() const { return p <= end; }
  std::uint64_t get() {
    if (p >= end) {
      p = end + 1;
      return 0;
    }
    return codec::get(p);
  }
  std::string_view text() {
    const std::uint64_t n = get();
    if (!ok() || n > static_cast<std::uint64_t>(end - p)) {
      p = end + 1;
      return {};
    }
    std::string_view s(reinterpret_cast<const char*>(p), n);
    p += n;
    return s;
  }
  std::uint8_t byte() { return p < end ? *p++ : (p = end + 1, std::uint8_t{0}); }
};

void read_attributes(Reader& in, std::vector<AttributeRecord>& out) {
  const std::uint64_t n = in.get();
  for (std::uint64_t i = 0; i < n && in.ok(); ++i) {
    AttributeRecord& a = out.emplace_back();
    a.key = in.text();
    a.type = static_cast<ValueType>(in.byte());
    a.value = in.text();
  }
}

}  // namespace

void decode_details(std::string_view payload, Nanos span_start, SpanDetails& out) {
  out = SpanDetails{};
  if (payload.empty()) return;
  const auto* begin = reinterpret_cast<const std::uint8_t*>(payload.data());
  Reader in{begin, begin + payload.size()};
  out.status_message = in.text();
  read_attributes(in, out.attributes);
  const std::uint64_t events = in.get();
  for (std::uint64_t i = 0; i < events && in.ok(); ++i) {
    const std::uint64_t t = in.get();
    const auto offset = static_cast<std::int64_t>(t >> 1) ^ -static_cast<std::int64_t>(t & 1);
    const std::string_view name = in.text();
    const auto from = static_cast<std::uint32_t>(out.event_attributes.size());
    read_attributes(in, out.event_attributes);
    EventRecord& e = out.events.emplace_back();
    e.time = span_start + offset;
    e.name = name;
    e.attributes_begin = from;
    e.attributes_count = static_cast<std::uint32_t>(out.event_attributes.size()) - from;
  }
  const std::uint64_t links = in.get();
  for (std::uint64_t i = 0; i < links && in.ok(); ++i) {
    LinkRecord& l = out.links.emplace_back();
    l.trace_id = in.text();
    l.span_id = in.text();
    l.type = static_cast<LinkType>(in.byte());
  }
}

std::string_view kind_name(std::uint8_t kind) {
  switch (static_cast<SpanKind>(kind)) {
    case SpanKind::kInternal: return "internal";
    case SpanKind::kServer: return "server";
    case SpanKind::kClient: return "client";
    case SpanKind::kProducer: return "producer";
    case SpanKind::kConsumer: return "consumer";
    case SpanKind::kUnset: break;
  }
  return "";
}

std::string_view status_name(std::uint8_t status) {
  switch (static_cast<StatusCode>(status)) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kError: return "error";
    case StatusCode::kUnset: break;
  }
  return "unset";
}

std::string_view link_name(LinkType type) {
  switch (type) {
    case LinkType::kChildOf: return "child_of";
    case LinkType::kFollowsFrom: return "follows_from";
    case LinkType::kLink: break;
  }
  return "link";
}

}  // namespace ta
