#include <doctest/doctest.h>

#include "test_support.h"

#include <algorithm>
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

// put_id's bytes for an id, in a buffer with room to read past them.
std::string encode_id(std::string_view id) {
  std::vector<std::uint8_t> buf(codec::id_bound(id) + 16);
  const std::uint8_t* end = codec::put_id(buf.data(), id);
  CHECK(codec::id_end(buf.data()) == end);
  return std::string(reinterpret_cast<const char*>(buf.data()), static_cast<std::size_t>(end - buf.data()));
}

std::string decode_id(const std::string& key) {
  std::string padded = key + std::string(16, '\0');  // append_id may read past the key (a slab's slack)
  std::string back;
  append_id(std::string_view(padded.data(), key.size()), back);
  return back;
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
      // Whole microseconds (Zipkin's unit), kept divided.
      {"a1", "a2", "a3", 1704038400002085 * 1000, 2834 * 1000, -31 * 1000, 32 * 1000},
      {"a4", "a5", "a6", max / 2 / 1000 * 1000, 1000, std::numeric_limits<Nanos>::min() / 2 / 1000 * 1000, max / 1000 * 1000},
      {"a7", "a8", "a9", -1000, 31 * 1000, 1001, 999'000},
  });
}

TEST_CASE("span codec: an id has one encoding, so equal ids have equal bytes and different ids different ones") {
  std::vector<std::string> ids = {"ab", "AB", "aB", "0a", "a0", "abcd", "ab\0d", "", "0", "00", "000"};
  ids[6] = std::string("ab\0d", 4);
  std::vector<std::string> encoded;
  for (const std::string& id : ids) {
    encoded.push_back(encode_id(id));
    CHECK(decode_id(encoded.back()) == id);
  }
  for (std::size_t i = 0; i < ids.size(); ++i)
    for (std::size_t j = 0; j < ids.size(); ++j) CHECK((encoded[i] == encoded[j]) == (i == j));
}

TEST_CASE("span codec: decimal ids of every odd length come back digit for digit") {
  // Odd lengths are packed as hex digits are, with a 0 digit after the
  // last that is left out when they are written back: zeros inside, nines,
  // a lone leading digit and every leading digit.
  int checked = 0;
  for (std::size_t n = 1; n <= 19; n += 2) {
    std::vector<std::string> ids = {"1" + std::string(n - 1, '0'), std::string(n, '9'),
                                    "1" + std::string(n > 2 ? n - 2 : 0, '0') + (n > 1 ? "1" : "")};
    for (char lead = '1'; lead <= '9'; ++lead) {
      std::string id(1, lead);
      for (std::size_t k = 1; k < n; ++k) id += static_cast<char>('0' + (k * 7 + static_cast<std::size_t>(lead)) % 10);
      ids.push_back(id);
    }
    for (const std::string& id : ids) {
      const std::string encoded = encode_id(id);
      CHECK_MESSAGE((n < 3 || encoded.size() < id.size() + 1), id);  // packed, not kept as it is
      CHECK(decode_id(encoded) == id);
      ++checked;
    }
  }
  CHECK(checked == 10 * 12);
  CHECK(decode_id(encode_id("0")) == "0");
}

TEST_CASE("span codec: UUIDs, odd counts of hex digits (decimal ids) and dashed ids are packed, and near misses come back as they were") {
  struct Shaped {
    std::string id;
    std::size_t bytes;  // encoded; 0: kept as it is (a header byte and the id)
  };
  const std::vector<Shaped> ids = {
      {"d934fe4d-8b66-4966-8e2c-8e0987718470", 17},
      {"00000000-0000-0000-0000-000000000000", 17},
      {"ffffffff-ffff-ffff-ffff-ffffffffffff", 17},
      {"D934FE4D-8B66-4966-8E2C-8E0987718470", 0},  // upper case
      {"d934fe4d-8b66-4966-8e2c-8e098771847", 0},   // 35 characters
      {"d934fe4d8-b66-4966-8e2c-8e0987718470", 0},  // a dash out of place
      {"d934fe4d-8b66-4966-8e2c-8e098771847g", 0},
      {"5424840148328330792", 11},  // 19 digits, odd: packed as hex, a 0 digit after the last
      {"0", 2},
      {"7", 2},
      {"f", 2},
      {"123", 3},
      {"123456789", 6},
      {"12345678901234567", 10},
      {"9999999999999999999", 11},
      {"72057594037927935", 10},
      {"72057594037927937", 10},
      {"10000000000000001", 10},   // 17 digits: 16 packed at once, then one with its 0
      {"1000000000000001", 9},     // 16 digits, even
      {"1000000000000000001", 11},
      {"1000000000000000000/", 0},  // a neighbour of '0' after the digits
      {"1000000000:00000001", 0},   // and among the first 16
      {"100000000000000000a", 11},  // hex, odd
      {"100000000000000000A", 0},   // upper case
      {"10000000000000000000", 11}, // 20 digits: even, packed as hex
      {"1234", 3},  // even: packed as hex
      {"18446744073709551615", 11},  // 20 digits: even, so packed as hex
      {"184467440737095516159", 12},  // 21 digits: odd
      {"463ac35c9f6413a", 9},         // a 64-bit hex id with its leading zero left out
      {"463ac35c9f6413ad48485a3953bb612", 17},  // 31 digits, the most packed odd
      {"463ac35c9f6413ad48485a3953bb6124f", 0},  // 33: too long to pack
      {"012", 3},                     // a leading zero is a digit like any other
      {"g12", 0},
      {"-12", 0},
      {"+12", 0},
      {"d934fe4d8b669663-2", 10},
      {"d934fe4d8b669663-1f", 10},
      {"d934fe4d8b669663-0", 10},
      {"ab-ffffffffffffffff", 12},
      {"d934fe4d8b669663d934fe4d8b669663-7fffffffffffffff", 26},
      {"d934fe4d8b669663-01", 0},                // a leading zero
      {"d934fe4d8b669663-1F", 0},                // upper case
      {"d934fe4d8b669663-", 0},                  // no number
      {"d934fe4d8b669663-10000000000000000", 0},  // 17 digits
      {"d934fe4d8b66966-2", 0},                  // odd digits before the dash
      {"-2", 0},
      {"d934fe4d8b669663--2", 0},
      {"d934fe4d8b669663-2-3", 0},
      {"d934fe4d8b669663d934fe4d8b6696630a-2", 0},  // 34 digits before the dash
      {"d934fe4d8b669663_2", 0},
  };
  for (const Shaped& s : ids) {
    CAPTURE(s.id);
    const std::string key = encode_id(s.id);
    CHECK(key.size() == (s.bytes ? s.bytes : 1 + s.id.size()));
    CHECK(decode_id(key) == s.id);
  }
  // Through whole spans, stored and read back in both stores.
  check_round_trip({
      {"d934fe4d-8b66-4966-8e2c-8e0987718470", "5424840148328330792", "d934fe4d8b669663-1f", 7, 1, 8, 2},
      {"d934fe4d8b669663-2", "D934FE4D-8B66-4966-8E2C-8E0987718470", "0", 9, 3, 9, 1},
  });
}

TEST_CASE("span codec: ids of every shape, made at random, come back as they went in and keep distinct bytes") {
  // Ids drawn from the characters that make the shapes, so near misses of
  // each are common.
  std::uint64_t state = 0x9e3779b97f4a7c15;
  auto next = [&] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  const std::string alphabet = "0123456789abcdefA-";
  std::vector<std::string> ids;
  for (int i = 0; i < 20000; ++i) {
    std::string id;
    switch (next() % 4) {
      case 0: id = "d934fe4d-8b66-4966-8e2c-8e0987718470"; break;
      case 1: id = "d934fe4d8b669663-"; break;
      case 2: id = "1844674407370955161"; break;
      default: break;
    }
    // Change, add or drop a few characters.
    const int edits = static_cast<int>(next() % 4);
    for (int e = 0; e < edits; ++e) {
      const char c = alphabet[next() % alphabet.size()];
      const std::size_t at = id.empty() ? 0 : next() % (id.size() + 1);
      switch (next() % 3) {
        case 0: if (at < id.size()) id[at] = c; break;
        case 1: id.insert(at, 1, c); break;
        default: if (at < id.size()) id.erase(at, 1); break;
      }
    }
    ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::vector<std::string> keys;
  for (const std::string& id : ids) {
    keys.push_back(encode_id(id));
    CHECK(decode_id(keys.back()) == id);
  }
  std::sort(keys.begin(), keys.end());
  CHECK(std::adjacent_find(keys.begin(), keys.end()) == keys.end());
}
