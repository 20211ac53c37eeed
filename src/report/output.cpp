#include "report/output.h"

#include <unistd.h>

#include <cerrno>

namespace ta {

Output::~Output() {
  // Reached on the way out of a failed run too: what cannot be written now
  // is lost without a second error.
  on_error_ = OnError::kDrop;
  flush();
}

void Output::flush() {
  const char* p = buf_.data();
  std::size_t left = buf_.size();
  while (left > 0) {
    const ssize_t w = ::write(fd_, p, left);
    if (w < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      buf_.clear();
      if (on_error_ == OnError::kDrop) return;
      if (error == EPIPE) throw BrokenPipe{};
      throw OutputError{error};
    }
    p += w;
    left -= static_cast<std::size_t>(w);
  }
  buf_.clear();
}

}  // namespace ta
