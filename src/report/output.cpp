#include "report/output.h"

#include <unistd.h>

#include <cerrno>

namespace ta {

Output::~Output() {
  try {
    flush();
  } catch (const BrokenPipe&) {
  }
}

void Output::flush() {
  const char* p = buf_.data();
  std::size_t left = buf_.size();
  while (left > 0) {
    const ssize_t w = ::write(fd_, p, left);
    if (w < 0) {
      if (errno == EINTR) continue;
      buf_.clear();
      throw BrokenPipe{};  // EPIPE, or any other reason output cannot go on
    }
    p += w;
    left -= static_cast<std::size_t>(w);
  }
  buf_.clear();
}

}  // namespace ta
