#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

#include "parse/formats/recorder.h"
#include "record_capture.h"

using namespace ta;
using test_support::CaptureSink;
using test_support::OwnedAttribute;
using test_support::OwnedEvent;
using test_support::OwnedSpan;

namespace {

CaptureSink read(const std::string& text, const AdapterOptions& options = {}) {
  json::Tree tree;
  std::size_t pos = 0;
  REQUIRE_MESSAGE(tree.parse(text, pos), tree.error().reason);
  REQUIRE(is_recorder(tree.root()));
  CaptureSink sink;
  read_recorder(tree.root(), options, sink);
  CHECK(sink.merges.empty());  // the Recorder has no fragments to fold
  return sink;
}

bool detected(std::string_view text) {
  json::Tree tree;
  std::size_t pos = 0;
  REQUIRE(tree.parse(text, pos));
  return is_recorder(tree.root());
}

}  // namespace

TEST_CASE("recorder: detects wrapped spans, bare span dicts and arrays of them") {
  CHECK(detected(R"({"id":1,"data":{"spanid":5,"servername":"a"}})"));
  CHECK(detected(R"([{"id":1,"data":{"spanid":5}}])"));
  CHECK(detected(R"({"spanid":5,"servername":"a","starttime":1.5})"));
  CHECK_FALSE(detected(R"({"id":1,"data":{"traceId":"01"}})"));
  CHECK_FALSE(detected(R"({"resourceSpans":[]})"));
  CHECK_FALSE(detected(R"([])"));
  CHECK_FALSE(detected(R"([1])"));
}

TEST_CASE("recorder: a nested chain of 3 is one trace named by the root's spanid") {
  const std::string text = R"({"id": 1, "data": {"spanid": 101, "servername": "client", "location": "main.py:10",)"
                           R"( "ip": "192.168.10.1", "durationtime": 0.1, "starttime": 1704038400.0,)"
                           R"( "endtime": 1704038400.1, "tag": "GET /", "log": "", "root_span_flag": true,)"
                           R"( "child_span": {"id": 2, "data": {"spanid": 102, "servername": "server1", "ip": "",)"
                           R"( "durationtime": 0.04, "starttime": 1704038400.0, "root_span_flag": false,)"
                           R"( "child_span": {"spanid": 103, "servername": "server3", "ip": "192.168.10.4",)"
                           R"( "durationtime": 0.04, "starttime": 1704038400.0, "log": "done", "child_span": ""}}}}})";
  const CaptureSink sink = read(text);
  CHECK(sink.rejects.empty());
  REQUIRE(sink.spans.size() == 3);
  const OwnedSpan& root = sink.spans[0];
  const OwnedSpan& mid = sink.spans[1];
  const OwnedSpan& leaf = sink.spans[2];
  for (const OwnedSpan& s : sink.spans) CHECK(s.trace_id == "101");
  CHECK(root.span_id == "101");
  CHECK(root.parent_id.empty());
  CHECK(mid.span_id == "102");
  CHECK(mid.parent_id == "101");
  CHECK(leaf.span_id == "103");
  CHECK(leaf.parent_id == "102");
  CHECK(root.offset == 0);
  CHECK(mid.offset == text.find(R"({"id": 2)"));
  CHECK(leaf.offset == text.find(R"({"spanid": 103)"));
  CHECK(root.service == "client");
  CHECK(root.operation == "client");
  CHECK(root.host == "192.168.10.1");
  CHECK(mid.host.empty());
  CHECK(root.start == 1704038400'000'000'000LL);
  CHECK(root.duration == 100'000'000);
  CHECK(root.attributes == std::vector<OwnedAttribute>{{"tag", "GET /"}, {"location", "main.py:10"}});
  CHECK(root.events.empty());  // an empty log is no event
  REQUIRE(leaf.events.size() == 1);
  CHECK(leaf.events[0] == OwnedEvent{1704038400'040'000'000LL, "done"});
}

TEST_CASE("recorder: a 128-bit spanid is kept as its digits") {
  const CaptureSink sink = read(R"({"id": 1, "data": {"spanid": 340282366920938463463374607431768211455,)"
                                R"( "servername": "a", "starttime": 1704038400, "durationtime": 1,)"
                                R"( "child_span": {"spanid": "170141183460469231731687303715884105727",)"
                                R"( "servername": "b", "starttime": 1704038400, "durationtime": 1}}})");
  REQUIRE(sink.spans.size() == 2);
  CHECK(sink.spans[0].span_id == "340282366920938463463374607431768211455");
  CHECK(sink.spans[0].trace_id == "340282366920938463463374607431768211455");
  CHECK(sink.spans[1].span_id == "170141183460469231731687303715884105727");
  CHECK(sink.spans[1].parent_id == "340282366920938463463374607431768211455");
}

TEST_CASE("recorder: float seconds are exact, durationtime wins over endtime") {
  const CaptureSink sink = read(R"([
    {"id": 1, "data": {"spanid": 1, "servername": "a", "starttime": 1704038400.123456, "durationtime": 0.000001}},
    {"id": 2, "data": {"spanid": 2, "servername": "a", "starttime": 1704038400.123456, "endtime": 1704038400.223457}},
    {"id": 3, "data": {"spanid": 3, "servername": "a", "starttime": "1704038400.5", "durationtime": 0.25,
                       "endtime": 1704038409}}])");
  CHECK(sink.rejects.empty());
  REQUIRE(sink.spans.size() == 3);
  CHECK(sink.spans[0].start == 1704038400'123'456'000LL);  // a double gives ...123'456'001
  CHECK(sink.spans[0].duration == 1'000);
  CHECK(sink.spans[1].start == 1704038400'123'456'000LL);
  CHECK(sink.spans[1].duration == 100'001'000);
  CHECK(sink.spans[2].start == 1704038400'500'000'000LL);
  CHECK(sink.spans[2].duration == 250'000'000);
  // Top-level spans are each their own trace.
  CHECK(sink.spans[0].trace_id == "1");
  CHECK(sink.spans[1].trace_id == "2");
}

TEST_CASE("recorder: no child is \"\", null, {} or absent") {
  for (const char* child : {R"(, "child_span": "")", R"(, "child_span": null)", R"(, "child_span": {})", ""}) {
    const CaptureSink sink = read(std::string(R"({"id": 1, "data": {"spanid": 7, "servername": "a", "starttime": 1,)"
                                              R"( "durationtime": 1)") +
                                  child + "}}");
    CHECK(sink.rejects.empty());
    CHECK_MESSAGE(sink.spans.size() == 1, child);
  }
}

TEST_CASE("recorder: tag, location and log keep their JSON types") {
  AdapterOptions options;
  options.group_field = "location";
  const CaptureSink sink =
      read(R"({"id": 1, "data": {"spanid": 7, "servername": "a", "starttime": 10, "durationtime": 2,)"
           R"( "tag": {"k": [1, 2]}, "location": "eu-1", "log": ["x", 3]}})",
           options);
  REQUIRE(sink.spans.size() == 1);
  const OwnedSpan& s = sink.spans[0];
  REQUIRE(s.attributes.size() == 2);
  CHECK(s.attributes[0].key == "tag");
  CHECK(s.attributes[0].value == R"({"k": [1, 2]})");
  CHECK(s.attributes[0].type == ValueType::kJson);
  CHECK(s.attributes[1].type == ValueType::kString);
  CHECK(s.group == "eu-1");
  REQUIRE(s.events.size() == 1);
  CHECK(s.events[0] == OwnedEvent{12'000'000'000LL, R"(["x", 3])"});
}

TEST_CASE("recorder: several callees in a child_span list, read in order") {
  const CaptureSink sink =
      read(R"({"id": 1, "data": {"spanid": 1, "servername": "a", "starttime": 1, "durationtime": 1,)"
           R"( "child_span": [{"id": 2, "data": {"spanid": 2, "servername": "b", "starttime": 1,)"
           R"( "durationtime": 1}}, {"spanid": 3, "servername": "c", "starttime": 1,)"
           R"( "durationtime": 1}]}})");
  REQUIRE(sink.spans.size() == 3);
  CHECK(sink.spans[1].span_id == "2");
  CHECK(sink.spans[2].span_id == "3");
  CHECK(sink.spans[2].parent_id == "1");
}

TEST_CASE("recorder: a chain 100000 deep is read without recursion") {
  constexpr int kDepth = 100000;
  std::string text;
  for (int i = 0; i < kDepth; ++i)
    text += R"({"id":)" + std::to_string(i) + R"(,"data":{"spanid":)" + std::to_string(1000000 + i) +
            R"(,"servername":"s","starttime":1704038400.5,"durationtime":0.001,"child_span":)";
  text += R"("")";
  for (int i = 0; i < kDepth; ++i) text += "}}";
  const CaptureSink sink = read(text);
  CHECK(sink.rejects.empty());
  REQUIRE(sink.spans.size() == kDepth);
  CHECK(sink.spans.back().span_id == std::to_string(1000000 + kDepth - 1));
  CHECK(sink.spans.back().parent_id == std::to_string(1000000 + kDepth - 2));
  CHECK(sink.spans.back().trace_id == "1000000");
  CHECK(sink.spans.back().duration == 1'000'000);
}

TEST_CASE("recorder: a span that cannot be read is one rejection at its object, naming the field") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"spanid": 2, "servername": "b", "durationtime": 1})", "starttime missing"},
      {R"({"spanid": 2, "servername": "b", "starttime": "soon", "durationtime": 1})", "starttime"},
      {R"({"spanid": 2, "servername": "b", "starttime": 5})", "neither durationtime nor endtime"},
      {R"({"spanid": 2, "servername": "b", "starttime": 5, "durationtime": -1})", "durationtime is negative"},
      {R"({"spanid": 2, "servername": "b", "starttime": 5, "endtime": 4})", "ends before it starts"},
      {R"({"spanid": 1.7e38, "servername": "b", "starttime": 5, "durationtime": 1})", "spanid"},
      {R"({"servername": "b", "starttime": 5, "durationtime": 1})", "spanid missing"},
      {R"({"id": 2, "data": "x"})", "not a span"},
      {R"(42)", "not a span"},
  };
  for (const auto& [bad, reason] : cases) {
    const std::string text =
        R"({"id": 1, "data": {"spanid": 1, "servername": "a", "starttime": 1, "durationtime": 9, "child_span":)"
        "\n" +
        bad + "}}";
    const CaptureSink sink = read(text);
    CHECK_MESSAGE(sink.spans.size() == 1, bad);
    REQUIRE_MESSAGE(sink.rejects.size() == 1, bad);
    CHECK_MESSAGE(sink.rejects[0].offset == text.find('\n') + 1, bad);
    CHECK_MESSAGE(sink.rejects[0].reason.rfind("recorder: ", 0) == 0, sink.rejects[0].reason);
    CHECK_MESSAGE(sink.rejects[0].reason.find(reason) != std::string::npos, sink.rejects[0].reason);
  }
}

TEST_CASE("recorder: a rejected span's callees still count; under an unreadable spanid they are rejected") {
  // The middle span has no time: rejected, its child still read (its parent is then missing: an orphan).
  CaptureSink sink = read(R"({"spanid": 1, "servername": "a", "starttime": 1, "durationtime": 9, "child_span":)"
                          R"( {"spanid": 2, "servername": "b", "child_span":)"
                          R"( {"spanid": 3, "servername": "c", "starttime": 1, "durationtime": 1}}})");
  REQUIRE(sink.spans.size() == 2);
  REQUIRE(sink.rejects.size() == 1);
  CHECK(sink.spans[1].parent_id == "2");
  CHECK(sink.spans[1].trace_id == "1");
  // No readable id at the root: no trace to put anything in.
  const std::string text = R"([{"spanid": true, "servername": "a", "starttime": 1, "durationtime": 9, "child_span":)"
                           R"( {"spanid": 2, "servername": "b", "starttime": 1, "durationtime": 1}},)"
                           R"( {"spanid": 5, "servername": "e", "starttime": 1, "durationtime": 1}])";
  const CaptureSink second = read(text);
  REQUIRE(second.rejects.size() == 2);
  CHECK(second.rejects[0].reason.find("spanid") != std::string::npos);
  CHECK(second.rejects[1].offset == text.find(R"({"spanid": 2)"));
  REQUIRE(second.spans.size() == 1);
  CHECK(second.spans[0].trace_id == "5");
}
