// Buffered output. On stdout, a reader that went away (`| head`) ends the
// run quietly, and any other failure to write (disk full, a closed
// descriptor) is an error; on stderr nothing that fails to be written may
// end the run, so it is dropped.
#pragma once

#include <fmt/format.h>

#include <cstring>
#include <string_view>

namespace ta {

struct BrokenPipe {};  // thrown by Output, caught in main: exit quietly
struct OutputError {  // thrown by Output, caught in main: a message, exit 2
  int error;          // errno
};

class Output {
 public:
  enum class OnError { kThrow, kDrop };
  // Controls in text from outside: escaped as the format requires, or all
  // of them (on stderr, which is read on a terminal; for JSON, C1, DEL and
  // bidirectional controls written as \uXXXX too).
  enum class Controls { kAsFormatNeeds, kAllEscaped };
  explicit Output(int fd, OnError on_error = OnError::kThrow, Controls controls = Controls::kAsFormatNeeds)
      : fd_(fd), on_error_(on_error), controls_(controls) {
    buf_.reserve(kFlushAt + 4096);
  }
  ~Output();
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;

  template <typename... Args>
  void print(fmt::format_string<Args...> f, Args&&... args) {
    fmt::format_to(fmt::appender(buf_), f, std::forward<Args>(args)...);
    if (buf_.size() >= kFlushAt) flush();
  }
  void write(std::string_view s) {
    const std::size_t n = buf_.size();
    if (s.size() <= buf_.capacity() - n) {  // nearly always: a short piece, copied where it goes
      buf_.resize(n + s.size());
      std::memcpy(buf_.data() + n, s.data(), s.size());
    } else {
      buf_.append(s.data(), s.data() + s.size());
    }
    if (buf_.size() >= kFlushAt) flush();
  }
  // A whole number in decimal, as print("{}", v) writes it.
  template <typename Int>
  void write_int(Int v) {
    const fmt::format_int text(v);
    write(std::string_view(text.data(), text.size()));
  }
  // Text between quotes, as it is (the caller has escaped it).
  void write_quoted(std::string_view s) {
    buf_.push_back('"');
    buf_.append(s.data(), s.data() + s.size());
    buf_.push_back('"');
    if (buf_.size() >= kFlushAt) flush();
  }
  void flush();
  Controls controls() const { return controls_; }

 private:
  static constexpr std::size_t kFlushAt = 1 << 16;
  int fd_;
  OnError on_error_;
  Controls controls_;
  fmt::memory_buffer buf_;
};

}  // namespace ta
