// Buffered output. On stdout, a reader that went away (`| head`) ends the
// run quietly, and any other failure to write (disk full, a closed
// descriptor) is an error; on stderr nothing that fails to be written may
// end the run, so it is dropped.
#pragma once

#include <fmt/format.h>

#include <string_view>

namespace ta {

struct BrokenPipe {};  // thrown by Output, caught in main: exit quietly
struct OutputError {  // thrown by Output, caught in main: a message, exit 2
  int error;          // errno
};

class Output {
 public:
  enum class OnError { kThrow, kDrop };
  explicit Output(int fd, OnError on_error = OnError::kThrow) : fd_(fd), on_error_(on_error) {}
  ~Output();
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;

  template <typename... Args>
  void print(fmt::format_string<Args...> f, Args&&... args) {
    fmt::format_to(std::back_inserter(buf_), f, std::forward<Args>(args)...);
    if (buf_.size() >= kFlushAt) flush();
  }
  void write(std::string_view s) {
    buf_.append(s.data(), s.data() + s.size());
    if (buf_.size() >= kFlushAt) flush();
  }
  void flush();

 private:
  static constexpr std::size_t kFlushAt = 1 << 16;
  int fd_;
  OnError on_error_;
  fmt::memory_buffer buf_;
};

}  // namespace ta
