#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

#include "read/byte_source.h"
#include "read/file_chunks.h"

using namespace ta;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "ta-byte-source-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

void write_file(const fs::path& path, const std::string& data) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

std::string zstd(const std::string& data, bool checksum = false) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  std::size_t n = 0;
  if (checksum) {
    ZSTD_CCtx* c = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
    n = ZSTD_compress2(c, out.data(), out.size(), data.data(), data.size());
    ZSTD_freeCCtx(c);
  } else {
    n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3);
  }
  REQUIRE_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

std::string numbered_lines(int n) {
  std::string s;
  for (int i = 1; i <= n; ++i) s += "{\"line\":" + std::to_string(i) + ",\"pad\":\"" + std::string(i % 37, 'x') + "\"}\n";
  return s;
}

struct Read {
  std::string data;
  std::string error;
};

// Everything a source hands out, `step` bytes at most a read.
Read read_all(ByteSource& source, std::size_t step = 1 << 16) {
  Read out;
  std::string buf(step, '\0');
  for (;;) {
    const std::ptrdiff_t r = source.read(buf.data(), buf.size());
    if (r < 0) {
      out.error = source.error();
      break;
    }
    if (r == 0) break;
    out.data.append(buf.data(), static_cast<std::size_t>(r));
  }
  return out;
}

Read read_file(const fs::path& path, std::size_t step = 1 << 16) {
  std::string error;
  auto source = open_input(path.string(), error);
  REQUIRE_MESSAGE(source, error);
  return read_all(*source, step);
}

// open_input's error for a file it refuses.
std::string refused(const fs::path& path) {
  std::string error;
  CHECK(open_input(path.string(), error) == nullptr);
  return error;
}

}  // namespace

TEST_CASE("zstd input is recognised by content and decompressed while streaming") {
  TempDir dir;
  const std::string data = numbered_lines(3000);

  SUBCASE("one frame, read in pieces of any size") {
    const fs::path p = dir.path / "spans.log";  // no .zst name
    write_file(p, zstd(data));
    for (std::size_t step : {std::size_t{1}, std::size_t{7}, std::size_t{4096}, std::size_t{1} << 20}) {
      CAPTURE(step);
      std::string error;
      auto source = open_input(p.string(), error);
      REQUIRE(source);
      const Read r = read_all(*source, step);
      CHECK(r.error.empty());
      CHECK(r.data == data);
      CHECK(source->compressed());
      CHECK(source->raw_bytes() == fs::file_size(p));
    }
  }
  SUBCASE("concatenated frames, and a skippable frame first") {
    const fs::path p = dir.path / "two.zst";
    const std::string skippable("\x50\x2a\x4d\x18\x03\x00\x00\x00xyz", 11);
    write_file(p, skippable + zstd("one\ntwo\n") + zstd("three\n", true) + skippable + zstd(""));
    const Read r = read_file(p, 3);
    CHECK(r.error.empty());
    CHECK(r.data == "one\ntwo\nthree\n");
  }
  SUBCASE("a file cut anywhere is a read error") {
    const std::string full = zstd("a\nb\nc\n", true);
    // Shorter than the magic it is plain text.
    for (std::size_t size = 4; size < full.size(); ++size) {
      CAPTURE(size);
      const fs::path p = dir.path / "cut.zst";
      write_file(p, full.substr(0, size));
      const Read r = read_file(p);
      CHECK(r.error == "truncated zstd data (the file ends inside a compressed frame)");
    }
  }
  SUBCASE("a long file cut in the middle keeps what came before the cut") {
    const std::string full = zstd(data);
    const fs::path p = dir.path / "cut.zst";
    write_file(p, full.substr(0, full.size() / 2));
    const Read r = read_file(p, 100);
    CHECK(r.error == "truncated zstd data (the file ends inside a compressed frame)");
    CHECK(r.data.size() < data.size());
    CHECK(data.starts_with(r.data));
  }
  SUBCASE("corrupt data is a read error") {
    std::string bad = zstd(data, true);
    for (std::size_t i = bad.size() / 3; i < bad.size() / 3 + 16; ++i) bad[i] = static_cast<char>(bad[i] ^ 0x5a);
    const fs::path p = dir.path / "corrupt.zst";
    write_file(p, bad);
    const Read r = read_file(p);
    CHECK(r.error.starts_with("corrupt zstd data: "));
  }
  SUBCASE("other bytes after a frame are corrupt data") {
    const fs::path p = dir.path / "tail.zst";
    write_file(p, zstd("a\n") + "{\"not\":\"zstd\"}\n");
    const Read r = read_file(p);
    CHECK(r.data == "a\n");
    CHECK(r.error == "corrupt zstd data: unknown frame descriptor");
  }
}

TEST_CASE("gzip input is still decompressed") {
  TempDir dir;
  const fs::path p = dir.path / "spans.jsonl.gz";
  gzFile f = gzopen(p.c_str(), "wb");
  REQUIRE(f != nullptr);
  REQUIRE(gzwrite(f, "a\nb\n", 4) == 4);
  REQUIRE(gzclose(f) == Z_OK);
  const Read r = read_file(p);
  CHECK(r.error.empty());
  CHECK(r.data == "a\nb\n");
}

TEST_CASE("xz, bzip2 and lz4 input is refused with the command that decompresses it") {
  TempDir dir;
  const auto check = [&](const std::string& name, const std::string& magic, const std::string& tool) {
    CAPTURE(name);
    const fs::path p = dir.path / name;
    write_file(p, magic + "rest of the data");
    CHECK(refused(p) == tool + "-compressed input is not read; decompress it first: " + tool + " -dc " + p.string() +
                            " | trace-assemble -");
    CHECK(FileChunks::open(p.string(), 1 << 20, 1 << 20) == nullptr);
    CHECK(refused_compression(p.string()) == refused(p));
  };
  check("spans.jsonl.xz", std::string("\xfd\x37\x7a\x58\x5a\x00", 6), "xz");
  check("spans.jsonl.bz2", "BZh9\x31\x41\x59\x26\x53\x59", "bzip2");
  check("empty.bz2", "BZh1\x17\x72\x45\x38\x50\x90", "bzip2");
  check("spans.jsonl.lz4", "\x04\x22\x4d\x18", "lz4");
  check("legacy.lz4", "\x02\x21\x4c\x18", "lz4");

  SUBCASE("a name the shell would split is quoted") {
    const fs::path p = dir.path / "it's here.xz";
    write_file(p, std::string("\xfd\x37\x7a\x58\x5a\x00", 6));
    CHECK(refused(p) == "xz-compressed input is not read; decompress it first: xz -dc '" + dir.path.string() +
                            "/it'\\''s here.xz' | trace-assemble -");
  }
  SUBCASE("on stdin") {
    const fs::path p = dir.path / "stdin.bz2";
    write_file(p, "BZh9\x31\x41\x59\x26\x53\x59");
    const int saved = ::dup(0);
    const int fd = ::open(p.c_str(), O_RDONLY);
    REQUIRE(fd >= 0);
    ::dup2(fd, 0);
    ::close(fd);
    std::string error;
    const bool opened = open_input("-", error) != nullptr;
    ::dup2(saved, 0);
    ::close(saved);
    CHECK_FALSE(opened);
    CHECK(error == "bzip2-compressed input is not read; decompress it first: ... | bzip2 -dc | trace-assemble -");
  }
}

TEST_CASE("refused_compression looks only at regular files, and only refuses") {
  TempDir dir;
  const fs::path text = dir.path / "spans.jsonl";
  write_file(text, "{}\n");
  CHECK(refused_compression(text.string()).empty());
  const fs::path zst = dir.path / "spans.zst";
  write_file(zst, zstd("{}\n"));
  CHECK(refused_compression(zst.string()).empty());
  CHECK(refused_compression((dir.path / "missing.xz").string()).empty());
  CHECK(refused_compression(dir.path.string()).empty());
  CHECK(refused_compression("-").empty());
  const fs::path fifo = dir.path / "fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK(refused_compression(fifo.string()).empty());  // without waiting for a writer
}

TEST_CASE("text that only starts like a compressed file is text") {
  TempDir dir;
  for (const std::string text : {"BZh1 is not bzip2\n", "BZh", "(\xb5", "P*M\n"}) {
    CAPTURE(text);
    const fs::path p = dir.path / "text.jsonl";
    write_file(p, text);
    CHECK(read_file(p).data == text);
    CHECK(FileChunks::open(p.string(), 1 << 20, 1 << 20) != nullptr);
  }
}

TEST_CASE("compressed regular files are streamed, not read in chunks") {
  TempDir dir;
  const fs::path p = dir.path / "spans.zst";
  write_file(p, zstd("a\n"));
  CHECK(FileChunks::open(p.string(), 1 << 20, 1 << 20) == nullptr);
  write_file(p, std::string("\x1f\x8b", 2) + "rest");
  CHECK(FileChunks::open(p.string(), 1 << 20, 1 << 20) == nullptr);
  write_file(p, "{\"a\":1}\n");
  CHECK(FileChunks::open(p.string(), 1 << 20, 1 << 20) != nullptr);
}

TEST_CASE("a pipe's first byte is enough to open it: looking for a magic does not wait for more") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  REQUIRE(::write(fds[1], "{", 1) == 1);
  // Closed late, so that a reader waiting for more bytes shows as slow, not stuck.
  std::thread closer([&] {
    std::this_thread::sleep_for(std::chrono::seconds(3));
    ::close(fds[1]);
  });
  const auto start = std::chrono::steady_clock::now();
  std::string error;
  auto source = open_input("/proc/self/fd/" + std::to_string(fds[0]), error);
  const auto waited = std::chrono::steady_clock::now() - start;
  closer.join();
  REQUIRE(source);
  CHECK(waited < std::chrono::seconds(2));
  CHECK(read_all(*source).data == "{");
  ::close(fds[0]);
}

TEST_CASE("compression_of names what the first bytes show") {
  CHECK(compression_of("\x1f\x8b\x08") == Compression::kGzip);
  CHECK(compression_of("\x28\xb5\x2f\xfd") == Compression::kZstd);
  CHECK(compression_of("\x5f\x2a\x4d\x18") == Compression::kZstd);
  CHECK(compression_of("\x28\xb5\x2f") == Compression::kPlain);
  CHECK(compression_of("{\"traceId\":") == Compression::kPlain);
  CHECK(compression_of("") == Compression::kPlain);
}
