// Every table keyed by ids or labels from the input takes its slot from the
// process's hash key (util/hash.h), so none can be flooded: for each table,
// keys crafted against this process's key to share one slot (as an attacker
// who knew the key would craft them) do pile up in it, which shows the
// table's slot is the keyed hash's; and keys crafted so against another key
// (kNoKey: the hash as it would be without a key) spread as any keys do.
// Crafted as trace-gen --collide crafts its host names: the first of
// prefix + 0, 1, 2... (in hex) that fall in the first one's slot.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "analyze/pair_offset_counts.h"
#include "analyze/sample.h"
#include "assemble/id_index.h"
#include "live/live_assembler.h"
#include "store/distinct_bodies.h"
#include "store/open_traces.h"
#include "store/span_codec.h"
#include "store/span_log.h"
#include "store/symbols.h"
#include "util/hash.h"
#include "util/longest_run.h"
#include "util/pair_map.h"

using namespace ta;

namespace {

constexpr HashKey kNoKey{};

// prefix, then i in 10 hex digits.
std::string numbered(std::string_view prefix, std::uint64_t i) {
  char digits[10];
  for (int d = 0; d < 10; ++d) digits[9 - d] = "0123456789abcdef"[(i >> (4 * d)) & 15];
  return std::string(prefix).append(digits, 10);
}

// The first n of make(0), make(1)... whose slot(key) is make(0)'s.
template <typename Make, typename Slot>
auto crafted(std::size_t n, Make&& make, Slot&& slot) {
  std::vector<decltype(make(0))> out{make(0)};
  const std::uint64_t want = slot(out[0]);
  for (std::uint64_t i = 1; out.size() < n; ++i) {
    auto k = make(i);
    if (slot(k) == want) out.push_back(std::move(k));
  }
  return out;
}

// The guarantee for one table of n keys: slot(key, hash key) is where the
// table puts a key, load(keys) the most a table of those keys holds in one
// run of slots (or one partition). Keys crafted against another key must
// stay under a quarter of n; at the tables' loads random keys make runs of
// at most 30 (seen in 1000 draws).
template <typename Make, typename Slot, typename Load>
void check_keyed(std::size_t n, Make&& make, Slot&& slot, Load&& load, std::size_t bound = 0) {
  if (bound == 0) bound = n / 4;
  const auto here = crafted(n, make, [&](const auto& k) { return slot(k, hash_key); });
  CHECK_MESSAGE(load(here) >= n, "keys crafted against this process's key should share a slot");
  const auto there = crafted(n, make, [&](const auto& k) { return slot(k, kNoKey); });
  CHECK_MESSAGE(load(there) < bound, "keys crafted against another key pile up: the table's hash is not keyed");
}

// A trace id of no packed shape as the span log encodes it (put_id: its
// length doubled, then its bytes; checked below), and its hash there: such
// ids are hashed whole (store/span_log.cpp: trace_hash). Made here without
// put_id: the grouping test tries a few million candidates.
std::uint64_t log_hash(std::string_view id, const HashKey& key) {
  char k[32];
  k[0] = static_cast<char>(id.size() << 1);
  std::memcpy(k + 1, id.data(), id.size());
  return hash_bytes(std::string_view(k, id.size() + 1), key);
}
std::string trace_id(std::uint64_t i) { return numbered("tr/", i); }  // 13 bytes: hashed whole
void check_log_encoding() {
  std::uint8_t key[64];
  const std::string id = trace_id(0x2a);
  const std::uint8_t* end = codec::put_id(key, id);
  REQUIRE(std::string(reinterpret_cast<const char*>(key), static_cast<std::size_t>(end - key)) ==
          static_cast<char>(26) + id);
}

SpanRecord span(const std::string& trace, const std::string& id) {
  SpanRecord r;
  r.trace_id = trace;
  r.span_id = id;
  r.start = 1000;
  r.duration = 5;
  r.host = "h";
  return r;
}

}  // namespace

TEST_CASE("keyed tables: a batch run's partition of a trace is chosen by the keyed hash") {
  // 512 traces in 256 partitions: two a partition on average.
  check_log_encoding();
  auto slot = [](const std::string& id, const HashKey& key) { return log_hash(id, key) >> 56; };
  auto fullest = [](const std::vector<std::string>& ids) {
    SpanLog log;
    for (std::uint32_t i = 0; i < ids.size(); ++i) log.add(span(ids[i], "s1"), 0, i + 1);
    std::uint64_t most = 0;
    for (std::size_t p = 0; p < SpanLog::kPartitions; ++p) most = std::max(most, log.partition_records(p));
    return static_cast<std::size_t>(most);
  };
  check_keyed(512, trace_id, slot, fullest);
}

TEST_CASE("keyed tables: a partition's traces are grouped by the keyed hash") {
  // 64 traces of one partition (chosen with this process's key: the table
  // of one partition's traces is what is tested), two spans each: the
  // grouping table has 256 slots, its slot the low 8 bits of the hash.
  check_log_encoding();
  auto slot = [](const std::string& id, const HashKey& key) {
    return (log_hash(id, hash_key) >> 56) << 32 | (log_hash(id, key) & 255);
  };
  auto longest = [](const std::vector<std::string>& ids) {
    SpanLog log;
    for (std::uint32_t i = 0; i < ids.size(); ++i) {
      log.add(span(ids[i], "s1"), 0, 2 * i + 1);
      log.add(span(ids[i], "s2"), 0, 2 * i + 2);
    }
    const std::size_t partition = SpanLog::partition_of(log_hash(ids[0], hash_key));
    REQUIRE(log.partition_records(partition) == 2 * ids.size());
    SpanLog::Scratch scratch;
    SpanLog::RefusedSpans refused;
    TraceJoinNotes joins;
    std::size_t traces = 0;
    log.for_each_trace(partition, scratch, refused, joins, [&](const TraceData&) { ++traces; });
    CHECK(traces == ids.size());
    REQUIRE(scratch.slots.size() == 256);
    return longest_run(scratch.slots, [](std::uint32_t t) { return t != kNone; });
  };
  check_keyed(64, trace_id, slot, longest, 32);  // random: at most 12 in 1000 draws
}

TEST_CASE("keyed tables: the span-id index of a trace") {
  // 400 ids: the index has 1024 slots.
  auto slot = [](const std::string& id, const HashKey& key) { return hash_bytes(id, key) & 1023; };
  auto longest = [](const std::vector<std::string>& ids) {
    IdIndex index;
    auto key_of = [&](std::uint32_t v) { return std::string_view(ids[v]); };
    for (std::uint32_t i = 0; i < ids.size(); ++i) CHECK(index.insert(ids[i], i, key_of) == i);
    for (std::uint32_t i = 0; i < ids.size(); ++i) CHECK(index.find(ids[i], key_of) == i);
    return index.longest_run();
  };
  check_keyed(400, [](std::uint64_t i) { return numbered("sp/", i); }, slot, longest);
}

TEST_CASE("keyed tables: the open traces of live mode, by trace id") {
  // 400 traces: the index has 1024 slots. Live mode files its traces under
  // live::trace_hash, OpenTraces::add under its own: both the keyed hash.
  auto slot = [](const std::string& id, const HashKey& key) { return hash_bytes(id, key) & 1023; };
  auto longest = [](const std::vector<std::string>& ids) {
    OpenTraces store;
    for (std::uint32_t i = 0; i < ids.size(); ++i) {
      CHECK(live::trace_hash(ids[i]) == hash_bytes(ids[i]));
      store.add(span(ids[i], "s1"), 0, i + 1);
    }
    CHECK(store.trace_count() == ids.size());
    return store.longest_run();
  };
  check_keyed(400, trace_id, slot, longest);
}

TEST_CASE("keyed tables: live mode's span keys, by which a trace is known complete") {
  // One trace of 600 spans, each a child of a parent that never comes: 601
  // keys, in the trace's own table of 2048 slots, a key's slot its bits 3 to
  // 13. A span's key is its id's, seeded by the trace id's keyed hash.
  const std::string trace = "tr/live";
  auto slot = [&](const std::string& id, const HashKey& key) {
    return (live::span_key(id, hash_bytes(trace, key)) >> 3) & 2047;
  };
  auto longest = [&](const std::vector<std::string>& ids) {
    LiveAssembler live(LiveOptions{}, [](ShownTrace&, Emit) {});
    for (std::uint32_t i = 0; i < ids.size(); ++i) {
      SpanRecord r = span(trace, ids[i]);
      r.parent_id = "never";
      CHECK(live.add(r, 0, i + 1) == LiveAssembler::Added::kSpan);
    }
    CHECK(live.tracked_ids() == ids.size() + 1);
    return live.longest_key_run();
  };
  check_keyed(600, [](std::uint64_t i) { return numbered("sp/", i); }, slot, longest);
}

TEST_CASE("keyed tables: the trace ids live mode wrote lately, for late spans") {
  // 400 traces, each complete in its one span and written at once: the
  // index of their ids has 1024 slots, an id's slot the low 10 bits of its
  // keyed hash.
  auto slot = [](const std::string& id, const HashKey& key) { return hash_bytes(id, key) & 1023; };
  auto longest = [](const std::vector<std::string>& ids) {
    std::size_t written = 0;
    LiveAssembler live(LiveOptions{}, [&](ShownTrace&, Emit why) {
      CHECK(why == Emit::kComplete);
      ++written;
    });
    for (std::uint32_t i = 0; i < ids.size(); ++i) CHECK(live.add(span(ids[i], "s1"), 0, i + 1) == LiveAssembler::Added::kSpan);
    CHECK(written == ids.size());
    // Each is remembered: a span of it now is late.
    for (std::uint32_t i = 0; i < ids.size(); ++i)
      CHECK(live.add(span(ids[i], "s2"), 0, static_cast<std::uint32_t>(ids.size()) + i + 1) ==
            LiveAssembler::Added::kLate);
    return live.longest_written_run();
  };
  check_keyed(400, trace_id, slot, longest);
}

TEST_CASE("keyed tables: the low halves of live mode's 32-hex trace ids") {
  // 400 open traces of 32-hex ids that share their high half: the map of
  // their low halves (util/trace_ids.h) ends with as many buckets as any
  // such map of 400 texts, a half's bucket its keyed hash modulo that count.
  std::unordered_map<std::string, int, TextHash> sized;
  for (int i = 0; i < 400; ++i) sized.emplace(std::to_string(i), i);
  const std::size_t buckets = sized.bucket_count();
  auto id = [](std::uint64_t i) { return numbered("1111111111111111000000", i); };  // 16 + 6 + 10 hex digits
  auto slot = [&](const std::string& trace, const HashKey& key) {
    return hash_bytes(std::string_view(trace).substr(16), key) % buckets;
  };
  auto most = [](const std::vector<std::string>& ids) {
    LiveAssembler live(LiveOptions{}, [](ShownTrace&, Emit) {});
    const std::string own = "s1";
    for (std::uint32_t i = 0; i < ids.size(); ++i) {
      SpanRecord r = span(ids[i], own);
      r.parent_id = "never";  // open until the end
      CHECK(live.add(r, 0, i + 1) == LiveAssembler::Added::kSpan);
    }
    CHECK(live.open_traces() == ids.size());
    return live.longest_half_bucket();
  };
  check_keyed(400, id, slot, most);
}

TEST_CASE("keyed tables: the label table, short labels and long ones") {
  // 300 short labels: a table of 1024 slots, a label's slot the top 10
  // bits of its mix; 400 long ones (over 16 bytes): an index of 1024 slots,
  // the low 10 bits of their hash.
  auto longest = [](const std::vector<std::string>& labels) {
    SymbolTable symbols;
    for (const std::string& l : labels) symbols.intern(l);
    CHECK(symbols.size() == labels.size() + 1);  // and ""
    for (std::size_t i = 0; i < labels.size(); ++i) CHECK(symbols.text(symbols.intern(labels[i])) == labels[i]);
    return symbols.longest_run();
  };
  SUBCASE("short") {
    auto slot = [](const std::string& label, const HashKey& key) {
      std::uint64_t a, b;
      symbol_key::pack(label, a, b);
      return symbol_key::mix(a, b, label.size(), key) >> 54;
    };
    check_keyed(300, [](std::uint64_t i) { return numbered("h/", i); }, slot, longest);
  }
  SUBCASE("long") {
    auto slot = [](const std::string& label, const HashKey& key) { return hash_bytes(label, key) & 1023; };
    check_keyed(400, [](std::uint64_t i) { return numbered("a-long-host-name/", i); }, slot, longest);
  }
}

TEST_CASE("keyed tables: the tallies by label pair") {
  // Pairs of symbols below 4096 (the input chooses which labels come first,
  // so which pairs there are); 300 pairs: 1024 slots.
  auto pair = [](std::uint64_t i) { return (i / 4096) << 32 | (i % 4096); };
  auto slot = [](std::uint64_t key, const HashKey& k) { return hash_number(key, k) & 1023; };
  auto longest = [](const std::vector<std::uint64_t>& keys) {
    PairMap<int> map;
    for (const std::uint64_t k : keys) ++map[k];
    CHECK(map.size() == keys.size());
    return map.longest_run();
  };
  check_keyed(300, pair, slot, longest);
}

TEST_CASE("keyed tables: the clock offsets counted by host pair") {
  // One host pair's offsets (the input's times choose them), as the narrow
  // table holds whole milliseconds (ms << 1 | 1); 300 of them: 1024 slots,
  // an entry's slot the low 10 bits of its keyed pair hash.
  const std::uint64_t pair = std::uint64_t{7} << 32 | 9;
  auto offset = [](std::uint64_t i) { return static_cast<std::int32_t>(i * 2 + 1); };
  auto slot = [&](std::int32_t o, const HashKey& key) {
    return hash_number_pair(pair, static_cast<std::uint64_t>(o), key) & 1023;
  };
  auto longest = [&](const std::vector<std::int32_t>& offsets) {
    PairOffsetCounts<std::int32_t, std::uint32_t> counts;
    for (const std::int32_t o : offsets) ++counts.at(pair, o).count;
    for (const std::int32_t o : offsets) CHECK(counts.at(pair, o).count == 1);
    CHECK(counts.size() == offsets.size());
    return counts.longest_run();
  };
  check_keyed(300, offset, slot, longest);
}

TEST_CASE("keyed tables: the bodies of a trace past --max-trace-spans") {
  // 400 bodies: 1024 slots. A record is its body's size, then the body.
  auto slot = [](const std::string& record, const HashKey& key) {
    return hash_bytes(std::string_view(record).substr(1), key) & 1023;
  };
  auto longest = [](const std::vector<std::string>& records) {
    DistinctBodies bodies;
    for (const std::string& r : records) CHECK(bodies.insert(reinterpret_cast<const std::uint8_t*>(r.data())));
    CHECK(bodies.size() == records.size());
    return bodies.longest_run();
  };
  auto record = [](std::uint64_t i) {
    const std::string body = numbered("body/", i);
    return std::string(1, static_cast<char>(body.size())) + body;
  };
  check_keyed(400, record, slot, longest);
}

TEST_CASE("keyed tables: the counted values of a distribution (durations, clock offsets)") {
  // 300 values: the table ends with 1024 slots, taken from the hash's top
  // bits (keys that share the top 10 share a run of slots at any size).
  auto slot = [](Nanos v, const HashKey& key) { return hash_number(static_cast<std::uint64_t>(v), key) >> 54; };
  auto longest = [](const std::vector<Nanos>& values) {
    Sample sample(std::numeric_limits<std::size_t>::max());
    // Each value 16 times over, so they are counted, not listed.
    for (int round = 0; round < 16; ++round)
      for (const Nanos v : values) sample.push(v);
    CHECK(sample.count() == 16 * values.size());
    CHECK(sample.exact());
    return sample.longest_run();
  };
  auto value = [](std::uint64_t i) { return static_cast<Nanos>(1'000'000 + 1'000 * i); };
  check_keyed(300, value, slot, longest);
}

TEST_CASE("keyed tables: the longest run counts full slots, across the table's end") {
  auto full = [](int v) { return v != 0; };
  CHECK(longest_run(std::vector<int>{0, 0, 0, 0}, full) == 0);
  CHECK(longest_run(std::vector<int>{1, 0, 1, 1}, full) == 3);
  CHECK(longest_run(std::vector<int>{0, 1, 1, 0, 1}, full) == 2);
  CHECK(longest_run(std::vector<int>{1, 1, 1}, full) == 3);
}
