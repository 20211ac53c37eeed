#include <doctest/doctest.h>

#include "test_support.h"

#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "assemble/trace.h"
#include "store/span_codec.h"
#include "store/span_log.h"
#include "store/open_traces.h"

using namespace ta;

namespace {

struct Case {
  std::string id, parent, call_id;
  Nanos start, duration, call_start, call_duration;
};

// Every id and time written and read back, through live mode's open traces
// and through the batch run's span log alike.
void check_round_trip(const std::vector<Case>& cases) {
  OpenTraces store;
  SpanLog log;
  std::uint32_t line = 1;
  for (const Case& c : cases) {
    SpanRecord r;
    r.trace_id = "t";
    r.span_id = c.id;
    r.parent_id = c.parent;
    r.start = c.start;
    r.duration = c.duration;
    r.calls.push_back({c.call_id, c.call_start, c.call_duration, "h", 200});
    store.add(r, 0, line);
    log.add(r, 0, line);
    ++line;
  }
  auto check = [&](const TraceData& data) {
    std::vector<Span> spans;
    std::vector<Call> calls;
    std::string text;
    decode_spans(data, spans, calls, text);
    REQUIRE(spans.size() == cases.size());
    for (std::size_t i = 0; i < cases.size(); ++i) {
      const Case& c = cases[i];
      const Span& s = spans[i];
      auto str = [&](TextRef r) { return text.substr(r.offset, r.length); };
      CAPTURE(c.id);
      CHECK(str(s.span_id) == c.id);
      CHECK(str(s.parent_id) == c.parent);
      CHECK(s.start == c.start);
      CHECK(s.duration == c.duration);
      REQUIRE(s.calls_count == 1);
      const Call& call = calls[s.calls_begin];
      CHECK(str(call.span_id) == c.call_id);
      CHECK(call.start == c.call_start);
      CHECK(call.duration == c.call_duration);
      CHECK(s.line == i + 1);
    }
  };
  const std::optional<TraceData> open = store.find("t");
  REQUIRE(open.has_value());
  check(*open);
  int traces = 0;
  log.for_each_trace([&](const TraceData& data) {
    CHECK(data.trace_id == "t");
    check(data);
    ++traces;
  });
  CHECK(traces == 1);
}

}  // namespace

TEST_CASE("span codec: ids of every shape and times of every size come back as they went in") {
  const Nanos ms = 1'000'000, max = std::numeric_limits<Nanos>::max();
  check_round_trip({
      // Lowercase hex of even length (packed), and everything else (kept as it is).
      {"42463a38", "49154385", "c102693f", 1704038400002 * ms, 2 * ms, 1704038400003 * ms, 3 * ms},
      {"d934fe4d8b669663d934fe4d8b669663", "0f", "00", 0, 0, 0, 0},
      {"d934fe4d8b669663d934fe4d8b6696630a", "", "abc", 5, 7, 4, 1},  // 34 digits: too long to pack
      {"42463A38", "g0", "0x12", -3 * ms, max, -2 * ms, max},           // upper case, not hex
      {"1", "12345", "x", std::numeric_limits<Nanos>::min() / 2, 999'999, -ms + 1, ms - 1},
      {"é9", std::string("a\0b", 3), "0123456789abcdef0123", 1704038400002 * ms + 1, 1, max / 2, 64 * ms},
      {"ffffffffffffffffffffffffffffffff", "aa", "1", 63, 64, 127, 128},
  });
}

TEST_CASE("span codec: an id has one encoding, so equal ids have equal bytes and different ids different ones") {
  std::vector<std::string> ids = {"ab", "AB", "aB", "0a", "a0", "abcd", "ab\0d", "", "0", "00", "000"};
  ids[6] = std::string("ab\0d", 4);
  std::vector<std::string> encoded;
  for (const std::string& id : ids) {
    std::uint8_t buf[64];
    const std::uint8_t* end = codec::put_id(buf, id);
    encoded.emplace_back(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(end - buf));
    std::string back;
    append_id(encoded.back(), back);
    CHECK(back == id);
  }
  for (std::size_t i = 0; i < ids.size(); ++i)
    for (std::size_t j = 0; j < ids.size(); ++j) CHECK((encoded[i] == encoded[j]) == (i == j));
}
