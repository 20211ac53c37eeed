#include <doctest/doctest.h>

#include <string>

#include "parse/json_tree.h"

using namespace ta::json;

namespace {

Tree parsed(std::string_view text) {
  Tree t;
  std::size_t pos = 0;
  REQUIRE_MESSAGE(t.parse(text, pos), t.error().reason);
  return t;
}

Tree::Error failure(std::string_view text) {
  Tree t;
  std::size_t pos = 0;
  CHECK_FALSE(t.parse(text, pos));
  CHECK(pos == 0);
  return t.error();
}

}  // namespace

TEST_CASE("json tree: values, members and their offsets") {
  const std::string text = R"( {"a": 1, "b": [true, false, null, "x"], "c": {"d": -2.5e3}} )";
  Tree t = parsed(text);
  Ref root = t.root();
  CHECK(root.is_object());
  CHECK(root.size() == 3);
  CHECK(root.offset() == 1);
  CHECK(root.text() == R"({"a": 1, "b": [true, false, null, "x"], "c": {"d": -2.5e3}})");
  CHECK(root["a"].text() == "1");
  CHECK(root["a"].offset() == text.find('1'));
  CHECK(root["a"].as_uint64() == 1u);
  Ref b = root["b"];
  CHECK(b.is_array());
  CHECK(b.size() == 4);
  std::string types;
  for (Ref e : b.elements()) types += e.text(), types += ' ';
  CHECK(types == "true false null x ");
  CHECK(root["c"]["d"].as_double() == -2500.0);
  CHECK(root["c"]["d"].as_int64() == std::nullopt);
  CHECK_FALSE(root["missing"]);
  CHECK_FALSE(root["missing"]["deeper"]);
  std::string keys;
  for (auto [k, v] : root.members()) keys += std::string(k) + (v.is_array() ? "[]" : "") + ",";
  CHECK(keys == "a,b[],c,");
}

TEST_CASE("json tree: whole numbers are exact, from numbers or strings of digits") {
  Tree t = parsed(R"({"big": 1544712660000000000, "s": "18446744073709551615", "neg": -5, "over": 18446744073709551616, "f": 1.0})");
  Ref r = t.root();
  CHECK(r["big"].as_uint64() == 1544712660000000000ull);
  CHECK(r["s"].as_uint64() == 18446744073709551615ull);
  CHECK(r["neg"].as_int64() == -5);
  CHECK(r["neg"].as_uint64() == std::nullopt);
  CHECK(r["over"].as_uint64() == std::nullopt);
  CHECK(r["over"].text() == "18446744073709551616");  // the digits stay
  CHECK(r["f"].as_uint64() == std::nullopt);
}

TEST_CASE("json tree: strings are unescaped") {
  Tree t = parsed(R"(["plain", "a\"b\\c\/d\n", "\u00e9\u20ac\ud83d\ude00", "k\u0000z"])");
  std::vector<std::string> got;
  for (Ref e : t.root().elements()) got.emplace_back(e.text());
  REQUIRE(got.size() == 4);
  CHECK(got[0] == "plain");
  CHECK(got[1] == "a\"b\\c/d\n");
  CHECK(got[2] == "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
  CHECK(got[3] == std::string("k\0z", 3));
}

TEST_CASE("json tree: escaped keys and values, found and iterated in order") {
  const std::string text = R"({"a\u0062": "x\ty", "plain": "p", "k\"q": ["\u00e9", "e", "\\"], "": {}})";
  Tree t = parsed(text);
  Ref r = t.root();
  CHECK(r.size() == 4);
  CHECK(r["ab"].text() == "x\ty");
  CHECK(r["plain"].text() == "p");
  CHECK(r["plain"].offset() == text.find("\"p\""));
  CHECK(r["k\"q"].size() == 3);
  CHECK(r["k\"q"].text() == R"(["\u00e9", "e", "\\"])");  // a container's text is as written
  CHECK(r[""].is_object());
  CHECK(r[""].size() == 0);
  std::vector<std::string> seen;
  for (auto [k, v] : r.members()) seen.push_back(std::string(k) + "=" + (v.is_string() ? std::string(v.text()) : "..."));
  CHECK(seen == std::vector<std::string>{"ab=x\ty", "plain=p", "k\"q=...", "=..."});
  seen.clear();
  for (Ref e : r["k\"q"].elements()) seen.emplace_back(e.text());
  CHECK(seen == std::vector<std::string>{"\xc3\xa9", "e", "\\"});
}

TEST_CASE("json tree: size() is the number of members or elements, at any depth") {
  Tree t = parsed(R"([[], [[1], {"a": [2, 3], "b": {}}], {"c": [[], [], []]}, "s", 4, null])");
  Ref r = t.root();
  CHECK(r.size() == 6);
  std::size_t n = 0;
  for (Ref e : r.elements()) n += e.size();  // 0 + 2 + 1 + 0 + 0 + 0
  CHECK(n == 3);
  Ref second = *++r.elements().begin();
  CHECK((*second.elements().begin()).size() == 1);
  Ref inner = *++second.elements().begin();
  CHECK(inner["a"].size() == 2);
  CHECK(inner["b"].size() == 0);
  CHECK(inner["a"].text() == "[2, 3]");
  Ref last_object = *++++r.elements().begin();
  CHECK(last_object["c"].size() == 3);
  CHECK(r["c"].size() == 0);  // not an object
}

TEST_CASE("json tree: containers of more values than a node counts are counted") {
  for (const std::size_t n : {65534u, 65535u, 65536u, 200000u}) {
    CAPTURE(n);
    std::string array = "[";
    std::string object = "{";
    for (std::size_t i = 0; i < n; ++i) {
      array += i ? ",[]" : "[]";
      object += (i ? ",\"" : "\"") + std::to_string(i) + "\":\"\\n\"";
    }
    array += "]";
    object += "}";
    Tree a = parsed(array);
    CHECK(a.root().size() == n);
    CHECK((*a.root().elements().begin()).size() == 0);
    Tree o = parsed(object);
    CHECK(o.root().size() == n);
    CHECK(o.root()[std::to_string(n - 1)].text() == "\n");
  }
}

TEST_CASE("json tree: one tree read again gives the new value whole") {
  Tree t;
  const std::string big = R"({"k": [1, 2, 3, {"x": "\u0041\u0042", "y": [true, false]}], "z": "long string value"})";
  const std::string small = R"(["\n", 7])";
  for (int round = 0; round < 3; ++round) {
    std::size_t pos = 0;
    REQUIRE(t.parse(big, pos));
    CHECK(pos == big.size());
    CHECK(t.root()["k"].size() == 4);
    CHECK((*++++++t.root()["k"].elements().begin())["x"].text() == "AB");
    CHECK(t.root()["z"].text() == "long string value");
    pos = 0;
    REQUIRE(t.parse(small, pos));
    CHECK(t.root().size() == 2);
    CHECK((*t.root().elements().begin()).text() == "\n");
    CHECK((*++t.root().elements().begin()).as_uint64() == 7u);
    CHECK_FALSE(t.root()["k"]);
  }
}

TEST_CASE("json tree: whole numbers at the edge of 64 bits") {
  Tree t = parsed(R"(["9999999999999999999", "18446744073709551615", "18446744073709551616", "99999999999999999999",
                      "0000000000000000000000042", "", "12a", "-1", 0, 1.5, true, "1e3"])");
  std::vector<std::optional<std::uint64_t>> got;
  for (Ref e : t.root().elements()) got.push_back(e.as_uint64());
  const std::vector<std::optional<std::uint64_t>> want = {
      9999999999999999999ull, 18446744073709551615ull, std::nullopt, std::nullopt, 42u, std::nullopt,
      std::nullopt,           std::nullopt,            0u,           std::nullopt, std::nullopt, std::nullopt};
  CHECK(got == want);
}

TEST_CASE("json tree: errors name the byte and the cause") {
  const std::string comma = "{\"a\": [1, 2, ], \"b\": 1}";
  Tree::Error e = failure(comma);
  CHECK(e.reason == "trailing comma before ']'");
  CHECK(e.offset == comma.find(", ]"));
  e = failure("{\"a\": 1, }");
  CHECK(e.reason == "trailing comma before '}'");
  CHECK(e.offset == 7);
  e = failure("{\"a\" 1}");
  CHECK(e.reason == "expected ':' after a member name");
  e = failure("{\"a\": 01}");
  CHECK(e.reason == "a number cannot have a leading zero");
  e = failure("[1 2]");
  CHECK(e.reason == "expected ',' or ']' after an array element");
  CHECK(e.offset == 3);
  e = failure("{a: 1}");
  CHECK(e.reason == "expected a member name (a string in double quotes)");
  e = failure("[\"a\\q\"]");
  CHECK(e.reason == "invalid escape '\\q' in a string");
  e = failure("[\"\xff\"]");
  CHECK(e.reason == "invalid UTF-8");
  CHECK(e.offset == 2);
  e = failure("[\"a\tb\"]");
  CHECK(e.reason == "raw control character 0x09 in a string");
  e = failure("tru");
  CHECK(e.reason == "expected a JSON value here");
  CHECK_FALSE(e.incomplete);
}

TEST_CASE("json tree: input that ends inside a value is incomplete") {
  for (std::string_view text : {"{\"a\": [1, 2", "{\"a\": \"str", "[", "{\"traceId\": \"1\",", "{\"a\":"}) {
    Tree::Error e = failure(text);
    CAPTURE(text);
    CHECK(e.incomplete);
    CHECK(e.offset == text.size());
  }
}

TEST_CASE("json tree: concatenated values are read one after another") {
  const std::string text = "{\"a\":1}\n\n[2]  \"three\"\n";
  Tree t;
  std::size_t pos = 0;
  std::vector<std::size_t> starts;
  while (t.parse(text, pos)) starts.push_back(t.root().offset());
  CHECK(starts == std::vector<std::size_t>{0, 9, 14});
  CHECK(t.error().incomplete);  // only white space was left
}

TEST_CASE("json tree: nesting a million deep needs no stack") {
  const std::size_t depth = 1'000'000;
  std::string text(depth, '[');
  text += std::string(depth, ']');
  Tree t = parsed(text);
  Ref r = t.root();
  std::size_t levels = 0;
  while (r.is_array() && r.size() == 1) {
    r = *r.elements().begin();
    ++levels;
  }
  CHECK(levels == depth - 1);
  CHECK(r.size() == 0);
}

TEST_CASE("json tree: line index") {
  LineIndex lines("a\nbc\n\nd");
  CHECK(lines.line_of(0) == 1);
  CHECK(lines.line_of(1) == 1);  // the newline itself is on its line
  CHECK(lines.line_of(2) == 2);
  CHECK(lines.line_of(5) == 3);
  CHECK(lines.line_of(6) == 4);
}
