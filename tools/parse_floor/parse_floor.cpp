// parse-floor: the single-core parse floor for the benchmark (scripts/bench).
//
// Streams one file (or stdin, "-") through one reused buffer in large chunks,
// splits it into lines and parses each line in place with one reused simdjson
// On-Demand parser, touching only the fields trace assembly needs: traceId,
// spanId, parentSpanId, timestamp, duration, and requestStacks[].subSpanId /
// subTimestamp / subDuration. Every value is folded into a checksum so the
// compiler cannot drop the work. No span is stored, nothing is assembled: this
// is the cost of reading the input, the floor trace-assemble is measured
// against.
//
// Output (stdout): lines=N errors=E bytes=B checksum=C seconds=S MB/s=R
//   lines  non-blank lines; errors  lines simdjson (or a number) rejected;
//   MB/s   bytes / 1e6 / seconds.
// Usage: parse-floor FILE|-
#include <simdjson.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>

namespace od = simdjson::ondemand;

namespace {

constexpr size_t kChunk = size_t{4} << 20;  // bytes read per read() call
constexpr size_t kPad = simdjson::SIMDJSON_PADDING;

struct Stats {
  uint64_t lines = 0;
  uint64_t errors = 0;
  uint64_t bytes = 0;
  uint64_t checksum = 0;
};

// A number given as a JSON string: integer fast path, fractional fallback.
bool fold_numeric_text(std::string_view s, uint64_t& sum) {
  const char* b = s.data();
  const char* e = b + s.size();
  uint64_t u = 0;
  auto [p, ec] = std::from_chars(b, e, u);
  if (ec == std::errc() && p == e) {
    sum += u;
    return true;
  }
  double d = 0;
  auto [p2, ec2] = std::from_chars(b, e, d);
  if (ec2 != std::errc() || p2 != e) return false;
  sum += static_cast<uint64_t>(static_cast<int64_t>(d));
  return true;
}

// A number that may be a JSON string or a JSON number.
bool fold_number(od::value& v, uint64_t& sum) {
  od::json_type t;
  if (v.type().get(t)) return false;
  if (t == od::json_type::string) {
    std::string_view s;
    if (v.get_string().get(s)) return false;
    return fold_numeric_text(s, sum);
  }
  if (t != od::json_type::number) return false;
  od::number n;
  if (v.get_number().get(n)) return false;
  switch (n.get_number_type()) {
    case od::number_type::unsigned_integer: sum += n.get_uint64(); break;
    case od::number_type::signed_integer: sum += static_cast<uint64_t>(n.get_int64()); break;
    default: sum += static_cast<uint64_t>(static_cast<int64_t>(n.get_double())); break;
  }
  return true;
}

// An id: a string (its length is folded) or a number (its text length).
bool fold_id(od::value& v, uint64_t& sum) {
  od::json_type t;
  if (v.type().get(t)) return false;
  if (t == od::json_type::string) {
    std::string_view s;
    if (v.get_string().get(s)) return false;
    sum += s.size() + static_cast<unsigned char>(s.empty() ? 0 : s.back());
    return true;
  }
  if (t == od::json_type::null) return true;  // parentSpanId: null
  sum += v.raw_json_token().size();
  return true;
}

bool fold_request_stacks(od::value& v, uint64_t& sum) {
  od::array arr;
  if (v.get_array().get(arr)) return false;
  for (auto elem_r : arr) {
    od::value elem;
    if (std::move(elem_r).get(elem)) return false;
    od::object sub;
    if (elem.get_object().get(sub)) return false;
    for (auto field_r : sub) {
      od::field f;
      if (std::move(field_r).get(f)) return false;
      od::raw_json_string k = f.key();
      bool ok = true;
      if (k.unsafe_is_equal("subSpanId")) {
        ok = fold_id(f.value(), sum);
      } else if (k.unsafe_is_equal("subTimestamp") || k.unsafe_is_equal("subDuration")) {
        ok = fold_number(f.value(), sum);
      }  // other fields are skipped by the iteration
      if (!ok) return false;
    }
  }
  return true;
}

// Parses one line in place. `capacity` is the number of readable bytes from
// `p` (at least len + SIMDJSON_PADDING).
bool parse_line(od::parser& parser, const char* p, size_t len, size_t capacity, uint64_t& sum) {
  od::document doc;
  if (parser.iterate(p, len, capacity).get(doc)) return false;
  od::object obj;
  if (doc.get_object().get(obj)) return false;
  for (auto field_r : obj) {
    od::field f;
    if (std::move(field_r).get(f)) return false;
    od::raw_json_string k = f.key();
    bool ok = true;
    if (k.unsafe_is_equal("traceId") || k.unsafe_is_equal("spanId") ||
        k.unsafe_is_equal("parentSpanId")) {
      ok = fold_id(f.value(), sum);
    } else if (k.unsafe_is_equal("timestamp") || k.unsafe_is_equal("duration")) {
      ok = fold_number(f.value(), sum);
    } else if (k.unsafe_is_equal("requestStacks")) {
      ok = fold_request_stacks(f.value(), sum);
    }
    if (!ok) return false;
  }
  return true;
}

struct Buffer {
  std::unique_ptr<char[]> data;
  size_t cap = 0;  // usable bytes; kPad more are allocated after them
  void grow(size_t new_cap, size_t keep) {
    auto d = std::unique_ptr<char[]>(new char[new_cap + kPad]);
    if (keep) std::memcpy(d.get(), data.get(), keep);
    std::memset(d.get() + new_cap, ' ', kPad);
    data = std::move(d);
    cap = new_cap;
  }
};

int run(int fd, Stats& st) {
  od::parser parser;
  Buffer buf;
  buf.grow(kChunk * 2, 0);
  size_t begin = 0, end = 0;  // unconsumed bytes are [begin, end)
  bool eof = false;

  auto handle = [&](size_t from, size_t to) {  // one line, newline excluded
    size_t len = to - from;
    if (len && buf.data[from + len - 1] == '\r') --len;
    if (len == 0) return;  // blank line: not counted
    ++st.lines;
    const size_t capacity = buf.cap + kPad - from;
    if (!parse_line(parser, buf.data.get() + from, len, capacity, st.checksum)) ++st.errors;
  };

  while (!eof) {
    // Make room for one more chunk: move the partial line to the front, grow
    // when that line alone nearly fills the buffer (very long lines).
    if (buf.cap - end < kChunk) {
      const size_t keep = end - begin;
      if (begin) std::memmove(buf.data.get(), buf.data.get() + begin, keep);
      begin = 0;
      end = keep;
      if (buf.cap - end < kChunk) buf.grow(buf.cap * 2, keep);
    }
    ssize_t n = ::read(fd, buf.data.get() + end, buf.cap - end);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::perror("parse-floor: read");
      return 2;
    }
    if (n == 0) {
      eof = true;
    } else {
      st.bytes += static_cast<uint64_t>(n);
    }
    // Lines only start being scanned at the new bytes' newline boundary.
    size_t scan = end;
    end += static_cast<size_t>(n);
    for (;;) {
      const void* nl = std::memchr(buf.data.get() + scan, '\n', end - scan);
      if (!nl) break;
      const size_t pos = static_cast<size_t>(static_cast<const char*>(nl) - buf.data.get());
      handle(begin, pos);
      begin = scan = pos + 1;
    }
  }
  if (begin < end) handle(begin, end);  // last line without a newline
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 || std::strcmp(argv[1], "-h") == 0 || std::strcmp(argv[1], "--help") == 0) {
    std::fprintf(stderr, "usage: parse-floor FILE|-\n"
                         "Parses every line with simdjson On-Demand (one thread), touching only\n"
                         "the fields trace assembly needs; prints lines, errors, bytes, checksum,\n"
                         "seconds and MB/s.\n");
    return argc == 2 ? 0 : 2;
  }
  int fd = 0;
  if (std::strcmp(argv[1], "-") != 0) {
    fd = ::open(argv[1], O_RDONLY);
    if (fd < 0) {
      std::fprintf(stderr, "parse-floor: error: %s: %s\n", argv[1], std::strerror(errno));
      return 2;
    }
  }
#ifdef POSIX_FADV_SEQUENTIAL
  (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
  Stats st;
  const auto t0 = std::chrono::steady_clock::now();
  const int rc = run(fd, st);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (fd != 0) ::close(fd);
  if (rc != 0) return rc;
  std::printf("lines=%llu errors=%llu bytes=%llu checksum=%llu seconds=%.3f MB/s=%.1f\n",
              static_cast<unsigned long long>(st.lines), static_cast<unsigned long long>(st.errors),
              static_cast<unsigned long long>(st.bytes), static_cast<unsigned long long>(st.checksum),
              secs, secs > 0 ? static_cast<double>(st.bytes) / 1e6 / secs : 0.0);
  return 0;
}
