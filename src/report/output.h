// Buffered stdout. A reader that went away (`| head`) ends the run quietly.
#pragma once

#include <fmt/format.h>

#include <string_view>

namespace ta {

struct BrokenPipe {};  // thrown by Output, caught in main: exit quietly

class Output {
 public:
  explicit Output(int fd) : fd_(fd) {}
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
  fmt::memory_buffer buf_;
};

}  // namespace ta
