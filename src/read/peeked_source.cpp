#include "read/peeked_source.h"

#include <algorithm>
#include <cstring>

namespace ta {
namespace {

// The head holds a whole line that is not blank.
bool has_first_line(std::string_view head) {
  const std::size_t text = head.find_first_not_of(" \t\r\n");
  return text != std::string_view::npos && head.find('\n', text) != std::string_view::npos;
}

}  // namespace

bool PeekedSource::peek(std::size_t limit) {
  char buf[16 << 10];
  while (head_.size() < limit && !has_first_line(head_)) {
    const std::ptrdiff_t n = inner_.read(buf, std::min(sizeof buf, limit - head_.size()));
    raw_bytes_ = inner_.raw_bytes();
    if (n < 0) {
      error_ = inner_.error();
      return false;
    }
    if (n == 0) {
      ended_ = true;
      break;
    }
    head_.append(buf, static_cast<std::size_t>(n));
  }
  return true;
}

std::ptrdiff_t PeekedSource::read(char* buf, std::size_t n) {
  if (given_ < head_.size()) {
    const std::size_t k = std::min(n, head_.size() - given_);
    std::memcpy(buf, head_.data() + given_, k);
    given_ += k;
    return static_cast<std::ptrdiff_t>(k);
  }
  // The inner source is asked again even after it ended: a followed file grows.
  const std::ptrdiff_t got = inner_.read(buf, n);
  raw_bytes_ = inner_.raw_bytes();
  if (got < 0) error_ = inner_.error();
  return got;
}

}  // namespace ta
