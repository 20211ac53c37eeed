// trace-gen: deterministic generator of realistic native span logs for
// trace-assemble (see DESIGN.md, "Input: the span log line"), or of the same
// spans as OpenTelemetry Collector file-exporter lines (--format otlp).
//
// Standard library only. The same seed and flags give byte-identical output:
// all randomness comes from our own xoshiro256** streams and integer
// arithmetic (no <random> distributions, no libm).
//
// Model: ~20 services, each on a subset of the hosts. A trace is a tree
// (fan-out 0-4, depth <= 6, occasionally an N+1-style burst of calls); a
// child runs inside its parent's interval (sequential and parallel calls,
// small network gaps). Lines are written when a span ENDS, and a window of
// traces is in flight at once, so lines of different traces interleave and a
// child's line comes before its parent's.
//
// Anomalies are drawn from a separate PRNG stream from the trace structure,
// so changing an anomaly rate does not change the traces themselves.
//
// Id shapes (--ids), the seed's host-only line (--host-only) and microsecond
// times (--time-unit us) change only how a span is written: the traces, and
// every PRNG draw, are the same (--size still counts the written bytes, so the
// number of traces differs). The defaults write what this tool always has.
//
// --format otlp writes the spans the native output has for the same seed and
// flags (the native lines are still formatted and --size counts their bytes,
// so the stop rule and every PRNG draw are the same), batched the way a
// collector's batch processor and file exporter write them: one
// {"resourceSpans":[...]} document per line, a line per batch of up to
// --otlp-batch spans in end order (cut earlier when --otlp-timeout ms of
// span end time have passed since the batch opened), and inside a line one
// resourceSpans element per (service, host) in order of first appearance,
// its spans in end order. requestStacks has no OTLP equivalent and is not
// written.
//
// samples/services.jsonl was made with (also shown at the end of --help):
//   scripts/gen --seed 2 --traces 28 --hosts 24 --window 6 --dup-rate 0.01 --skew-rate 0.01 --orphan-rate 0.005 --bad-rate 0.01 --out samples/services.jsonl

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <vector>

#include "store/symbols.h"

namespace {

constexpr const char* kUsage =
    R"(usage: trace-gen [options]

Deterministic generator of realistic native span logs (one JSON span per line,
written when the span ends; many traces in flight at once, so lines interleave),
or of the same spans as OpenTelemetry Collector file-exporter lines (--format otlp).

Amount (one of):
  --size BYTES        stop after the trace that crosses BYTES of output;
                      suffixes K, M, G (1K = 1024)          (default 1G)
  --traces N          emit exactly N traces (overrides --size)
  --chain N           emit one trace that is a chain N spans deep
  --fanout N          emit one trace whose root calls N children directly

Shape:
  --seed N            PRNG seed; same seed + flags => same bytes (default 42)
  --hosts N           number of hosts, 10.x.y.z                (default 300)
  --collide           host names crafted to collide in trace-assemble's
                      label table under the hash key TA_HASH_KEY names (set
                      it): the benchmark's attack row, which runs
                      trace-assemble with its own random key
  --ids SHAPE         how trace and span ids look (the traces are the same
                      whatever the shape):                      (default hex)
                        hex       16-hex trace id, 8-hex span id
                        prefixed  16-hex trace id; span id <traceId>-<n>, n the
                                  span's number in its trace in hex (...-1f)
                        w3c       32-hex trace id, 16-hex span id (W3C trace
                                  context; the ids the OTLP output has)
                        uuid      trace and span ids as random (v4) UUIDs
                        decimal   trace and span ids as decimal 63-bit numbers
                                  (up to 19 digits)
                        short     8-hex trace id; span id the span's number in
                                  its trace, 2 digits at least (01, 02, ...)
  --host-only         the seed's line shape: no service or operation fields,
                      and every number (timestamp, duration, httpCode and the
                      requestStacks ones) as a JSON string; keys are followed
                      by ": " as in the format's own examples
  --time-unit UNIT    ms: whole milliseconds                        (default)
                      us: microseconds (16-digit epoch times): the same
                      traces, each time moved by a sub-millisecond amount
                      that keeps every child inside its parent and every
                      callee inside its caller's view of the call
  --window N          traces in flight at once                 (default 300)
  --error-rate F      a span fails by itself (500/503)         (default 0.015)

Anomalies (probabilities, 0..1):
  --lost-rate F       a callee's own line is not written; it stays listed
                      in the caller's requestStacks            (default 0.01)
  --dup-rate F        a line is written again later            (default 0)
  --skew-rate F       a host clock offset puts a child's subtree before its
                      parent's start or past its parent's end   (default 0)
  --orphan-rate F     parentSpanId points at an id that never appears (and the
                      caller does not list the span)           (default 0)
  --bad-rate F        an extra malformed line: truncated JSON, not an object,
                      missing traceId, wrong type for duration  (default 0)

Output:
  --out FILE          write to FILE                            (default stdout)
  --format FORMAT     native: one JSON span per line                (default)
                      otlp: the SAME spans (same seed and flags, and --size
                      counts the native bytes) as OpenTelemetry Collector
                      file-exporter lines: one {"resourceSpans":[...]} per
                      line, a line per batch of spans in end order, grouped
                      by (service.name, host.name) resource within the line.
                      Ids as hex (trace id: 16 derived hex digits, then the
                      native 16; span id: 8 derived, then the native 8), times
                      as ns strings, kind from the span's role (front ends
                      and services SERVER, datastores CLIENT, Kafka
                      PRODUCER), httpCode as an http.status_code intValue,
                      status code 2 (error) for 5xx. requestStacks is dropped
                      (OTLP has no client-side view), so a lost callee is not
                      inferred and its children are orphans. Not with
                      --filebeat, --bad-rate, --host-only (OTLP always names
                      the service) or --ids other than hex and w3c (OTLP ids
                      are always 32/16 hex; --ids w3c gives the spans of the
                      --ids w3c native output, whose lines --size counts).
                      With --time-unit us the nanosecond times carry the
                      microseconds.
  --otlp-batch N      with --format otlp: spans per line at most (default 8192,
                      the collector batch processor's send_batch_size)
  --otlp-timeout MS   with --format otlp: a line is also cut once the span end
                      times pass MS after its first span's (default 200, the
                      batch processor's timeout; 0: never)
  --filebeat          wrap each line as a Filebeat event (span JSON in "message")
  --stats             print counts (traces, spans, lines, anomalies) to stderr
  -h, --help          show this help

The OTLP twin of a native log (the same spans, e.g. for scripts/bench):
  scripts/gen --size 1G --seed 42 --format otlp --out /tmp/spans.otlp.jsonl

The seed's host-only lines with decimal ids on 2,000 hosts, in microseconds
(one of scripts/bench's shapes, there in milliseconds):
  scripts/gen --size 256M --host-only --ids decimal --hosts 2000 --time-unit us

samples/services.jsonl is regenerated with:
  # scripts/gen --seed 2 --traces 28 --hosts 24 --window 6 --dup-rate 0.01 --skew-rate 0.01 --orphan-rate 0.005 --bad-rate 0.01 --out samples/services.jsonl
)";

// ---------------------------------------------------------------- PRNG

uint64_t splitmix64(uint64_t& x) {
    uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

// Bijective mixers: distinct inputs give distinct ids.
uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
uint32_t mix32(uint32_t x) {
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

__extension__ typedef unsigned __int128 u128;

struct Rng {
    uint64_t s[4];
    explicit Rng(uint64_t seed) {
        uint64_t x = seed;
        for (auto& v : s) v = splitmix64(x);
    }
    static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    uint64_t next() {
        const uint64_t result = rotl(s[1] * 5, 7) * 9;
        const uint64_t t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = rotl(s[3], 45);
        return result;
    }
    // uniform in [0, n)
    uint64_t below(uint64_t n) { return static_cast<uint64_t>((static_cast<u128>(next()) * n) >> 64); }
    // uniform in [lo, hi]
    int64_t range(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(below(static_cast<uint64_t>(hi - lo) + 1)); }
    // always consumes one draw, so the stream does not depend on p
    bool chance(double p) { return static_cast<double>(next() >> 11) * 0x1.0p-53 < p; }
};

// ---------------------------------------------------------------- services

enum Kind : uint8_t { kFront, kService, kStore };

struct SvcDef {
    const char* name;
    Kind kind;
    bool tsStr, durStr, codeStr;  // how this service logs numbers
    int base, jitter;             // ms of own work
    std::vector<const char*> ops;
    std::vector<int> callees;
};

// indices
enum {
    WEB, GATEWAY, BFF, AUTH, USER, ORDER, CART, CHECKOUT, SEARCH, CATALOG,
    PAYMENT, INVENTORY, PRICING, SHIPPING, RECO, NOTIFY, POSTGRES, REDIS, KAFKA, ES,
    kNumSvc
};

const std::vector<SvcDef>& services() {
    static const std::vector<SvcDef> v = {
        {"web-frontend", kFront, false, false, false, 2, 6,
         {"GET /", "GET /product/{id}", "GET /cart", "POST /checkout", "GET /search"},
         {GATEWAY, USER, CATALOG, RECO, SEARCH, REDIS}},
        {"api-gateway", kFront, true, true, true, 1, 3,
         {"GET /api/orders", "POST /api/orders", "GET /api/orders/{id}", "GET /api/users/{id}", "GET /api/cart",
          "POST /api/cart/items", "POST /api/checkout", "GET /api/search", "GET /api/products/{id}"},
         {AUTH, ORDER, USER, CART, CHECKOUT, SEARCH, CATALOG}},
        {"mobile-bff", kFront, false, false, false, 2, 5,
         {"GET /m/home", "GET /m/orders", "POST /m/cart", "GET /m/product/{id}"},
         {AUTH, USER, ORDER, CART, CATALOG, RECO}},
        {"auth-service", kService, true, true, true, 2, 6,
         {"POST /auth/verify", "GET /auth/session/{id}", "POST /auth/token"},
         {REDIS, POSTGRES}},
        {"user-service", kService, false, false, true, 3, 10,
         {"GET /users/{id}", "PUT /users/{id}", "GET /users/{id}/preferences"},
         {POSTGRES, REDIS, AUTH}},
        {"order-service", kService, true, true, true, 4, 15,
         {"GET /orders", "POST /orders", "GET /orders/{id}", "PUT /orders/{id}/status"},
         {INVENTORY, PRICING, SHIPPING, POSTGRES, KAFKA, USER, PAYMENT}},
        {"cart-service", kService, false, false, false, 3, 8,
         {"GET /cart/{id}", "POST /cart/{id}/items", "DELETE /cart/{id}/items/{sku}"},
         {PRICING, INVENTORY, REDIS, CATALOG}},
        {"checkout-service", kService, true, true, true, 5, 15,
         {"POST /checkout", "GET /checkout/{id}"},
         {CART, PAYMENT, ORDER, SHIPPING, NOTIFY, PRICING}},
        {"search-service", kService, false, false, false, 5, 20,
         {"GET /search", "GET /search/suggest"},
         {ES, CATALOG, RECO, REDIS}},
        {"catalog-service", kService, true, false, true, 3, 10,
         {"GET /products/{id}", "GET /products", "GET /categories/{id}"},
         {POSTGRES, REDIS, PRICING, INVENTORY}},
        {"payment-service", kService, true, true, true, 40, 200,
         {"POST /payments", "GET /payments/{id}", "POST /payments/{id}/refund"},
         {POSTGRES, KAFKA, AUTH}},
        {"inventory-service", kService, false, false, false, 3, 10,
         {"GET /inventory/{sku}", "POST /inventory/reserve", "POST /inventory/release"},
         {POSTGRES, REDIS, KAFKA}},
        {"pricing-service", kService, false, true, false, 2, 6,
         {"GET /prices/{sku}", "POST /prices/quote"},
         {REDIS, POSTGRES}},
        {"shipping-service", kService, true, true, true, 10, 40,
         {"POST /shipments/quote", "GET /shipments/{id}", "POST /shipments"},
         {POSTGRES, KAFKA, PRICING}},
        {"recommendation-service", kService, false, false, false, 15, 60,
         {"GET /recommendations/{userId}", "GET /recommendations/similar/{sku}"},
         {ES, REDIS, CATALOG}},
        {"notification-service", kService, false, false, true, 5, 20,
         {"POST /notifications/email", "POST /notifications/push"},
         {KAFKA, POSTGRES}},
        {"postgres-proxy", kStore, false, false, false, 1, 8,
         {"SELECT orders", "INSERT orders", "SELECT users", "UPDATE inventory", "SELECT products"}, {}},
        {"redis-cache", kStore, false, false, false, 0, 2, {"GET", "SET", "MGET", "DEL"}, {}},
        {"kafka-broker", kStore, true, true, true, 1, 4, {"produce order-events", "produce notifications"}, {}},
        {"elasticsearch", kStore, false, false, false, 5, 30, {"POST /products/_search", "GET /products/_doc/{id}"}, {}},
    };
    return v;
}

// fan-out weights (0..4 children) by depth, for non-datastore spans
constexpr int kMaxDepth = 6;
constexpr uint32_t kFan[kMaxDepth][5] = {
    {2, 20, 35, 28, 15}, {10, 28, 32, 18, 12}, {28, 30, 22, 12, 8},
    {45, 28, 15, 8, 4},  {60, 25, 10, 3, 2},   {75, 17, 6, 2, 0},
};
constexpr uint32_t kMaxSpansNormal = 2000;

// ---------------------------------------------------------------- buffers

struct Buf {
    char* p = nullptr;
    size_t n = 0, cap = 0;
    Buf() = default;
    Buf(const Buf&) = delete;
    Buf& operator=(const Buf&) = delete;
    ~Buf() { std::free(p); }
    void grow(size_t need) {
        size_t nc = cap ? cap : 4096;
        while (nc < need) nc *= 2;
        char* np = static_cast<char*>(std::realloc(p, nc));
        if (!np) {
            std::fputs("trace-gen: error: out of memory\n", stderr);
            std::exit(1);
        }
        p = np;
        cap = nc;
    }
    void ensure(size_t extra) {
        if (n + extra > cap) grow(n + extra);
    }
    void clear() { n = 0; }
    void put(char c) {
        ensure(1);
        p[n++] = c;
    }
    void put(std::string_view s) {
        ensure(s.size());
        std::memcpy(p + n, s.data(), s.size());
        n += s.size();
    }
    void putInt(int64_t v) {
        ensure(24);
        auto r = std::to_chars(p + n, p + n + 24, v);
        n = static_cast<size_t>(r.ptr - p);
    }
    void putNum(int64_t v, bool quoted) {
        if (quoted) {
            put('"');
            putInt(v);
            put('"');
        } else {
            putInt(v);
        }
    }
    void putHex(uint64_t v, int digits) {
        static const char* hx = "0123456789abcdef";
        ensure(static_cast<size_t>(digits));
        for (int i = digits - 1; i >= 0; --i) {
            p[n + static_cast<size_t>(i)] = hx[v & 15];
            v >>= 4;
        }
        n += static_cast<size_t>(digits);
    }
    void put2(unsigned v) {
        ensure(2);
        p[n++] = static_cast<char>('0' + v / 10);
        p[n++] = static_cast<char>('0' + v % 10);
    }
    // s as the contents of a JSON string
    void putEscaped(const char* s, size_t len) {
        ensure(len + len / 4 + 16);
        static const char* hx = "0123456789abcdef";
        for (size_t i = 0; i < len; ++i) {
            unsigned char c = static_cast<unsigned char>(s[i]);
            if (c == '"' || c == '\\') {
                ensure(2);
                p[n++] = '\\';
                p[n++] = static_cast<char>(c);
            } else if (c < 0x20) {
                ensure(6);
                std::memcpy(p + n, "\\u00", 4);
                p[n + 4] = hx[c >> 4];
                p[n + 5] = hx[c & 15];
                n += 6;
            } else {
                ensure(1);
                p[n++] = static_cast<char>(c);
            }
        }
    }
};

struct Out {
    FILE* f = nullptr;
    std::vector<char> buf;
    size_t n = 0;
    uint64_t total = 0;
    explicit Out(FILE* file) : f(file), buf(size_t{8} << 20) {}
    void flush() {
        if (n && std::fwrite(buf.data(), 1, n, f) != n) fail();
        n = 0;
    }
    [[noreturn]] static void fail() {
        std::fprintf(stderr, "trace-gen: error: write failed: %s\n", std::strerror(errno));
        std::exit(1);
    }
    void write(const char* p, size_t len) {
        total += len;
        if (len > buf.size() - n) {
            flush();
            if (len >= buf.size()) {
                if (std::fwrite(p, 1, len, f) != len) fail();
                return;
            }
        }
        std::memcpy(buf.data() + n, p, len);
        n += len;
    }
};

// ---------------------------------------------------------------- config

enum class IdShape : uint8_t { Hex, Prefixed, W3c, Uuid, Decimal, Short };

struct Config {
    uint64_t size = uint64_t{1} << 30;
    uint64_t traces = 0;  // 0: by size
    uint64_t chain = 0;
    uint64_t fanout = 0;
    uint64_t seed = 42;
    uint64_t hosts = 300;
    uint64_t window = 300;
    double errorRate = 0.015;
    double lostRate = 0.01;
    double dupRate = 0;
    double skewRate = 0;
    double orphanRate = 0;
    double badRate = 0;
    std::string out;
    bool filebeat = false;
    bool stats = false;
    bool otlp = false;
    uint64_t otlpBatch = 8192;
    uint64_t otlpTimeoutMs = 200;
    IdShape ids = IdShape::Hex;
    bool hostOnly = false;
    bool micros = false;  // --time-unit us
    bool collide = false;
};

[[noreturn]] void usageError(const std::string& msg) {
    std::fprintf(stderr, "trace-gen: error: %s\n\n%s", msg.c_str(), kUsage);
    std::exit(2);
}

bool parseU64(std::string_view s, uint64_t& v) {
    if (s.empty()) return false;
    auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool parseSize(std::string_view s, uint64_t& v) {
    uint64_t mult = 1;
    if (!s.empty()) {
        std::string_view t = s;
        if (t.size() > 1 && (t.back() == 'B' || t.back() == 'b')) t.remove_suffix(1);
        if (t.size() > 2 && (t.back() == 'i' || t.back() == 'I')) t.remove_suffix(1);
        if (!t.empty()) {
            switch (t.back()) {
                case 'k': case 'K': mult = uint64_t{1} << 10; break;
                case 'm': case 'M': mult = uint64_t{1} << 20; break;
                case 'g': case 'G': mult = uint64_t{1} << 30; break;
                case 't': case 'T': mult = uint64_t{1} << 40; break;
                default: t = s; break;
            }
            if (mult != 1) t.remove_suffix(1);
        }
        s = t;
    }
    uint64_t base = 0;
    if (!parseU64(s, base)) return false;
    if (base > UINT64_MAX / mult) return false;
    v = base * mult;
    return true;
}

bool parseRate(std::string_view s, double& v) {
    if (s.empty()) return false;
    auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    return r.ec == std::errc() && r.ptr == s.data() + s.size() && v >= 0 && v <= 1;
}

Config parseArgs(int argc, char** argv) {
    Config c;
    bool haveTraces = false;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        std::string val;
        bool hasInline = false;
        if (a.rfind("--", 0) == 0) {
            auto eq = a.find('=');
            if (eq != std::string::npos) {
                val = a.substr(eq + 1);
                a = a.substr(0, eq);
                hasInline = true;
            }
        }
        if (a == "-h" || a == "--help") {
            std::fputs(kUsage, stdout);
            std::exit(0);
        }
        if (a == "--filebeat" || a == "--stats" || a == "--host-only") {
            if (hasInline) usageError(a + " takes no value");
            (a == "--filebeat" ? c.filebeat : a == "--stats" ? c.stats : c.hostOnly) = true;
            continue;
        }
        auto value = [&]() -> std::string {
            if (hasInline) return val;
            if (i + 1 >= argc) usageError(a + " needs a value");
            return argv[++i];
        };
        auto u64 = [&](uint64_t& dst, bool positive) {
            std::string v = value();
            if (!parseU64(v, dst) || (positive && dst == 0)) usageError("bad value for " + a + ": '" + v + "'");
        };
        auto rate = [&](double& dst) {
            std::string v = value();
            if (!parseRate(v, dst)) usageError("bad value for " + a + " (want a number in 0..1): '" + v + "'");
        };
        if (a == "--size") {
            std::string v = value();
            if (!parseSize(v, c.size) || c.size == 0) usageError("bad value for --size: '" + v + "'");
        } else if (a == "--traces") {
            u64(c.traces, true);
            haveTraces = true;
        } else if (a == "--chain") {
            u64(c.chain, true);
        } else if (a == "--fanout") {
            u64(c.fanout, true);
        } else if (a == "--seed") {
            u64(c.seed, false);
        } else if (a == "--hosts") {
            u64(c.hosts, true);
            if (c.hosts > 16000000) usageError("--hosts: at most 16000000");
        } else if (a == "--collide") {
            c.collide = true;
            if (!std::getenv("TA_HASH_KEY")) usageError("--collide: set TA_HASH_KEY to the key to collide under");
        } else if (a == "--window") {
            u64(c.window, true);
            if (c.window > 1000000) usageError("--window: at most 1000000");
        } else if (a == "--error-rate") {
            rate(c.errorRate);
        } else if (a == "--lost-rate") {
            rate(c.lostRate);
        } else if (a == "--dup-rate") {
            rate(c.dupRate);
        } else if (a == "--skew-rate") {
            rate(c.skewRate);
        } else if (a == "--orphan-rate") {
            rate(c.orphanRate);
        } else if (a == "--bad-rate") {
            rate(c.badRate);
        } else if (a == "--out") {
            c.out = value();
            if (c.out.empty()) usageError("--out needs a file name");
        } else if (a == "--format") {
            std::string v = value();
            if (v == "native") {
                c.otlp = false;
            } else if (v == "otlp") {
                c.otlp = true;
            } else {
                usageError("bad value for --format (want native or otlp): '" + v + "'");
            }
        } else if (a == "--ids") {
            std::string v = value();
            if (v == "hex") {
                c.ids = IdShape::Hex;
            } else if (v == "prefixed") {
                c.ids = IdShape::Prefixed;
            } else if (v == "w3c") {
                c.ids = IdShape::W3c;
            } else if (v == "uuid") {
                c.ids = IdShape::Uuid;
            } else if (v == "decimal") {
                c.ids = IdShape::Decimal;
            } else if (v == "short") {
                c.ids = IdShape::Short;
            } else {
                usageError("bad value for --ids (want hex, prefixed, w3c, uuid, decimal or short): '" + v + "'");
            }
        } else if (a == "--time-unit") {
            std::string v = value();
            if (v == "ms") {
                c.micros = false;
            } else if (v == "us") {
                c.micros = true;
            } else {
                usageError("bad value for --time-unit (want ms or us): '" + v + "'");
            }
        } else if (a == "--otlp-batch") {
            u64(c.otlpBatch, true);
        } else if (a == "--otlp-timeout") {
            u64(c.otlpTimeoutMs, false);
        } else {
            usageError("unknown argument '" + std::string(argv[i]) + "'");
        }
    }
    if (c.chain && c.fanout) usageError("--chain and --fanout are exclusive");
    if ((c.chain || c.fanout) && haveTraces) usageError("--traces cannot be combined with --chain/--fanout");
    if (c.chain > 0xfffffff0ULL || c.fanout > 0xfffffff0ULL) usageError("--chain/--fanout: too large");
    if (c.otlp && c.filebeat) usageError("--format otlp cannot be combined with --filebeat");
    if (c.otlp && c.badRate > 0) usageError("--format otlp cannot be combined with --bad-rate (no malformed OTLP yet)");
    if (c.otlp && c.hostOnly)
        usageError("--format otlp cannot be combined with --host-only (OTLP spans always carry service.name)");
    if (c.otlp && c.ids != IdShape::Hex && c.ids != IdShape::W3c)
        usageError("--format otlp writes 32/16-hex ids: --ids must be hex or w3c");
    return c;
}

// ---------------------------------------------------------------- model

constexpr uint32_t NONE = 0xffffffffU;
enum : uint8_t { F_LOST = 1, F_ORPHAN = 2, F_SKEW = 4 };

struct Span {
    int64_t start = 0;     // true start, ms
    int64_t dur = 0;       // ms
    int64_t clockOff = 0;  // logged time = true time + clockOff (host clock)
    int64_t rel = 0;       // call start relative to the parent's start
    uint32_t id = 0, parent = NONE, first = 0, nkids = 0, depth = 0, host = 0;
    uint32_t fakeParent = 0;
    uint32_t fakeOrd = 0;  // the made-up parent's number in the trace (--ids prefixed, short)
    uint16_t svc = 0, op = 0, code = 200;
    uint8_t gapOut = 0, gapBack = 0, flags = 0;
};

struct Trace {
    uint64_t id = 0;
    uint64_t seq = 0;  // the trace's number, from 0 (--ids decimal, short)
    uint32_t salt = 0;
    uint32_t remaining = 0;
    std::vector<Span> spans;
};

struct Ev {
    int64_t end;
    uint64_t seq;
    uint32_t slot, idx;
};
struct EvLater {
    bool operator()(const Ev& a, const Ev& b) const { return a.end != b.end ? a.end > b.end : a.seq > b.seq; }
};

struct Dup {
    uint64_t due, seq;
    std::string line;     // the native line, or with --format otlp the span object
    uint64_t sized = 0;   // bytes of the native line and its newline (the stop rule's measure)
    uint32_t svc = 0, host = 0;
};
struct DupLater {
    bool operator()(const Dup& a, const Dup& b) const { return a.due != b.due ? a.due > b.due : a.seq > b.seq; }
};

enum BadKind { BAD_TRUNC, BAD_NOTOBJ, BAD_NOTRACE, BAD_DURTYPE, BAD_KINDS };

struct Stats {
    uint64_t traces = 0, spans = 0, spanLines = 0, lines = 0, lost = 0, orphans = 0, skewed = 0, dups = 0,
             errors = 0, maxSpans = 0;
    uint64_t bad[BAD_KINDS] = {};
};

constexpr int64_t kEpochBase = 1704038400000LL;  // 2023-12-31T16:00:00Z

class Gen {
public:
    Gen(const Config& cfg, FILE* f)
        : cfg_(cfg), svc_(services()), rng_(cfg.seed), arng_(cfg.seed ^ 0xa5a5a5a55a5a5a5aULL), out_(f) {
        uint64_t x = cfg.seed * 0x2545f4914f6cdd1dULL + 1;
        traceSalt_ = splitmix64(x);
        setupHosts();
        hostOff_.assign(cfg.hosts, 0);
        for (const auto& s : svc_) {
            std::vector<uint8_t> post;
            for (const char* op : s.ops) post.push_back(std::strncmp(op, "POST", 4) == 0 ? 1 : std::strncmp(op, "GET", 3) == 0 ? 2 : 0);
            opKind_.push_back(post);
        }
        lineEstimate_ = cfg.filebeat ? 700.0 : 380.0;
    }

    void run() {
        if (cfg_.chain || cfg_.fanout) {
            startTrace(kEpochBase + static_cast<int64_t>(rng_.below(1000)));
        } else {
            int64_t t = kEpochBase;
            for (uint64_t i = 0; i < cfg_.window && !shouldStop(); ++i) {
                startTrace(t);
                t += static_cast<int64_t>(rng_.below(4));
            }
        }
        while (!heap_.empty()) {
            std::pop_heap(heap_.begin(), heap_.end(), EvLater());
            Ev e = heap_.back();
            heap_.pop_back();
            emitSpan(e.slot, e.idx);
            Trace& t = traces_[e.slot];
            if (--t.remaining == 0) {
                freeSlots_.push_back(e.slot);
                if (!shouldStop()) startTrace(e.end + static_cast<int64_t>(rng_.below(3)));
            }
        }
        while (!dups_.empty()) writeDue(UINT64_MAX);
        if (cfg_.otlp) flushBatch();
        out_.flush();
        if (cfg_.stats) printStats();
    }

private:
    const Config& cfg_;
    const std::vector<SvcDef>& svc_;
    Rng rng_;   // trace structure and timing
    Rng arng_;  // anomalies
    Out out_;
    uint64_t traceSalt_ = 0;
    uint64_t traceCounter_ = 0, badCounter_ = 0;
    std::vector<char> hostChars_;
    std::vector<uint32_t> hostPos_;  // offsets into hostChars_, size hosts+1
    uint64_t collideSlot_ = 0;       // --collide
    std::vector<std::vector<uint32_t>> pool_;
    std::vector<std::vector<uint8_t>> opKind_;  // 1 POST, 2 GET
    std::vector<uint64_t> hostOff_;
    std::vector<Trace> traces_;
    std::vector<uint32_t> freeSlots_;
    std::vector<Ev> heap_;
    uint64_t seq_ = 0;
    std::vector<Dup> dups_;
    uint64_t dupSeq_ = 0, dupBytes_ = 0;
    Buf line_, fb_, bad_;
    Stats st_;
    // Bytes of the native output (lines and newlines), whichever format is
    // written: the stop rule counts these, so --format otlp gives the same
    // spans as the native output for the same flags.
    uint64_t sized_ = 0;
    // --format otlp: the batch being gathered, by (service, host) resource
    struct Res {
        uint16_t svc = 0;
        uint32_t host = 0;
        Buf spans;  // span objects, comma-separated
    };
    Buf otlpSpan_, batch_;
    std::deque<Res> res_;  // Buf does not move: a deque keeps them in place
    uint32_t resUsed_ = 0;
    std::unordered_map<uint64_t, uint32_t> resIndex_;  // (svc, host) -> index into res_
    uint64_t batchSpans_ = 0, otlpLines_ = 0;
    int64_t batchOpenMs_ = 0, nowMs_ = 0;
    double lineEstimate_;
    int64_t tsDay_ = INT64_MIN;
    char tsDate_[11] = {};

    // ------------------------------------------------------------ hosts

    void setupHosts() {
        hostPos_.push_back(0);
        char tmp[32];
        uint64_t tried = 0;
        for (uint64_t i = 0; i < cfg_.hosts; ++i) {
            unsigned c = static_cast<unsigned>(1 + i % 254);
            unsigned b = static_cast<unsigned>((i / 254) % 256);
            unsigned a = static_cast<unsigned>(1 + i / (254 * 256));
            int len = std::snprintf(tmp, sizeof tmp, "10.%u.%u.%u", a, b, c);
            // Crafted: the next name whose label-table slot (the top 16 bits
            // of its mix, store/symbols.h) is the first name's.
            while (cfg_.collide) {
                const uint64_t n = tried++;
                len = 2;
                tmp[0] = 'h';
                tmp[1] = '-';
                for (int d = 60; d >= 0; d -= 4)
                    if ((n >> d) != 0 || d == 0) tmp[len++] = "0123456789abcdef"[(n >> d) & 15];
                const std::string_view name(tmp, static_cast<size_t>(len));
                uint64_t x, y;
                ta::symbol_key::pack(name, x, y);
                const uint64_t slot = ta::symbol_key::mix(x, y, name.size()) >> 48;
                if (i == 0) collideSlot_ = slot;
                if (slot == collideSlot_) break;
            }
            hostChars_.insert(hostChars_.end(), tmp, tmp + len);
            hostPos_.push_back(static_cast<uint32_t>(hostChars_.size()));
        }
        // each service runs on a subset of the hosts (5-12%, at least 2)
        Rng hr(cfg_.seed ^ 0x1234567890abcdefULL);
        pool_.resize(svc_.size());
        for (size_t s = 0; s < svc_.size(); ++s) {
            uint64_t pct = 5 + hr.below(8);
            uint64_t k = std::max<uint64_t>(2, cfg_.hosts * pct / 100);
            k = std::min<uint64_t>(k, cfg_.hosts);
            if (k * 2 >= cfg_.hosts) {
                // partial Fisher-Yates over all hosts
                std::vector<uint32_t> all(cfg_.hosts);
                for (uint32_t i = 0; i < all.size(); ++i) all[i] = i;
                for (uint64_t i = 0; i < k; ++i) std::swap(all[i], all[i + hr.below(all.size() - i)]);
                all.resize(k);
                pool_[s] = std::move(all);
            } else {
                std::vector<uint32_t>& p = pool_[s];
                while (p.size() < k) {
                    uint32_t h = static_cast<uint32_t>(hr.below(cfg_.hosts));
                    if (std::find(p.begin(), p.end(), h) == p.end()) p.push_back(h);
                }
            }
            std::sort(pool_[s].begin(), pool_[s].end());
        }
    }
    std::string_view host(uint32_t h) const {
        return {hostChars_.data() + hostPos_[h], hostPos_[h + 1] - hostPos_[h]};
    }

    // ------------------------------------------------------------ stop rule

    bool shouldStop() const {
        if (st_.traces == 0) return false;
        if (cfg_.chain || cfg_.fanout) return true;
        if (cfg_.traces) return st_.traces >= cfg_.traces;
        double avg = st_.lines >= 200 ? static_cast<double>(sized_) / static_cast<double>(st_.lines) : lineEstimate_;
        double pending = static_cast<double>(heap_.size()) * avg * (1.0 + cfg_.dupRate + cfg_.badRate) +
                         static_cast<double>(dupBytes_);
        return static_cast<double>(sized_) + pending >= static_cast<double>(cfg_.size);
    }

    // ------------------------------------------------------------ trace building

    uint16_t pickOp(uint16_t s) { return static_cast<uint16_t>(rng_.below(svc_[s].ops.size())); }

    uint32_t pickFan(uint32_t depth) {
        const uint32_t* w = kFan[depth];
        uint32_t total = 0;
        for (int i = 0; i < 5; ++i) total += w[i];
        uint32_t r = static_cast<uint32_t>(rng_.below(total));
        for (uint32_t i = 0; i < 5; ++i) {
            if (r < w[i]) return i;
            r -= w[i];
        }
        return 0;
    }

    Span makeChild(uint32_t parent, uint32_t depth, uint16_t s) {
        Span c;
        c.parent = parent;
        c.depth = depth;
        c.svc = s;
        c.op = pickOp(s);
        return c;
    }

    void shapeNormal(std::vector<Span>& S) {
        static const uint16_t roots[] = {WEB, WEB, GATEWAY, GATEWAY, BFF};
        Span root;
        root.svc = roots[rng_.below(5)];
        root.op = pickOp(root.svc);
        S.push_back(root);
        for (uint32_t i = 0; i < S.size(); ++i) {
            const uint16_t s = S[i].svc;
            const uint32_t depth = S[i].depth;
            const SvcDef& d = svc_[s];
            uint32_t k = 0;
            bool burst = false;
            if (d.kind != kStore && depth < kMaxDepth) {
                if (depth >= 1 && rng_.chance(0.004)) {
                    k = 10 + static_cast<uint32_t>(rng_.below(71));  // N+1 query burst
                    burst = true;
                } else {
                    k = pickFan(depth);
                }
            }
            if (S.size() + k > kMaxSpansNormal) k = kMaxSpansNormal - static_cast<uint32_t>(S.size());
            S[i].first = static_cast<uint32_t>(S.size());
            S[i].nkids = k;
            if (burst && k) {
                // the same datastore call over and over
                uint16_t c = static_cast<uint16_t>(d.callees[rng_.below(d.callees.size())]);
                for (int tries = 0; tries < 8 && svc_[c].kind != kStore; ++tries)
                    c = static_cast<uint16_t>(d.callees[rng_.below(d.callees.size())]);
                if (svc_[c].kind != kStore) c = POSTGRES;
                uint16_t op = pickOp(c);
                for (uint32_t j = 0; j < k; ++j) {
                    Span ch = makeChild(i, depth + 1, c);
                    ch.op = op;
                    S.push_back(ch);
                }
            } else {
                for (uint32_t j = 0; j < k; ++j) {
                    auto c = static_cast<uint16_t>(d.callees[rng_.below(d.callees.size())]);
                    S.push_back(makeChild(i, depth + 1, c));
                }
            }
        }
    }

    void shapeChain(std::vector<Span>& S, uint32_t n) {
        S.reserve(n);
        Span root;
        root.svc = GATEWAY;
        root.op = pickOp(GATEWAY);
        S.push_back(root);
        for (uint32_t i = 1; i < n; ++i) {
            uint16_t s = (i + 1 == n) ? static_cast<uint16_t>(POSTGRES + rng_.below(4))
                                      : static_cast<uint16_t>(AUTH + rng_.below(NOTIFY - AUTH + 1));
            S[i - 1].first = i;
            S[i - 1].nkids = 1;
            S.push_back(makeChild(i - 1, i, s));
        }
    }

    void shapeFanout(std::vector<Span>& S, uint32_t n) {
        S.reserve(size_t{n} + 1);
        Span root;
        root.svc = GATEWAY;
        root.op = pickOp(GATEWAY);
        root.first = 1;
        root.nkids = n;
        S.push_back(root);
        for (uint32_t j = 0; j < n; ++j)
            S.push_back(makeChild(0, 1, static_cast<uint16_t>(AUTH + rng_.below(kNumSvc - AUTH))));
    }

    int64_t ownWork(const SvcDef& d) {
        int64_t t = d.base + static_cast<int64_t>(rng_.below(static_cast<uint64_t>(d.jitter) + 1));
        if (rng_.chance(0.03)) t += static_cast<int64_t>(rng_.below(static_cast<uint64_t>(d.jitter) * 10 + 1));
        if (rng_.chance(0.002)) t += static_cast<int64_t>(rng_.below(2001));
        return t;
    }
    uint8_t gap() {
        static const uint8_t g[] = {0, 0, 1, 1, 1, 2};
        return g[rng_.below(6)];
    }

    void startTrace(int64_t t0) {
        uint32_t slot;
        if (!freeSlots_.empty()) {
            slot = freeSlots_.back();
            freeSlots_.pop_back();
        } else {
            slot = static_cast<uint32_t>(traces_.size());
            traces_.emplace_back();
        }
        Trace& t = traces_[slot];
        t.seq = traceCounter_;
        t.id = mix64(traceSalt_ + traceCounter_++);
        t.salt = static_cast<uint32_t>(rng_.next());
        auto& S = t.spans;
        S.clear();
        double parP = 0.35;
        if (cfg_.chain) {
            shapeChain(S, static_cast<uint32_t>(cfg_.chain));
        } else if (cfg_.fanout) {
            shapeFanout(S, static_cast<uint32_t>(cfg_.fanout));
        } else {
            shapeNormal(S);
        }
        const uint32_t n = static_cast<uint32_t>(S.size());

        // ids and hosts
        for (uint32_t i = 0; i < n; ++i) {
            S[i].id = mix32(t.salt + i);
            const auto& p = pool_[S[i].svc];
            S[i].host = p[rng_.below(p.size())];
        }

        // bottom-up: durations, call offsets, codes
        for (uint32_t i = n; i-- > 0;) {
            Span& s = S[i];
            const SvcDef& d = svc_[s.svc];
            const bool ownErr = rng_.chance(cfg_.errorRate);
            uint16_t childErr = 0;
            if (s.nkids == 0) {
                s.dur = ownWork(d);
            } else {
                const int64_t pre = static_cast<int64_t>(rng_.below(static_cast<uint64_t>(d.base) / 2 + 2));
                const bool burst = s.nkids >= 10 && !cfg_.fanout;
                const double pp = burst ? 0.15 : parP;
                int64_t groupStart = pre, groupEnd = pre;
                for (uint32_t j = 0; j < s.nkids; ++j) {
                    Span& c = S[s.first + j];
                    if (j == 0 || !rng_.chance(pp)) groupStart = groupEnd + (j ? static_cast<int64_t>(rng_.below(2)) : 0);
                    c.rel = groupStart;
                    c.gapOut = gap();
                    c.gapBack = gap();
                    if (c.gapOut + c.gapBack == 0) c.gapBack = 1;
                    groupEnd = std::max(groupEnd, groupStart + c.gapOut + c.dur + c.gapBack);
                    if (c.code >= 500 && !childErr) childErr = c.code;
                }
                s.dur = groupEnd + static_cast<int64_t>(rng_.below(static_cast<uint64_t>(d.base) / 2 + 2));
            }
            if (ownErr) {
                s.code = rng_.chance(0.7) ? 500 : 503;
            } else if (childErr && rng_.chance(0.5)) {
                s.code = rng_.chance(0.5) ? childErr : 500;
            } else {
                uint8_t k = opKind_[s.svc][s.op];
                s.code = k == 1 ? 201 : (k == 2 && rng_.chance(0.01)) ? 404 : 200;
            }
        }

        // top-down: absolute times, anomalies
        uint32_t fake = 0;
        S[0].start = t0;
        for (uint32_t i = 0; i < n; ++i) {
            const Span& s = S[i];
            for (uint32_t j = 0; j < s.nkids; ++j) {
                Span& c = S[s.first + j];
                c.start = s.start + c.rel + c.gapOut;
                c.clockOff = s.clockOff;
                const bool lost = arng_.chance(cfg_.lostRate);
                const bool orphan = arng_.chance(cfg_.orphanRate);
                const bool skew = arng_.chance(cfg_.skewRate);
                const int64_t extra = static_cast<int64_t>(arng_.below(30));
                const bool before = arng_.chance(0.5);
                if (lost && !(s.flags & F_LOST)) {
                    c.flags |= F_LOST;
                } else if (orphan) {
                    c.flags |= F_ORPHAN;
                    c.fakeOrd = n + fake;
                    c.fakeParent = mix32(t.salt + n + fake++);
                } else if (skew && !(s.flags & F_LOST)) {
                    // c's host clock (and so its subtree's logged times) is off
                    c.flags |= F_SKEW;
                    if (before)
                        c.clockOff += -(c.start - s.start) - 1 - extra;
                    else
                        c.clockOff += (s.start + s.dur) - (c.start + c.dur) + 1 + extra;
                }
            }
        }

        // schedule lines by end time; deeper first so ties put a child first
        uint32_t pushed = 0;
        for (uint32_t i = n; i-- > 0;) {
            const Span& s = S[i];
            st_.errors += s.code >= 500;
            if (s.flags & F_LOST) {
                ++st_.lost;
                continue;
            }
            st_.orphans += (s.flags & F_ORPHAN) != 0;
            st_.skewed += (s.flags & F_SKEW) != 0;
            heap_.push_back(Ev{s.start + s.dur, seq_++, slot, i});
            std::push_heap(heap_.begin(), heap_.end(), EvLater());
            ++pushed;
        }
        t.remaining = pushed;
        ++st_.traces;
        st_.spans += n;
        st_.maxSpans = std::max<uint64_t>(st_.maxSpans, n);
    }

    // ------------------------------------------------------------ formatting

    struct Variant {
        bool noTrace = false;
        bool freshIds = false;
        int badDur = -1;
    };

    // A key: `{"key":` (or `,"key":`); with --host-only `"key": `, as the
    // format's own examples print it.
    void putKey(Buf& b, const char* k, bool first = false) const {
        b.put(first ? "{\"" : ",\"");
        b.put(k);
        b.put(cfg_.hostOnly ? std::string_view("\": ") : std::string_view("\":"));
    }
    // A number, as a JSON string when its service logs it so, and always
    // with --host-only.
    void putNumber(Buf& b, int64_t v, bool quoted) const { b.putNum(v, quoted || cfg_.hostOnly); }

    // ---------------------------------------------------------- id shapes

    // Which trace an id is written for: a real trace (its 64-bit id and its
    // number), or the fresh id of a malformed line (fresh: never a real one).
    struct TraceKey {
        uint64_t id = 0, seq = 0;
        bool fresh = false;
    };

    // A bijection of [0, 2^63): distinct trace numbers give distinct ids.
    static uint64_t mix63(uint64_t z) {
        constexpr uint64_t kMask = (uint64_t{1} << 63) - 1;
        z &= kMask;
        z ^= z >> 31;
        z = (z * 0xbf58476d1ce4e5b9ULL) & kMask;
        z ^= z >> 29;
        z = (z * 0x94d049bb133111ebULL) & kMask;
        return z ^ (z >> 32);
    }
    // A version-4 UUID holding all 64 bits of v (so distinct v, distinct
    // UUIDs), the rest of it from r.
    static void putUuid(Buf& b, uint64_t v, uint64_t r) {
        b.putHex(v >> 32, 8);
        b.put('-');
        b.putHex((v >> 16) & 0xffff, 4);
        b.put('-');
        b.putHex(0x4000 | ((v >> 4) & 0x0fff), 4);
        b.put('-');
        b.putHex(0x8000 | ((v & 0xf) << 10) | (r & 0x3ff), 4);
        b.put('-');
        b.putHex(r >> 16, 12);
    }
    static void putHexShortest(Buf& b, uint64_t v) {
        int digits = 1;
        while (digits < 16 && (v >> (4 * digits)) != 0) ++digits;
        b.putHex(v, digits);
    }

    void putTraceId(Buf& b, const TraceKey& k) const {
        switch (cfg_.ids) {
            case IdShape::Hex:
            case IdShape::Prefixed: b.putHex(k.id, 16); break;
            case IdShape::W3c: putOtlpTraceId(b, k.id); break;
            case IdShape::Uuid: putUuid(b, k.id, mix64(k.id ^ 0x7575696474726163ULL)); break;
            case IdShape::Decimal:
                b.putInt(static_cast<int64_t>(mix63(traceSalt_ + (k.fresh ? (uint64_t{1} << 62) + k.seq : k.seq))));
                break;
            case IdShape::Short:
                if (k.fresh)
                    b.putHex(k.id, 10);  // longer than every real one
                else
                    b.putHex(mix32(static_cast<uint32_t>(traceSalt_) + static_cast<uint32_t>(k.seq)), 8);
                break;
        }
    }
    // A span id: `sid` the span's 32-bit id (unique in its trace), `ord` its
    // number in the trace from 0 (the made-up parents of orphans come after
    // the spans).
    void putSpanId(Buf& b, const TraceKey& k, uint32_t sid, uint32_t ord) const {
        switch (cfg_.ids) {
            case IdShape::Hex: b.putHex(sid, 8); break;
            case IdShape::Prefixed:
                putTraceId(b, k);
                b.put('-');
                putHexShortest(b, uint64_t{ord} + 1);
                break;
            case IdShape::W3c: putOtlpSpanId(b, sid); break;
            case IdShape::Uuid: {
                const uint64_t v = mix64(k.id ^ (uint64_t{sid} * 0x9e3779b97f4a7c15ULL));
                putUuid(b, v, mix64(v ^ 0x7575696473706e21ULL));
                break;
            }
            case IdShape::Decimal:
                // 31 bits from the trace and the span's 32, mixed as one 63-bit
                // number: distinct for every span of a trace
                b.putInt(static_cast<int64_t>(mix63((mix64(k.id ^ 0x646563696d616c21ULL) >> 33) << 32 | sid)));
                break;
            case IdShape::Short: {
                const uint64_t n = uint64_t{ord} + 1;
                if (n < 10) b.put('0');
                b.putInt(static_cast<int64_t>(n));
                break;
            }
        }
    }
    TraceKey keyOf(const Trace& t) const { return {t.id, t.seq, false}; }
    void putSpanIdOf(Buf& b, const Trace& t, uint32_t idx) const { putSpanId(b, keyOf(t), t.spans[idx].id, idx); }

    // ---------------------------------------------------------- times

    // Times as written: whole milliseconds, or with --time-unit us
    // microseconds. A microsecond time is the millisecond one times 1000 plus
    // a sub-millisecond part that depends on the nesting level (a span at
    // depth d is level 2d, its caller's view of the call level 2d-1): starts
    // move later and ends earlier the deeper the level, by less than half a
    // millisecond each, so every child stays inside its parent, every callee
    // inside its caller's view of the call, and no duration goes negative.
    static constexpr uint32_t kSubStep = 38, kSubLevels = 12;
    int64_t subUs(const Trace& t, uint32_t idx, uint32_t level, uint32_t which) const {
        if (level > kSubLevels) return kSubLevels * kSubStep + kSubStep - 1;  // the deepest of all
        return level * kSubStep + mix32(t.salt ^ mix32(idx * 4 + which)) % kSubStep;
    }
    struct Times {
        int64_t start, dur;  // in the output unit
    };
    // A span's own times; startMs in its host's clock.
    Times spanTimes(const Trace& t, uint32_t idx, int64_t startMs, int64_t durMs) const {
        if (!cfg_.micros) return {startMs, durMs};
        const uint32_t level = 2 * t.spans[idx].depth;
        const int64_t a = startMs * 1000 + subUs(t, idx, level, 0);
        const int64_t e = (startMs + durMs) * 1000 + 999 - subUs(t, idx, level, 1);
        return {a, e - a};
    }
    // The caller's view of its call to span idx.
    Times callTimes(const Trace& t, uint32_t idx, int64_t startMs, int64_t durMs) const {
        if (!cfg_.micros) return {startMs, durMs};
        const uint32_t level = 2 * t.spans[idx].depth - 1;
        const int64_t a = startMs * 1000 + subUs(t, idx, level, 2);
        const int64_t e = (startMs + durMs) * 1000 + 999 - subUs(t, idx, level, 3);
        return {a, e - a};
    }

    void formatSpan(Buf& b, const Trace& t, uint32_t i, const Variant& v) {
        const Span& s = t.spans[i];
        const SvcDef& d = svc_[s.svc];
        b.clear();
        TraceKey k = keyOf(t);
        if (v.freshIds) k = {mix64(traceSalt_ + (uint64_t{1} << 63) + badCounter_), badCounter_, true};
        if (v.noTrace) {
            putKey(b, "spanId", true);
        } else {
            putKey(b, "traceId", true);
            b.put('"');
            putTraceId(b, k);
            b.put('"');
            putKey(b, "spanId");
        }
        b.put('"');
        if (v.freshIds || v.noTrace) {
            const auto fresh = static_cast<uint32_t>(arng_.next());
            putSpanId(b, k, fresh, fresh);
        } else {
            putSpanIdOf(b, t, i);
        }
        b.put('"');
        putKey(b, "parentSpanId");
        b.put('"');
        if (s.parent == NONE)
            b.put('0');
        else if (s.flags & F_ORPHAN)
            putSpanId(b, k, s.fakeParent, s.fakeOrd);
        else
            putSpanId(b, k, t.spans[s.parent].id, s.parent);
        b.put('"');
        const Times tm = spanTimes(t, i, s.start + s.clockOff, s.dur);
        putKey(b, "timestamp");
        putNumber(b, tm.start, d.tsStr);
        putKey(b, "duration");
        switch (v.badDur) {
            case 0: b.put("true"); break;
            case 1: b.put("{\"ms\":"); b.putInt(s.dur); b.put('}'); break;
            case 2: b.put('['); b.putInt(s.dur); b.put(']'); break;
            case 3: b.put('"'); b.putInt(s.dur); b.put("ms\""); break;
            default: putNumber(b, tm.dur, d.durStr); break;
        }
        putKey(b, "httpCode");
        putNumber(b, s.code, d.codeStr);
        putKey(b, "host");
        b.put('"');
        b.put(host(s.host));
        b.put('"');
        if (!cfg_.hostOnly) {
            putKey(b, "service");
            b.put('"');
            b.put(d.name);
            b.put('"');
            putKey(b, "operation");
            b.put('"');
            b.put(d.ops[s.op]);
            b.put('"');
        }
        putKey(b, "requestStacks");
        b.put('[');
        bool firstEntry = true;
        for (uint32_t j = 0; j < s.nkids; ++j) {
            const uint32_t ci = s.first + j;
            const Span& c = t.spans[ci];
            if (c.flags & F_ORPHAN) continue;
            if (!firstEntry) b.put(',');
            putKey(b, "subSpanId", true);
            firstEntry = false;
            b.put('"');
            putSpanId(b, k, c.id, ci);
            b.put('"');
            putKey(b, "subHttpCode");
            putNumber(b, c.code, d.codeStr);
            const Times ct = callTimes(t, ci, c.start - c.gapOut + s.clockOff, c.gapOut + c.dur + c.gapBack);
            putKey(b, "subTimestamp");
            putNumber(b, ct.start, d.tsStr);
            putKey(b, "subDuration");
            putNumber(b, ct.dur, d.durStr);
            putKey(b, "subHost");
            b.put('"');
            b.put(host(c.host));
            b.put("\"}");
        }
        b.put("]}");
    }

    // ------------------------------------------------------------ OTLP

    // Native ids are 16 (trace) and 8 (span) hex digits; OTLP's are 32 and
    // 16. The native id is kept as the low half, a mix of it is the high half.
    static void putOtlpTraceId(Buf& b, uint64_t id) {
        b.putHex(mix64(id ^ 0x6f746c7074726163ULL), 16);
        b.putHex(id, 16);
    }
    static void putOtlpSpanId(Buf& b, uint32_t id) {
        b.putHex(mix32(id ^ 0x6f746c70U), 8);
        b.putHex(id, 8);
    }
    // A time in the output unit (ms, or us with --time-unit us) as a
    // nanosecond string.
    void putNanos(Buf& b, int64_t t) const {
        b.put('"');
        b.putInt(t);
        b.put(cfg_.micros ? "000\"" : "000000\"");
    }
    // SpanKind: SERVER 2 for the services that handle requests, CLIENT 3
    // for the datastores' spans (the callers' db clients), PRODUCER 4 for
    // Kafka. Datastores never call further, so no producer has children
    // (a consumer child would leave its critical path).
    int otlpKind(uint16_t svc) const {
        if (svc == KAFKA) return 4;
        return svc_[svc].kind == kStore ? 3 : 2;
    }
    static const char* otlpScope(uint16_t svc) {
        switch (svc) {
            case POSTGRES: return R"({"name":"io.opentelemetry.jdbc","version":"2.1.0-alpha"})";
            case REDIS: return R"({"name":"io.opentelemetry.lettuce-5.1","version":"2.1.0-alpha"})";
            case KAFKA: return R"({"name":"io.opentelemetry.kafka-clients-2.6","version":"2.1.0-alpha"})";
            case ES: return R"({"name":"io.opentelemetry.elasticsearch-rest-7.0","version":"2.1.0-alpha"})";
            default: return R"({"name":"io.opentelemetry.http","version":"2.1.0-alpha"})";
        }
    }

    // One span object as the collector's file exporter writes it.
    void formatOtlpSpan(Buf& b, const Trace& t, uint32_t i) {
        const Span& s = t.spans[i];
        const SvcDef& d = svc_[s.svc];
        b.clear();
        b.put("{\"traceId\":\"");
        putOtlpTraceId(b, t.id);
        b.put("\",\"spanId\":\"");
        putOtlpSpanId(b, s.id);
        if (s.parent != NONE) {
            b.put("\",\"parentSpanId\":\"");
            putOtlpSpanId(b, s.flags & F_ORPHAN ? s.fakeParent : t.spans[s.parent].id);
        }
        b.put("\",\"name\":\"");
        b.put(d.ops[s.op]);
        b.put("\",\"kind\":");
        b.putInt(otlpKind(s.svc));
        b.put(",\"startTimeUnixNano\":");
        const Times tm = spanTimes(t, i, s.start + s.clockOff, s.dur);
        putNanos(b, tm.start);
        b.put(",\"endTimeUnixNano\":");
        putNanos(b, tm.start + tm.dur);
        b.put(",\"attributes\":[{\"key\":\"http.status_code\",\"value\":{\"intValue\":\"");
        b.putInt(s.code);
        b.put("\"}}],\"status\":");
        b.put(s.code >= 500 ? "{\"code\":2}}" : "{}}");
    }

    // Adds a span object to the batch under its (service, host) resource;
    // the batch is written first when it has been open --otlp-timeout ms,
    // and as soon as it holds --otlp-batch spans.
    void batchAdd(uint16_t svc, uint32_t host, std::string_view span) {
        if (batchSpans_ && cfg_.otlpTimeoutMs &&
            nowMs_ - batchOpenMs_ >= static_cast<int64_t>(cfg_.otlpTimeoutMs))
            flushBatch();
        if (batchSpans_ == 0) batchOpenMs_ = nowMs_;
        const auto [it, fresh] = resIndex_.try_emplace(uint64_t{svc} << 32 | host, resUsed_);
        if (fresh) {
            if (resUsed_ == res_.size()) res_.emplace_back();
            Res& r = res_[resUsed_++];
            r.svc = svc;
            r.host = host;
            r.spans.clear();
        } else {
            res_[it->second].spans.put(',');
        }
        res_[it->second].spans.put(span);
        if (++batchSpans_ >= cfg_.otlpBatch) flushBatch();
    }
    void batchAdd(uint16_t svc, uint32_t host, const Buf& span) { batchAdd(svc, host, std::string_view(span.p, span.n)); }

    void flushBatch() {
        if (batchSpans_ == 0) return;
        Buf& b = batch_;
        b.clear();
        b.put("{\"resourceSpans\":[");
        for (uint32_t r = 0; r < resUsed_; ++r) {
            Res& res = res_[r];
            b.put(r ? ",{\"resource\":{\"attributes\":[" : "{\"resource\":{\"attributes\":[");
            b.put("{\"key\":\"service.name\",\"value\":{\"stringValue\":\"");
            b.put(svc_[res.svc].name);
            b.put("\"}},{\"key\":\"host.name\",\"value\":{\"stringValue\":\"");
            b.put(host(res.host));
            b.put("\"}},{\"key\":\"telemetry.sdk.name\",\"value\":{\"stringValue\":\"opentelemetry\"}}"
                  ",{\"key\":\"telemetry.sdk.version\",\"value\":{\"stringValue\":\"1.32.0\"}}]}"
                  ",\"scopeSpans\":[{\"scope\":");
            b.put(otlpScope(res.svc));
            b.put(",\"spans\":[");
            b.put(std::string_view(res.spans.p, res.spans.n));
            b.put("]}]}");
        }
        resIndex_.clear();
        b.put("]}\n");
        out_.write(b.p, b.n);
        resUsed_ = 0;
        batchSpans_ = 0;
        ++otlpLines_;
    }

    void putIsoMs(Buf& b, int64_t ms) {
        int64_t day = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
        int64_t rem = ms - day * 86400000;
        if (day != tsDay_) {
            tsDay_ = day;
            int64_t z = day + 719468;
            int64_t era = (z >= 0 ? z : z - 146096) / 146097;
            int64_t doe = z - era * 146097;
            int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
            int64_t y = yoe + era * 400;
            int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
            int64_t mp = (5 * doy + 2) / 153;
            int64_t dd = doy - (153 * mp + 2) / 5 + 1;
            int64_t m = mp < 10 ? mp + 3 : mp - 9;
            y += m <= 2;
            auto two = [](char* p, int64_t v) {
                p[0] = static_cast<char>('0' + v / 10);
                p[1] = static_cast<char>('0' + v % 10);
            };
            y = ((y % 10000) + 10000) % 10000;
            two(tsDate_, y / 100);
            two(tsDate_ + 2, y % 100);
            tsDate_[4] = '-';
            two(tsDate_ + 5, m);
            tsDate_[7] = '-';
            two(tsDate_ + 8, dd);
        }
        b.put(std::string_view(tsDate_, 10));
        b.put('T');
        b.put2(static_cast<unsigned>(rem / 3600000));
        b.put(':');
        b.put2(static_cast<unsigned>(rem / 60000 % 60));
        b.put(':');
        b.put2(static_cast<unsigned>(rem / 1000 % 60));
        b.put('.');
        unsigned msPart = static_cast<unsigned>(rem % 1000);
        b.put(static_cast<char>('0' + msPart / 100));
        b.put2(msPart % 100);
        b.put('Z');
    }

    // Write one record (native line in `rec`), wrapped for Filebeat if asked;
    // with --format otlp the span object `otlp` of service `svc` goes into
    // the batch instead, and `rec` only counts for the stop rule.
    void emitRecord(const Buf& rec, uint32_t h, int64_t endMs, bool mayDup, const Buf* otlp = nullptr,
                    uint16_t svc = 0) {
        const Buf* outLine = &rec;
        if (cfg_.filebeat) {
            Buf& b = fb_;
            b.clear();
            b.put("{\"@timestamp\":\"");
            putIsoMs(b, endMs);
            b.put("\",\"log\":{\"offset\":");
            b.putInt(static_cast<int64_t>(hostOff_[h]));
            b.put(",\"file\":{\"path\":\"/var/log/svc/");
            b.put(host(h));
            b.put(".log\"}},\"host\":{\"name\":\"");
            b.put(host(h));
            b.put("\"},\"message\":\"");
            b.putEscaped(rec.p, rec.n);
            b.put("\"}");
            hostOff_[h] += rec.n + 1;
            outLine = &b;
        }
        sized_ += outLine->n + 1;
        if (otlp) {
            batchAdd(svc, h, *otlp);
        } else {
            out_.write(outLine->p, outLine->n);
            out_.write("\n", 1);
        }
        ++st_.lines;
        if (mayDup && arng_.chance(cfg_.dupRate)) {
            const Buf& kept = otlp ? *otlp : *outLine;
            Dup d{st_.lines + 1 + arng_.below(1000), dupSeq_++, std::string(kept.p, kept.n), outLine->n + 1, svc, h};
            dupBytes_ += d.sized;
            dups_.push_back(std::move(d));
            std::push_heap(dups_.begin(), dups_.end(), DupLater());
        }
        writeDue(st_.lines);
    }

    void writeDue(uint64_t upTo) {
        while (!dups_.empty() && dups_.front().due <= upTo) {
            std::pop_heap(dups_.begin(), dups_.end(), DupLater());
            Dup d = std::move(dups_.back());
            dups_.pop_back();
            dupBytes_ -= d.sized;
            sized_ += d.sized;
            if (cfg_.otlp) {
                batchAdd(static_cast<uint16_t>(d.svc), d.host, d.line);
            } else {
                out_.write(d.line.data(), d.line.size());
                out_.write("\n", 1);
            }
            ++st_.lines;
            ++st_.dups;
        }
    }

    void emitSpan(uint32_t slot, uint32_t idx) {
        const Trace& t = traces_[slot];
        const Span& s = t.spans[idx];
        formatSpan(line_, t, idx, Variant{});
        const int64_t endMs = s.start + s.clockOff + s.dur;
        if (cfg_.otlp) {
            nowMs_ = s.start + s.dur;  // the collector's clock: true time, not the host's
            formatOtlpSpan(otlpSpan_, t, idx);
            emitRecord(line_, s.host, endMs, true, &otlpSpan_, s.svc);
        } else {
            emitRecord(line_, s.host, endMs, true);
        }
        ++st_.spanLines;
        if (arng_.chance(cfg_.badRate)) emitBad(t, idx, endMs);
    }

    void emitBad(const Trace& t, uint32_t idx, int64_t endMs) {
        const Span& s = t.spans[idx];
        const auto kind = static_cast<BadKind>(arng_.below(BAD_KINDS));
        Buf& b = bad_;
        ++badCounter_;
        switch (kind) {
            case BAD_TRUNC: {
                Variant v;
                v.freshIds = true;
                formatSpan(b, t, idx, v);
                // cut somewhere after the (fresh, unique) ids, before the end
                b.n = 50 + arng_.below(std::max<size_t>(b.n - 56, 1));
                break;
            }
            case BAD_NOTOBJ: {
                b.clear();
                // every variant is unique, so no two bad lines are byte-identical
                const auto tag = static_cast<uint32_t>(arng_.next());
                switch (arng_.below(4)) {
                    case 0:
                        b.put("[\"");
                        b.put(svc_[s.svc].ops[s.op]);
                        b.put("\",");
                        b.putInt(s.code);
                        b.put(',');
                        b.putInt(s.dur);
                        b.put(",\"");
                        b.putHex(tag, 8);
                        b.put("\"]");
                        break;
                    case 1:
                        b.put("\"connection reset by peer (conn ");
                        b.putHex(tag, 8);
                        b.put(")\"");
                        break;
                    case 2: b.putInt(s.start + s.clockOff + s.dur); b.put('.'); b.putInt(tag % 1000); break;
                    default:
                        b.put("WARN [");
                        b.put(svc_[s.svc].name);
                        b.put("] slow request ");
                        b.putHex(tag, 8);
                        b.put(": ");
                        b.put(svc_[s.svc].ops[s.op]);
                        b.put(" took ");
                        b.putInt(s.dur);
                        b.put("ms");
                        break;
                }
                break;
            }
            case BAD_NOTRACE: {
                Variant v;
                v.noTrace = true;
                formatSpan(b, t, idx, v);
                break;
            }
            default: {
                Variant v;
                v.freshIds = true;
                v.badDur = static_cast<int>(arng_.below(4));
                formatSpan(b, t, idx, v);
                break;
            }
        }
        ++st_.bad[kind];
        emitRecord(b, s.host, endMs, false);
    }

    void printStats() const {
        uint64_t badTotal = 0;
        for (uint64_t v : st_.bad) badTotal += v;
        std::fprintf(stderr,
                     "trace-gen: %llu bytes, %llu lines: %llu traces, %llu spans (largest %llu), %llu span lines, "
                     "%llu error spans\n"
                     "trace-gen: anomalies: lost %llu, orphan %llu, skew %llu, dup %llu, bad %llu "
                     "(truncated %llu, not-object %llu, no-traceId %llu, duration-type %llu)\n",
                     static_cast<unsigned long long>(out_.total), static_cast<unsigned long long>(st_.lines),
                     static_cast<unsigned long long>(st_.traces), static_cast<unsigned long long>(st_.spans),
                     static_cast<unsigned long long>(st_.maxSpans), static_cast<unsigned long long>(st_.spanLines),
                     static_cast<unsigned long long>(st_.errors), static_cast<unsigned long long>(st_.lost),
                     static_cast<unsigned long long>(st_.orphans), static_cast<unsigned long long>(st_.skewed),
                     static_cast<unsigned long long>(st_.dups), static_cast<unsigned long long>(badTotal),
                     static_cast<unsigned long long>(st_.bad[0]), static_cast<unsigned long long>(st_.bad[1]),
                     static_cast<unsigned long long>(st_.bad[2]), static_cast<unsigned long long>(st_.bad[3]));
        if (cfg_.otlp)
            std::fprintf(stderr,
                         "trace-gen: otlp: %llu lines (batches), %llu span objects, %.0f a line; the native "
                         "output would have been %llu bytes\n",
                         static_cast<unsigned long long>(otlpLines_), static_cast<unsigned long long>(st_.lines),
                         otlpLines_ ? static_cast<double>(st_.lines) / static_cast<double>(otlpLines_) : 0.0,
                         static_cast<unsigned long long>(sized_));
    }
};

}  // namespace

int main(int argc, char** argv) {
    Config cfg = parseArgs(argc, argv);
    FILE* f = stdout;
    if (!cfg.out.empty() && cfg.out != "-") {
        f = std::fopen(cfg.out.c_str(), "wb");
        if (!f) {
            std::fprintf(stderr, "trace-gen: error: cannot open '%s': %s\n", cfg.out.c_str(), std::strerror(errno));
            return 2;
        }
    }
    {
        Gen g(cfg, f);
        g.run();
    }
    if (f != stdout) {
        if (std::fclose(f) != 0) {
            std::fprintf(stderr, "trace-gen: error: write failed: %s\n", std::strerror(errno));
            return 1;
        }
    } else if (std::fflush(stdout) != 0) {
        std::fprintf(stderr, "trace-gen: error: write failed: %s\n", std::strerror(errno));
        return 1;
    }
    return 0;
}
