// A byte source whose first bytes are looked at before it is read: its
// framing (lines or a whole document) is judged from them, and they are
// then read again as if they had not been taken.
#pragma once

#include <string>
#include <string_view>

#include "read/byte_source.h"

namespace ta {

class PeekedSource final : public ByteSource {
 public:
  explicit PeekedSource(ByteSource& inner) : inner_(inner) {
    compressed_ = inner.compressed();
    identity_ = inner.identity();
  }
  // Reads until the first line that is not blank is whole, `limit` bytes
  // came, or the input ended; false on a read error (error() says why).
  bool peek(std::size_t limit = 64u << 10);
  std::string_view head() const { return head_; }
  bool at_end() const { return ended_; }

  std::ptrdiff_t read(char* buf, std::size_t n) override;

 private:
  ByteSource& inner_;
  std::string head_;
  std::size_t given_ = 0;  // of head_, handed out by read
  bool ended_ = false;
};

}  // namespace ta
