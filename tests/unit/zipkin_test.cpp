#include <doctest/doctest.h>
#include <fmt/format.h>

#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "parse/formats/zipkin.h"
#include "record_capture.h"
#include "test_support.h"

using namespace ta;
using test_support::CaptureSink;
using test_support::OwnedAttribute;
using test_support::OwnedEvent;
using test_support::OwnedSpan;

namespace {

CaptureSink read(std::string_view text, const AdapterOptions& options = {}) {
  json::Tree tree;
  std::size_t pos = 0;
  CaptureSink sink;
  REQUIRE_MESSAGE(tree.parse(text, pos), tree.error().reason);
  read_zipkin(tree.root(), options, sink);
  return sink;
}

// By value, "<none>" when absent: a missing attribute fails its CHECK instead
// of dereferencing null.
std::string attribute(const OwnedSpan& s, std::string_view key) {
  const OwnedAttribute* a = s.attribute(key);
  return a ? a->value : "<none>";
}

}  // namespace

TEST_CASE("zipkin: detection") {
  auto detect = [](std::string_view text) {
    json::Tree tree;
    std::size_t pos = 0;
    REQUIRE(tree.parse(text, pos));
    return is_zipkin(tree.root());
  };
  CHECK(detect(R"([{"traceId":"1","id":"2"}])"));
  CHECK(detect(R"({"id":"2","traceId":"1","name":"x"})"));
  CHECK_FALSE(detect("[]"));
  CHECK_FALSE(detect(R"([1,{"traceId":"1","id":"2"}])"));
  CHECK_FALSE(detect(R"({"traceId":"1","spanId":"2"})"));  // native / OTLP
  CHECK_FALSE(detect(R"({"traceID":"1","spans":[]})"));    // Jaeger
  CHECK_FALSE(detect(R"({"id":1,"data":{}})"));            // Recorder
}

TEST_CASE("zipkin: ids are padded, trimmed and lower-cased as Zipkin does") {
  const CaptureSink s = read(R"([
    {"traceId":"ABC","id":"1F","parentId":"2","timestamp":1},
    {"traceId":"0000000000000000463ac35c9f6413ad","id":"00000000000000a1","parentId":"0000000000000000","timestamp":1},
    {"traceId":"1463ac35c9f6413ae","id":"b2","timestamp":1},
    {"traceId":"48485A3953BB61246B221D5BC9E6496C","id":"C3","parentId":"","timestamp":1},
    {"traceId":"1","id":"d4","parentId":"d4","timestamp":1}])");
  REQUIRE(s.spans.size() == 5);
  CHECK(s.spans[0].trace_id == "0000000000000abc");
  CHECK(s.spans[0].span_id == "000000000000001f");
  CHECK(s.spans[0].parent_id == "0000000000000002");
  CHECK(s.spans[1].trace_id == "463ac35c9f6413ad");  // high 16 all zero: the 64-bit id
  CHECK(s.spans[1].parent_id == "");                 // all zeros: no parent
  CHECK(s.spans[2].trace_id == "0000000000000001463ac35c9f6413ae");
  CHECK(s.spans[3].trace_id == "48485a3953bb61246b221d5bc9e6496c");
  CHECK(s.spans[3].span_id == "00000000000000c3");
  CHECK(s.spans[3].parent_id == "");
  CHECK(s.spans[4].parent_id == "");  // its own parent: none
  CHECK(s.rejects.empty());
  CHECK(s.notes.empty());
}

TEST_CASE("zipkin: fields, microseconds to nanoseconds, kinds, tags and annotations") {
  AdapterOptions options;
  options.group_field = "region";
  const CaptureSink s = read(R"([
    {"traceId":"a","id":"1","name":"get /api","kind":"SERVER","timestamp":1472470996199000,"duration":207000,
     "localEndpoint":{"serviceName":"frontend","ipv4":"192.168.99.1","ipv6":"::1","port":8080},
     "remoteEndpoint":{"serviceName":"browser","ipv6":"2001:db8::c001","port":62974},
     "tags":{"http.status_code":"503","region":"eu","error":""},
     "annotations":[{"timestamp":1472470996300000,"value":"ws"},{"timestamp":1472470996250000,"value":"wr"}]},
    {"traceId":"a","id":"2","parentId":"1","kind":"CLIENT","timestamp":2,"localEndpoint":{"ipv6":"::2"},
     "tags":{"error":"timeout","http.status_code":"1000"}},
    {"traceId":"a","id":"3","parentId":"1","kind":"PRODUCER","timestamp":3,"duration":null,"name":null},
    {"traceId":"a","id":"4","parentId":"1","kind":"CONSUMER","timestamp":4,"tags":{"http.status_code":"2x"}},
    {"traceId":"a","id":"5","parentId":"1","timestamp":5,"tags":{"n":42}}])",
                             options);
  REQUIRE(s.spans.size() == 5);
  const OwnedSpan& server = s.spans[0];
  CHECK(server.operation == "get /api");
  CHECK(server.service == "frontend");
  CHECK(server.host == "192.168.99.1");  // ipv4 before ipv6
  CHECK(server.start == 1472470996199000000);
  CHECK(server.duration == 207000000);
  CHECK(server.kind == SpanKind::kServer);
  CHECK(server.status == StatusCode::kError);
  CHECK(server.status_message == "");
  CHECK(server.http_code == 503);
  CHECK(server.group == "eu");
  CHECK(attribute(server, "remoteEndpoint.serviceName") == "browser");
  CHECK(attribute(server, "remoteEndpoint.ipv4") == "<none>");
  CHECK(attribute(server, "remoteEndpoint.ipv6") == "2001:db8::c001");
  CHECK(attribute(server, "remoteEndpoint.port") == "62974");
  CHECK(server.attributes.back().type == ValueType::kInt);
  CHECK(attribute(server, "region") == "eu");
  REQUIRE(server.events.size() == 2);  // sorted by time
  CHECK(server.events[0] == OwnedEvent{1472470996250000000, "wr"});
  CHECK(server.events[1] == OwnedEvent{1472470996300000000, "ws"});

  CHECK(s.spans[1].kind == SpanKind::kClient);
  CHECK(s.spans[1].host == "::2");
  CHECK(s.spans[1].duration == 0);  // no duration given
  CHECK(s.spans[1].status == StatusCode::kError);
  CHECK(s.spans[1].status_message == "timeout");
  CHECK(s.spans[1].http_code == kNoCode);
  CHECK(s.spans[2].kind == SpanKind::kProducer);
  CHECK(s.spans[2].operation == "");
  CHECK(s.spans[3].kind == SpanKind::kConsumer);
  CHECK(s.spans[3].http_code == kNoCode);
  CHECK(s.spans[4].kind == SpanKind::kInternal);  // no kind: a local span
  CHECK(s.spans[4].status == StatusCode::kUnset);
  CHECK(attribute(s.spans[4], "n") == "42");
}

TEST_CASE("zipkin: one span object, not in an array") {
  const CaptureSink s = read(R"({"traceId":"a","id":"1","timestamp":10,"duration":5})");
  REQUIRE(s.spans.size() == 1);
  CHECK(s.spans[0].offset == 0);
  CHECK(s.spans[0].start == 10000);
  CHECK(s.spans[0].duration == 5000);
}

TEST_CASE("zipkin: the two halves of a shared span are both kept") {
  const std::string text = R"([
    {"traceId":"a","id":"1","kind":"CLIENT","timestamp":10,"duration":50,"localEndpoint":{"serviceName":"front"}},
    {"traceId":"a","id":"1","kind":"SERVER","shared":true,"timestamp":20,"duration":30,"localEndpoint":{"serviceName":"back"}}])";
  const CaptureSink s = read(text);
  REQUIRE(s.spans.size() == 2);
  CHECK(s.merges.empty());
  CHECK(s.spans[0].offset == text.find("{\"traceId\":\"a\",\"id\":\"1\",\"kind\":\"CLIENT\""));
  CHECK_FALSE(s.spans[0].shared);
  CHECK(s.spans[1].offset == text.find("{\"traceId\":\"a\",\"id\":\"1\",\"kind\":\"SERVER\""));
  CHECK(s.spans[1].shared);
  CHECK(s.spans[1].service == "back");
}

TEST_CASE("zipkin: a server half without the shared flag is marked shared, and takes the client's parent") {
  // Trace#merge corrects instrumentation that forgets the flag; a client
  // span never keeps one.
  const CaptureSink s = read(R"([
    {"traceId":"a","id":"2","kind":"SERVER","timestamp":20,"localEndpoint":{"serviceName":"back"}},
    {"traceId":"a","id":"2","parentId":"1","kind":"CLIENT","shared":true,"timestamp":10,"localEndpoint":{"serviceName":"front"}}])");
  REQUIRE(s.spans.size() == 2);
  CHECK(s.spans[0].kind == SpanKind::kServer);
  CHECK(s.spans[0].shared);
  CHECK(s.spans[0].parent_id == "0000000000000001");
  CHECK(s.spans[1].kind == SpanKind::kClient);
  CHECK_FALSE(s.spans[1].shared);
}

TEST_CASE("zipkin: parts of one span are merged into one record at the first part") {
  const std::string text = R"([
    {"traceId":"a","id":"1","name":"get","localEndpoint":{"serviceName":"api"},
     "annotations":[{"timestamp":15,"value":"retry"}],"tags":{"a":"1","b":"old"}},
    {"traceId":"a","id":"9","timestamp":1,"duration":2},
    {"traceId":"a","id":"1","kind":"SERVER","timestamp":10,"duration":20,"localEndpoint":{"serviceName":"api","ipv4":"10.0.0.1"},
     "annotations":[{"timestamp":15,"value":"retry"},{"timestamp":12,"value":"wire"}],"tags":{"b":"new"}},
    {"traceId":"a","id":"1","tags":{"c":"3"}},
    {"traceId":"a","id":"1","timestamp":99,"localEndpoint":{"serviceName":"other"}}])";
  const CaptureSink s = read(text);
  // The part from "other" clashes with the endpoint: another span.
  REQUIRE(s.spans.size() == 3);
  CHECK(s.merges.size() == 2);
  CHECK(s.rejects.empty());
  CHECK(s.records() == 5);
  const std::size_t first = text.find("{\"traceId\":\"a\",\"id\":\"1\",\"name\"");
  const OwnedSpan& m = s.spans[0];
  CHECK(m.offset == first);
  CHECK(m.span_id == "0000000000000001");
  CHECK(m.operation == "get");
  CHECK(m.kind == SpanKind::kServer);
  CHECK(m.start == 10000);
  CHECK(m.duration == 20000);
  CHECK(m.service == "api");
  CHECK(m.host == "10.0.0.1");
  // Zipkin merges in its sort order (no endpoint first, then an endpoint
  // with more fields), a later part's tag winning: "old" comes last.
  CHECK(m.attributes == std::vector<OwnedAttribute>{{"a", "1"}, {"b", "old"}, {"c", "3"}});
  CHECK(m.events == std::vector<OwnedEvent>{{12000, "wire"}, {15000, "retry"}});
  CHECK(s.merges == std::vector<std::size_t>{text.find("{\"traceId\":\"a\",\"id\":\"1\",\"kind\""),
                                             text.find("{\"traceId\":\"a\",\"id\":\"1\",\"tags\":{\"c\"")});
  CHECK(s.spans[1].span_id == "0000000000000009");  // order of first parts
  CHECK(s.spans[2].service == "other");
  CHECK(s.spans[2].start == 99000);
}

TEST_CASE("zipkin: a fragment with no timestamp kept apart by the shared flag is folded into its shared half") {
  // Trace#merge keeps the late fragment (no kind, no shared flag) apart from
  // the shared server half; it joins it as any fragment would, in merge
  // order: before the shared half, whose tag then wins a key.
  const std::string text = R"([
    {"traceId":"a","id":"1","name":"post","localEndpoint":{"serviceName":"api","ipv4":"10.0.0.1"},
     "tags":{"late":"yes","b":"fragment"},"annotations":[{"timestamp":15,"value":"retry"}]},
    {"traceId":"a","id":"1","kind":"CLIENT","timestamp":5,"duration":40,"localEndpoint":{"serviceName":"front"}},
    {"traceId":"a","id":"1","parentId":"9","kind":"SERVER","shared":true,"timestamp":10,"duration":20,
     "localEndpoint":{"serviceName":"api","ipv4":"10.0.0.1","port":8080},"tags":{"b":"server"}}])";
  const CaptureSink s = read(text);
  REQUIRE(s.spans.size() == 2);
  CHECK(s.rejects.empty());
  CHECK(s.merges == std::vector<std::size_t>{text.find("{\"traceId\":\"a\",\"id\":\"1\",\"parentId\"")});
  CHECK(s.records() == 3);
  const OwnedSpan& server = s.spans[0];  // handed over at its first part, the fragment
  CHECK(server.offset == text.find("{\"traceId\":\"a\",\"id\":\"1\",\"name\""));
  CHECK(server.kind == SpanKind::kServer);
  CHECK(server.shared);
  CHECK(server.parent_id == "0000000000000009");
  CHECK(server.service == "api");
  CHECK(server.start == 10000);
  CHECK(server.duration == 20000);
  CHECK(server.operation == "post");
  CHECK(server.attributes == std::vector<OwnedAttribute>{{"b", "server"}, {"late", "yes"}});
  CHECK(server.events == std::vector<OwnedEvent>{{15000, "retry"}});
  CHECK(s.spans[1].kind == SpanKind::kClient);
  CHECK(s.spans[1].attributes.empty());
}

TEST_CASE("zipkin: a fragment is folded into a span with its service name before one first in merge order") {
  // The client halves on 10.0.0.1 and .2 clash, so the fragment (which
  // clashes with .2) is a span of its own after the merge; both the client
  // half on .1 (no service name) and the shared half of "api" take it.
  const std::string text = R"([
    {"traceId":"a","id":"1","kind":"CLIENT","timestamp":1,"localEndpoint":{"ipv4":"10.0.0.1"}},
    {"traceId":"a","id":"1","kind":"CLIENT","timestamp":2,"localEndpoint":{"ipv4":"10.0.0.2"}},
    {"traceId":"a","id":"1","tags":{"late":"yes"},"localEndpoint":{"serviceName":"api","ipv4":"10.0.0.1"}},
    {"traceId":"a","id":"1","kind":"SERVER","shared":true,"timestamp":3,"localEndpoint":{"serviceName":"api"}}])";
  const CaptureSink s = read(text);
  REQUIRE(s.spans.size() == 3);
  CHECK(s.merges == std::vector<std::size_t>{text.find("{\"traceId\":\"a\",\"id\":\"1\",\"kind\":\"SERVER\"")});
  CHECK(s.rejects.empty());
  CHECK(s.spans[2].offset == text.find("{\"traceId\":\"a\",\"id\":\"1\",\"tags\""));
  CHECK(attribute(s.spans[0], "late") == "<none>");
  CHECK(attribute(s.spans[1], "late") == "<none>");
  CHECK(s.spans[2].start == 3000);
  CHECK(attribute(s.spans[2], "late") == "yes");
  CHECK(s.spans[2].host == "10.0.0.1");  // the fragment fills what its span lacks
}

TEST_CASE("zipkin: a part with no timestamp and no other part to complete it is rejected") {
  const std::string text = R"([
    {"traceId":"a","id":"1","kind":"SERVER","shared":true,"timestamp":10,"localEndpoint":{"serviceName":"api","port":80}},
    {"traceId":"a","id":"1","name":"post","localEndpoint":{"serviceName":"api","port":81}},
    {"traceId":"a","id":"1","name":"get","localEndpoint":{"serviceName":"web"}},
    {"traceId":"a","id":"2","tags":{"x":"1"}},
    {"traceId":"a","id":"2","annotations":[{"timestamp":3,"value":"cs"}]},
    {"traceId":"b","id":"1","tags":{"x":"1"}}])";
  const CaptureSink s = read(text);
  CHECK(s.spans.size() == 1);
  CHECK(s.merges.empty());
  REQUIRE(s.rejects.size() == 5);
  // Another port, another service: they clash with the only span that has a timestamp.
  CHECK(s.rejects[0].offset == text.find("{\"traceId\":\"a\",\"id\":\"1\",\"name\":\"post\""));
  CHECK(s.rejects[0].reason == "zipkin: span 0000000000000001 has no timestamp, and no other part of it in this document or line has one (parts on other lines are not merged)");
  CHECK(s.rejects[1].offset == text.find("{\"traceId\":\"a\",\"id\":\"1\",\"name\":\"get\""));
  CHECK(s.rejects[2].offset == text.find("{\"traceId\":\"a\",\"id\":\"2\",\"tags\""));
  CHECK(s.rejects[2].reason ==
        "zipkin: span 0000000000000002 has no timestamp in any of its 2 parts, and no other part of it in this "
        "document or line has one (parts on other lines are not merged)");
  CHECK(s.rejects[3].offset == text.find("{\"traceId\":\"a\",\"id\":\"2\",\"annotations\""));
  // Alone: the span of the same id in trace "a" is another span.
  CHECK(s.rejects[4].offset == text.find("{\"traceId\":\"b\""));
  CHECK(s.rejects[4].reason == "zipkin: span 0000000000000001 has no timestamp, and no other part of it in this document or line has one (parts on other lines are not merged)");
  CHECK(s.records() == 6);
}

TEST_CASE("zipkin: a 16-hex trace id joins the 32-hex id it is the low half of") {
  const CaptureSink s = read(R"([
    {"traceId":"48485a3953bb61246b221d5bc9e6496c","id":"1","timestamp":1},
    {"traceId":"6b221d5bc9e6496c","id":"2","parentId":"1","timestamp":2},
    {"traceId":"6b221d5bc9e6496c","id":"3","parentId":"1","timestamp":3},
    {"traceId":"6b221d5bc9e6496c","id":"1","tags":{"late":"yes"}},
    {"traceId":"1111111111111111","id":"4","timestamp":4}])");
  REQUIRE(s.spans.size() == 4);
  CHECK(s.merges.size() == 1);  // the fragment of span 1 under the short id
  for (int i = 0; i < 3; ++i) CHECK(s.spans[i].trace_id == "48485a3953bb61246b221d5bc9e6496c");
  CHECK(attribute(s.spans[0], "late") == "yes");
  CHECK(s.spans[3].trace_id == "1111111111111111");
  REQUIRE(s.notes.size() == 1);
  CHECK(s.notes[0] ==
        "trace 6b221d5bc9e6496c (16 hex) joined to 48485a3953bb61246b221d5bc9e6496c (32 hex), whose low 64 "
        "bits it is");
}

TEST_CASE("zipkin: a 16-hex id that is the low half of two 32-hex ids is left alone") {
  const CaptureSink s = read(R"([
    {"traceId":"00000000000000016b221d5bc9e6496c","id":"1","timestamp":1},
    {"traceId":"00000000000000026b221d5bc9e6496c","id":"2","timestamp":1},
    {"traceId":"6b221d5bc9e6496c","id":"3","timestamp":1}])");
  REQUIRE(s.spans.size() == 3);
  CHECK(s.spans[2].trace_id == "6b221d5bc9e6496c");
  CHECK(s.notes.empty());  // the span store says it, once for the whole input
}

TEST_CASE("zipkin: spans that cannot be read are rejected at their object, naming the field") {
  const std::string text = R"([
    {"traceId":"a","id":"1","timestamp":1},
    "not a span",
    {"traceId":"xyz","id":"1","timestamp":1},
    {"traceId":"a","timestamp":1},
    {"traceId":"a","id":"12345678901234567","timestamp":1},
    {"traceId":"0","id":"1","timestamp":1},
    {"traceId":"a","id":"0000","timestamp":1},
    {"traceId":7,"id":"1","timestamp":1},
    {"traceId":"a","id":"5","timestamp":1,"duration":-3},
    {"traceId":"a","id":"6","timestamp":"soon"},
    {"traceId":"a","id":"7","timestamp":1,"kind":"SERVR"},
    {"traceId":"a","id":"8","timestamp":1,"tags":{"ok":"x","flag":true}},
    {"traceId":"a","id":"9","timestamp":1,"annotations":[{"value":"cs"}]},
    {"traceId":"a","id":"a","timestamp":1,"localEndpoint":"api"},
    {"traceId":"a","id":"b","timestamp":1,"remoteEndpoint":{"port":70000}},
    {"traceId":"a","id":"c","timestamp":1,"shared":"yes"},
    {"traceId":"a","id":"d","timestamp":1,"parentId":"p"},
    {"traceId":"a","id":"e","timestamp":1,"tags":{"deep":[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]}},
    {"traceId":"a","id":"f","timestamp":92233720368547758},
    {"traceId":"a","id":"aa","timestamp":1,"annotations":[{"timestamp":1,"value":"x"},{"timestamp":-1,"value":"y"}]}])";
  const CaptureSink s = read(text);
  CHECK(s.spans.size() == 1);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"\"not a span\"", "zipkin: a span is a JSON object, not a string"},
      {"{\"traceId\":\"xyz\"", "zipkin: traceId \"xyz\" is not hex"},
      {"{\"traceId\":\"a\",\"timestamp\"", "zipkin: id is missing"},
      {"{\"traceId\":\"a\",\"id\":\"1234", "zipkin: id \"12345678901234567\" is longer than 16 hex digits"},
      {"{\"traceId\":\"0\"", "zipkin: traceId is all zeros"},
      {"{\"traceId\":\"a\",\"id\":\"0000\"", "zipkin: id is all zeros"},
      {"{\"traceId\":7", "zipkin: traceId is a number, not a hex string"},
      {"{\"traceId\":\"a\",\"id\":\"5\"", "zipkin: duration -3 is negative"},
      {"{\"traceId\":\"a\",\"id\":\"6\"", "zipkin: timestamp \"soon\" is not a whole number of microseconds"},
      {"{\"traceId\":\"a\",\"id\":\"7\"", "zipkin: kind \"SERVR\" is not CLIENT, SERVER, PRODUCER or CONSUMER"},
      {"{\"traceId\":\"a\",\"id\":\"8\"", "zipkin: tags.\"flag\" is a boolean, not a string"},
      {"{\"traceId\":\"a\",\"id\":\"9\"", "zipkin: annotations[0] has no timestamp"},
      {"{\"traceId\":\"a\",\"id\":\"a\"", "zipkin: localEndpoint is a string, not an object"},
      {"{\"traceId\":\"a\",\"id\":\"b\"", "zipkin: remoteEndpoint.port \"70000\" is not a port number"},
      {"{\"traceId\":\"a\",\"id\":\"c\"", "zipkin: shared is a string, not true or false"},
      {"{\"traceId\":\"a\",\"id\":\"d\"", "zipkin: parentId \"p\" is not hex"},
      {"{\"traceId\":\"a\",\"id\":\"e\"", "zipkin: tags.\"deep\" is an array, not a string"},
      {"{\"traceId\":\"a\",\"id\":\"f\"", "zipkin: timestamp 92233720368547758 µs is beyond the year 2262"},
      {"{\"traceId\":\"a\",\"id\":\"aa\"", "zipkin: annotations[1].timestamp -1 is negative"},
  };
  REQUIRE(s.rejects.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    CAPTURE(i);
    CHECK(s.rejects[i].offset == text.find(expected[i].first));
    CHECK(s.rejects[i].reason == expected[i].second);
  }
  CHECK(s.records() == 20);
}

TEST_CASE("zipkin: a value that is neither a span nor an array of spans is one rejection") {
  const CaptureSink s = read("  42");
  REQUIRE(s.rejects.size() == 1);
  CHECK(s.rejects[0].offset == 2);
  CHECK(s.spans.empty());
  CHECK(read("[]").records() == 0);
}

TEST_CASE("zipkin: a v1 span is rejected as such, not read as v2 without its services, kinds and errors") {
  const CaptureSink s = read(R"([
    {"traceId":"5af7183fb1d4cf5f","id":"352bff9a74ca9ad2","name":"get","timestamp":1700000000010000,"duration":60000,
     "annotations":[{"timestamp":1700000000010000,"value":"cs","endpoint":{"serviceName":"front","ipv4":"10.0.0.1"}}]},
    {"traceId":"5af7183fb1d4cf5f","id":"e457b5a2e4d86bd1","name":"query","timestamp":1,"duration":5,
     "binaryAnnotations":[{"key":"error","value":"timeout","endpoint":{"serviceName":"back"}}]},
    {"traceId":"5af7183fb1d4cf5f","id":"0000000000000003","name":"ok","timestamp":1,"duration":5,
     "annotations":[{"timestamp":1,"value":"cache miss"}]}])");
  REQUIRE(s.rejects.size() == 2);
  for (const auto& r : s.rejects) CHECK(r.reason.find("a Zipkin v1 span") != std::string::npos);
  REQUIRE(s.spans.size() == 1);  // v2 annotations, without endpoints, are events
  CHECK(s.spans[0].span_id == "0000000000000003");
}

TEST_CASE("zipkin: many parts merge in one pass") {
  std::string text = "[";
  constexpr int kSpans = 20000;
  for (int i = 0; i < kSpans; ++i) {
    if (i > 0) text += ",";
    text +=
        fmt::format(R"({{"traceId":"a","id":"{:x}","timestamp":{}}},{{"traceId":"a","id":"{:x}","tags":{{"k":"v"}}}})",
                    i + 1, i + 1, i + 1);
  }
  text += "]";
  const CaptureSink s = read(text);
  CHECK(s.spans.size() == kSpans);
  CHECK(s.merges.size() == kSpans);
  CHECK(s.spans.back().span_id == fmt::format("{:016x}", kSpans));
  CHECK(attribute(s.spans.back(), "k") == "v");
}

TEST_CASE("zipkin: fragments of many halves with one id fold in one pass") {
  // One span id on many hosts: each fragment finds its half by endpoint
  // without looking at every other half; the odd ones match none.
  std::string text = "[";
  constexpr int kHalves = 20000;
  for (int i = 0; i < kHalves; ++i) {
    if (i > 0) text += ",";
    const std::string host = fmt::format("10.{}.{}.1", i / 256, i % 256);
    text += fmt::format(
        R"({{"traceId":"a","id":"1","kind":"SERVER","shared":true,"timestamp":{},"localEndpoint":{{"serviceName":"api","ipv4":"{}"}}}},)",
        i + 1, host);
    text += fmt::format(R"({{"traceId":"a","id":"1","tags":{{"k":"{}"}},"localEndpoint":{{"ipv4":"{}"}}}})", i,
                        i % 2 == 0 ? host : fmt::format("192.168.{}.{}", i / 256, i % 256));
  }
  text += "]";
  const CaptureSink s = read(text);
  CHECK(s.spans.size() == kHalves);
  CHECK(s.merges.size() == kHalves / 2);
  CHECK(s.rejects.size() == kHalves / 2);
  REQUIRE(s.spans.size() > 2);
  CHECK(attribute(s.spans[2], "k") == "2");
  CHECK(attribute(s.spans[3], "k") == "<none>");
}

TEST_CASE("zipkin: the real files from openzipkin read as counted independently") {
  struct Expected {
    const char* file;
    std::size_t parts, spans, merged, rejected;
  };
  // Counted with a Python transcription of zipkin2.internal.Trace#merge,
  // followed by a plain (quadratic) transcription of the fold.
  const Expected files[] = {
      {"zipkin-skew.json", 4, 4, 0, 0},
      {"zipkin-yelp.json", 16, 16, 0, 0},
      {"zipkin-messaging-kafka.json", 28, 28, 0, 0},
      {"zipkin-smartthings-oauth-authorization.json", 175, 172, 3, 0},
      // 84 fragments with no timestamp (name and endpoint only), each kept
      // apart from its shared server half by the flag, folded into it.
      {"zipkin-smartthings-mobile-web-install.json", 1041, 957, 84, 0},
  };
  for (const Expected& e : files) {
    CAPTURE(e.file);
    std::ifstream in(test_support::real_file(e.file), std::ios::binary);
    REQUIRE(in);
    std::stringstream buffer;
    buffer << in.rdbuf();
    const std::string text = buffer.str();
    json::Tree tree;
    std::size_t pos = 0;
    REQUIRE(tree.parse(text, pos));
    CHECK(is_zipkin(tree.root()));
    CaptureSink s;
    read_zipkin(tree.root(), {}, s);
    CHECK(tree.root().size() == e.parts);
    CHECK(s.spans.size() == e.spans);
    CHECK(s.merges.size() == e.merged);
    CHECK(s.rejects.size() == e.rejected);
    CHECK(s.records() == e.parts);
    CHECK(s.notes.empty());
    if (std::string_view(e.file) == "zipkin-skew.json") {
      int halves = 0, shared = 0;
      for (const OwnedSpan& g : s.spans) {
        if (g.span_id != "74280ae0c10d8062") continue;
        ++halves;
        shared += g.shared;
      }
      CHECK(halves == 2);
      CHECK(shared == 1);
    }
  }
}
