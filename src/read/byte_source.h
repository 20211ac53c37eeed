// Where bytes come from: a file, stdin, or either through gzip or zstd.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace ta {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Bytes read into buf (0 at the end), or -1 on error; error() says why.
  virtual std::ptrdiff_t read(char* buf, std::size_t n) = 0;
  const std::string& error() const { return error_; }
  // Bytes taken from the underlying file (compressed size for gzip and zstd), for progress.
  std::size_t raw_bytes() const { return raw_bytes_; }
  bool compressed() const { return compressed_; }
  // The open file (from fstat): to tell when its name points elsewhere.
  struct Identity {
    dev_t dev = 0;
    ino_t ino = 0;
    bool regular = false;
  };
  const Identity& identity() const { return identity_; }

 protected:
  bool compressed_ = false;
  Identity identity_;
  std::string error_;
  std::size_t raw_bytes_ = 0;
};

// Opens `path` ("-" is stdin). Gzip and zstd data are recognised by their
// magic bytes, not the file name, and decompressed while streaming; xz,
// bzip2 and lz4 data are refused with the command that decompresses them.
// On failure returns nullptr and sets `error` to the reason; the caller
// names the path.
std::unique_ptr<ByteSource> open_input(const std::string& path, std::string& error);

enum class Compression { kPlain, kGzip, kZstd, kXz, kBzip2, kLz4 };
// The most first bytes compression_of looks at.
inline constexpr std::size_t kMagicBytes = 10;
// What an input's first bytes (kMagicBytes of them, or all it has) say it is.
Compression compression_of(std::string_view head);

// Why open_input would refuse the regular file at `path` for its compression
// (xz, bzip2, lz4), or "" when it would not. For a check before any input is
// read; nothing else is looked at (open_input says what else is wrong).
std::string refused_compression(const std::string& path);

}  // namespace ta
