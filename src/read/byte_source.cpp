#include "read/byte_source.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <string_view>
#include <vector>

#include "util/stop.h"

namespace ta {
namespace {

using namespace std::string_view_literals;

// Byte i of a magic is in [low[i], high[i]].
struct Magic {
  Compression kind;
  std::string_view low;
  std::string_view high;
};
constexpr Magic kMagics[] = {
    {Compression::kGzip, "\x1f\x8b"sv, "\x1f\x8b"sv},
    {Compression::kZstd, "\x28\xb5\x2f\xfd"sv, "\x28\xb5\x2f\xfd"sv},
    // A skippable frame, which pzstd writes first (lz4 has them too; zstd
    // is far likelier to start with one).
    {Compression::kZstd, "\x50\x2a\x4d\x18"sv, "\x5f\x2a\x4d\x18"sv},
    {Compression::kXz, "\xfd\x37\x7a\x58\x5a\x00"sv, "\xfd\x37\x7a\x58\x5a\x00"sv},
    // "BZh1".."BZh9", then a block's magic or, for no data, the end's, so
    // that text starting "BZh1" is still read as text.
    {Compression::kBzip2, "BZh1\x31\x41\x59\x26\x53\x59"sv, "BZh9\x31\x41\x59\x26\x53\x59"sv},
    {Compression::kBzip2, "BZh1\x17\x72\x45\x38\x50\x90"sv, "BZh9\x17\x72\x45\x38\x50\x90"sv},
    {Compression::kLz4, "\x04\x22\x4d\x18"sv, "\x04\x22\x4d\x18"sv},
    {Compression::kLz4, "\x02\x21\x4c\x18"sv, "\x02\x21\x4c\x18"sv},  // the legacy format
};

enum class Match { kNo, kPrefix, kWhole };

Match match(const Magic& m, std::string_view head) {
  const std::size_t n = std::min(head.size(), m.low.size());
  for (std::size_t i = 0; i < n; ++i) {
    const auto b = static_cast<unsigned char>(head[i]);
    if (b < static_cast<unsigned char>(m.low[i]) || b > static_cast<unsigned char>(m.high[i])) return Match::kNo;
  }
  return head.size() >= m.low.size() ? Match::kWhole : Match::kPrefix;
}

// More bytes could still make `head` a magic.
bool could_be_magic(std::string_view head) {
  for (const Magic& m : kMagics)
    if (match(m, head) == Match::kPrefix) return true;
  return false;
}

// `path` as one shell word.
std::string shell_word(const std::string& path) {
  const std::string word = path.starts_with('-') ? "./" + path : path;
  if (!word.empty() &&
      word.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./+,:@%=-") ==
          std::string::npos)
    return word;
  std::string quoted = "'";
  for (const char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

bool refused(Compression kind) {
  return kind == Compression::kXz || kind == Compression::kBzip2 || kind == Compression::kLz4;
}

std::string refusal(Compression kind, const std::string& path) {
  const std::string tool = kind == Compression::kXz ? "xz" : kind == Compression::kBzip2 ? "bzip2" : "lz4";
  const std::string decompress = path == "-" ? "... | " + tool + " -dc" : tool + " -dc " + shell_word(path);
  return tool + "-compressed input is not read; decompress it first: " + decompress + " | trace-assemble -";
}

// In live mode, waits until fd has data, looking at the stop flag between
// short waits. False when a stop was requested.
bool is_regular(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

// A regular file never blocks (and poll() before each read of one made the
// reads many times slower), so it is only checked for a stop.
bool wait_readable(int fd, bool regular) {
  if (!interruptible_reads()) return true;
  if (regular) return !stop_requested();
  for (;;) {
    if (stop_requested()) return false;
    pollfd p{fd, POLLIN, 0};
    const int r = ::poll(&p, 1, 200);
    if (r > 0 || (r < 0 && errno != EINTR)) return true;  // data, end, or an error for read() to report
  }
}

// Reads a file descriptor, first handing back bytes peeked at open time.
class FdSource final : public ByteSource {
 public:
  FdSource(int fd, bool owned, std::string peeked)
      : fd_(fd), owned_(owned), regular_(is_regular(fd)), peeked_(std::move(peeked)) {
    raw_bytes_ = peeked_.size();
    struct stat st {};
    if (::fstat(fd, &st) == 0) identity_ = {st.st_dev, st.st_ino, S_ISREG(st.st_mode)};
  }
  ~FdSource() override {
    if (owned_) ::close(fd_);
  }
  std::ptrdiff_t read(char* buf, std::size_t n) override {
    if (pos_ < peeked_.size()) {
      const std::size_t k = std::min(n, peeked_.size() - pos_);
      std::memcpy(buf, peeked_.data() + pos_, k);
      pos_ += k;
      return static_cast<std::ptrdiff_t>(k);
    }
    for (;;) {
      if (!wait_readable(fd_, regular_)) return 0;
      const ssize_t r = ::read(fd_, buf, n);
      if (r >= 0) {
        raw_bytes_ += static_cast<std::size_t>(r);
        return r;
      }
      if (errno == EINTR) continue;
      error_ = std::strerror(errno);
      return -1;
    }
  }
 private:
  int fd_;
  bool owned_;
  bool regular_;
  std::string peeked_;
  std::size_t pos_ = 0;
};

class GzipSource final : public ByteSource {
 public:
  explicit GzipSource(std::unique_ptr<FdSource> in) : in_(std::move(in)), buf_(256 * 1024) {
    raw_bytes_ = 0;
    compressed_ = true;
    identity_ = in_->identity();
    std::memset(&z_, 0, sizeof z_);
    ok_ = inflateInit2(&z_, 15 + 32) == Z_OK;  // 32: accept gzip and zlib headers
  }
  ~GzipSource() override { inflateEnd(&z_); }

  std::ptrdiff_t read(char* out, std::size_t n) override {
    if (!ok_) {
      error_ = "cannot initialise zlib";
      return -1;
    }
    if (failed_) return -1;  // the error was found after the bytes already handed back
    z_.next_out = reinterpret_cast<Bytef*>(out);
    z_.avail_out = static_cast<uInt>(std::min<std::size_t>(n, 1u << 30));
    while (z_.avail_out == static_cast<uInt>(std::min<std::size_t>(n, 1u << 30))) {
      if (z_.avail_in == 0 && !in_eof_) {
        const std::ptrdiff_t r = in_->read(buf_.data(), buf_.size());
        if (r < 0) {
          error_ = in_->error();
          return -1;
        }
        raw_bytes_ = in_->raw_bytes();
        if (r == 0 && stop_requested()) return 0;  // stopped (--follow): not a cut file
        if (r == 0) {
          in_eof_ = true;
        } else {
          z_.next_in = reinterpret_cast<Bytef*>(buf_.data());
          z_.avail_in = static_cast<uInt>(r);
        }
      }
      if (z_.avail_in == 0 && in_eof_) {
        if (in_member_) return fail("truncated gzip data (the file ends inside a compressed block)", n);
        break;  // clean end after a whole member
      }
      const int rc = inflate(&z_, Z_NO_FLUSH);
      if (rc == Z_STREAM_END) {
        in_member_ = false;
        inflateReset(&z_);  // a concatenated member may follow
        continue;
      }
      if (rc != Z_OK && rc != Z_BUF_ERROR)
        return fail(std::string("corrupt gzip data: ") + (z_.msg ? z_.msg : "inflate failed"), n);
      in_member_ = true;
    }
    return static_cast<std::ptrdiff_t>(std::min<std::size_t>(n, 1u << 30) - z_.avail_out);
  }

 private:
  // Bytes inflated before the damage are still good: hand them back now and
  // report the error on the next read.
  std::ptrdiff_t fail(std::string reason, std::size_t n) {
    error_ = std::move(reason);
    failed_ = true;
    const std::size_t produced = std::min<std::size_t>(n, 1u << 30) - z_.avail_out;
    return produced ? static_cast<std::ptrdiff_t>(produced) : -1;
  }

  std::unique_ptr<FdSource> in_;
  std::vector<char> buf_;
  z_stream z_;
  bool ok_ = false;
  bool in_eof_ = false;
  bool in_member_ = false;
  bool failed_ = false;
};

class ZstdSource final : public ByteSource {
 public:
  explicit ZstdSource(std::unique_ptr<FdSource> in)
      : in_(std::move(in)), buf_(256 * 1024), z_(ZSTD_createDCtx()) {
    compressed_ = true;
    identity_ = in_->identity();
    // libzstd refuses windows over 128 MiB unless told; a file made with
    // --long=31 needs up to 2 GiB, allocated only when a frame asks for it.
    if (z_) ZSTD_DCtx_setParameter(z_, ZSTD_d_windowLogMax, 31);
  }
  ~ZstdSource() override { ZSTD_freeDCtx(z_); }

  std::ptrdiff_t read(char* buf, std::size_t n) override {
    if (!z_) {
      error_ = "cannot initialise zstd";
      return -1;
    }
    if (failed_) return -1;  // the error was found after the bytes already handed back
    ZSTD_outBuffer out{buf, n, 0};
    while (out.pos == 0 && n > 0) {
      if (in_buf_.pos == in_buf_.size && !in_eof_) {
        const std::ptrdiff_t r = in_->read(buf_.data(), buf_.size());
        if (r < 0) {
          error_ = in_->error();
          return -1;
        }
        raw_bytes_ = in_->raw_bytes();
        if (r == 0 && stop_requested()) return 0;  // stopped (--follow): not a cut file
        if (r == 0) {
          in_eof_ = true;
        } else {
          in_buf_ = {buf_.data(), static_cast<std::size_t>(r), 0};
        }
      }
      if (in_buf_.pos == in_buf_.size && in_eof_ && !in_frame_) break;  // clean end after a whole frame
      const std::size_t rc = ZSTD_decompressStream(z_, &out, &in_buf_);
      if (ZSTD_isError(rc)) {
        std::string why = ZSTD_getErrorName(rc);
        if (!why.empty()) why[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(why[0])));
        return fail("corrupt zstd data: " + why, out.pos);
      }
      in_frame_ = rc != 0;  // a frame ended here; another may follow
      if (in_frame_ && in_eof_ && in_buf_.pos == in_buf_.size && out.pos == 0)
        return fail("truncated zstd data (the file ends inside a compressed frame)", out.pos);
    }
    return static_cast<std::ptrdiff_t>(out.pos);
  }

 private:
  // Bytes decompressed before the damage are still good: hand them back now
  // and report the error on the next read.
  std::ptrdiff_t fail(std::string reason, std::size_t produced) {
    error_ = std::move(reason);
    failed_ = true;
    return produced ? static_cast<std::ptrdiff_t>(produced) : -1;
  }

  std::unique_ptr<FdSource> in_;
  std::vector<char> buf_;
  ZSTD_DCtx* z_;
  ZSTD_inBuffer in_buf_{nullptr, 0, 0};
  bool in_eof_ = false;
  bool in_frame_ = false;
  bool failed_ = false;
};

}  // namespace

Compression compression_of(std::string_view head) {
  for (const Magic& m : kMagics)
    if (match(m, head) == Match::kWhole) return m.kind;
  return Compression::kPlain;
}

std::string refused_compression(const std::string& path) {
  if (path == "-") return {};
  // Only a regular file is looked at here. A named pipe opened and closed
  // again would let its writer go on (into a pipe that then has no reader:
  // what it wrote is lost, and the real open waits for a writer that has
  // gone); its bytes are judged as it is read.
  struct stat named {};
  if (::stat(path.c_str(), &named) != 0 || !S_ISREG(named.st_mode)) return {};
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return {};
  char head[kMagicBytes];
  const ssize_t got = is_regular(fd) ? ::pread(fd, head, sizeof head, 0) : -1;
  ::close(fd);
  if (got <= 0) return {};
  const Compression kind = compression_of({head, static_cast<std::size_t>(got)});
  return refused(kind) ? refusal(kind, path) : std::string();
}

std::unique_ptr<ByteSource> open_input(const std::string& path, std::string& error) {
  int fd = 0;
  const bool is_stdin = path == "-";
  if (!is_stdin) {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      error = std::strerror(errno);
      return nullptr;
    }
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
      ::close(fd);
      error = "is a directory (give the files in it, e.g. DIR/*.jsonl)";
      return nullptr;
    }
  }
  // Peek at the first bytes to recognise a compression, no more of them than
  // could be a magic: a pipe's first line may be all that has come yet.
  std::string peeked(kMagicBytes, '\0');
  std::size_t got = 0;
  while (got < kMagicBytes && (got == 0 || could_be_magic({peeked.data(), got}))) {
    if (!wait_readable(fd, is_regular(fd))) break;
    const ssize_t r = ::read(fd, peeked.data() + got, kMagicBytes - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      error = std::strerror(errno);
      if (!is_stdin) ::close(fd);
      return nullptr;
    }
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  peeked.resize(got);
  const Compression kind = compression_of(peeked);
  if (refused(kind)) {
    error = refusal(kind, path);
    if (!is_stdin) ::close(fd);
    return nullptr;
  }
  auto fd_source = std::make_unique<FdSource>(fd, !is_stdin, std::move(peeked));
  if (kind == Compression::kGzip) return std::make_unique<GzipSource>(std::move(fd_source));
  if (kind == Compression::kZstd) return std::make_unique<ZstdSource>(std::move(fd_source));
  return fd_source;
}

}  // namespace ta
