#include "read/file_chunks.h"

#include <fcntl.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "read/byte_source.h"

namespace ta {
namespace {

// Bytes read past a chunk's cut in the first read: most last lines end there.
constexpr std::uint64_t kOverhang = 64u << 10;

// Reads n bytes at `offset` unless the file ends first; the bytes read, or
// -1 on error (errno set).
std::int64_t read_at(int fd, char* dst, std::uint64_t n, std::uint64_t offset) {
  std::uint64_t done = 0;
  while (done < n) {
    const ssize_t r = ::pread(fd, dst + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (r == 0) break;
    done += static_cast<std::uint64_t>(r);
  }
  return static_cast<std::int64_t>(done);
}

// Room for n bytes in buf, the first `keep` of them kept; the padding after
// them is zeroed once, when the buffer is made.
void make_room(FileChunks::Buffer& buf, std::size_t n, std::size_t keep) {
  if (buf.capacity >= n) return;
  const std::size_t capacity = std::max(n, buf.capacity * 2);
  std::unique_ptr<char[]> bigger(new char[capacity + simdjson::SIMDJSON_PADDING]);
  if (keep) std::memcpy(bigger.get(), buf.data.get(), keep);
  std::memset(bigger.get() + capacity, 0, simdjson::SIMDJSON_PADDING);
  buf.data = std::move(bigger);
  buf.capacity = capacity;
}

}  // namespace

std::unique_ptr<FileChunks> FileChunks::open(const std::string& path, std::size_t chunk_bytes,
                                             std::size_t max_line_bytes) {
  if (path == "-") return nullptr;
  // Looked at before it is opened: opening a named pipe would wait for its
  // writer, and closing it again would lose what the writer wrote.
  struct stat named {};
  if (::stat(path.c_str(), &named) != 0 || !S_ISREG(named.st_mode)) return nullptr;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return nullptr;
  struct stat st {};
  char head[kMagicBytes];
  std::int64_t got = -1;
  const bool chunked = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
                       (got = read_at(fd, head, sizeof head, 0)) >= 0 &&
                       compression_of({head, static_cast<std::size_t>(got)}) == Compression::kPlain;
  if (!chunked) {
    ::close(fd);
    return nullptr;
  }
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  return std::unique_ptr<FileChunks>(new FileChunks(fd, static_cast<std::uint64_t>(st.st_size),
                                                    std::max<std::size_t>(chunk_bytes, 1), max_line_bytes));
}

FileChunks::~FileChunks() { ::close(fd_); }

std::uint64_t FileChunks::bytes_of(std::size_t k) const {
  const std::uint64_t a = k * chunk_;
  return std::min(a + chunk_, size_) - a;
}

void FileChunks::read(std::size_t k, Buffer& buf, Chunk& out) const {
  out = Chunk{};
  const std::uint64_t a = k * chunk_;
  const std::uint64_t b = std::min(a + chunk_, size_);
  if (a >= b) return;
  // From the byte before the cut: a line starts at the cut when it is '\n'.
  const std::uint64_t off = a ? a - 1 : 0;
  std::uint64_t want = std::min(b - off + kOverhang, size_ - off);
  make_room(buf, want, 0);
  const std::int64_t got = read_at(fd_, buf.data.get(), want, off);
  if (got < 0) {
    out.error = std::strerror(errno);
    return;
  }
  auto have = static_cast<std::uint64_t>(got);
  bool end = off + have >= size_;
  if (have < want) out.shrank = end = true;
  const char* p = buf.data.get();

  // The first line starting in [a, b): at a for the first chunk, else after
  // the first newline in [a - 1, b - 1).
  std::uint64_t first = 0;
  if (a > 0) {
    const void* nl = std::memchr(p, '\n', std::min(b - a, have));
    if (!nl) return;  // inside one long line that an earlier chunk holds
    first = static_cast<std::uint64_t>(static_cast<const char*>(nl) - p) + 1;
  }
  // The last line starting before b ends at the first newline from b - 1 on.
  std::uint64_t from = std::max(first, std::min(b - 1 - off, have));
  std::uint64_t last_start = UINT64_MAX;
  std::uint64_t stop = 0;
  for (;;) {
    p = buf.data.get();
    if (const void* nl = std::memchr(p + from, '\n', have - from)) {
      stop = static_cast<std::uint64_t>(static_cast<const char*>(nl) - p) + 1;
      break;
    }
    if (end) {
      stop = have;
      break;
    }
    if (last_start == UINT64_MAX) {
      const std::uint64_t cut = std::max(first, std::min(b - 1 - off, have));
      const void* nl = cut > first ? memrchr(p + first, '\n', cut - first) : nullptr;
      last_start = nl ? static_cast<std::uint64_t>(static_cast<const char*>(nl) - p) + 1 : first;
    }
    if (have - last_start > max_line_ + 1) {
      // Too long to keep: measured to its end, then reported, not read.
      std::uint64_t len = have - last_start;
      char last = p[have - 1];
      std::vector<char> piece(1u << 20);
      for (std::uint64_t at = off + have;;) {
        const std::int64_t r = read_at(fd_, piece.data(), std::min<std::uint64_t>(piece.size(), size_ - at), at);
        if (r < 0) {
          out.error = std::strerror(errno);
          break;
        }
        if (r == 0) {
          if (at < size_) out.shrank = true;
          break;
        }
        const auto n = static_cast<std::uint64_t>(r);
        if (const void* nl = std::memchr(piece.data(), '\n', n)) {
          const auto i = static_cast<std::uint64_t>(static_cast<const char*>(nl) - piece.data());
          len += i;
          if (i > 0) last = piece[i - 1];
          break;
        }
        len += n;
        last = piece[n - 1];
        at += n;
      }
      // Measured as for_each_line measures a line: no '\r' before the '\n', no
      // BOM.
      out.oversized_bytes = len - (len > 0 && last == '\r') - (std::string_view(p + last_start, 3) == kBom ? 3 : 0);
      stop = last_start;
      break;
    }
    // A long last line: read on, twice as much each time.
    want = std::min(std::max(have * 2, have + chunk_), size_ - off);
    make_room(buf, want, have);
    const std::int64_t more = read_at(fd_, buf.data.get() + have, want - have, off + have);
    if (more < 0) {
      out.error = std::strerror(errno);
      stop = have;
      break;
    }
    from = have;
    have += static_cast<std::uint64_t>(more);
    if (have < want) out.shrank = end = true;
    end = end || off + have >= size_;
  }
  out.lines.data = buf.data.get() + first;
  out.lines.size = stop - first;
  out.lines.capacity = buf.capacity + simdjson::SIMDJSON_PADDING - first;
  out.lines.first_line = 1;
}

}  // namespace ta
