#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "test_support.h"
#include "util/trace_ids.h"

using namespace ta;

namespace {

const std::string kLow = "48485a3953bb6124";
const std::string kSixteen = kLow;
const std::string kZero = "0000000000000000" + kLow;
const std::string kLong = "463ac35c9f6413ad" + kLow;
const std::string kOtherLong = "0000000000000001" + kLow;

struct Joined {
  std::map<std::string, std::string> into;  // id -> the id it joins (itself when it stays)
  std::vector<std::string> notes;
};

Joined join(const std::vector<std::string>& ids) {
  std::vector<std::string_view> views(ids.begin(), ids.end());
  std::vector<std::uint32_t> into(ids.size());
  Joined out;
  join_low_half(views, into, out.notes);
  for (std::size_t i = 0; i < ids.size(); ++i) out.into[ids[i]] = ids[into[i]];
  std::sort(out.notes.begin(), out.notes.end());
  return out;
}

}  // namespace

TEST_CASE("trace ids: 16 hex digits, or 32 with a zero high half, are short; other 32 are long") {
  CHECK(trace_id_halves(kSixteen).shape == TraceIdHalves::kShort);
  CHECK(trace_id_halves(kSixteen).low == kLow);
  CHECK(trace_id_halves(kZero).shape == TraceIdHalves::kShort);
  CHECK(trace_id_halves(kZero).low == kLow);
  CHECK(trace_id_halves(kLong).shape == TraceIdHalves::kLong);
  CHECK(trace_id_halves(kLong).low == kLow);
  CHECK(trace_id_halves("463AC35C9F6413AD48485A3953BB6124").shape == TraceIdHalves::kLong);
  CHECK(trace_id_halves("463AC35C9F6413AD48485A3953BB6124").low == "48485A3953BB6124");  // as written
  CHECK(trace_id_halves("48485a3953bb612").shape == TraceIdHalves::kOther);    // 15
  CHECK(trace_id_halves("48485a3953bb61240").shape == TraceIdHalves::kOther);  // 17
  CHECK(trace_id_halves("48485a3953bb612g").shape == TraceIdHalves::kOther);
  CHECK(trace_id_halves("request-00000001").shape == TraceIdHalves::kOther);
  CHECK(trace_id_halves("").shape == TraceIdHalves::kOther);
}

TEST_CASE("trace ids: every byte at every place is told as a one-at-a-time reading tells it") {
  // The shape is read 16 bytes at a time: each of the 256 byte values, put at
  // each place of a 16- and a 32-digit id (either half), is a hex digit
  // exactly when it is one of 0-9, a-f, A-F, and a high half is zero only
  // when all 16 of its digits are '0'.
  auto reference = [](const std::string& id) {
    auto hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); };
    if ((id.size() != 16 && id.size() != 32) || !std::all_of(id.begin(), id.end(), hex)) return TraceIdHalves::kOther;
    if (id.size() == 16 || id.find_first_not_of('0') >= 16) return TraceIdHalves::kShort;
    return TraceIdHalves::kLong;
  };
  std::size_t checked = 0, mismatched = 0, other = 0;
  for (const std::string& base : {kSixteen, kZero, kLong, std::string(32, '0'), std::string("fFfFfFfFfFfFfFfF")}) {
    for (std::size_t at = 0; at < base.size(); ++at) {
      for (int b = 0; b < 256; ++b) {
        std::string id = base;
        id[at] = static_cast<char>(b);
        const TraceIdHalves h = trace_id_halves(id);
        ++checked;
        mismatched += h.shape != reference(id);
        other += h.shape == TraceIdHalves::kOther;
        if (h.shape != TraceIdHalves::kOther && h.low != std::string_view(id).substr(id.size() - 16)) ++mismatched;
      }
    }
  }
  CHECK(checked == 256 * (16 + 32 + 32 + 32 + 16));
  CHECK(mismatched == 0);
  CHECK(other == (256 - 22) * (16 + 32 + 32 + 32 + 16));  // 22 hex digits of 256 bytes
}

TEST_CASE("trace ids: a short id joins the one long id that ends in it") {
  const Joined j = join({kLong, kSixteen});
  CHECK(j.into.at(kSixteen) == kLong);
  CHECK(j.into.at(kLong) == kLong);
  CHECK(j.notes == std::vector<std::string>{"trace 48485a3953bb6124 (16 hex) joined to "
                                            "463ac35c9f6413ad48485a3953bb6124 (32 hex), whose low 64 bits it is"});
  const Joined z = join({kZero, kLong});
  CHECK(z.into.at(kZero) == kLong);
  CHECK(z.notes ==
        std::vector<std::string>{"trace 000000000000000048485a3953bb6124 (32 hex, high half zero) joined to "
                                 "463ac35c9f6413ad48485a3953bb6124 (32 hex), whose low 64 bits are the same"});
  const Joined both = join({kSixteen, kLong, kZero});
  CHECK(both.into.at(kSixteen) == kLong);
  CHECK(both.into.at(kZero) == kLong);
  CHECK(both.notes.size() == 2);
}

TEST_CASE("trace ids: with several long ids, a short one joins none, said once; long ids never join") {
  const Joined j = join({kLong, kSixteen, kOtherLong});
  CHECK(j.into.at(kSixteen) == kSixteen);
  CHECK(j.into.at(kLong) == kLong);
  CHECK(j.into.at(kOtherLong) == kOtherLong);
  CHECK(j.notes == std::vector<std::string>{"trace 48485a3953bb6124 (16 hex) not joined: 2 32-hex trace ids end in its "
                                            "low 64 bits (000000000000000148485a3953bb6124, "
                                            "463ac35c9f6413ad48485a3953bb6124)"});
  const Joined longs = join({kLong, kOtherLong});
  CHECK(longs.into.at(kLong) == kLong);
  CHECK(longs.into.at(kOtherLong) == kOtherLong);
  CHECK(longs.notes.empty());
  // The 16-digit id and the zero-padded one are one id whatever else ends in it.
  const Joined padded = join({kOtherLong, kZero, kLong, kSixteen});
  CHECK(padded.into.at(kSixteen) == kZero);
  CHECK(padded.into.at(kZero) == kZero);
  REQUIRE(padded.notes.size() == 2);
  CHECK(padded.notes[0].find("trace 000000000000000048485a3953bb6124 (32 hex, high half zero) not joined: 2") == 0);
  CHECK(padded.notes[1].find("trace 48485a3953bb6124 (16 hex) joined to 000000000000000048485a3953bb6124") == 0);
  const Joined alone = join({kZero, kSixteen});
  CHECK(alone.into.at(kSixteen) == kZero);
  // Four long ids: three are named.
  const Joined many = join({kSixteen, kLong, kOtherLong, "0000000000000002" + kLow, "0000000000000003" + kLow});
  REQUIRE(many.notes.size() == 1);
  CHECK(many.notes[0].find(": 4 32-hex trace ids end in its low 64 bits (") != std::string::npos);
  CHECK(many.notes[0].ends_with(", ...)"));
}

TEST_CASE("trace ids: the decision does not depend on the ids' order") {
  std::vector<std::string> ids = {kSixteen, kZero, kLong, kOtherLong};
  std::sort(ids.begin(), ids.end());
  const Joined first = join(ids);
  while (std::next_permutation(ids.begin(), ids.end())) {
    const Joined j = join(ids);
    CHECK(j.into == first.into);
    CHECK(j.notes == first.notes);
  }
}

TEST_CASE("trace ids: notes from several threads list the first few in order and count the rest") {
  TraceJoinNotes a, b;
  a.keep = b.keep = 3;
  for (int i = 9; i >= 0; i -= 2) a.add("trace " + std::to_string(i));
  for (int i = 8; i >= 0; i -= 2) b.add("trace " + std::to_string(i));
  a.take(b);
  CHECK(a.count == 10);
  CHECK(a.lines() ==
        std::vector<std::string>{"trace 0", "trace 1", "trace 2",
                                 "7 more trace ids joined, or left apart, by their low 64 bits (not listed)"});
  TraceJoinNotes few;
  few.add("trace x");
  few.trim();
  CHECK(few.lines() == std::vector<std::string>{"trace x"});
  // Trimmed as they come: a long run keeps little.
  TraceJoinNotes lots;
  for (int i = 0; i < 100000; ++i) lots.add("trace " + std::to_string(100000 - i));
  CHECK(lots.first.size() < lots.keep * 8 + 64);
  lots.trim();
  CHECK(lots.first.size() == lots.keep);
  CHECK(lots.first.front() == "trace 1");
}

TEST_CASE("trace ids: --trace names a trace by its id or by a short id of its low half") {
  const std::string_view long_id = "463ac35c9f6413ad48485a3953bb6124";
  CHECK(trace_id_names(long_id, long_id));
  CHECK(trace_id_names("48485a3953bb6124", long_id));
  CHECK(trace_id_names("000000000000000048485a3953bb6124", long_id));
  CHECK(trace_id_names("48485a3953bb6124", "000000000000000048485a3953bb6124"));
  CHECK(trace_id_names("000000000000000048485a3953bb6124", "48485a3953bb6124"));
  // A long id never names another long one, nor a short trace.
  CHECK_FALSE(trace_id_names("563ac35c9f6413ad48485a3953bb6124", long_id));
  CHECK_FALSE(trace_id_names(long_id, "48485a3953bb6124"));
  // Other ids only as written.
  CHECK_FALSE(trace_id_names("48485a3953bb612", "48485a3953bb6124"));
  CHECK_FALSE(trace_id_names("req-1", "req-1 "));
  CHECK(trace_id_names("req-1", "req-1"));
}

TEST_CASE("trace ids: --trace takes a hex id as the file shows it, trimmed or in upper case") {
  // Jaeger trims leading zeros, OTLP files may use upper case; the adapters
  // pad and lower ids.
  CHECK(trace_id_names("a3b2c1d0e9f8", "0000a3b2c1d0e9f8"));
  CHECK(trace_id_names("5B8EFFF798038103D269B633813FC60C", "5b8efff798038103d269b633813fc60c"));
  CHECK(trace_id_names("48485A3953BB6124", "463ac35c9f6413ad48485a3953bb6124"));  // its low half
  CHECK(trace_id_names("1", "0000000000000001"));
  CHECK(trace_id_names("abcdef0123456789", "ABCDEF0123456789"));  // a native id keeps its case
  CHECK_FALSE(trace_id_names("0000000000000001", "0001"));  // a native id is not padded
  CHECK_FALSE(trace_id_names("00000000000000000000000000000001", "01"));
  CHECK_FALSE(trace_id_names("a3b2c1d0e9f8", "a3b2c1d0e9f80000"));
  CHECK_FALSE(trace_id_names("3b2c1d0e9f8", "0000a3b2c1d0e9f8"));
  CHECK_FALSE(trace_id_names("x3b2c1d0e9f8", "0x3b2c1d0e9f8"));
  CHECK_FALSE(trace_id_names("463ac35c9f6413ad48485a3953bb6124f", "463ac35c9f6413ad48485a3953bb6124"));  // 33 digits
}
