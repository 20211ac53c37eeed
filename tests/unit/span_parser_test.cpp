#include <doctest/doctest.h>
#include <simdjson.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "assemble/trace.h"
#include "parse/span_parser.h"
#include "store/open_traces.h"

using namespace ta;

namespace {

constexpr Nanos kMs = 1'000'000;
constexpr Nanos kBase = 1704038400000LL * kMs;  // 2024-01-01T00:00:00Z in ns

// A parsed record copied out of the parser's buffers, comparable as a whole.
struct OwnedCall {
  std::string span_id;
  Nanos start = 0;
  Nanos duration = 0;
  std::string host;
  std::int16_t http_code = kNoCode;
  bool operator==(const OwnedCall&) const = default;
};

struct OwnedAttribute {
  std::string key, value;
  ValueType type = ValueType::kString;
  bool operator==(const OwnedAttribute&) const = default;
};

struct OwnedEvent {
  Nanos time = 0;
  std::string name;
  std::vector<OwnedAttribute> attributes;
  bool operator==(const OwnedEvent&) const = default;
};

struct OwnedSpan {
  std::string trace_id, span_id, parent_id, host, service, operation, group;
  Nanos start = 0;
  Nanos duration = 0;
  std::int16_t http_code = kNoCode;
  std::vector<OwnedCall> calls;
  SpanKind kind = SpanKind::kUnset;
  StatusCode status = StatusCode::kUnset;
  std::string status_message;
  std::vector<OwnedAttribute> attributes;
  std::vector<OwnedEvent> events;
  bool details = false;  // SpanRecord::has_details()
  bool operator==(const OwnedSpan&) const = default;
};

std::vector<OwnedAttribute> owned(const AttributeRecord* a, std::size_t n) {
  std::vector<OwnedAttribute> out;
  for (std::size_t i = 0; i < n; ++i) out.push_back({std::string(a[i].key), std::string(a[i].value), a[i].type});
  return out;
}

struct Result {
  bool ok = false;
  OwnedSpan span;
  std::string error;
};

OwnedSpan own(const SpanRecord& r) {
  OwnedSpan s;
  s.trace_id = r.trace_id;
  s.span_id = r.span_id;
  s.parent_id = r.parent_id;
  s.host = r.host;
  s.service = r.service;
  s.operation = r.operation;
  s.group = r.group;
  s.start = r.start;
  s.duration = r.duration;
  s.http_code = r.http_code;
  for (const CallRecord& c : r.calls)
    s.calls.push_back({std::string(c.span_id), c.start, c.duration, std::string(c.host), c.http_code});
  s.kind = r.kind;
  s.status = r.status;
  s.status_message = r.status_message;
  s.attributes = owned(r.attributes.data(), r.attributes.size());
  for (const EventRecord& e : r.events) {
    REQUIRE(e.attributes_begin + e.attributes_count <= r.event_attributes.size());
    s.events.push_back({e.time, std::string(e.name),
                        owned(r.event_attributes.data() + e.attributes_begin, e.attributes_count)});
  }
  s.details = r.has_details();
  return s;
}

// The parser reads up to SIMDJSON_PADDING bytes past the line.
Result parse_with(SpanParser& parser, std::string_view line) {
  std::string buf(line);
  buf.append(simdjson::SIMDJSON_PADDING, '\0');
  SpanRecord r;
  Result out;
  out.ok = parser.parse(std::string_view(buf.data(), line.size()), buf.size(), r);
  if (!out.ok) {
    out.error = parser.error();
    return out;
  }
  out.span = own(r);
  return out;
}

Result parse(std::string_view line, ParseOptions options = {}) {
  SpanParser parser(std::move(options));
  return parse_with(parser, line);
}

OwnedSpan parse_ok(std::string_view line, ParseOptions options = {}) {
  Result r = parse(line, std::move(options));
  INFO("line: ", line);
  INFO("error: ", r.error);
  REQUIRE(r.ok);
  return r.span;
}

std::string parse_error(std::string_view line) {
  Result r = parse(line);
  INFO("line: ", line);
  REQUIRE_FALSE(r.ok);
  CHECK_FALSE(r.error.empty());
  return r.error;
}

// Stores the lines (all of one trace) and assembles it: how many distinct
// spans it holds and how many lines were recognised as the same span again.
struct Distinct {
  std::uint32_t spans;
  std::uint32_t duplicates;
};
Distinct store_lines(const std::vector<std::string>& lines) {
  OpenTraces store;
  SpanParser parser{ParseOptions{}};
  std::string trace_id;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::string buf = lines[i];
    buf.append(simdjson::SIMDJSON_PADDING, '\0');
    SpanRecord r;
    INFO("line: ", lines[i]);
    REQUIRE(parser.parse(std::string_view(buf.data(), lines[i].size()), buf.size(), r));
    trace_id = r.trace_id;
    store.add(r, 0, static_cast<std::uint32_t>(i + 1));
  }
  const std::optional<TraceData> data = store.find(trace_id);
  REQUIRE(data.has_value());
  const Trace t = assemble(*data);
  return {t.logged_spans, t.duplicates};
}

// JSON string literal for `s` (only quotes and backslashes occur here).
std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// Line 1 of the example in DESIGN.md.
const std::string kNativeLine =
    R"({"traceId":"0001","spanId":"01","parentSpanId":"0","timestamp":"1704038400000","duration":"100","httpCode":"200","host":"192.168.10.1","requestStacks":[{"subSpanId":"02","subHttpCode":"200","subTimestamp":"1704038400000","subDuration":"40","subHost":"192.168.10.2"},{"subSpanId":"04","subHttpCode":"200","subTimestamp":"1704038400040","subDuration":"60","subHost":"192.168.10.3"}]})";

// The same span with every number written as a JSON number.
const std::string kNativeNumbers =
    R"({"traceId":"0001","spanId":"01","parentSpanId":"0","timestamp":1704038400000,"duration":100,"httpCode":200,"host":"192.168.10.1","requestStacks":[{"subSpanId":"02","subHttpCode":200,"subTimestamp":1704038400000,"subDuration":40,"subHost":"192.168.10.2"},{"subSpanId":"04","subHttpCode":200,"subTimestamp":1704038400040,"subDuration":60,"subHost":"192.168.10.3"}]})";

// The span fields of kNativeLine without the braces and without host.
const std::string kFieldsNoHost =
    R"("traceId":"0001","spanId":"01","parentSpanId":"0","timestamp":"1704038400000","duration":"100","httpCode":"200","requestStacks":[{"subSpanId":"02","subHttpCode":"200","subTimestamp":"1704038400000","subDuration":"40","subHost":"192.168.10.2"},{"subSpanId":"04","subHttpCode":"200","subTimestamp":"1704038400040","subDuration":"60","subHost":"192.168.10.3"}])";

}  // namespace

TEST_CASE("the native line of DESIGN.md parses field by field") {
  const OwnedSpan s = parse_ok(kNativeLine);
  CHECK(s.trace_id == "0001");
  CHECK(s.span_id == "01");
  CHECK(s.parent_id == "");  // "0" means no parent
  CHECK(s.start == kBase);
  CHECK(s.duration == 100 * kMs);
  CHECK(s.http_code == 200);
  CHECK(s.host == "192.168.10.1");
  CHECK(s.service == "");
  CHECK(s.operation == "");
  REQUIRE(s.calls.size() == 2);
  CHECK(s.calls[0] == OwnedCall{"02", kBase, 40 * kMs, "192.168.10.2", 200});
  CHECK(s.calls[1] == OwnedCall{"04", kBase + 40 * kMs, 60 * kMs, "192.168.10.3", 200});
}

TEST_CASE("numbers as strings and as JSON numbers give the same record and hash") {
  const OwnedSpan a = parse_ok(kNativeLine);
  const OwnedSpan b = parse_ok(kNativeNumbers);
  CHECK(a == b);
  // Stored together they are one span delivered twice.
  const Distinct d = store_lines({kNativeLine, kNativeNumbers});
  CHECK(d.spans == 1);
  CHECK(d.duplicates == 1);

  // Ids written as numbers read as their text.
  const OwnedSpan n = parse_ok(R"({"traceId":12345,"spanId":7,"parentSpanId":6,"timestamp":1704038400000})");
  CHECK(n.trace_id == "12345");
  CHECK(n.span_id == "7");
  CHECK(n.parent_id == "6");
  CHECK(n == parse_ok(R"({"traceId":"12345","spanId":"7","parentSpanId":"6","timestamp":"1704038400000"})"));
}

TEST_CASE("the content hash tells different spans apart") {
  const std::string a = R"({"traceId":"t","spanId":"s","timestamp":"1704038400000","duration":"5"})";
  const std::string b = R"({"traceId":"t","spanId":"s","timestamp":"1704038400000","duration":"6"})";
  const std::string c = R"({"traceId":"t","spanId":"s","timestamp":"1704038400000","duration":"5","host":"h"})";
  const std::string e =
      R"({"traceId":"t","spanId":"s","timestamp":"1704038400000","duration":"5","requestStacks":[{"subSpanId":"x"}]})";
  // Field order does not matter.
  const std::string d = R"({"duration":"5","timestamp":"1704038400000","spanId":"s","traceId":"t"})";
  CHECK(parse_ok(a) == parse_ok(d));
  const Distinct all = store_lines({a, b, c, d, e});
  CHECK(all.spans == 4);  // a and d are one span
  CHECK(all.duplicates == 1);
}

TEST_CASE("time unit follows the timestamp's magnitude") {
  SUBCASE("10 digits: seconds") {
    const OwnedSpan s = parse_ok(R"({"traceId":"t","spanId":"s","timestamp":"1704038400","duration":"2"})");
    CHECK(s.start == 1704038400LL * 1'000'000'000);
    CHECK(s.duration == 2'000'000'000);
  }
  SUBCASE("13 digits: milliseconds") {
    const OwnedSpan s = parse_ok(R"({"traceId":"t","spanId":"s","timestamp":"1704038400123","duration":"2"})");
    CHECK(s.start == 1704038400123LL * 1'000'000);
    CHECK(s.duration == 2'000'000);
  }
  SUBCASE("16 digits: microseconds") {
    const OwnedSpan s = parse_ok(R"({"traceId":"t","spanId":"s","timestamp":"1704038400123456","duration":"2"})");
    CHECK(s.start == 1704038400123456LL * 1'000);
    CHECK(s.duration == 2'000);
  }
  SUBCASE("19 digits: nanoseconds") {
    const OwnedSpan s = parse_ok(R"({"traceId":"t","spanId":"s","timestamp":1704038400123456789,"duration":2})");
    CHECK(s.start == 1704038400123456789LL);
    CHECK(s.duration == 2);
  }
  SUBCASE("missing duration is zero") {
    const OwnedSpan s = parse_ok(R"({"traceId":"t","spanId":"s","timestamp":"1704038400000"})");
    CHECK(s.duration == 0);
  }
}

TEST_CASE("fractional durations and timestamps are exact") {
  const OwnedSpan ms = parse_ok(R"({"traceId":"t","spanId":"s","timestamp":"1704038400000","duration":"0.25"})");
  CHECK(ms.duration == 250'000);
  const OwnedSpan num = parse_ok(R"({"traceId":"t","spanId":"s","timestamp":1704038400000,"duration":12.5})");
  CHECK(num.duration == 12'500'000);
  const OwnedSpan sec = parse_ok(R"({"traceId":"t","spanId":"s","timestamp":"1704038400.5","duration":"1.5"})");
  CHECK(sec.start == 1704038400500'000'000LL);
  CHECK(sec.duration == 1'500'000'000);
  const OwnedSpan us = parse_ok(R"({"traceId":"t","spanId":"s","timestamp":"1704038400000000","duration":"0.5"})");
  CHECK(us.duration == 500);
}

TEST_CASE("--time-unit overrides the magnitude rule") {
  const std::string line = R"({"traceId":"t","spanId":"s","timestamp":"1704038400000","duration":"100"})";
  ParseOptions us;
  us.time_unit = TimeUnit::kMicros;
  const OwnedSpan a = parse_ok(line, us);
  CHECK(a.start == 1704038400000LL * 1'000);
  CHECK(a.duration == 100'000);

  ParseOptions ns;
  ns.time_unit = TimeUnit::kNanos;
  const OwnedSpan b = parse_ok(line, ns);
  CHECK(b.start == 1704038400000LL);
  CHECK(b.duration == 100);

  // A small relative timestamp would be milliseconds by magnitude; forced to seconds.
  ParseOptions s;
  s.time_unit = TimeUnit::kSeconds;
  const OwnedSpan c = parse_ok(R"({"traceId":"t","spanId":"s","timestamp":"40","duration":"0.5"})", s);
  CHECK(c.start == 40'000'000'000LL);
  CHECK(c.duration == 500'000'000);
  const OwnedSpan d = parse_ok(R"({"traceId":"t","spanId":"s","timestamp":"40","duration":"0.5"})");
  CHECK(d.start == 40'000'000);
  CHECK(d.duration == 500'000);
}

TEST_CASE("parentSpanId \"0\", \"\", null and absent all mean no parent") {
  const char* lines[] = {
      R"({"traceId":"t","spanId":"s","parentSpanId":"0","timestamp":"1704038400000"})",
      R"({"traceId":"t","spanId":"s","parentSpanId":"","timestamp":"1704038400000"})",
      R"({"traceId":"t","spanId":"s","parentSpanId":null,"timestamp":"1704038400000"})",
      R"({"traceId":"t","spanId":"s","timestamp":"1704038400000"})",
  };
  OwnedSpan first = parse_ok(lines[0]);
  CHECK(first.parent_id == "");
  for (const char* line : lines) {
    const OwnedSpan s = parse_ok(line);
    CHECK_MESSAGE(s.parent_id == "", line);
    CHECK_MESSAGE(s == first, line);  // the same span
  }
  const OwnedSpan with_parent =
      parse_ok(R"({"traceId":"t","spanId":"s","parentSpanId":"00","timestamp":"1704038400000"})");
  CHECK(with_parent.parent_id == "00");  // only "0" itself is the no-parent marker
}

TEST_CASE("operation, or name when there is no operation") {
  CHECK(parse_ok(R"({"traceId":"t","spanId":"s","timestamp":"1","operation":"GET /a"})").operation == "GET /a");
  CHECK(parse_ok(R"({"traceId":"t","spanId":"s","timestamp":"1","name":"GET /b"})").operation == "GET /b");
  CHECK(parse_ok(R"({"traceId":"t","spanId":"s","timestamp":"1","name":"GET /b","operation":"GET /a"})")
            .operation == "GET /a");
  CHECK(parse_ok(R"({"traceId":"t","spanId":"s","timestamp":"1","operation":"GET /a","name":"GET /b"})")
            .operation == "GET /a");
  const OwnedSpan svc = parse_ok(R"({"traceId":"t","spanId":"s","timestamp":"1","service":"cart"})");
  CHECK(svc.service == "cart");
}

TEST_CASE("the --group-by field is captured") {
  ParseOptions o;
  o.group_field = "region";
  const OwnedSpan s = parse_ok(R"({"traceId":"t","spanId":"s","timestamp":"1","region":"eu-west-1"})", o);
  CHECK(s.group == "eu-west-1");
  const OwnedSpan none = parse_ok(R"({"traceId":"t","spanId":"s","timestamp":"1","region":"eu-west-1"})");
  CHECK(none.group == "");
}

TEST_CASE("requestStacks entries use the line's unit, not their own magnitude") {
  SUBCASE("microsecond line") {
    const OwnedSpan s = parse_ok(
        R"({"traceId":"t","spanId":"s","timestamp":"1704038400000000","duration":"1000","requestStacks":[{"subSpanId":"c","subTimestamp":"1704038400000500","subDuration":"300","subHttpCode":"404","subHost":"h2"}]})");
    REQUIRE(s.calls.size() == 1);
    CHECK(s.calls[0] == OwnedCall{"c", 1704038400000500LL * 1000, 300'000, "h2", 404});
  }
  SUBCASE("second line with a fractional subDuration") {
    const OwnedSpan s = parse_ok(
        R"({"traceId":"t","spanId":"s","timestamp":1704038400,"duration":2,"requestStacks":[{"subSpanId":"c","subTimestamp":1704038400.25,"subDuration":0.5}]})");
    REQUIRE(s.calls.size() == 1);
    CHECK(s.calls[0].start == 1704038400250'000'000LL);
    CHECK(s.calls[0].duration == 500'000'000);
    CHECK(s.calls[0].http_code == kNoCode);
    CHECK(s.calls[0].host == "");
  }
  SUBCASE("forced unit applies to entries too") {
    ParseOptions o;
    o.time_unit = TimeUnit::kMicros;
    const OwnedSpan s = parse_ok(
        R"({"traceId":"t","spanId":"s","timestamp":"1000","duration":"10","requestStacks":[{"subSpanId":"c","subTimestamp":"1002","subDuration":"7"}]})",
        o);
    REQUIRE(s.calls.size() == 1);
    CHECK(s.calls[0].start == 1'002'000);
    CHECK(s.calls[0].duration == 7'000);
  }
  SUBCASE("empty and null requestStacks") {
    CHECK(parse_ok(R"({"traceId":"t","spanId":"s","timestamp":"1","requestStacks":[]})").calls.empty());
    CHECK(parse_ok(R"({"traceId":"t","spanId":"s","timestamp":"1","requestStacks":null})").calls.empty());
  }
}

TEST_CASE("the three Filebeat shapes give the same span as the bare line") {
  const OwnedSpan bare = parse_ok(kNativeLine);

  SUBCASE("span JSON as a string in message") {
    const std::string event =
        R"({"@timestamp":"2024-01-01T00:00:00.123Z","log":{"file":{"path":"/var/log/app/spans.jsonl"},"offset":4711},"host":{"name":"web-1"},"message":)" +
        json_string(kNativeLine) + "}";
    const OwnedSpan s = parse_ok(event);
    CHECK(s == bare);  // the span's own host wins over host.name
  }
  SUBCASE("span fields at the root") {
    // host.name supplies the host, which the span itself leaves out here.
    const std::string event =
        R"({"@timestamp":"2024-01-01T00:00:00.123Z","host":{"name":"192.168.10.1"},"log":{"file":{"path":"/var/log/app/spans.jsonl"},"offset":4711},)" +
        kFieldsNoHost + "}";
    const OwnedSpan s = parse_ok(event);
    CHECK(s == bare);
  }
  SUBCASE("span fields under json") {
    const std::string event =
        R"({"@timestamp":"2024-01-01T00:00:00.123Z","host":{"name":"web-1"},"log":{"file":{"path":"/var/log/app/spans.jsonl"},"offset":4711},"json":)" +
        kNativeLine + "}";
    const OwnedSpan s = parse_ok(event);
    CHECK(s == bare);
  }
  SUBCASE("the same line in two envelopes and bare is one span") {
    const std::string a =
        R"({"@timestamp":"2024-01-01T00:00:01Z","log":{"offset":1},"message":)" + json_string(kNativeLine) + "}";
    const std::string b =
        R"({"@timestamp":"2024-01-01T00:00:09Z","log":{"offset":999},"message":)" + json_string(kNativeLine) + "}";
    const std::string j = R"({"@timestamp":"2024-01-01T00:00:09Z","json":)" + kNativeLine + "}";
    const Distinct d = store_lines({a, b, kNativeLine, j});
    CHECK(d.spans == 1);
    CHECK(d.duplicates == 3);
  }
}

TEST_CASE("host.name is used when the span has no host") {
  const std::string inner = R"({"traceId":"t","spanId":"s","timestamp":"1704038400000","duration":"3"})";
  const OwnedSpan msg = parse_ok(R"({"host":{"name":"web-7"},"message":)" + json_string(inner) + "}");
  CHECK(msg.host == "web-7");
  CHECK(msg.trace_id == "t");
  CHECK(msg.duration == 3 * kMs);
  const OwnedSpan json = parse_ok(
      R"({"host":{"name":"web-7"},"json":{"traceId":"t","spanId":"s","timestamp":"1704038400000","duration":"3"}})");
  CHECK(json.host == "web-7");
  // Without an envelope host there is no host.
  CHECK(parse_ok(inner).host == "");
}

TEST_CASE("one parser reused over many lines keeps no state between them") {
  SpanParser parser{ParseOptions{}};
  const Result a = parse_with(parser, kNativeLine);
  const Result bad = parse_with(parser, R"({"traceId":"t","spanId":"s"})");
  const Result c = parse_with(parser, R"({"traceId":"t","spanId":"s","timestamp":"1704038400000"})");
  const Result d = parse_with(parser, kNativeLine);
  REQUIRE(a.ok);
  CHECK_FALSE(bad.ok);
  REQUIRE(c.ok);
  REQUIRE(d.ok);
  CHECK(c.span.calls.empty());  // no entries left over from line 1
  CHECK(c.span.host == "");
  CHECK(a.span == d.span);
}

TEST_CASE("trailing whitespace after the object is fine") {
  const OwnedSpan s = parse_ok(kNativeLine + "  \t");
  CHECK(s == parse_ok(kNativeLine));
}

TEST_CASE("a line read in place ends at its own newline, or is left to the reading by line") {
  const std::string line = kNativeLine;
  // Where parse_in_place says the line at the text's start ends, as an
  // offset; -1 for nullptr (left to the reading by line).
  auto end_of = [](const std::string& text, OwnedSpan& out) -> long {
    std::string buf = text;
    buf.resize(text.size() + simdjson::SIMDJSON_PADDING, '\0');
    SpanParser parser{ParseOptions{}};
    SpanRecord r;
    const char* end = parser.parse_in_place(buf.data(), buf.data() + text.size(), r);
    if (end) out = own(r);
    return end ? end - buf.data() : -1;
  };
  OwnedSpan r;
  const auto size = static_cast<long>(line.size());
  CHECK(end_of(line + "\n" + line + "\n", r) == size);
  CHECK(end_of(line + " \t\r\n\n" + line, r) == size + 3);  // at the first newline, not past the blank line
  CHECK(end_of(line, r) == size);                              // the last line, with no newline
  CHECK(end_of(line + " x\n", r) == -1);                       // text after the object
  CHECK(end_of(line + line, r) == -1);                          // two objects
  CHECK(end_of(R"({"traceId":"t",)" "\n" R"("spanId":"s","timestamp":1,"duration":1})" "\n", r) == -1);
  CHECK(end_of("\n" + line, r) == -1);  // a blank line is found by line
  // What it reads is what the reading of the line alone gives.
  REQUIRE(end_of(line + "\nx", r) == size);
  CHECK(r == parse_ok(line));
}

TEST_CASE("bad lines are rejected with a reason") {
  SUBCASE("not JSON") {
    const std::string e = parse_error("hello world");
    CHECK(e.find("JSON") != std::string::npos);
  }
  SUBCASE("a JSON array") {
    CHECK(parse_error(R"([1, 2])") == "not a JSON object but an array");
    CHECK(parse_error(R"([{"traceId":"t","spanId":"s","timestamp":"1"}])") ==
          "Zipkin v2 JSON (a span array) is not read yet: give one native span object per line");
  }
  SUBCASE("a JSON string") {
    CHECK(parse_error(R"("traceId")") == "not a JSON object but a string");
  }
  SUBCASE("truncated") {
    const std::string e = parse_error(R"({"traceId":"0001","spanId":"01","timestamp":"1704038400000")");
    CHECK(e.find("invalid JSON") != std::string::npos);
    const std::string e2 = parse_error(R"({"traceId":"0001","spanId":"01","timestamp":"17040)");
    CHECK(e2.find("invalid JSON") != std::string::npos);
  }
  SUBCASE("missing traceId") {
    CHECK(parse_error(R"({"spanId":"01","timestamp":"1704038400000"})").find("missing traceId") == 0);
    CHECK(parse_error(R"({"traceId":"","spanId":"01","timestamp":"1704038400000"})") == "empty traceId");
    CHECK(parse_error(R"({"traceId":"a","spanId":"","timestamp":"1704038400000"})") == "empty spanId");
  }
  SUBCASE("duplicate keys") {
    CHECK(parse_error(R"({"traceId":"a","traceId":"b","spanId":"01","timestamp":"1"})") == "duplicate key \"traceId\"");
    CHECK(parse_error(R"({"traceId":"a","spanId":"01","timestamp":"1","duration":1,"duration":2})") ==
          "duplicate key \"duration\"");
  }
  SUBCASE("raw control bytes in a string") {
    CHECK(parse_error(std::string("{\"traceId\":\"a\x01b\",\"spanId\":\"1\",\"timestamp\":1}")) ==
          "invalid JSON: control character in string");
  }
  SUBCASE("an object with no span in it") {
    CHECK(parse_error(R"({"level":"info","msg":"started"})").find("traceId") != std::string::npos);
  }
  SUBCASE("missing spanId") {
    CHECK(parse_error(R"({"traceId":"0001","timestamp":"1704038400000"})").find("missing spanId") == 0);
  }
  SUBCASE("missing timestamp") {
    CHECK(parse_error(R"({"traceId":"0001","spanId":"01","duration":"5"})").find("missing timestamp") == 0);
    CHECK(parse_error(R"({"traceId":"0001","spanId":"01","timestamp":null})").find("missing timestamp") == 0);
  }
  SUBCASE("duration as a boolean") {
    const std::string e = parse_error(R"({"traceId":"t","spanId":"s","timestamp":"1704038400000","duration":true})");
    CHECK(e.find("duration") != std::string::npos);
    CHECK(e.find("boolean") != std::string::npos);
  }
  SUBCASE("a non-numeric string") {
    const std::string e = parse_error(R"({"traceId":"t","spanId":"s","timestamp":"1704038400000","duration":"12ms"})");
    CHECK(e.find("duration") != std::string::npos);
    CHECK(e.find("12ms") != std::string::npos);
    const std::string t = parse_error(R"({"traceId":"t","spanId":"s","timestamp":"2024-01-01T00:00:00Z"})");
    CHECK(t.find("timestamp") != std::string::npos);
  }
  SUBCASE("a negative duration") {
    const std::string e = parse_error(R"({"traceId":"t","spanId":"s","timestamp":"1704038400000","duration":"-5"})");
    CHECK(e.find("duration is negative") == 0);
    const std::string n = parse_error(R"({"traceId":"t","spanId":"s","timestamp":"1704038400000","duration":-0.5})");
    CHECK(n.find("duration is negative") == 0);
  }
  SUBCASE("a negative timestamp") {
    CHECK(parse_error(R"({"traceId":"t","spanId":"s","timestamp":"-1704038400000"})").find("timestamp") !=
          std::string::npos);
  }
  SUBCASE("httpCode out of range") {
    CHECK(parse_error(R"({"traceId":"t","spanId":"s","timestamp":"1","httpCode":200.5})") ==
          "httpCode is not an integer: \"200.5\"");
    for (const char* code : {"1000", "-1", "70000"}) {
      const std::string line =
          std::string(R"({"traceId":"t","spanId":"s","timestamp":"1704038400000","httpCode":)") + code + "}";
      const std::string e = parse_error(line);
      CHECK_MESSAGE(e.find("httpCode") != std::string::npos, code);
      CHECK_MESSAGE(e.find("out of range") != std::string::npos, code);
    }
    // The edges of the range are fine.
    CHECK(parse_ok(R"({"traceId":"t","spanId":"s","timestamp":"1","httpCode":999})").http_code == 999);
    CHECK(parse_ok(R"({"traceId":"t","spanId":"s","timestamp":"1","httpCode":"0"})").http_code == 0);
  }
  SUBCASE("requestStacks not an array") {
    const std::string e =
        parse_error(R"({"traceId":"t","spanId":"s","timestamp":"1704038400000","requestStacks":{"subSpanId":"c"}})");
    CHECK(e.find("requestStacks") != std::string::npos);
    CHECK(e.find("array") != std::string::npos);
    const std::string s =
        parse_error(R"({"traceId":"t","spanId":"s","timestamp":"1704038400000","requestStacks":"[]"})");
    CHECK(s.find("requestStacks") != std::string::npos);
  }
  SUBCASE("an entry without subSpanId") {
    const std::string e = parse_error(
        R"({"traceId":"t","spanId":"s","timestamp":"1704038400000","requestStacks":[{"subSpanId":"a"},{"subTimestamp":"1704038400000","subDuration":"3"}]})");
    CHECK(e.find("requestStacks[1]") != std::string::npos);
    CHECK(e.find("subSpanId") != std::string::npos);
    const std::string empty = parse_error(
        R"({"traceId":"t","spanId":"s","timestamp":"1704038400000","requestStacks":[{"subSpanId":""}]})");
    CHECK(empty.find("subSpanId") != std::string::npos);
  }
  SUBCASE("an entry with a bad number names the entry") {
    const std::string e = parse_error(
        R"({"traceId":"t","spanId":"s","timestamp":"1704038400000","requestStacks":[{"subSpanId":"a","subDuration":"x"}]})");
    CHECK(e.find("requestStacks[0]") != std::string::npos);
    CHECK(e.find("subDuration") != std::string::npos);
  }
  SUBCASE("text after the object") {
    const std::string e = parse_error(kNativeLine + " x");
    CHECK(e.find("text") != std::string::npos);
    CHECK(parse_error(kNativeLine + " 5").find("text") != std::string::npos);
    CHECK(parse_error(kNativeLine + "}").find("text") != std::string::npos);
    const std::string two = parse_error(kNativeLine + kNativeLine);
    CHECK(two.find("invalid JSON") != std::string::npos);
  }
  SUBCASE("a bad span inside message names message") {
    const std::string e = parse_error(R"({"@timestamp":"2024-01-01T00:00:00Z","message":"{\"traceId\":\"t\"}"})");
    CHECK(e.find("missing spanId") == 0);
    const std::string j = parse_error(R"({"@timestamp":"2024-01-01T00:00:00Z","message":"GET /health 200"})");
    CHECK(j.find("message") != std::string::npos);
  }
}

namespace {

bool same(const Result& a, const Result& b) { return a.ok == b.ok && a.error == b.error && a.span == b.span; }

void check_both_readings(SpanParser& fast, SpanParser& careful, std::string_view line) {
  const Result f = parse_with(fast, line), c = parse_with(careful, line);
  INFO("line: ", line);
  INFO("fast: ", f.ok ? "accepted" : f.error, "; careful: ", c.ok ? "accepted" : c.error);
  CHECK(same(f, c));
}

}  // namespace

TEST_CASE("the fast reading of flat lines says what the careful reading says") {
  ParseOptions careful_only;
  careful_only.fast_path = false;
  SpanParser fast{ParseOptions{}}, careful{careful_only};
  const std::string_view lines[] = {
      R"({"traceId":"t","spanId":"s","timestamp":1704038400000,"duration":5})",
      R"( { "traceId" : "t" , "spanId" : 7 , "timestamp" : "1704038400000.5" , "duration" : 1.25 } )",
      R"({"traceId":"t","spanId":"s","timestamp":1704038400000,"requestStacks":null})",
      R"({"traceId":"t","spanId":"s","timestamp":1704038400000,"requestStacks":[]})",
      R"({"traceId":"t","spanId":"s","timestamp":1,"requestStacks":[{"subSpanId":"c","x":true,"subHttpCode":"503"}]})",
      R"({"traceId":"t","spanId":"s","timestamp":1,"requestStacks":[{"subSpanId":"c"},{"subSpanId":"c"}]})",
      // The seed's own spacing, numbers as strings, in requestStacks too.
      R"({"traceId": "t","spanId": "s","timestamp": "1704038400006","duration": "5","httpCode": "200","requestStacks": [{"subSpanId": "c","subHttpCode": "200","subTimestamp": "1704038400007","subDuration": "3","subHost": "10.1.0.147"}]})",
      R"({"traceId": "t","spanId": "s","timestamp": 1,"requestStacks": [ { "subSpanId" : "c" , "subHost" :	"h" } ]})",
      R"({"traceId":"t","spanId":"s","timestamp":1,"requestStacks":[{"subSpanId":""}]})",
      R"({"traceId":"t","spanId":"s","timestamp":1,"requestStacks":[{}]})",
      R"({"traceId":"t","spanId":"s","timestamp":1,"requestStacks":[{"subSpanId":"c","subSpanId":"d"}]})",
      R"({"traceId":"t","spanId":"s","timestamp":1,"requestStacks":[{"subSpanId":"c"},]})",
      R"({"traceId":"t","spanId":"s","timestamp":1,"requestStacks":{}})",
      R"({"traceId":"t","spanId":"s","timestamp":1,"duration":-0})",
      R"({"traceId":"t","spanId":"s","timestamp":1,"duration":-1})",
      R"({"traceId":"t","spanId":"s","timestamp":1,"duration":012})",
      R"({"traceId":"t","spanId":"s","timestamp":"012"})",
      R"({"traceId":"t","spanId":"s","timestamp":1e3,"duration":2E-1})",
      R"({"traceId":"t","spanId":"s","timestamp":1.})",
      R"({"traceId":"t","spanId":"s","timestamp":1,"httpCode":200.0})",
      R"({"traceId":"t","spanId":"s","timestamp":1,"httpCode":200.5})",
      R"({"traceId":"t","spanId":"s","timestamp":1,"httpCode":1000})",
      R"({"traceId":"t","spanId":"s","timestamp":1,"httpCode":null,"host":null,"service":5})",
      R"({"traceId":"t","spanId":"s","timestamp":1,"service":true})",
      R"({"traceId":"t","spanId":"s","timestamp":1,"extra":[1,2]})",
      R"({"traceId":"t","spanId":"s","timestamp":1,"extra":{"a":1}})",
      R"({"traceId":"t","spanId":"s","timestamp":1,"extra":nul})",
      R"({"traceId":"t","spanId":"s","timestamp":1,"extra":truex})",
      R"({"traceId":"t","spanId":"s","timestamp":1,"extra":"a\"b"})",
      R"({"traceId":"t","spanId":"s","timestamp":1,"operation":"caf\u00e9"})",
      "{\"traceId\":\"t\",\"spanId\":\"s\",\"timestamp\":1,\"operation\":\"caf\xc3\xa9\"}",
      "{\"traceId\":\"t\",\"spanId\":\"s\",\"timestamp\":1,\"operation\":\"caf\xc3\"}",
      "{\"traceId\":\"t\",\"spanId\":\"s\",\"timestamp\":1,\"operation\":\"a\tb\"}",
      R"({"traceId":"t","spanId":"s","timestamp":1,"traceId":"u"})",
      R"({"traceId":"t","spanId":"s","timestamp":1,"host":"a","host":"b"})",
      R"({"traceId":"t","spanId":"s","timestamp":1} x)",
      R"({"traceId":"t","spanId":"s","timestamp":1)",
      R"({"traceId":"t","spanId":"s","timestamp":1,})",
      R"({"traceId":"t","spanId":"s","timestamp":1 "duration":2})",
      R"({"traceId":"t","spanId":"s","timestamp)",
      R"({"traceId":null,"spanId":"s","timestamp":1})",
      R"({"traceId":"t","spanId":"s"})",
      R"({"traceId":"t","spanId":"s","timestamp":-5})",
      R"({"traceId":"","spanId":"s","timestamp":1})",
      R"({"spanID":"s","traceID":"t"})",
      R"({"traceId":"t","spanId":"s","timestamp":1,"message":"x"})",
      R"({"traceId":"t","spanId":"s","timestamp":1,"log.offset":3})",
      R"({"traceId":"t","spanId":"s","timestamp":99999999999999999999999})",
      R"({"traceId":"t","spanId":"s","timestamp":1,"duration":1e400})",
      R"({})",
      R"({"":1})",
      R"([])",
      // kind, tags and logs: only the careful reading takes them.
      R"({"traceId":"t","spanId":"s","timestamp":1,"kind":"SERVER"})",
      R"({"traceId":"t","spanId":"s","timestamp":1,"kind":"sideways"})",
      R"({"traceId":"t","spanId":"s","timestamp":1,"kind":2})",
      R"({"traceId":"t","spanId":"s","timestamp":1,"kind":null,"tags":null,"logs":null})",
      R"({"traceId":"t","spanId":"s","timestamp":1,"tags":{"a":1,"b":"x","c":[1,{"d":2}],"error":true}})",
      R"({"traceId":"t","spanId":"s","timestamp":1,"tags":{"a":01}})",
      R"({"traceId":"t","spanId":"s","timestamp":1,"tags":{"a":tru}})",
      R"({"traceId":"t","spanId":"s","timestamp":1,"tags":{"a":[1,}})",
      R"({"traceId":"t","spanId":"s","timestamp":1,"tags":["a"]})",
      R"({"traceId":"t","spanId":"s","timestamp":1,"logs":[{"timestamp":2,"event":"e","fields":{"k":"v"}}]})",
      R"({"traceId":"t","spanId":"s","timestamp":1,"logs":[{"event":"e"}]})",
      R"({"traceId":"t","spanId":"s","timestamp":1,"logs":[3]})",
      R"({"traceId":"t","spanId":"s","timestamp":1,"kind":"client","kind":"server"})",
      R"({"tags":[{"key":"k"}],"traceID":"t","spanID":"s"})",
  };
  for (std::string_view line : lines) check_both_readings(fast, careful, line);

  // Every line of the samples and the golden cases' inputs.
  namespace fs = std::filesystem;
  std::size_t count = 0;
  for (const char* dir : {"samples", "tests/golden"}) {
    for (const auto& entry : fs::recursive_directory_iterator(fs::path(TA_SOURCE_DIR) / dir)) {
      if (!entry.is_regular_file() || entry.path().extension() != ".jsonl") continue;
      std::ifstream in(entry.path(), std::ios::binary);
      for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.size() > (1u << 20)) continue;
        check_both_readings(fast, careful, line);
        ++count;
      }
    }
  }
  CHECK(count > 300);
}

// kind, tags and logs on a native line.

namespace {

const std::string kHead = R"({"traceId":"t","spanId":"s","timestamp":1704038400000,"duration":10)";

OwnedSpan with(std::string_view fields, ParseOptions options = {}) {
  return parse_ok(kHead + "," + std::string(fields) + "}", std::move(options));
}
std::string error_with(std::string_view fields) { return parse_error(kHead + "," + std::string(fields) + "}"); }

}  // namespace

TEST_CASE("a plain line has no details, and a reused record loses them") {
  const OwnedSpan plain = parse_ok(kNativeLine);
  CHECK_FALSE(plain.details);
  CHECK(plain.kind == SpanKind::kUnset);
  CHECK(plain.status == StatusCode::kUnset);
  CHECK(plain.attributes.empty());
  CHECK(plain.events.empty());

  SpanParser parser{ParseOptions{}};
  SpanRecord r;
  const std::string detailed = kHead + R"(,"kind":"server","tags":{"error":true},"logs":[{"timestamp":1704038400001}]})";
  for (const std::string& line : {detailed, kNativeLine, detailed, std::string(kHead + "}")}) {
    std::string buf = line;
    buf.append(simdjson::SIMDJSON_PADDING, '\0');
    INFO("line: ", line);
    REQUIRE(parser.parse(std::string_view(buf.data(), line.size()), buf.size(), r));
    CHECK(r.has_details() == (line == detailed));
    CHECK(r.event_attributes.empty());
  }
}

TEST_CASE("kind: the five names in any case, and OTLP's SPAN_KIND_ names") {
  const std::pair<const char*, SpanKind> cases[] = {
      {"server", SpanKind::kServer},       {"client", SpanKind::kClient},
      {"producer", SpanKind::kProducer},   {"consumer", SpanKind::kConsumer},
      {"internal", SpanKind::kInternal},   {"SERVER", SpanKind::kServer},
      {"Client", SpanKind::kClient},       {"pRoDuCeR", SpanKind::kProducer},
      {"SPAN_KIND_SERVER", SpanKind::kServer}, {"SPAN_KIND_CLIENT", SpanKind::kClient},
      {"SPAN_KIND_PRODUCER", SpanKind::kProducer}, {"SPAN_KIND_CONSUMER", SpanKind::kConsumer},
      {"span_kind_internal", SpanKind::kInternal}, {"SPAN_KIND_UNSPECIFIED", SpanKind::kUnset},
      {"", SpanKind::kUnset},               {"s\\u0065rver", SpanKind::kServer},
  };
  for (const auto& [name, kind] : cases) {
    const OwnedSpan s = with(std::string(R"("kind":")") + name + "\"");
    CHECK_MESSAGE(s.kind == kind, name);
    CHECK(s.status == StatusCode::kUnset);
  }
  CHECK(with(R"("kind":null)").kind == SpanKind::kUnset);
  CHECK_FALSE(with(R"("kind":null)").details);
  CHECK(with(R"("kind":"internal")").details);

  CHECK(error_with(R"("kind":"sideways")") ==
        R"(kind is not one of server, client, producer, consumer, internal: "sideways")");
  CHECK(error_with(R"("kind":"SPAN_KIND_")").find("kind is not one of") == 0);
  CHECK(error_with(R"("kind":"unspecified")").find("kind is not one of") == 0);
  CHECK(error_with(R"("kind":2)") == "kind is a number, expected a string");
  CHECK(error_with(R"("kind":true)") == "kind is a boolean, expected a string");
  CHECK(error_with(R"("kind":{"a":1})") == "kind is an object, expected a string");
  CHECK(error_with(R"("kind":["server"])") == "kind is an array, expected a string");
  CHECK(error_with(R"("kind":"server","kind":"client")") == "duplicate key \"kind\"");
  CHECK(error_with(R"("kind":02)").find("invalid JSON") == 0);

  // --group-by kind still groups by it.
  ParseOptions o;
  o.group_field = "kind";
  const OwnedSpan g = with(R"("kind":"Server")", o);
  CHECK(g.group == "Server");
  CHECK(g.kind == SpanKind::kServer);
}

TEST_CASE("tags: every JSON type, numbers as written, null skipped") {
  const OwnedSpan s = with(
      R"("tags":{"s":"text","i":42,"neg":-7,"big":123456789012345678901234567890,"d":-1.50e3,"f":0.25,)"
      R"("yes":true,"no":false,"gone":null,"o":{"a":[1, 2],"b":"c"},"a":[1,"x",null] ,"esc":"a\"b\u00e9\\",)"
      R"("k\u0065y":"v", "sp" : 12 ,"empty":"","error.message":"ignored"})");
  const std::vector<OwnedAttribute> expected = {
      {"s", "text", ValueType::kString},
      {"i", "42", ValueType::kInt},
      {"neg", "-7", ValueType::kInt},
      {"big", "123456789012345678901234567890", ValueType::kInt},
      {"d", "-1.50e3", ValueType::kDouble},
      {"f", "0.25", ValueType::kDouble},
      {"yes", "true", ValueType::kBool},
      {"no", "false", ValueType::kBool},
      {"o", R"({"a":[1, 2],"b":"c"})", ValueType::kJson},
      {"a", R"([1,"x",null])", ValueType::kJson},
      {"esc", "a\"b\xc3\xa9\\", ValueType::kString},
      {"key", "v", ValueType::kString},
      {"sp", "12", ValueType::kInt},
      {"empty", "", ValueType::kString},
      {"error.message", "ignored", ValueType::kString},
  };
  CHECK(s.attributes == expected);
  CHECK(s.status == StatusCode::kUnset);
  CHECK(s.kind == SpanKind::kUnset);
  CHECK(s.events.empty());
  CHECK(s.details);

  // http.status_code is only an attribute: native lines have httpCode.
  const OwnedSpan h = with(R"("httpCode":200,"tags":{"http.status_code":503})");
  CHECK(h.http_code == 200);
  CHECK(h.attributes == std::vector<OwnedAttribute>{{"http.status_code", "503", ValueType::kInt}});

  CHECK(with(R"("tags":{})").attributes.empty());
  CHECK_FALSE(with(R"("tags":{})").details);
  CHECK_FALSE(with(R"("tags":{"x":null})").details);
  CHECK_FALSE(with(R"("tags":null)").details);

  CHECK(error_with(R"("tags":"a=b")") == "tags is a string, expected an object");
  // A list at the top level is Filebeat's own `tags` field: not the span's.
  CHECK_FALSE(with(R"("tags":["a"])").details);
  CHECK(error_with(R"("tags":5)") == "tags is a number, expected an object");
  CHECK(error_with(R"("tags":{"a":01})") == "invalid JSON: bad number in tags");
  CHECK(error_with(R"("tags":{"a":1.})") == "invalid JSON: bad number in tags");
  CHECK(error_with(R"("tags":{"a":tru})") == "invalid JSON: bad literal in tags");
  CHECK(error_with(R"("tags":{"a":[1,]})") == "invalid JSON in tags");
  CHECK(error_with(R"("tags":{"a":{"b":01}})") == "invalid JSON in tags");
  CHECK(error_with(R"("tags":{"a":{"b" 1}})").find("invalid JSON") == 0);
  // Numbers inside a nested value are kept as written, whatever their size.
  CHECK(with(R"("tags":{"a":{"b":123456789012345678901234567890,"c":1e400}})").attributes ==
        std::vector<OwnedAttribute>{{"a", R"({"b":123456789012345678901234567890,"c":1e400})", ValueType::kJson}});
  CHECK(error_with(R"("tags":{"a":"x"},"tags":{})") == "duplicate key \"tags\"");
  CHECK(parse_error(kHead + ",\"tags\":{\"a\":\"x\x01y\"}}") == "invalid JSON: control character in string");
}

TEST_CASE("the error tag set to true or \"true\" marks the span as failed") {
  for (const char* v : {"true", R"("true")"}) {
    const OwnedSpan s = with(std::string(R"("tags":{"error":)") + v + R"(,"message":"boom"})");
    CHECK_MESSAGE(s.status == StatusCode::kError, v);
    CHECK(s.status_message == "");
  }
  for (const char* v : {"false", R"("false")", "1", R"("yes")", "null", R"({"a":true})"}) {
    const OwnedSpan s = with(std::string(R"("tags":{"error":)") + v + "}");
    CHECK_MESSAGE(s.status == StatusCode::kUnset, v);
  }
  // Only the span's own tags count, not a log's fields.
  CHECK(with(R"("logs":[{"timestamp":1704038400001,"fields":{"error":true}}])").status == StatusCode::kUnset);
}

TEST_CASE("logs: times in the line's unit, a name, fields as attributes") {
  SUBCASE("millisecond line") {
    const OwnedSpan s = with(
        R"("logs":[{"timestamp":1704038400005,"event":"retry","fields":{"attempt":2,"why":"timeout"}},)"
        R"({"timestamp":"1704038400007.5","message":"done"},)"
        R"({"name":"n","timestamp":1704038400009,"event":"e","extra":[1]},)"
        R"({"timestamp":1704038400000,"name":"named","fields":null},{"timestamp":1704038400001}])");
    const std::vector<OwnedEvent> expected = {
        {kBase + 5 * kMs, "retry", {{"attempt", "2", ValueType::kInt}, {"why", "timeout", ValueType::kString}}},
        {kBase + 7'500'000, "done", {}},
        {kBase + 9 * kMs, "e", {}},  // event before name before message
        {kBase, "named", {}},
        {kBase + kMs, "", {}},
    };
    CHECK(s.events == expected);
    CHECK(s.attributes.empty());
    CHECK(s.details);
  }
  SUBCASE("microsecond and second lines") {
    const OwnedSpan us = parse_ok(
        R"({"traceId":"t","spanId":"s","timestamp":1704038400000000,"logs":[{"timestamp":1704038400000500,"event":"x"}]})");
    REQUIRE(us.events.size() == 1);
    CHECK(us.events[0].time == 1704038400000500LL * 1000);
    const OwnedSpan sec = parse_ok(
        R"({"traceId":"t","spanId":"s","timestamp":"1704038400","logs":[{"timestamp":1704038400.25,"event":"x"}]})");
    REQUIRE(sec.events.size() == 1);
    CHECK(sec.events[0].time == 1704038400250'000'000LL);
  }
  SUBCASE("a forced unit applies to logs too") {
    ParseOptions o;
    o.time_unit = TimeUnit::kMicros;
    const OwnedSpan s =
        parse_ok(R"({"traceId":"t","spanId":"s","timestamp":1000,"logs":[{"timestamp":1002,"event":"x"}]})", o);
    REQUIRE(s.events.size() == 1);
    CHECK(s.events[0].time == 1'002'000);
  }
  SUBCASE("empty and null logs") {
    CHECK_FALSE(with(R"("logs":[])").details);
    CHECK_FALSE(with(R"("logs":null)").details);
  }
}

TEST_CASE("a bad logs entry rejects the line, naming logs[i]") {
  CHECK(error_with(R"("logs":{"timestamp":1})") == "logs is an object, expected an array");
  CHECK(error_with(R"("logs":"x")") == "logs is a string, expected an array");
  CHECK(error_with(R"("logs":[{"timestamp":1704038400001},5])") == "logs[1] is a number, expected an object");
  CHECK(error_with(R"("logs":[null])") == "logs[0] is null, expected an object");
  CHECK(error_with(R"("logs":[{"event":"x"}])") == "logs[0] has no timestamp");
  CHECK(error_with(R"("logs":[{"event":"x","timestamp":null}])") == "logs[0] has no timestamp");
  CHECK(error_with(R"("logs":[{"timestamp":"soon"}])") == R"(logs[0].timestamp is not a number: "soon")");
  CHECK(error_with(R"("logs":[{"timestamp":true}])") == "logs[0].timestamp is a boolean, expected a number");
  CHECK(error_with(R"("logs":[{"timestamp":-5}])") == "logs[0].timestamp is negative");
  CHECK(error_with(R"("logs":[{"timestamp":99999999999999999}])") == "logs[0].timestamp is out of range");
  CHECK(error_with(R"("logs":[{"timestamp":1,"event":{}}])") == "logs[0].event is an object, expected a string");
  CHECK(error_with(R"("logs":[{"timestamp":1,"fields":"k=v"}])") == "logs[0].fields is a string, expected an object");
  CHECK(error_with(R"("logs":[{"timestamp":1,"timestamp":2}])") == "logs[0]: duplicate key \"timestamp\"");
  CHECK(error_with(R"("logs":[{"timestamp":1,"fields":{"a":01}}])") == "invalid JSON: bad number in logs[0].fields");
}

TEST_CASE("a bad detail does not hide another format's keys after it") {
  SpanParser parser{ParseOptions{}};
  const Result r = parse_with(
      parser, R"({"tags":[{"key":"k","type":"string","value":"v"}],"logs":[{"timestamp":1,"fields":[]}],"traceID":"t","spanID":"s"})");
  CHECK_FALSE(r.ok);
  CHECK(parser.other_format());
  // A bad detail on a span with its ids comes before a missing timestamp.
  CHECK(parse_error(R"({"traceId":"t","spanId":"s","kind":"x"})").find("kind is not one of") == 0);
}

TEST_CASE("Filebeat events carry kind, tags and logs in all three shapes") {
  const std::string span =
      R"({"traceId":"t","spanId":"s","timestamp":1704038400000,"kind":"client",)"
      R"("tags":{"peer":"db\u00e9","rows":3,"error":"true"},"logs":[{"timestamp":1704038400002,"event":"q\"x","fields":{"sql":"select 1"}}]})";
  const OwnedSpan bare = parse_ok(span);
  CHECK(bare.kind == SpanKind::kClient);
  CHECK(bare.status == StatusCode::kError);
  CHECK(bare.attributes == std::vector<OwnedAttribute>{{"peer", "db\xc3\xa9", ValueType::kString},
                                                       {"rows", "3", ValueType::kInt},
                                                       {"error", "true", ValueType::kString}});
  REQUIRE(bare.events.size() == 1);
  CHECK(bare.events[0] == OwnedEvent{kBase + 2 * kMs, "q\"x", {{"sql", "select 1", ValueType::kString}}});

  // Filebeat's own `tags` (a list) beside the span is not the span's.
  const std::string message = R"({"@timestamp":"2024-01-01T00:00:00Z","tags":["beats_input"],"host":{"name":"h"},"message":)" +
                              json_string(span) + "}";
  OwnedSpan m = parse_ok(message);
  CHECK(m.host == "h");
  m.host.clear();
  CHECK(m == bare);
  const OwnedSpan j = parse_ok(R"({"tags":["x"],"json":)" + span + "}");
  CHECK(j == bare);
  const OwnedSpan root = parse_ok(R"({"log":{"offset":1},)" + span.substr(1));
  CHECK(root == bare);
  // Inside `json` a list is the span's tags, of the wrong shape.
  CHECK(parse_error(R"({"json":{"traceId":"t","spanId":"s","timestamp":1,"tags":["x"]}})") ==
        "tags is an array, expected an object");
  CHECK(parse_error(R"({"log":{"file":{"path":"/a.log"}},"message":)" +
                    json_string(R"({"traceId":"t","spanId":"s","timestamp":1,"kind":"up"})") + "}") ==
        R"(kind is not one of server, client, producer, consumer, internal: "up" (from /a.log))");
}

TEST_CASE("every rejection of a span inside a Filebeat event names the event's origin") {
  const std::string log = R"("log":{"file":{"path":"/var/log/a.log"},"offset":5})";
  auto in_message = [&](const std::string& span) {
    return parse_error("{\"message\":" + json_string(span) + "," + log + "}");
  };
  CHECK(in_message(R"({"traceId":"m","spanId":"1","timestamp":"soon"})") ==
        R"(message: timestamp is not a number: "soon" (from /var/log/a.log offset 5))");
  CHECK(in_message(R"({"traceId":"m","spanId":"1","timestamp":"1","httpCode":5000})") ==
        "message: httpCode is out of range (0-999) (from /var/log/a.log offset 5)");
  CHECK(in_message("garbage") == R"(message: not JSON: "garbage" (from /var/log/a.log offset 5))");
  CHECK(in_message(R"({"traceId":"m","spanId":"1","timestamp":"1","duration":-1})") ==
        "duration is negative (from /var/log/a.log offset 5)");
  // The span's own fields in the event (Filebeat's `json` key): the origin
  // is named when the event gives it before the field that fails.
  CHECK(parse_error("{" + log + R"(,"json":{"traceId":"m","spanId":"1","timestamp":"soon"}})") ==
        R"(timestamp is not a number: "soon" (from /var/log/a.log offset 5))");
}
