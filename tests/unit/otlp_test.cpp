#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "parse/formats/otlp.h"
#include "record_capture.h"
#include "test_support.h"

using namespace ta;
using test_support::CaptureSink;
using test_support::OwnedAttribute;
using test_support::OwnedLink;
using test_support::OwnedSpan;

namespace {

CaptureSink read(const std::string& text, const AdapterOptions& options = {}) {
  json::Tree tree;
  std::size_t pos = 0;
  REQUIRE_MESSAGE(tree.parse(text, pos), tree.error().reason);
  REQUIRE(is_otlp(tree.root()));
  CaptureSink sink;
  read_otlp(tree.root(), options, sink);
  CHECK(sink.merges.empty());  // OTLP has no fragments to fold
  return sink;
}

constexpr std::string_view kService = R"({"key":"service.name","value":{"stringValue":"checkout"}})";

// One resourceSpans document around `spans` (comma-separated span objects).
std::string document(std::string_view spans, std::string_view resource = kService) {
  return std::string(R"({"resourceSpans":[{"resource":{"attributes":[)") + std::string(resource) +
         R"(]},"scopeSpans":[{"scope":{"name":"lib"},"spans":[)" + std::string(spans) + "]}]}]}";
}

// A valid span with `extra` members appended.
std::string span(std::string_view id, std::string_view extra = "") {
  std::string s = R"({"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":")" + std::string(id) +
                  R"(","startTimeUnixNano":"1704038400000000000","endTimeUnixNano":"1704038400005000000")";
  if (!extra.empty()) s += "," + std::string(extra);
  return s + "}";
}

bool valid_json(std::string_view text) {
  json::Tree tree;
  std::size_t pos = 0;
  return tree.parse(text, pos) && pos == text.size();
}

}  // namespace

TEST_CASE("otlp: detects resourceSpans documents only") {
  for (const char* text : {R"({"resourceSpans":[]})", R"({"resourceSpans":null})"}) {
    json::Tree tree;
    std::size_t pos = 0;
    REQUIRE(tree.parse(text, pos));
    CHECK(is_otlp(tree.root()));
  }
  for (const char* text : {R"({"traceId":"01"})", R"([{"resourceSpans":[]}])", R"("resourceSpans")"}) {
    json::Tree tree;
    std::size_t pos = 0;
    REQUIRE(tree.parse(text, pos));
    CHECK_FALSE(is_otlp(tree.root()));
  }
}

TEST_CASE("otlp: Jaeger's query API v3 answer, the request under \"result\", is read as the request") {
  const std::string inner = document(span("00f067aa0ba902b7"));
  const CaptureSink r = read(R"({"result":)" + inner + "}");
  REQUIRE(r.spans.size() == 1);
  CHECK(r.spans[0].span_id == "00f067aa0ba902b7");
  CHECK(r.spans[0].service == "checkout");
  for (const char* text : {R"({"result":{"traceId":"01"}})", R"({"result":[]})", R"({"result":null})"}) {
    json::Tree tree;
    std::size_t pos = 0;
    REQUIRE(tree.parse(text, pos));
    CHECK_FALSE(is_otlp(tree.root()));
  }
}

TEST_CASE("otlp: upper-case hex ids are lowered, times are exact, duration is end - start") {
  const std::string text = document(R"({"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174",)"
                                    R"("parentSpanId":"EEE19B7EC3C1B173","name":"GET /cart","kind":2,)"
                                    R"("startTimeUnixNano":"1544712660000000000",)"
                                    R"("endTimeUnixNano":"1544712661000000001","flags":769})",
                                    R"({"key":"service.name","value":{"stringValue":"checkout"}},)"
                                    R"({"key":"host.name","value":{"stringValue":"web-1"}})");
  const CaptureSink sink = read(text);
  REQUIRE(sink.rejects.empty());
  REQUIRE(sink.spans.size() == 1);
  const OwnedSpan& s = sink.spans[0];
  CHECK(s.trace_id == "5b8efff798038103d269b633813fc60c");
  CHECK(s.span_id == "eee19b7ec3c1b174");
  CHECK(s.parent_id == "eee19b7ec3c1b173");
  CHECK(s.start == 1544712660000000000LL);
  CHECK(s.duration == 1000000001LL);
  CHECK(s.operation == "GET /cart");
  CHECK(s.service == "checkout");
  CHECK(s.host == "web-1");
  CHECK(s.kind == SpanKind::kServer);
  CHECK(s.offset == text.find(R"({"traceId":"5B8E)"));
}

TEST_CASE("otlp: nanoseconds as bare numbers above 2^53 stay exact") {
  const CaptureSink sink = read(document(
      R"({"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"00f067aa0ba902b7",)"
      R"("startTimeUnixNano":1704038400123456789,"endTimeUnixNano":1704038400123457001},)"
      R"({"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"00f067aa0ba902b8",)"
      R"("startTimeUnixNano":"9223372036854775806","endTimeUnixNano":9223372036854775807})"));
  REQUIRE(sink.spans.size() == 2);
  CHECK(sink.spans[0].start == 1704038400123456789LL);  // a double would give ...456768
  CHECK(sink.spans[0].duration == 212);
  CHECK(sink.spans[1].start == 9223372036854775806LL);
  CHECK(sink.spans[1].duration == 1);
}

TEST_CASE("otlp: a root has no parentSpanId, an empty one or all zeros") {
  const CaptureSink sink =
      read(document(span("00000000000000a1") + "," + span("00000000000000a2", R"("parentSpanId":"")") + "," +
                    span("00000000000000a3", R"("parentSpanId":"0000000000000000")") + "," +
                    span("00000000000000a4", R"("parentSpanId":null)")));
  REQUIRE(sink.spans.size() == 4);
  for (const OwnedSpan& s : sink.spans) CHECK(s.parent_id.empty());
}

TEST_CASE("otlp: kinds as integers and as enum names") {
  const std::vector<std::pair<std::string, SpanKind>> cases = {
      {"", SpanKind::kUnset},
      {R"("kind":0)", SpanKind::kUnset},
      {R"("kind":1)", SpanKind::kInternal},
      {R"("kind":2)", SpanKind::kServer},
      {R"("kind":3)", SpanKind::kClient},
      {R"("kind":4)", SpanKind::kProducer},
      {R"("kind":5)", SpanKind::kConsumer},
      {R"("kind":9)", SpanKind::kUnset},
      {R"("kind":"SPAN_KIND_SERVER")", SpanKind::kServer},
      {R"("kind":"SPAN_KIND_CONSUMER")", SpanKind::kConsumer},
      {R"("kind":"SPAN_KIND_UNSPECIFIED")", SpanKind::kUnset},
  };
  for (const auto& [member, kind] : cases) {
    const CaptureSink sink = read(document(span("00f067aa0ba902b7", member)));
    REQUIRE(sink.spans.size() == 1);
    CHECK_MESSAGE(sink.spans[0].kind == kind, member);
  }
}

TEST_CASE("otlp: status code and message") {
  const CaptureSink sink = read(document(span("00000000000000a1", R"("status":{"code":2,"message":"boom"})") + "," +
                                         span("00000000000000a2", R"("status":{"code":"STATUS_CODE_OK"})") + "," +
                                         span("00000000000000a3", R"("status":{"code":"STATUS_CODE_ERROR"})") + "," +
                                         span("00000000000000a4", R"("status":{})") + "," + span("00000000000000a5")));
  REQUIRE(sink.spans.size() == 5);
  CHECK(sink.spans[0].status == StatusCode::kError);
  CHECK(sink.spans[0].status_message == "boom");
  CHECK(sink.spans[1].status == StatusCode::kOk);
  CHECK(sink.spans[2].status == StatusCode::kError);
  CHECK(sink.spans[3].status == StatusCode::kUnset);
  CHECK(sink.spans[4].status == StatusCode::kUnset);
}

TEST_CASE("otlp: attributes keep their types") {
  const CaptureSink sink = read(document(span("00f067aa0ba902b7", R"("attributes":[
      {"key":"s","value":{"stringValue":"text"}},
      {"key":"js.int","value":{"intValue":42}},
      {"key":"go.int","value":{"intValue":"9007199254740993"}},
      {"key":"neg","value":{"intValue":"-7"}},
      {"key":"d","value":{"doubleValue":1.5}},
      {"key":"nan","value":{"doubleValue":"NaN"}},
      {"key":"b","value":{"boolValue":true}},
      {"key":"bytes","value":{"bytesValue":"AQID"}},
      {"key":"empty","value":{}},
      {"key":"http.status_code","value":{"intValue":503}}])")));
  REQUIRE(sink.spans.size() == 1);
  const OwnedSpan& s = sink.spans[0];
  auto check = [&](std::string_view key, std::string_view value, ValueType type) {
    const OwnedAttribute* a = s.attribute(key);
    REQUIRE_MESSAGE(a, key);
    CHECK_MESSAGE(a->value == value, key);
    CHECK_MESSAGE(a->type == type, key);
  };
  check("s", "text", ValueType::kString);
  check("js.int", "42", ValueType::kInt);
  check("go.int", "9007199254740993", ValueType::kInt);
  check("neg", "-7", ValueType::kInt);
  check("d", "1.5", ValueType::kDouble);
  check("nan", "NaN", ValueType::kString);
  check("b", "true", ValueType::kBool);
  check("bytes", "AQID", ValueType::kString);
  check("empty", "", ValueType::kString);
  CHECK(s.attributes.size() == 10);
  CHECK(s.http_code == 503);
}

TEST_CASE("otlp: a name given twice counts once, the first; an AnyValue's kinds in a fixed order") {
  const CaptureSink sink = read(document(
      R"({"name":"first","traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"00f067aa0ba902b7",)"
      R"("startTimeUnixNano":"1704038400000000000","endTimeUnixNano":"1704038400005000000","name":"second",)"
      R"("spanId":"not hex","attributes":[
          {"value":{"stringValue":"v1"},"key":"k1","key":"ignored","value":{"stringValue":"ignored"}},
          {"key":"int before string","value":{"intValue":"5","stringValue":"s"}},
          {"key":"double before int","value":{"doubleValue":"2.5","intValue":"7"}},
          {"key":"bool and bytes","value":{"bytesValue":"AQID","boolValue":"true"}},
          {"key":"two ints","value":{"intValue":"1","intValue":"2"}}],"attributes":[]})"));
  REQUIRE(sink.spans.size() == 1);
  const OwnedSpan& s = sink.spans[0];
  CHECK(s.operation == "first");
  CHECK(s.span_id == "00f067aa0ba902b7");
  REQUIRE(s.attributes.size() == 5);
  CHECK(s.attribute("k1")->value == "v1");
  CHECK(s.attribute("int before string")->value == "s");
  CHECK(s.attribute("int before string")->type == ValueType::kString);
  CHECK(s.attribute("double before int")->value == "7");
  CHECK(s.attribute("bool and bytes")->type == ValueType::kBool);
  CHECK(s.attribute("two ints")->value == "1");
}

TEST_CASE("otlp: the http code comes from either semantic-convention name, whole 0..999 only") {
  const CaptureSink sink = read(document(
      span("00000000000000a1", R"("attributes":[{"key":"http.response.status_code","value":{"intValue":"404"}}])") +
      "," + span("00000000000000a2", R"("attributes":[{"key":"http.status_code","value":{"intValue":1000}}])") + "," +
      span("00000000000000a3", R"("attributes":[{"key":"http.status_code","value":{"doubleValue":200.5}}])")));
  REQUIRE(sink.spans.size() == 3);
  CHECK(sink.spans[0].http_code == 404);
  CHECK(sink.spans[1].http_code == kNoCode);
  CHECK(sink.spans[2].http_code == kNoCode);
}

TEST_CASE("otlp: arrays and kvlists become compact, valid JSON text") {
  const CaptureSink sink = read(document(span("00f067aa0ba902b7", R"("attributes":[
      {"key":"list","value":{"arrayValue":{"values":[{"stringValue":"a"},{"intValue":"1"},{"intValue":2},
          {"doubleValue":"NaN"},{"arrayValue":{"values":[{"boolValue":false}]}},{},{"arrayValue":{}}]}}},
      {"key":"map","value":{"kvlistValue":{"values":[{"key":"k","value":{"stringValue":"v\"q\\\n"}},
          {"key":"n","value":{}},
          {"key":"m","value":{"kvlistValue":{"values":[{"key":"x","value":{"doubleValue":0.25}}]}}}]}}}])")));
  REQUIRE(sink.spans.size() == 1);
  const OwnedAttribute* list = sink.spans[0].attribute("list");
  const OwnedAttribute* map = sink.spans[0].attribute("map");
  REQUIRE(list);
  REQUIRE(map);
  CHECK(list->type == ValueType::kJson);
  CHECK(list->value == R"(["a",1,2,"NaN",[false],null,[]])");
  CHECK(map->type == ValueType::kJson);
  CHECK(map->value == R"({"k":"v\"q\\\u000a","n":null,"m":{"x":0.25}})");
  CHECK(valid_json(list->value));
  CHECK(valid_json(map->value));
}

TEST_CASE("otlp: an arrayValue nested 100000 deep is written without recursion") {
  constexpr int kDepth = 100000;
  std::string value;
  for (int i = 0; i < kDepth; ++i) value += R"({"arrayValue":{"values":[)";
  value += R"({"intValue":7})";
  for (int i = 0; i < kDepth; ++i) value += "]}}";
  const std::string attributes = R"("attributes":[{"key":"deep","value":)" + value + "}]";
  const CaptureSink sink = read(document(span("00f067aa0ba902b7", attributes)));
  REQUIRE(sink.spans.size() == 1);
  const OwnedAttribute* deep = sink.spans[0].attribute("deep");
  REQUIRE(deep);
  CHECK(deep->value == std::string(kDepth, '[') + "7" + std::string(kDepth, ']'));
}

TEST_CASE("otlp: events and links") {
  const CaptureSink sink = read(document(span("00f067aa0ba902b7", R"(
      "events":[{"timeUnixNano":"1704038400001000000","name":"retry",
                 "attributes":[{"key":"attempt","value":{"intValue":2}}]},
                {"timeUnixNano":1704038400002000001,"name":"done"}],
      "links":[{"traceId":"4BF92F3577B34DA6A3CE929D0E0E4736","spanId":"00F067AA0BA902B7","attributes":[]},
               {"traceId":"not hex","spanId":"00f067aa0ba902b7"}])")));
  REQUIRE(sink.spans.size() == 1);
  const OwnedSpan& s = sink.spans[0];
  REQUIRE(s.events.size() == 2);
  CHECK(s.events[0].time == 1704038400001000000LL);
  CHECK(s.events[0].name == "retry");
  REQUIRE(s.events[0].attributes.size() == 1);
  CHECK(s.events[0].attributes[0].key == "attempt");
  CHECK(s.events[0].attributes[0].value == "2");
  CHECK(s.events[0].attributes[0].type == ValueType::kInt);
  CHECK(s.events[1].time == 1704038400002000001LL);
  CHECK(s.events[1].attributes.empty());
  // The link with an id that is not hex is dropped, not the span.
  CHECK(s.links == std::vector<OwnedLink>{{"4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", LinkType::kLink}});
  CHECK(sink.rejects.empty());
}

TEST_CASE("otlp: the older instrumentationLibrarySpans are read too") {
  const std::string text =
      R"({"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"legacy"}}]},)"
      R"("instrumentationLibrarySpans":[{"instrumentationLibrary":{"name":"x"},"spans":[)" +
      span("00f067aa0ba902b7") + "]}]}]}";
  const CaptureSink sink = read(text);
  REQUIRE(sink.spans.size() == 1);
  CHECK(sink.spans[0].service == "legacy");
}

TEST_CASE("otlp: host from host.name, else k8s.pod.name, else service.instance.id") {
  auto host_of = [](std::string_view resource) {
    const CaptureSink sink = read(document(span("00f067aa0ba902b7"), resource));
    REQUIRE(sink.spans.size() == 1);
    return sink.spans[0].host;
  };
  CHECK(host_of(R"({"key":"service.instance.id","value":{"stringValue":"i-1"}},)"
                R"({"key":"k8s.pod.name","value":{"stringValue":"pod-1"}})") == "pod-1");
  CHECK(host_of(R"({"key":"service.instance.id","value":{"stringValue":"i-1"}})") == "i-1");
  CHECK(host_of(R"({"key":"k8s.pod.name","value":{"stringValue":"pod-1"}},)"
                R"({"key":"host.name","value":{"stringValue":"node-1"}})") == "node-1");
  CHECK(host_of(kService).empty());
  // Resource attributes name the service and host; they are not copied onto spans.
  const CaptureSink sink = read(document(span("00f067aa0ba902b7")));
  CHECK(sink.spans[0].attributes.empty());
}

TEST_CASE("otlp: --group-by takes the span's attribute, else the resource's") {
  AdapterOptions options;
  options.group_field = "deployment.environment";
  const CaptureSink sink = read(
      document(span("00000000000000a1") + "," +
                   span("00000000000000a2",
                        R"("attributes":[{"key":"deployment.environment","value":{"stringValue":"canary"}}])"),
               std::string(kService) + R"(,{"key":"deployment.environment","value":{"stringValue":"prod"}})"),
      options);
  REQUIRE(sink.spans.size() == 2);
  CHECK(sink.spans[0].group == "prod");
  CHECK(sink.spans[1].group == "canary");
}

TEST_CASE("otlp: a span that cannot be read is one rejection at its object, naming the field") {
  const std::string trace = R"("traceId":"0af7651916cd43dd8448eb211c80319c")";
  const std::string ids = trace + R"(,"spanId":"00f067aa0ba902b7")";
  const std::string times = R"("startTimeUnixNano":"1","endTimeUnixNano":"2")";
  auto object = [](std::initializer_list<std::string> members) {
    std::string out;
    for (const std::string& m : members) out += (out.empty() ? "{" : ",") + m;
    return out + "}";
  };
  const std::vector<std::pair<std::string, std::string>> cases = {
      {object({R"("traceId":"W47/95gDgQPSabYzgT/GDA==","spanId":"00f067aa0ba902b7")", times}), "traceId"},
      {object({trace, R"("spanId":"APBnqguQK7c=")", times}), "spanId"},
      {object({trace, R"("spanId":"00f067aa")", times}), "spanId"},
      {object({R"("spanId":"00f067aa0ba902b7")", times}), "traceId missing"},
      {object({ids, R"("parentSpanId":"xyz")", times}), "parentSpanId"},
      {object({ids, R"("endTimeUnixNano":"2")"}), "startTimeUnixNano missing"},
      {object({ids, R"("startTimeUnixNano":"1")"}), "endTimeUnixNano missing"},
      {object({ids, R"("startTimeUnixNano":"5","endTimeUnixNano":"4")"}), "ends before it starts"},
      {object({ids, R"("startTimeUnixNano":1.5e18,"endTimeUnixNano":"2")"}), "startTimeUnixNano"},
      {object({ids, R"("startTimeUnixNano":"-1","endTimeUnixNano":"2")"}), "startTimeUnixNano"},
      {object({ids, R"("startTimeUnixNano":"1","endTimeUnixNano":"9223372036854775808")"}), "endTimeUnixNano"},
      {"42", "not an object"},
  };
  for (const auto& [bad, reason] : cases) {
    const std::string text = document(span("00000000000000a1") + ",\n" + bad);
    const CaptureSink sink = read(text);
    CHECK_MESSAGE(sink.spans.size() == 1, bad);
    REQUIRE_MESSAGE(sink.rejects.size() == 1, bad);
    CHECK_MESSAGE(sink.rejects[0].offset == text.find('\n') + 1, bad);
    CHECK_MESSAGE(sink.rejects[0].reason.rfind("otlp: ", 0) == 0, sink.rejects[0].reason);
    CHECK_MESSAGE(sink.rejects[0].reason.find(reason) != std::string::npos, sink.rejects[0].reason);
  }
}

TEST_CASE("otlp: a resourceSpans or scopeSpans element of the wrong type is one rejection") {
  const std::string text = R"({"resourceSpans":["x",{"scopeSpans":[7,{"spans":[)" + span("00f067aa0ba902b7") +
                           R"(]}]},{"scopeSpans":{}},{"scopeSpans":[{"spans":"no"}]}]})";
  const CaptureSink sink = read(text);
  CHECK(sink.spans.size() == 1);
  REQUIRE(sink.rejects.size() == 4);
  CHECK(sink.rejects[0].offset == text.find(R"("x")"));
  CHECK(sink.rejects[0].reason.find("resourceSpans") != std::string::npos);
  CHECK(sink.rejects[1].offset == text.find('7'));
  CHECK(sink.rejects[1].reason.find("scopeSpans") != std::string::npos);
  CHECK(sink.rejects[2].offset == text.find("{}"));
  CHECK(sink.rejects[3].offset == text.find(R"("no")"));
}

TEST_CASE("otlp: every span object ends as a span or a rejection") {
  std::string spans;
  int objects = 0;
  for (int i = 0; i < 30; ++i) {
    if (!spans.empty()) spans += ",";
    const std::string id = std::string(14, '0') + std::to_string(10 + i);
    // Two in three are broken, each in its own way.
    spans += i % 3 == 0   ? span(id)
             : i % 3 == 1 ? span(id + "z")
                          : R"({"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":")" + id + R"("})";
    ++objects;
  }
  const CaptureSink sink = read(document(spans));
  CHECK(sink.spans.size() + sink.rejects.size() == static_cast<std::size_t>(objects));
  CHECK(sink.spans.size() == 10);
}

TEST_CASE("otlp: the opentelemetry-proto example file") {
  std::ifstream in(test_support::real_file("otlp-trace.json"), std::ios::binary);
  REQUIRE(in);
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  const CaptureSink sink = read(text);
  CHECK(sink.rejects.empty());
  REQUIRE(sink.spans.size() == 1);
  const OwnedSpan& s = sink.spans[0];
  CHECK(s.offset == text.rfind('{', text.find(R"("traceId")")));
  CHECK(s.trace_id == "5b8efff798038103d269b633813fc60c");
  CHECK(s.span_id == "eee19b7ec3c1b174");
  CHECK(s.parent_id == "eee19b7ec3c1b173");  // in no file: the core flags it orphan
  CHECK(s.service == "my.service");
  CHECK(s.host.empty());
  CHECK(s.operation == "I'm a server span");
  CHECK(s.start == 1544712660000000000LL);
  CHECK(s.duration == 1000000000LL);
  CHECK(s.kind == SpanKind::kServer);
  REQUIRE(s.attributes.size() == 1);
  CHECK(s.attributes[0].key == "my.span.attr");
  CHECK(s.attributes[0].value == "some value");
}
