#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "parse/formats/jaeger.h"
#include "parse/json_tree.h"
#include "record_capture.h"
#include "test_support.h"

using namespace ta;
using test_support::CaptureSink;
using test_support::OwnedEvent;
using test_support::OwnedSpan;

namespace {

constexpr Nanos kUs = 1000;

using Attributes = std::vector<test_support::OwnedAttribute>;
using Links = std::vector<test_support::OwnedLink>;

json::Tree parsed(std::string_view text) {
  json::Tree tree;
  std::size_t pos = 0;
  const bool ok = tree.parse(text, pos);
  REQUIRE_MESSAGE(ok, tree.error().reason);
  return tree;
}

CaptureSink read(std::string_view text, const AdapterOptions& options = {}) {
  const json::Tree tree = parsed(text);
  CHECK(is_jaeger(tree.root()));
  CaptureSink sink;
  read_jaeger(tree.root(), options, sink);
  CHECK(sink.merges.empty());  // Jaeger has no fragments to fold
  return sink;
}

bool jaeger(std::string_view text) { return is_jaeger(parsed(text).root()); }

// One trace around `spans` (JSON text of its span objects), with processes
// p1 (svc-a on host-a) and p2 (svc-b, only an ip).
std::string trace(std::string_view spans) {
  return std::string(R"({"traceID":"00000000000000aa","spans":[)") + std::string(spans) +
         R"(],"processes":{"p1":{"serviceName":"svc-a","tags":[{"key":"ip","type":"string","value":"10.0.0.1"},)"
         R"({"key":"hostname","type":"string","value":"host-a"}]},"p2":{"serviceName":"svc-b","tags":[)"
         R"({"key":"ip","type":"string","value":"10.0.0.2"}]}},"warnings":null})";
}

// A minimal valid span; `extra` is spliced in as more members.
std::string span(std::string_view id, std::string_view extra = "") {
  std::string s = R"({"traceID":"00000000000000aa","spanID":")" + std::string(id) +
                  R"(","operationName":"op","startTime":1700000000000001,"duration":250,"processID":"p1")";
  if (!extra.empty()) s += "," + std::string(extra);
  return s + "}";
}

}  // namespace

TEST_CASE("jaeger: detection of the document shapes") {
  const std::string one = trace(span("0000000000000001"));
  CHECK(jaeger(one));
  CHECK(jaeger("[" + one + "]"));
  CHECK(jaeger(R"({"data":[)" + one + R"(],"total":0,"limit":0,"offset":0,"errors":null})"));
  CHECK(jaeger(R"({"data":[],"total":0,"limit":0,"offset":0,"errors":null})"));
  CHECK(jaeger(R"({"data":null,"total":0,"limit":0,"offset":0,"errors":[{"code":404,"msg":"trace not found"}]})"));
  CHECK(jaeger(span("0000000000000001")));
  CHECK(jaeger(R"({"traceID":"01","spans":[],"processes":{}})"));
  CHECK(jaeger("[" + span("0000000000000001") + "]"));  // spans in the storage shape, one array

  CHECK_FALSE(jaeger("[]"));
  CHECK_FALSE(jaeger(R"([{"traceId":"01","id":"02","name":"get","timestamp":1,"duration":2}])"));  // Zipkin
  CHECK_FALSE(jaeger(R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"01","spanId":"02"}]}]}]})"));
  CHECK_FALSE(jaeger(R"({"traceId":"1","spanId":"2","timestamp":"1","duration":"2"})"));  // native line
  CHECK_FALSE(jaeger(R"({"id":1,"data":{"spanid":2,"servername":"a"}})"));               // Recorder
  CHECK_FALSE(jaeger(R"({"spans":[{"spanId":"1"}]})"));
  CHECK_FALSE(jaeger(R"("text")"));
}

TEST_CASE("jaeger: the three document shapes give the same spans") {
  const std::string first = span("0000000000000001");
  const std::string second = span(
      "0000000000000002", R"("references":[{"refType":"CHILD_OF","traceID":"00000000000000aa","spanID":"0000000000000001"}])");
  const std::string one = trace(first + "," + second);
  for (const std::string& doc : {one, "[" + one + "]", R"({"data":[)" + one + R"(],"errors":null})"}) {
    CAPTURE(doc);
    const CaptureSink r = read(doc);
    REQUIRE(r.spans.size() == 2);
    CHECK(r.rejects.empty());
    CHECK(r.notes.empty());
    CHECK(r.spans[0].span_id == "0000000000000001");
    CHECK(r.spans[1].parent_id == "0000000000000001");
    // offsets: where each span object starts
    CHECK(doc.substr(r.spans[0].offset, first.size()) == first);
    CHECK(doc.substr(r.spans[1].offset, second.size()) == second);
  }
  // Several traces in one answer; process keys are per trace.
  const std::string other = R"({"traceID":"bb","spans":[{"traceID":"bb","spanID":"9","startTime":1,"duration":1,"processID":"p1"}],)"
                            R"("processes":{"p1":{"serviceName":"svc-other","tags":[]}}})";
  const CaptureSink r = read(R"({"data":[)" + one + "," + other + "]}");
  REQUIRE(r.spans.size() == 3);
  CHECK(r.spans[0].service == "svc-a");
  CHECK(r.spans[2].service == "svc-other");
  CHECK(r.spans[2].trace_id == "00000000000000bb");

  // Single spans in the storage shape: an embedded process, no trace around them.
  const std::string stored = R"({"traceID":"aa","spanID":"1","startTime":1,"duration":2,"process":{"serviceName":"solo"}})";
  for (const std::string& doc : {stored, "[" + stored + "," + stored + "]"}) {
    const CaptureSink s = read(doc);
    REQUIRE(s.spans.size() == (doc == stored ? 1 : 2));
    CHECK(s.spans[0].service == "solo");
    CHECK(s.spans[0].offset == (doc == stored ? 0 : 1));
    CHECK(s.notes.empty());
  }
}

TEST_CASE("jaeger: ids are lower-cased and padded the way Jaeger spells them") {
  const CaptureSink r = read(trace(
      R"({"traceID":"AA","spanID":"ABC","startTime":1,"duration":1,"references":[{"refType":"CHILD_OF","traceID":"00000000000000aA","spanID":"1"}]},)"
      R"({"traceID":"10000000000000001","spanID":"0000000000000002","startTime":1,"duration":1},)"
      R"({"traceID":"0000000000000000000000000000ABCD","spanID":"3","startTime":1,"duration":1},)"
      R"({"traceID":"0123456789abcdef0123456789ABCDEF","spanID":"4","startTime":1,"duration":1})"));
  REQUIRE(r.spans.size() == 4);
  CHECK(r.spans[0].trace_id == "00000000000000aa");
  CHECK(r.spans[0].span_id == "0000000000000abc");
  CHECK(r.spans[0].parent_id == "0000000000000001");  // same trace once both are spelled alike
  CHECK(r.spans[0].links.empty());
  CHECK(r.spans[1].trace_id == "00000000000000010000000000000001");
  CHECK(r.spans[2].trace_id == "000000000000abcd");  // high half zero: 16 digits, as Jaeger prints it
  CHECK(r.spans[3].trace_id == "0123456789abcdef0123456789abcdef");
}

TEST_CASE("jaeger: times are microseconds, as numbers or strings of digits") {
  const CaptureSink r = read(trace(span("1") + "," +
                                   R"({"traceID":"aa","spanID":"2","startTime":"1700000000000002","duration":"7"})"));
  REQUIRE(r.spans.size() == 2);
  CHECK(r.spans[0].start == 1700000000000001 * kUs);
  CHECK(r.spans[0].duration == 250 * kUs);
  CHECK(r.spans[1].start == 1700000000000002 * kUs);
  CHECK(r.spans[1].duration == 7 * kUs);
}

TEST_CASE("jaeger: CHILD_OF before FOLLOWS_FROM, other traces are links, parentSpanID of old files") {
  const CaptureSink r = read(trace(
      span("10", R"("references":[{"refType":"FOLLOWS_FROM","traceID":"aa","spanID":"1"},{"refType":"CHILD_OF","traceID":"ff","spanID":"ff"},{"refType":"CHILD_OF","traceID":"aa","spanID":"2"}])") + "," +
      span("11", R"("references":[{"refType":"FOLLOWS_FROM","traceID":"aa","spanID":"1"},{"refType":"FOLLOWS_FROM","traceID":"aa","spanID":"3"}])") + "," +
      span("12", R"("references":[{"refType":"CHILD_OF","traceID":"ff","spanID":"5"}])") + "," +
      span("13", R"("parentSpanID":"7","references":[])") + "," +
      span("14", R"("parentSpanID":"0000000000000000")") + "," +
      span("15", R"("references":null,"parentSpanID":"")")));
  REQUIRE(r.spans.size() == 6);
  CHECK(r.spans[0].parent_id == "0000000000000002");
  CHECK(r.spans[0].parent_link == LinkType::kChildOf);
  CHECK(r.spans[0].links == Links{{"00000000000000aa", "0000000000000001", LinkType::kFollowsFrom},
                                  {"00000000000000ff", "00000000000000ff", LinkType::kChildOf}});
  CHECK(r.spans[1].parent_id == "0000000000000001");
  CHECK(r.spans[1].parent_link == LinkType::kFollowsFrom);
  CHECK(r.spans[1].links == Links{{"00000000000000aa", "0000000000000003", LinkType::kFollowsFrom}});
  CHECK(r.spans[2].parent_id.empty());  // its only reference is into another trace
  CHECK(r.spans[2].links == Links{{"00000000000000ff", "0000000000000005", LinkType::kChildOf}});
  CHECK(r.spans[3].parent_id == "0000000000000007");
  CHECK(r.spans[3].parent_link == LinkType::kChildOf);
  CHECK(r.spans[4].parent_id.empty());
  CHECK(r.spans[5].parent_id.empty());
}

TEST_CASE("jaeger: service and host come from the span's process") {
  const CaptureSink r = read(trace(
      span("1") + "," + span("2").replace(span("2").find("p1"), 2, "p2") + "," +
      span("3", R"("process":{"serviceName":"embedded","tags":[{"key":"ip","type":"int64","value":167772163}]})") + "," +
      span("4").replace(span("4").find("p1"), 2, "p9")));
  REQUIRE(r.spans.size() == 4);
  CHECK(r.spans[0].service == "svc-a");
  CHECK(r.spans[0].host == "host-a");  // hostname beats ip
  CHECK(r.spans[1].service == "svc-b");
  CHECK(r.spans[1].host == "10.0.0.2");
  CHECK(r.spans[2].service == "embedded");
  CHECK(r.spans[2].host == "167772163");
  CHECK(r.spans[3].service.empty());  // an unknown processID is not an error
  CHECK(r.rejects.empty());
  REQUIRE(r.notes.size() == 1);
  CHECK(r.notes[0].find("\"p9\"") != std::string::npos);
}

TEST_CASE("jaeger: a process of OpenTelemetry's resources names its host by host.name, else k8s.pod.name") {
  // Jaeger keeps an OTel SDK's resource attributes as process tags.
  auto host_of = [](std::string_view tags) {
    const std::string doc = R"({"traceID":"00000000000000aa","spans":[)" + span("1") +
                            R"(],"processes":{"p1":{"serviceName":"svc","tags":[)" + std::string(tags) + "]}}}";
    const CaptureSink r = read(doc);
    REQUIRE(r.spans.size() == 1);
    return r.spans[0].host;
  };
  CHECK(host_of(R"({"key":"host.name","type":"string","value":"web-7f9c"})") == "web-7f9c");
  CHECK(host_of(R"({"key":"k8s.pod.name","type":"string","value":"pod-1"},{"key":"host.name","type":"string","value":"node-3"})") ==
        "node-3");
  CHECK(host_of(R"({"key":"ip","type":"string","value":"10.0.0.9"},{"key":"k8s.pod.name","type":"string","value":"pod-1"})") ==
        "pod-1");
  CHECK(host_of(R"({"key":"host.name","type":"string","value":"node-3"},{"key":"hostname","type":"string","value":"h"})") ==
        "h");  // the Jaeger client's own first
  CHECK(host_of(R"({"key":"ip","type":"string","value":"10.0.0.9"})") == "10.0.0.9");
}

TEST_CASE("jaeger: tags keep their types") {
  const CaptureSink r = read(trace(span("1", R"("tags":[
      {"key":"s","type":"string","value":"text"},
      {"key":"b","type":"bool","value":false},
      {"key":"bs","type":"bool","value":"true"},
      {"key":"i","type":"int64","value":-42},
      {"key":"big","type":"int64","value":"9223372036854775222"},
      {"key":"f","type":"float64","value":72.5},
      {"key":"fs","type":"float64","value":"1e-3"},
      {"key":"bin","type":"binary","value":"AAAwOQ=="},
      {"key":"odd","type":"int64","value":"12abc"},
      {"key":"untyped","value":3},
      {"key":"none","type":"string"}])")));
  REQUIRE(r.spans.size() == 1);
  CHECK(r.spans[0].attributes == Attributes{{"s", "text", ValueType::kString},
                                            {"b", "false", ValueType::kBool},
                                            {"bs", "true", ValueType::kBool},
                                            {"i", "-42", ValueType::kInt},
                                            {"big", "9223372036854775222", ValueType::kInt},
                                            {"f", "72.5", ValueType::kDouble},
                                            {"fs", "1e-3", ValueType::kDouble},
                                            {"bin", "AAAwOQ==", ValueType::kString},
                                            {"odd", "12abc", ValueType::kString},
                                            {"untyped", "3", ValueType::kInt},
                                            {"none", "", ValueType::kString}});
}

TEST_CASE("jaeger: error, otel.status_code, span.kind, http status and the group tag") {
  AdapterOptions options;
  options.group_field = "tenant";
  const CaptureSink r = read(trace(
      span("1", R"("tags":[{"key":"error","type":"bool","value":true},{"key":"span.kind","type":"string","value":"server"},{"key":"http.status_code","type":"int64","value":503},{"key":"tenant","type":"string","value":"t1"}])") + "," +
      span("2", R"("tags":[{"key":"error","type":"string","value":"true"},{"key":"span.kind","type":"string","value":"client"},{"key":"http.response.status_code","type":"string","value":"404"}])") + "," +
      span("3", R"("tags":[{"key":"otel.status_code","type":"string","value":"ERROR"},{"key":"otel.status_description","type":"string","value":"boom"},{"key":"span.kind","type":"string","value":"producer"}])") + "," +
      span("4", R"("tags":[{"key":"otel.status_code","type":"string","value":"OK"},{"key":"span.kind","type":"string","value":"consumer"},{"key":"http.status_code","type":"int64","value":1200}])") + "," +
      span("5", R"("tags":[{"key":"error","type":"bool","value":false},{"key":"span.kind","type":"string","value":"internal"}])")),
      options);
  REQUIRE(r.spans.size() == 5);
  CHECK(r.spans[0].status == StatusCode::kError);
  CHECK(r.spans[0].kind == SpanKind::kServer);
  CHECK(r.spans[0].http_code == 503);
  CHECK(r.spans[0].group == "t1");
  CHECK(r.spans[1].status == StatusCode::kError);
  CHECK(r.spans[1].kind == SpanKind::kClient);
  CHECK(r.spans[1].http_code == 404);
  CHECK(r.spans[1].group.empty());
  CHECK(r.spans[2].status == StatusCode::kError);
  CHECK(r.spans[2].status_message == "boom");
  CHECK(r.spans[2].kind == SpanKind::kProducer);
  CHECK(r.spans[3].status == StatusCode::kOk);
  CHECK(r.spans[3].kind == SpanKind::kConsumer);
  CHECK(r.spans[3].http_code == kNoCode);  // not a status code
  CHECK(r.spans[4].status == StatusCode::kUnset);
  CHECK(r.spans[4].kind == SpanKind::kInternal);
}

TEST_CASE("jaeger: logs become events") {
  const CaptureSink r = read(trace(span("1", R"("logs":[
      {"timestamp":1700000000000005,"fields":[{"key":"event","type":"string","value":"retry"},{"key":"n","type":"int64","value":2}]},
      {"timestamp":"1700000000000006","fields":[{"key":"message","type":"string","value":"hello"}]},
      {"timestamp":1700000000000007,"fields":[{"key":"x","type":"string","value":"y"}]}])")));
  REQUIRE(r.spans.size() == 1);
  const std::vector<OwnedEvent>& e = r.spans[0].events;
  REQUIRE(e.size() == 3);
  CHECK(e[0].time == 1700000000000005 * kUs);
  CHECK(e[0].name == "retry");
  CHECK(e[0].attributes == Attributes{{"event", "retry", ValueType::kString}, {"n", "2", ValueType::kInt}});
  CHECK(e[1].time == 1700000000000006 * kUs);
  CHECK(e[1].name == "hello");
  CHECK(e[2].name == "log");
  CHECK(e[2].attributes == Attributes{{"x", "y", ValueType::kString}});
}

TEST_CASE("jaeger: spans that cannot be read are rejected where they start, naming the field") {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {R"({"spanID":"1","startTime":1,"duration":1})", "traceID is missing"},
      {R"({"traceID":"aa","startTime":1,"duration":1})", "spanID is missing"},
      {R"({"traceID":"aa","spanID":"xyz","startTime":1,"duration":1})", "spanID is not hex: \"xyz\""},
      {R"({"traceID":"aa","spanID":7,"startTime":1,"duration":1})", "spanID is not a string"},
      {R"({"traceID":"aa","spanID":"00000000000000001","startTime":1,"duration":1})", "spanID has more than 16 hex digits"},
      {R"({"traceID":"aa","spanID":"1","duration":1})", "startTime is missing"},
      {R"({"traceID":"aa","spanID":"1","startTime":1.5,"duration":1})", "startTime is not a whole number"},
      {R"({"traceID":"aa","spanID":"1","startTime":1,"duration":-3})", "duration is negative"},
      {R"({"traceID":"aa","spanID":"1","startTime":1,"duration":1,"references":[{"refType":"CHILD_OF","traceID":"aa","spanID":"q"}]})",
       "references[0].spanID is not hex"},
      {R"({"traceID":"aa","spanID":"1","startTime":1,"duration":1,"tags":[{"key":"a","value":1},{"value":2}]})", "tags[1].key is missing"},
      {R"({"traceID":"aa","spanID":"1","startTime":1,"duration":1,"tags":{}})", "tags is not an array"},
      {R"({"traceID":"aa","spanID":"1","startTime":1,"duration":1,"logs":[{"fields":[]}]})", "logs[0].timestamp is missing"},
      {R"({"traceID":"aa","spanID":"1","startTime":1,"duration":1,"logs":[{"timestamp":1,"fields":[7]}]})", "logs[0].fields[0] is not an object"},
      {R"({"traceID":"aa","spanID":"1","startTime":1,"duration":1,"operationName":5})", "operationName is not a string"},
      {R"("a string")", "span is not an object"},
  };
  std::string spans = span("1");
  for (const auto& [text, why] : bad) spans += ",\n  " + text;
  spans += "," + span("2");
  const std::string doc = trace(spans);
  const CaptureSink r = read(doc);
  // Every span object ends as a span or a rejection.
  CHECK(r.spans.size() + r.rejects.size() == bad.size() + 2);
  REQUIRE(r.spans.size() == 2);
  CHECK(r.spans[1].span_id == "0000000000000002");
  REQUIRE(r.rejects.size() == bad.size());
  std::size_t from = doc.find("\n  ");
  for (std::size_t i = 0; i < bad.size(); ++i) {
    CAPTURE(r.rejects[i].reason);
    const std::size_t at = doc.find(bad[i].first, from);
    CHECK(r.rejects[i].offset == at);
    CHECK(r.rejects[i].reason.rfind("jaeger: ", 0) == 0);
    CHECK(r.rejects[i].reason.find(bad[i].second) != std::string::npos);
    from = at + 1;
  }
}

TEST_CASE("jaeger: traces that are not traces are rejected, and API errors are told") {
  const CaptureSink r = read(R"({"data":[)" + trace(span("1")) + R"(, 5, {"spans":{}}],"errors":[{"code":500,"msg":"storage down"}]})");
  CHECK(r.spans.size() == 1);
  REQUIRE(r.rejects.size() == 2);
  CHECK(r.rejects[0].reason == "jaeger: data[1] is not a trace (an object with spans)");
  CHECK(r.rejects[1].reason.find("spans is not an array") != std::string::npos);
  REQUIRE(r.notes.size() == 1);
  CHECK(r.notes[0].find("storage down") != std::string::npos);

  const CaptureSink none = read(R"({"data":null,"errors":[{"code":404,"msg":"trace not found"}]})");
  CHECK(none.spans.empty());
  CHECK(none.rejects.empty());
  CHECK(none.notes.size() == 1);
}

TEST_CASE("jaeger: a deep value inside a span is read without recursion") {
  std::string deep(100000, '[');
  deep += std::string(100000, ']');
  const CaptureSink r = read(trace(span("1", R"("tags":[{"key":"deep","value":)" + deep + "}]")));
  REQUIRE(r.spans.size() == 1);
  CHECK(r.spans[0].attributes.at(0).type == ValueType::kJson);
}

TEST_CASE("jaeger: the Jaeger project's own ui_01.json") {
  std::ifstream in(test_support::real_file("jaeger-ui_01.json"), std::ios::binary);
  REQUIRE(in);
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  const CaptureSink r = read(text);
  CHECK(r.rejects.empty());
  CHECK(r.notes.empty());
  REQUIRE(r.spans.size() == 5);

  const std::vector<std::string> ids = {"0000000000000002", "0000000000000002", "0000000000000003",
                                        "0000000000000004", "0000000000000005"};
  const std::vector<std::string> parents = {"", "", "0000000000000002", "0000000000000002", "0000000000000004"};
  const std::vector<std::string> services = {"service-x", "service-x", "service-y", "service-y", "service-y"};
  std::size_t from = 0;
  for (std::size_t i = 0; i < 5; ++i) {
    const OwnedSpan& s = r.spans[i];
    CAPTURE(i);
    CHECK(s.trace_id == "0000000000000001");
    CHECK(s.span_id == ids[i]);  // the duplicate id is handed over as it is
    CHECK(s.parent_id == parents[i]);
    CHECK(s.parent_link == LinkType::kChildOf);
    CHECK(s.service == services[i]);
    CHECK(s.host.empty());
    CHECK(s.kind == SpanKind::kUnset);
    CHECK(s.status == (i == 1 ? StatusCode::kError : StatusCode::kUnset));
    CHECK(s.start == 1485467191639875 * kUs);
    CHECK(s.duration == (i == 4 ? 4 : 5) * kUs);
    const std::size_t at = text.find("{\n      \"traceID\"", from);
    CHECK(s.offset == at);
    from = at + 1;
  }
  CHECK(r.spans[0].operation == "test-general-conversion");
  REQUIRE(r.spans[0].events.size() == 2);
  CHECK(r.spans[0].events[0].name == "some-event");
  CHECK(r.spans[0].events[1].name == "log");
  CHECK(r.spans[0].events[1].time == 1485467191639875 * kUs);

  const OwnedSpan& typed = r.spans[1];
  CHECK(typed.attributes == Attributes{{"peer.service", "service-y", ValueType::kString},
                                       {"peer.ipv4", "23456", ValueType::kInt},
                                       {"error", "true", ValueType::kBool},
                                       {"temperature", "72.5", ValueType::kDouble},
                                       {"javascript_limit", "9223372036854775222", ValueType::kInt},
                                       {"blob", "AAAwOQ==", ValueType::kString}});
  // reference-test: the CHILD_OF into trace 00ff is a link, as is the FOLLOWS_FROM next to the parent.
  CHECK(r.spans[3].links == Links{{"00000000000000ff", "00000000000000ff", LinkType::kChildOf},
                                  {"0000000000000001", "0000000000000002", LinkType::kFollowsFrom}});
  for (std::size_t i : {0, 1, 2, 4}) CHECK(r.spans[i].links.empty());
}
