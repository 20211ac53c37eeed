#include "read/file_chunks.h"

#include <fcntl.h>
#include <signal.h>
#include <simdjson.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <vector>

#include "read/byte_source.h"

namespace ta {
namespace {

// Bytes read past a chunk's cut in the first read: most last lines end there.
constexpr std::uint64_t kOverhang = 64u << 10;

// Reads n bytes at `offset` unless the file ends first; the bytes read, or
// -1 on error (errno set).
std::int64_t read_at(int fd, char* dst, std::uint64_t n, std::uint64_t offset) {
  std::uint64_t done = 0;
  while (done < n) {
    const ssize_t r = ::pread(fd, dst + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (r == 0) break;
    done += static_cast<std::uint64_t>(r);
  }
  return static_cast<std::int64_t>(done);
}

// Room for n bytes in buf, the first `keep` of them kept; the padding after
// them is zeroed once, when the buffer is made.
void make_room(FileChunks::Buffer& buf, std::size_t n, std::size_t keep) {
  if (buf.capacity >= n) return;
  const std::size_t capacity = std::max(n, buf.capacity * 2);
  std::unique_ptr<char[]> bigger(new char[capacity + simdjson::SIMDJSON_PADDING]);
  if (keep) std::memcpy(bigger.get(), buf.data.get(), keep);
  std::memset(bigger.get() + capacity, 0, simdjson::SIMDJSON_PADDING);
  buf.data = std::move(bigger);
  buf.capacity = capacity;
}

// The SIGBUS guard. Reading a mapped page past the end of a file that was
// cut shorter raises SIGBUS (BUS_ADRERR); the handler, finding the file
// shorter than it was mapped, maps zero pages over the rest of its mapping,
// notes the cut, and lets the read go on. Any other SIGBUS (an I/O error,
// a memory error, kill -BUS, an address outside the mapped files) goes to
// the disposition that was there before.
//
// An entry is read by the handler while other threads may be taking or
// freeing it: each change makes its version odd, then even again, and the
// handler uses only an entry it read whole between two equal, even
// versions.
struct GuardedMap {
  std::atomic<bool> taken{false};
  std::atomic<std::uint64_t> version{0};
  std::atomic<std::uintptr_t> begin{0}, end{0};
  std::atomic<int> fd{-1};
  std::atomic<std::uint64_t> size{0};  // of the file when it was mapped
  std::atomic<bool> cut{false};
};
constexpr int kGuarded = 64;  // files mapped at once; more are read into buffers
GuardedMap guarded[kGuarded];
std::uintptr_t page_bytes = 4096;
struct sigaction earlier_handler {};

// The entry whose mapping holds `at` and whose file is now shorter than it
// was mapped; nullptr when none is.
GuardedMap* cut_file_at(std::uintptr_t at, std::uintptr_t& end) {
  for (GuardedMap& m : guarded) {
    const std::uint64_t version = m.version.load(std::memory_order_acquire);
    if (version & 1) continue;
    const std::uintptr_t begin = m.begin.load(std::memory_order_acquire);
    end = m.end.load(std::memory_order_acquire);
    const int fd = m.fd.load(std::memory_order_acquire);
    const std::uint64_t size = m.size.load(std::memory_order_acquire);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (m.version.load(std::memory_order_relaxed) != version || at < begin || at >= end) continue;
    struct stat st {};
    if (::fstat(fd, &st) != 0 || static_cast<std::uint64_t>(st.st_size) >= size) return nullptr;
    return &m;
  }
  return nullptr;
}

void on_sigbus(int, siginfo_t* info, void*) {
  const int saved_errno = errno;
  std::uintptr_t end = 0;
  if (info->si_code == BUS_ADRERR) {
    const auto at = reinterpret_cast<std::uintptr_t>(info->si_addr);
    if (GuardedMap* m = cut_file_at(at, end)) {
      const std::uintptr_t page = at & ~(page_bytes - 1);
      void* zeros = ::mmap(reinterpret_cast<void*>(page), end - page, PROT_READ,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
      if (zeros != MAP_FAILED) {
        m->cut.store(true, std::memory_order_release);
        errno = saved_errno;
        return;
      }
    }
  }
  // Not a cut file's: the disposition from before takes it. A fault comes
  // again when the handler returns; a signal sent (si_code <= 0) is sent
  // again, and waits until then.
  ::sigaction(SIGBUS, &earlier_handler, nullptr);
  if (info->si_code <= 0) ::raise(SIGBUS);
  errno = saved_errno;
}

// An entry for [base, base + bytes) of the file open as fd, the guard
// installed on first use; -1 when every entry is taken.
int guard(const void* base, std::size_t bytes, int fd) {
  static std::once_flag installed;
  static bool ok = false;
  std::call_once(installed, [] {
    page_bytes = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
    struct sigaction action {};
    action.sa_sigaction = on_sigbus;
    action.sa_flags = SA_SIGINFO;
    sigemptyset(&action.sa_mask);
    ok = ::sigaction(SIGBUS, &action, &earlier_handler) == 0;
  });
  if (!ok) return -1;
  const auto begin = reinterpret_cast<std::uintptr_t>(base);
  for (int i = 0; i < kGuarded; ++i) {
    GuardedMap& m = guarded[i];
    bool free = false;
    if (!m.taken.compare_exchange_strong(free, true, std::memory_order_acq_rel)) continue;
    m.version.fetch_add(1, std::memory_order_acq_rel);
    m.begin.store(begin, std::memory_order_release);
    m.end.store((begin + bytes + page_bytes - 1) & ~(page_bytes - 1), std::memory_order_release);
    m.fd.store(fd, std::memory_order_release);
    m.size.store(bytes, std::memory_order_release);
    m.cut.store(false, std::memory_order_release);
    m.version.fetch_add(1, std::memory_order_acq_rel);
    return i;
  }
  return -1;
}

void unguard(int i) {
  GuardedMap& m = guarded[i];
  m.version.fetch_add(1, std::memory_order_acq_rel);
  m.end.store(0, std::memory_order_release);
  m.begin.store(0, std::memory_order_release);
  m.fd.store(-1, std::memory_order_release);
  m.version.fetch_add(1, std::memory_order_acq_rel);
  m.taken.store(false, std::memory_order_release);
}

// The pages of [from, to) given back, rounded out to 2 MiB: reading a
// byte maps the whole page-cache folio it lies in (up to 2 MiB, as one
// PMD), not just its page. A page of a neighbouring chunk that another
// thread still reads is read again from the page cache.
void let_go(const char* from, const char* to, const char* map_begin, const char* map_end) {
  constexpr std::uintptr_t kFolio = std::uintptr_t{2} << 20;
  const auto a = std::max(reinterpret_cast<std::uintptr_t>(from) & ~(kFolio - 1),
                          reinterpret_cast<std::uintptr_t>(map_begin));
  const std::uintptr_t b = std::min((reinterpret_cast<std::uintptr_t>(to) + kFolio - 1) & ~(kFolio - 1),
                                    (reinterpret_cast<std::uintptr_t>(map_end) + page_bytes - 1) & ~(page_bytes - 1));
  if (b > a) ::madvise(reinterpret_cast<void*>(a), b - a, MADV_DONTNEED);
}

}  // namespace

std::unique_ptr<FileChunks> FileChunks::open(const std::string& path, std::size_t chunk_bytes,
                                             std::size_t max_line_bytes) {
  if (path == "-") return nullptr;
  // Looked at before it is opened: opening a named pipe would wait for its
  // writer, and closing it again would lose what the writer wrote.
  struct stat named {};
  if (::stat(path.c_str(), &named) != 0 || !S_ISREG(named.st_mode)) return nullptr;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return nullptr;
  struct stat st {};
  char head[kMagicBytes];
  std::int64_t got = -1;
  const bool chunked = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
                       (got = read_at(fd, head, sizeof head, 0)) >= 0 &&
                       compression_of({head, static_cast<std::size_t>(got)}) == Compression::kPlain;
  if (!chunked) {
    ::close(fd);
    return nullptr;
  }
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  std::unique_ptr<FileChunks> file(new FileChunks(fd, static_cast<std::uint64_t>(st.st_size),
                                                  std::max<std::size_t>(chunk_bytes, 1), max_line_bytes));
  const auto bytes = static_cast<std::size_t>(st.st_size);
  void* map = ::mmap(nullptr, bytes, PROT_READ, MAP_PRIVATE, fd, 0);
  if (map != MAP_FAILED) {
    file->slot_ = guard(map, bytes, fd);
    if (file->slot_ >= 0) {
      file->map_ = static_cast<const char*>(map);
    } else {
      ::munmap(map, bytes);
    }
  }
  return file;
}

FileChunks::~FileChunks() { close_file(); }

void FileChunks::close_file() const {
  if (map_) {
    unguard(slot_);
    ::munmap(const_cast<char*>(map_), static_cast<std::size_t>(size_));
    map_ = nullptr;
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void FileChunks::done(Chunk& c) const {
  if (c.mapped_from) {
    let_go(c.mapped_from, c.mapped_to, map_, map_ + size_);
    if (guarded[slot_].cut.load(std::memory_order_acquire)) c.shrank = true;
  }
  if (done_.fetch_add(1, std::memory_order_acq_rel) + 1 == count()) close_file();
}

// The lines of chunk k where they lie in the mapping; false when they are
// better read into a buffer (see the header). Either way, the bytes looked
// at are out.mapped_from to out.mapped_to.
bool FileChunks::read_mapped(std::size_t k, Chunk& out) const {
  const std::uint64_t a = k * chunk_;
  const std::uint64_t b = std::min(a + chunk_, size_);
  // The file as it is now: shorter than at open, its pages past the end
  // cannot be read.
  struct stat st {};
  if (::fstat(fd_, &st) != 0 || static_cast<std::uint64_t>(st.st_size) < size_) return false;
  out.mapped_from = map_ + (a ? a - 1 : 0);
  std::uint64_t first = 0;
  if (a > 0) {
    const void* nl = std::memchr(map_ + a - 1, '\n', b - a);
    out.mapped_to = map_ + b;
    if (!nl) return true;  // inside one long line that an earlier chunk holds
    first = static_cast<std::uint64_t>(static_cast<const char*>(nl) - map_) + 1;
  }
  // The last line ends at the first newline from b - 1 on; one longer than
  // the limit is measured by the buffered reading.
  const std::uint64_t from = std::max(first, b - 1);
  const std::uint64_t look = std::min<std::uint64_t>(size_ - from, max_line_ + 2);
  const void* nl = look ? std::memchr(map_ + from, '\n', look) : nullptr;
  out.mapped_to = map_ + from + look;
  if (!nl) return false;
  const std::uint64_t stop = static_cast<std::uint64_t>(static_cast<const char*>(nl) - map_) + 1;
  out.mapped_to = map_ + std::min(stop + simdjson::SIMDJSON_PADDING, size_);
  if (stop + simdjson::SIMDJSON_PADDING > size_) return false;  // the padding would run past the file
  out.lines.data = map_ + first;
  out.lines.size = stop - first;
  out.lines.capacity = size_ - first;
  out.lines.first_line = 1;
  return true;
}

std::uint64_t FileChunks::bytes_of(std::size_t k) const {
  const std::uint64_t a = k * chunk_;
  return std::min(a + chunk_, size_) - a;
}

void FileChunks::read(std::size_t k, Buffer& buf, Chunk& out) const {
  out = Chunk{};
  const std::uint64_t a = k * chunk_;
  const std::uint64_t b = std::min(a + chunk_, size_);
  if (a >= b) return;
  if (map_) {
    if (read_mapped(k, out)) return;
    if (out.mapped_from) let_go(out.mapped_from, out.mapped_to, map_, map_ + size_);
    out = Chunk{};
  }
  // From the byte before the cut: a line starts at the cut when it is '\n'.
  const std::uint64_t off = a ? a - 1 : 0;
  std::uint64_t want = std::min(b - off + kOverhang, size_ - off);
  make_room(buf, want, 0);
  const std::int64_t got = read_at(fd_, buf.data.get(), want, off);
  if (got < 0) {
    out.error = std::strerror(errno);
    return;
  }
  auto have = static_cast<std::uint64_t>(got);
  bool end = off + have >= size_;
  if (have < want) out.shrank = end = true;
  const char* p = buf.data.get();

  // The first line starting in [a, b): at a for the first chunk, else after
  // the first newline in [a - 1, b - 1).
  std::uint64_t first = 0;
  if (a > 0) {
    const void* nl = std::memchr(p, '\n', std::min(b - a, have));
    if (!nl) return;  // inside one long line that an earlier chunk holds
    first = static_cast<std::uint64_t>(static_cast<const char*>(nl) - p) + 1;
  }
  // The last line starting before b ends at the first newline from b - 1 on.
  std::uint64_t from = std::max(first, std::min(b - 1 - off, have));
  std::uint64_t last_start = UINT64_MAX;
  std::uint64_t stop = 0;
  for (;;) {
    p = buf.data.get();
    if (const void* nl = std::memchr(p + from, '\n', have - from)) {
      stop = static_cast<std::uint64_t>(static_cast<const char*>(nl) - p) + 1;
      break;
    }
    if (end) {
      stop = have;
      break;
    }
    if (last_start == UINT64_MAX) {
      const std::uint64_t cut = std::max(first, std::min(b - 1 - off, have));
      const void* nl = cut > first ? memrchr(p + first, '\n', cut - first) : nullptr;
      last_start = nl ? static_cast<std::uint64_t>(static_cast<const char*>(nl) - p) + 1 : first;
    }
    if (have - last_start > max_line_ + 1) {
      // Too long to keep: measured to its end, then reported, not read.
      std::uint64_t len = have - last_start;
      char last = p[have - 1];
      std::vector<char> piece(1u << 20);
      for (std::uint64_t at = off + have;;) {
        const std::int64_t r = read_at(fd_, piece.data(), std::min<std::uint64_t>(piece.size(), size_ - at), at);
        if (r < 0) {
          out.error = std::strerror(errno);
          break;
        }
        if (r == 0) {
          if (at < size_) out.shrank = true;
          break;
        }
        const auto n = static_cast<std::uint64_t>(r);
        if (const void* nl = std::memchr(piece.data(), '\n', n)) {
          const auto i = static_cast<std::uint64_t>(static_cast<const char*>(nl) - piece.data());
          len += i;
          if (i > 0) last = piece[i - 1];
          break;
        }
        len += n;
        last = piece[n - 1];
        at += n;
      }
      // Measured as for_each_line measures a line: no '\r' before the '\n', no
      // BOM.
      out.oversized_bytes = len - (len > 0 && last == '\r') - (std::string_view(p + last_start, 3) == kBom ? 3 : 0);
      stop = last_start;
      break;
    }
    // A long last line: read on, twice as much each time.
    want = std::min(std::max(have * 2, have + chunk_), size_ - off);
    make_room(buf, want, have);
    const std::int64_t more = read_at(fd_, buf.data.get() + have, want - have, off + have);
    if (more < 0) {
      out.error = std::strerror(errno);
      stop = have;
      break;
    }
    from = have;
    have += static_cast<std::uint64_t>(more);
    if (have < want) out.shrank = end = true;
    end = end || off + have >= size_;
  }
  out.lines.data = buf.data.get() + first;
  out.lines.size = stop - first;
  out.lines.capacity = buf.capacity + simdjson::SIMDJSON_PADDING - first;
  out.lines.first_line = 1;
}

}  // namespace ta
