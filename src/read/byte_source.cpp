#include "read/byte_source.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "util/stop.h"

namespace ta {
namespace {

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

}  // namespace

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
  // Peek at the first bytes to recognise gzip.
  std::string peeked(2, '\0');
  std::size_t got = 0;
  while (got < 2) {
    if (!wait_readable(fd, is_regular(fd))) break;
    const ssize_t r = ::read(fd, peeked.data() + got, 2 - got);
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
  const bool gzip = got == 2 && static_cast<unsigned char>(peeked[0]) == 0x1f &&
                    static_cast<unsigned char>(peeked[1]) == 0x8b;
  auto fd_source = std::make_unique<FdSource>(fd, !is_stdin, std::move(peeked));
  if (gzip) return std::make_unique<GzipSource>(std::move(fd_source));
  return fd_source;
}

}  // namespace ta
