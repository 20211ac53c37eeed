#include <doctest/doctest.h>

#include "test_support.h"
#include <simdjson.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <csignal>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "read/byte_source.h"
#include "read/file_chunks.h"
#include "read/line_reader.h"

// Prints vectors in failure messages (identical in every test file that has it).

using namespace ta;
namespace fs = std::filesystem;

namespace {

// Hands out an in-memory string in small pieces of odd, varying sizes, so
// that lines straddle every kind of read boundary.
class PieceSource final : public ByteSource {
 public:
  explicit PieceSource(std::string data, std::vector<std::size_t> pieces = {1, 3, 7, 2, 13, 5})
      : data_(std::move(data)), pieces_(std::move(pieces)) {}
  std::ptrdiff_t read(char* buf, std::size_t n) override {
    const std::size_t want = std::min({n, pieces_[turn_++ % pieces_.size()], data_.size() - pos_});
    std::memcpy(buf, data_.data() + pos_, want);
    pos_ += want;
    raw_bytes_ += want;
    return static_cast<std::ptrdiff_t>(want);
  }

 private:
  std::string data_;
  std::vector<std::size_t> pieces_;
  std::size_t pos_ = 0;
  std::size_t turn_ = 0;
};

// A source that fails after handing out some bytes.
class FailingSource final : public ByteSource {
 public:
  std::ptrdiff_t read(char* buf, std::size_t n) override {
    if (done_) {
      error_ = "device on fire";
      return -1;
    }
    done_ = true;
    const std::string_view s = "a\nb\npartial";
    const std::size_t k = std::min(n, s.size());
    std::memcpy(buf, s.data(), k);
    return static_cast<std::ptrdiff_t>(k);
  }

 private:
  bool done_ = false;
};

struct Line {
  std::uint64_t number;
  std::string text;
  bool operator==(const Line&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Line& l) { return os << l.number << ":" << l.text; }

struct Collected {
  std::vector<Line> lines;
  std::uint64_t blank = 0;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> oversized;  // line, bytes
  std::uint64_t bytes = 0;
  std::string error;
};

template <typename Reader>
Collected collect(Reader& reader) {
  Collected out;
  LineChunk chunk;
  while (reader.next(chunk)) {
    if (chunk.oversized_line) {
      out.oversized.emplace_back(chunk.oversized_line, chunk.oversized_bytes);
      continue;
    }
    REQUIRE(chunk.data != nullptr);
    REQUIRE(chunk.size > 0);
    CHECK(chunk.capacity >= chunk.size + simdjson::SIMDJSON_PADDING);
    // newlines is what the chunk holds.
    CHECK(chunk.newlines == static_cast<std::uint64_t>(std::count(chunk.data, chunk.data + chunk.size, '\n')));
    out.blank += for_each_line(chunk, [&](std::string_view line, std::uint64_t no, std::size_t cap) {
      CHECK(cap >= line.size() + simdjson::SIMDJSON_PADDING);
      // The padding must be readable (AddressSanitizer checks this byte).
      volatile char last = line.data()[cap - 1];
      (void)last;
      out.lines.push_back({no, std::string(line)});
    });
  }
  out.bytes = reader.bytes();
  return out;
}

Collected read_all(ByteSource& source, std::size_t chunk_bytes, std::size_t max_line_bytes) {
  LineReader reader(source, chunk_bytes, max_line_bytes);
  Collected out = collect(reader);
  out.error = reader.error();
  return out;
}

Collected read_string(std::string data, std::size_t chunk_bytes = 1 << 16, std::size_t max_line_bytes = 1 << 20,
                      std::vector<std::size_t> pieces = {1, 3, 7, 2, 13, 5}) {
  PieceSource source(std::move(data), std::move(pieces));
  return read_all(source, chunk_bytes, max_line_bytes);
}

// A fresh directory under the system temp dir, removed at the end of scope.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "ta-line-reader-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

void write_gzip(const fs::path& path, const std::string& data, const char* mode = "wb") {
  gzFile f = gzopen(path.c_str(), mode);
  REQUIRE(f != nullptr);
  REQUIRE(gzwrite(f, data.data(), static_cast<unsigned>(data.size())) == static_cast<int>(data.size()));
  REQUIRE(gzclose(f) == Z_OK);
}

std::string numbered_lines(int n) {
  std::string s;
  for (int i = 1; i <= n; ++i) s += "{\"line\":" + std::to_string(i) + ",\"pad\":\"" + std::string(i % 37, 'x') + "\"}\n";
  return s;
}

}  // namespace

TEST_CASE("line numbers stay right across chunk and read boundaries") {
  const std::string data = numbered_lines(200);
  for (std::size_t chunk : {std::size_t{64}, std::size_t{100}, std::size_t{257}, std::size_t{1} << 16}) {
    CAPTURE(chunk);
    const Collected c = read_string(data, chunk);
    REQUIRE(c.lines.size() == 200);
    for (int i = 1; i <= 200; ++i) {
      const Line& l = c.lines[static_cast<std::size_t>(i - 1)];
      CHECK(l.number == static_cast<std::uint64_t>(i));
      CHECK(l.text == "{\"line\":" + std::to_string(i) + ",\"pad\":\"" + std::string(i % 37, 'x') + "\"}");
    }
    CHECK(c.blank == 0);
    CHECK(c.oversized.empty());
    CHECK(c.bytes == data.size());
    CHECK(c.error.empty());
  }
}

TEST_CASE("CRLF endings are stripped") {
  const Collected c = read_string("one\r\ntwo\r\nthree\r\n");
  CHECK(c.lines == std::vector<Line>{{1, "one"}, {2, "two"}, {3, "three"}});
  // Only the one \r before \n goes.
  const Collected d = read_string("a\r\r\nb\r");
  CHECK(d.lines == std::vector<Line>{{1, "a\r"}, {2, "b"}});
}

TEST_CASE("the last line may lack a newline") {
  const Collected c = read_string("first\nsecond\nlast");
  CHECK(c.lines == std::vector<Line>{{1, "first"}, {2, "second"}, {3, "last"}});
  const Collected only = read_string("x");
  CHECK(only.lines == std::vector<Line>{{1, "x"}});
  const Collected empty = read_string("");
  CHECK(empty.lines.empty());
  CHECK(empty.blank == 0);
}

TEST_CASE("blank lines are skipped, counted and still numbered") {
  const Collected c = read_string("\na\n\n  \t\nb\r\n\r\n\nc\n");
  CHECK(c.lines == std::vector<Line>{{2, "a"}, {5, "b"}, {8, "c"}});
  // Lines 1, 3, 4, 6, 7.
  CHECK(c.blank == 5);
  const Collected only_blank = read_string("\n\n\n");
  CHECK(only_blank.lines.empty());
  CHECK(only_blank.blank == 3);
}

TEST_CASE("a UTF-8 BOM on line 1 is removed") {
  const Collected c = read_string("\xEF\xBB\xBF{\"a\":1}\n{\"b\":2}\n");
  CHECK(c.lines == std::vector<Line>{{1, "{\"a\":1}"}, {2, "{\"b\":2}"}});
  // A BOM alone on line 1 leaves a blank line.
  const Collected bom_only = read_string("\xEF\xBB\xBF\nx\n");
  CHECK(bom_only.lines == std::vector<Line>{{2, "x"}});
  CHECK(bom_only.blank == 1);
  // With the BOM split over reads of one byte.
  const Collected split = read_string("\xEF\xBB\xBFhello\n", 64, 1 << 20, {1});
  CHECK(split.lines == std::vector<Line>{{1, "hello"}});
}

TEST_CASE("a line longer than max_line_bytes is reported, and the lines after it still come through") {
  const std::size_t max_line = 100;
  std::string data = "short 1\n";
  data += std::string(100, 'a') + "\n";  // exactly the limit: fine
  data += std::string(1000, 'b') + "\n";  // line 3: too long
  data += "after 4\n\nafter 6\n";
  data += std::string(101, 'c') + "\n";  // line 7: one byte too long, but the reader leaves room for a '\r'
  data += std::string(102, 'd') + "\n";  // line 8: two bytes too long
  data += "after 9";
  for (std::size_t chunk : {std::size_t{64}, std::size_t{80}, std::size_t{4096}}) {
    CAPTURE(chunk);
    const Collected c = read_string(data, chunk, max_line);
    // Line 7 comes through (it could be 100 bytes and a '\r'); ingest checks
    // the length after the '\r' is gone and rejects it.
    CHECK(c.lines == std::vector<Line>{{1, "short 1"}, {2, std::string(100, 'a')}, {4, "after 4"}, {6, "after 6"},
                                       {7, std::string(101, 'c')}, {9, "after 9"}});
    REQUIRE(c.oversized.size() == 2);
    CHECK(c.oversized[0].first == 3);
    CHECK(c.oversized[0].second >= 101);
    CHECK(c.oversized[0].second <= 1000);
    CHECK(c.oversized[1].first == 8);
    CHECK(c.blank == 1);
    CHECK(c.bytes == data.size());
  }
}

TEST_CASE("an oversized last line without a newline is reported") {
  const std::string data = "ok\n" + std::string(500, 'z');
  const Collected c = read_string(data, 64, 100);
  CHECK(c.lines == std::vector<Line>{{1, "ok"}});
  REQUIRE(c.oversized.size() == 1);
  CHECK(c.oversized[0].first == 2);
}

TEST_CASE("a small max_line_bytes still rejects every longer line") {
  // A limit below the reader's minimum buffer size, with the data arriving in
  // small pieces and in one read.
  for (std::size_t piece : {std::size_t{3}, std::size_t{4096}}) {
    CAPTURE(piece);
    const Collected c = read_string("1234567890\n12345678901234567890\nabc\n", 64, 10, {piece});
    CHECK(c.lines == std::vector<Line>{{1, "1234567890"}, {3, "abc"}});
    REQUIRE(c.oversized.size() == 1);
    CHECK(c.oversized[0].first == 2);
  }
}

TEST_CASE("a small chunk_bytes grows the buffer for long lines") {
  std::string data;
  std::vector<Line> want;
  for (int i = 1; i <= 20; ++i) {
    // Lines of 10 to about 5000 bytes.
    std::string line = std::to_string(i) + ":" + std::string(static_cast<std::size_t>(i * i * 12) % 5000 + 10, 'q');
    data += line + "\n";
    want.push_back({static_cast<std::uint64_t>(i), line});
  }
  const Collected c = read_string(data, 16, 1 << 20, {1, 300, 7, 1024, 2});
  CHECK(c.lines == want);
  CHECK(c.oversized.empty());
}

// Only what each read adds is looked at for a newline. Looking at the whole
// line after every read took time in the square of its length: this line
// of 48 MiB in reads of 1 KiB scanned 1.1 TiB, over a minute (a line of
// 32 MiB took 22 s); read linearly it takes a fraction of a second, even
// under the sanitizers.
TEST_CASE("a long line that comes in many small reads costs linear time" * doctest::timeout(20)) {
  const std::string line = "{" + std::string(48u << 20, 'x') + "}";
  const Collected c = read_string("a\n" + line + "\nb\n", 64u << 10, 64u << 20, {1024});
  REQUIRE(c.lines.size() == 3);
  CHECK(c.lines[1].text.size() == line.size());
  CHECK(c.lines[1].text == line);
  CHECK(c.lines[2].number == 3);
  CHECK(c.oversized.empty());
}

TEST_CASE("chunks handed over in their buffers stay whole while reading goes on, and buffers are reused") {
  // Short lines, one long enough to grow a 64-byte buffer several times,
  // an oversized one, then short lines again.
  std::string data;
  for (int i = 1; i <= 300; ++i) {
    std::string line;
    if (i == 120) {
      line = "long:" + std::string(700, 'L');
    } else if (i == 200) {
      line = "over:" + std::string(3000, 'O');
    } else {
      line = std::to_string(i) + ":" + std::string(static_cast<std::size_t>(i * 7) % 41, static_cast<char>('a' + i % 26));
    }
    data += line + "\n";
  }
  const Collected want = read_string(data, 64, 2000, {1, 300, 7, 64, 2});
  REQUIRE(want.lines.size() == 299);
  REQUIRE(want.oversized.size() == 1);

  PieceSource source(data, {1, 300, 7, 64, 2});
  LineReader reader(source, 64, 2000);
  // Every chunk is kept, in its own buffer, until the end: a buffer the
  // reader still wrote into would show here as a changed line.
  std::vector<OwnedChunk> kept;
  OwnedChunk spare;
  std::size_t reused = 0;
  for (;;) {
    OwnedChunk c;
    if (kept.size() % 3 == 2) {  // now and then the reader gets a buffer back
      c.buffer = std::move(spare.buffer);
      spare = OwnedChunk{};
    }
    const char* given = c.buffer.data.get();
    if (!reader.next_owned(c)) break;
    if (c.chunk.oversized_line) {
      CHECK(c.chunk.oversized_line == 200);
      continue;
    }
    REQUIRE(c.buffer.data != nullptr);
    CHECK(c.chunk.data >= c.buffer.data.get());
    CHECK(c.chunk.data + c.chunk.capacity == c.buffer.data.get() + c.buffer.capacity + simdjson::SIMDJSON_PADDING);
    // Memory goes with what a buffer holds: a small chunk is copied into a
    // buffer of the reader's size (or its own), a large one handed over in
    // the one it was read into.
    CHECK(c.buffer.capacity <= std::max<std::size_t>(64, 4 * c.chunk.size));
    reused += given != nullptr;
    if (kept.size() % 3 == 1) spare.buffer = ReadBuffer::make(64);
    kept.push_back(std::move(c));
  }
  CHECK(reused > 0);
  Collected got;
  for (const OwnedChunk& c : kept)
    got.blank += for_each_line(c.chunk, [&](std::string_view line, std::uint64_t no, std::size_t cap) {
      CHECK(cap >= line.size() + simdjson::SIMDJSON_PADDING);
      got.lines.push_back({no, std::string(line)});
    });
  CHECK(got.lines == want.lines);
  CHECK(got.blank == 0);
}

TEST_CASE("a read error ends the stream with the source's reason") {
  FailingSource source;
  const Collected c = read_all(source, 64, 1000);
  // What was read before the error still comes through; the cut line may or may not.
  REQUIRE(c.lines.size() >= 2);
  CHECK(c.lines[0] == Line{1, "a"});
  CHECK(c.lines[1] == Line{2, "b"});
  CHECK(c.error == "device on fire");
}

TEST_CASE("open_input reads plain and gzip files, recognising gzip by content") {
  TempDir dir;
  const std::string data = numbered_lines(300);

  SUBCASE("plain file") {
    const fs::path p = dir.path / "spans.jsonl";
    std::ofstream(p, std::ios::binary) << data;
    std::string error;
    auto source = open_input(p.string(), error);
    REQUIRE(source);
    const Collected c = read_all(*source, 256, 1 << 20);
    REQUIRE(c.lines.size() == 300);
    CHECK(c.lines[299] == Line{300, "{\"line\":300,\"pad\":\"" + std::string(300 % 37, 'x') + "\"}"});
    CHECK(c.bytes == data.size());
    CHECK(source->raw_bytes() == data.size());
  }
  SUBCASE("gzip file") {
    const fs::path p = dir.path / "spans.jsonl.gz";
    write_gzip(p, data);
    std::string error;
    auto source = open_input(p.string(), error);
    REQUIRE(source);
    const Collected c = read_all(*source, 256, 1 << 20);
    REQUIRE(c.lines.size() == 300);
    CHECK(c.lines[0] == Line{1, "{\"line\":1,\"pad\":\"x\"}"});
    CHECK(c.lines[299].number == 300);
    CHECK(c.bytes == data.size());  // decompressed bytes
    CHECK(source->raw_bytes() == fs::file_size(p));
    CHECK(c.error.empty());
  }
  SUBCASE("gzip file without a .gz name") {
    const fs::path p = dir.path / "spans.log";
    write_gzip(p, "a\nb\n");
    std::string error;
    auto source = open_input(p.string(), error);
    REQUIRE(source);
    CHECK(read_all(*source, 64, 1000).lines == std::vector<Line>{{1, "a"}, {2, "b"}});
  }
  SUBCASE("concatenated gzip members") {
    const fs::path p = dir.path / "two.gz";
    write_gzip(p, "one\ntwo\n");
    write_gzip(p, "three\n", "ab");
    std::string error;
    auto source = open_input(p.string(), error);
    REQUIRE(source);
    CHECK(read_all(*source, 64, 1000).lines == std::vector<Line>{{1, "one"}, {2, "two"}, {3, "three"}});
  }
  SUBCASE("truncated gzip is a read error") {
    const fs::path full = dir.path / "full.gz";
    write_gzip(full, numbered_lines(2000));
    std::string bytes;
    {
      std::ifstream in(full, std::ios::binary);
      bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    const fs::path cut = dir.path / "cut.gz";
    std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
    std::string error;
    auto source = open_input(cut.string(), error);
    REQUIRE(source);
    const Collected c = read_all(*source, 4096, 1 << 20);
    CHECK_FALSE(c.error.empty());
    CHECK(c.lines.size() < 2000);
  }
  SUBCASE("empty file") {
    const fs::path p = dir.path / "empty.jsonl";
    std::ofstream(p, std::ios::binary).flush();
    std::string error;
    auto source = open_input(p.string(), error);
    REQUIRE(source);
    CHECK(read_all(*source, 64, 1000).lines.empty());
  }
}

TEST_CASE("open_input fails on a directory and on a missing path") {
  TempDir dir;
  std::string error;
  CHECK(open_input(dir.path.string(), error) == nullptr);
  CHECK(error.find("directory") != std::string::npos);

  std::string error2;
  CHECK(open_input((dir.path / "no-such-file.jsonl").string(), error2) == nullptr);
  CHECK_FALSE(error2.empty());
}

namespace {

void write_file(const fs::path& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}

// Lines over the limit count as oversized however they were met: cut out
// by the reader, or handed out and rejected by their length (parse_chunk).
Collected over_limit_apart(Collected c, std::size_t max_line_bytes) {
  Collected out = c;
  out.lines.clear();
  for (Line& l : c.lines) {
    if (l.text.size() > max_line_bytes) {
      out.oversized.emplace_back(l.number, l.text.size());
    } else {
      out.lines.push_back(std::move(l));
    }
  }
  std::sort(out.oversized.begin(), out.oversized.end());
  return out;
}

// Every chunk of a file read as the parsing threads read them (in an odd
// order, to show that none depends on another), lines put in the file.
Collected read_chunks(const fs::path& path, std::size_t chunk_bytes, std::size_t max_line_bytes,
                      bool* shrank = nullptr) {
  auto file = FileChunks::open(path.string(), chunk_bytes, max_line_bytes);
  REQUIRE(file != nullptr);
  const std::size_t n = file->count();
  std::vector<Collected> parts(n);
  std::vector<std::uint64_t> counts(n, 0);
  FileChunks::Buffer buffer;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t k = i % 2 ? n - 1 - i / 2 : i / 2;  // 0, n-1, 1, n-2, ...
    FileChunks::Chunk c;
    file->read(k, buffer, c);
    CHECK(c.error.empty());
    if (shrank) *shrank |= c.shrank;
    Collected& part = parts[k];
    std::uint64_t lines = 0;
    if (c.lines.size > 0) {
      CHECK(c.lines.capacity >= c.lines.size + simdjson::SIMDJSON_PADDING);
      CHECK(c.lines.first_line == 1);
      part.blank += for_each_line(c.lines, [&](std::string_view line, std::uint64_t no, std::size_t cap) {
        CHECK(cap >= line.size() + simdjson::SIMDJSON_PADDING);
        volatile char last = line.data()[cap - 1];  // the padding is readable (AddressSanitizer checks)
        (void)last;
        part.lines.push_back({no, std::string(line)});
      });
      lines = part.lines.size() + part.blank;
    }
    if (c.oversized_bytes) part.oversized.emplace_back(++lines, c.oversized_bytes);
    counts[k] = lines;
    part.bytes = file->bytes_of(k);
  }
  Collected out;
  std::uint64_t first = 1;
  for (std::size_t k = 0; k < n; ++k) {
    for (Line& l : parts[k].lines) out.lines.push_back({first + l.number - 1, std::move(l.text)});
    for (auto [line, bytes] : parts[k].oversized) out.oversized.emplace_back(first + line - 1, bytes);
    out.blank += parts[k].blank;
    out.bytes += parts[k].bytes;
    first += counts[k];
  }
  return out;
}

}  // namespace

TEST_CASE("a file read in chunks gives the lines, numbers and oversized lines that streaming it gives") {
  TempDir dir;
  const std::string long_line = "{\"long\":\"" + std::string(300, 'y') + "\"}";
  // Longer than a chunk and the bytes read past it: found only by reading on.
  const std::string huge_line = "{\"huge\":\"" + std::string(200000, 'h') + "\"}";
  const std::vector<std::string> inputs = {
      numbered_lines(200),
      "a\r\nb\r\n\r\n  \n\xEF\xBB\xBF{\"c\":1}\r\nlast without newline",
      "\xEF\xBB\xBF" + long_line + "\n" + numbered_lines(30) + long_line + "\r\n" + numbered_lines(3) + long_line,
      numbered_lines(40) + "x",  // the last line is shorter than the parser's padding
      long_line + "\n\n\n",
      "\n",
      "\n\n\nx\n\n",
      numbered_lines(5) + huge_line + "\r\n" + numbered_lines(5) + huge_line,
      huge_line + "\n" + huge_line + "\n" + numbered_lines(3),
  };
  int n = 0;
  for (const std::string& data : inputs) {
    const fs::path p = dir.path / ("in-" + std::to_string(n++) + ".jsonl");
    write_file(p, data);
    for (std::size_t chunk : {std::size_t{1}, std::size_t{2}, std::size_t{64}, std::size_t{100}, std::size_t{257},
                              std::size_t{1} << 16, std::size_t{1} << 20}) {
      if (chunk < 64 && data.size() > 10000) continue;  // a read of 64 KiB and more per byte: slow, and no new cut
      for (std::size_t max_line : {std::size_t{1} << 20, std::size_t{100000}, std::size_t{80}, std::size_t{50}}) {
        CAPTURE(n);
        CAPTURE(chunk);
        CAPTURE(max_line);
        const Collected streamed = over_limit_apart(read_string(data, 1 << 16, max_line), max_line);
        const Collected chunked = over_limit_apart(read_chunks(p, chunk, max_line), max_line);
        CHECK(chunked.lines == streamed.lines);
        CHECK(chunked.blank == streamed.blank);
        CHECK(chunked.oversized == streamed.oversized);
        CHECK(chunked.bytes == data.size());
      }
    }
  }
}

TEST_CASE("files that are better streamed than read in chunks are declined") {
  TempDir dir;
  write_file(dir.path / "empty.jsonl", "");
  write_gzip(dir.path / "z.jsonl.gz", numbered_lines(10));
  CHECK(FileChunks::open((dir.path / "empty.jsonl").string(), 1 << 20, 1 << 20) == nullptr);
  CHECK(FileChunks::open((dir.path / "z.jsonl.gz").string(), 1 << 20, 1 << 20) == nullptr);
  CHECK(FileChunks::open(dir.path.string(), 1 << 20, 1 << 20) == nullptr);
  CHECK(FileChunks::open((dir.path / "missing").string(), 1 << 20, 1 << 20) == nullptr);
  CHECK(FileChunks::open("-", 1 << 20, 1 << 20) == nullptr);
}

TEST_CASE("a file cut short while it is read in chunks is reported, and the lines before the cut come through") {
  TempDir dir;
  const fs::path p = dir.path / "rotated.jsonl";
  const std::string data = numbered_lines(60000);
  REQUIRE(data.size() > (2u << 20));
  write_file(p, data);
  auto file = FileChunks::open(p.string(), 1 << 16, 1 << 20);
  REQUIRE(file != nullptr);
  const std::size_t cut = 100000;  // what logrotate's copytruncate does to a log being read
  fs::resize_file(p, cut);
  FileChunks::Buffer buffer;
  bool shrank = false;
  std::string got;
  for (std::size_t k = 0; k < file->count(); ++k) {
    FileChunks::Chunk c;
    file->read(k, buffer, c);
    CHECK(c.error.empty());
    shrank |= c.shrank;
    got.append(c.lines.data ? c.lines.data : "", c.lines.size);
  }
  CHECK(shrank);
  // Every byte before the cut, in order; the line cut in two is handed out as
  // it is.
  CHECK(got == data.substr(0, cut));
}

TEST_CASE("a file cut shorter while its mapped chunk is parsed reads as zeros past the cut, and is reported") {
  TempDir dir;
  const fs::path p = dir.path / "truncated-under-us.jsonl";
  const std::string data = numbered_lines(60000);
  REQUIRE(data.size() > (2u << 20));
  write_file(p, data);
  auto file = FileChunks::open(p.string(), 1 << 20, 1 << 20);
  REQUIRE(file != nullptr);
  FileChunks::Buffer buffer;
  FileChunks::Chunk c;
  file->read(1, buffer, c);
  REQUIRE(c.mapped_from != nullptr);  // read where it lies in the mapping
  REQUIRE(c.lines.size > 0);
  const std::size_t start = static_cast<std::size_t>(c.lines.data - c.mapped_from) + (1u << 20) - 1;
  CHECK(std::string_view(c.lines.data, c.lines.size) == std::string_view(data).substr(start, c.lines.size));
  // logrotate's copytruncate, while the chunk's pages are read: the pages
  // past the new end would raise SIGBUS.
  const std::size_t cut = start + 100000;
  fs::resize_file(p, cut);
  std::string seen(c.lines.data, c.lines.size);
  CHECK(seen.substr(0, cut - start) == data.substr(start, cut - start));
  CHECK(seen.find_first_not_of('\0', cut - start) == std::string::npos);
  file->done(c);
  CHECK(c.shrank);
  // The next chunk sees the shorter file and reads nothing past its end.
  FileChunks::Chunk next;
  file->read(2, buffer, next);
  CHECK(next.mapped_from == nullptr);
  CHECK(next.shrank);
  CHECK(next.lines.size == 0);
  file->done(next);
}

TEST_CASE("a file's chunks, all done, leave no descriptor open: thousands of files fit the usual limit") {
  TempDir dir;
  const auto open_descriptors = [] {
    return std::distance(fs::directory_iterator("/proc/self/fd"), fs::directory_iterator{});
  };
  const fs::path p = dir.path / "several.jsonl";
  write_file(p, numbered_lines(2000));
  const auto before = open_descriptors();
  auto file = FileChunks::open(p.string(), 4096, 1 << 20);
  REQUIRE(file != nullptr);
  REQUIRE(file->count() > 3);
  CHECK(open_descriptors() == before + 1);
  FileChunks::Buffer buffer;
  std::string got;
  for (std::size_t k = file->count(); k-- > 0;) {  // in any order
    FileChunks::Chunk c;
    file->read(k, buffer, c);
    got.insert(0, c.lines.data ? std::string(c.lines.data, c.lines.size) : std::string());
    CHECK(open_descriptors() == before + 1);
    file->done(c);
  }
  CHECK(got == numbered_lines(2000));
  CHECK(open_descriptors() == before);
}

TEST_CASE("a SIGBUS that is not a cut file's still ends the process: the guard passes it on") {
  TempDir dir;
  const fs::path p = dir.path / "mapped.jsonl";
  write_file(p, numbered_lines(2000));
  auto file = FileChunks::open(p.string(), 4096, 1 << 20);  // maps the file: the guard is installed
  REQUIRE(file != nullptr);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::raise(SIGBUS);  // sent, not a fault: no address of a cut file
    ::_exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK_FALSE((WIFEXITED(status) && WEXITSTATUS(status) == 0));
}
