#include "read/mapped_file.h"

#include <fcntl.h>
#include <signal.h>
#include <simdjson.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <mutex>

namespace ta {
namespace {

// The mapped inputs, where the SIGBUS handler looks up a faulting address.
// Fixed slots of atomics: a signal handler can read them without a lock.
struct Slot {
  std::atomic<bool> used{false};
  std::atomic<std::uintptr_t> begin{0}, end{0};  // end rounded up to a page
  std::atomic<std::atomic<bool>*> shrank{nullptr};
};
constexpr int kSlots = 256;
Slot g_slots[kSlots];
std::uintptr_t g_page = 4096;
struct sigaction g_previous {};
std::once_flag g_installed;

// A read past the end of a file that shrank after it was mapped: the rest of
// the mapping becomes zero pages, the file is marked, and the read goes on.
void on_sigbus(int sig, siginfo_t* info, void* context) {
  const auto addr = reinterpret_cast<std::uintptr_t>(info->si_addr);
  if (info->si_code > 0) {
    for (Slot& s : g_slots) {
      const std::uintptr_t begin = s.begin.load(std::memory_order_acquire);
      const std::uintptr_t end = s.end.load(std::memory_order_acquire);
      if (begin == 0 || addr < begin || addr >= end) continue;
      const std::uintptr_t page = addr & ~(g_page - 1);
      if (::mmap(reinterpret_cast<void*>(page), end - page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
                 0) == MAP_FAILED)
        break;
      if (std::atomic<bool>* flag = s.shrank.load(std::memory_order_acquire))
        flag->store(true, std::memory_order_relaxed);
      return;
    }
  }
  // Not a mapped input: whatever would have happened without this handler.
  ::sigaction(SIGBUS, &g_previous, nullptr);
  if (g_previous.sa_flags & SA_SIGINFO) {
    if (g_previous.sa_sigaction) g_previous.sa_sigaction(sig, info, context);
  } else if (g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN) {
    g_previous.sa_handler(sig);
  } else if (info->si_code <= 0) {
    ::raise(sig);  // sent, not a fault: returning would not repeat it
  }
  // A fault repeats when the handler returns, now with the old action.
}

void install_handler() {
  std::call_once(g_installed, [] {
    g_page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
    struct sigaction action {};
    action.sa_sigaction = on_sigbus;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGBUS, &action, &g_previous);
  });
}

int take_slot() {
  for (int i = 0; i < kSlots; ++i) {
    bool expected = false;
    if (g_slots[i].used.compare_exchange_strong(expected, true)) return i;
  }
  return -1;
}

}  // namespace

std::shared_ptr<MappedFile> MappedFile::open(const std::string& path, std::atomic<bool>* shrank) {
  if (path == "-") return nullptr;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return nullptr;  // the reading path reports why
  struct stat st {};
  unsigned char magic[2] = {0, 0};
  const bool mappable = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
                        !(::pread(fd, magic, 2, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b);
  install_handler();
  static_assert(simdjson::SIMDJSON_PADDING <= 4096, "the padding fits in the page after the file");
  // The file, then a page of zeros: the last line has the parser's padding
  // after it too, so no chunk is ever copied.
  const std::size_t size = static_cast<std::size_t>(st.st_size);
  const std::size_t mapped = ((size + g_page - 1) & ~(g_page - 1)) + g_page;
  void* region = mappable ? ::mmap(nullptr, mapped, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) : MAP_FAILED;
  void* p = region == MAP_FAILED ? MAP_FAILED : ::mmap(region, size, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0);
  ::close(fd);
  if (p == MAP_FAILED) {
    if (region != MAP_FAILED) ::munmap(region, mapped);
    return nullptr;
  }
  const int slot = take_slot();
  if (slot < 0) {
    ::munmap(region, mapped);
    return nullptr;
  }
  std::shared_ptr<MappedFile> file(new MappedFile);
  file->data_ = static_cast<const char*>(p);
  file->size_ = size;
  file->mapped_ = mapped;
  file->slot_ = slot;
  Slot& s = g_slots[slot];
  const auto begin = reinterpret_cast<std::uintptr_t>(p);
  s.shrank.store(shrank, std::memory_order_release);
  s.end.store((begin + file->size_ + g_page - 1) & ~(g_page - 1), std::memory_order_release);
  s.begin.store(begin, std::memory_order_release);
  return file;
}

MappedFile::~MappedFile() {
  Slot& s = g_slots[slot_];
  s.begin.store(0, std::memory_order_release);
  s.end.store(0, std::memory_order_release);
  s.shrank.store(nullptr, std::memory_order_release);
  ::munmap(const_cast<char*>(data_), mapped_);
  s.used.store(false, std::memory_order_release);
}

void MappedFile::release(const char* begin, std::size_t n) const {
  const auto lo = (reinterpret_cast<std::uintptr_t>(begin) + g_page - 1) & ~(g_page - 1);
  const auto hi = (reinterpret_cast<std::uintptr_t>(begin) + n) & ~(g_page - 1);
  if (hi > lo) ::madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_DONTNEED);
}

MappedLineReader::MappedLineReader(std::shared_ptr<MappedFile> file, std::size_t chunk_bytes,
                                   std::size_t max_line_bytes)
    : file_(std::move(file)),
      window_(std::max<std::size_t>(std::min(chunk_bytes, max_line_bytes + 2), 3)),
      max_line_(max_line_bytes) {}

bool MappedLineReader::next(LineChunk& chunk) {
  const std::size_t size = file_->size();
  if (pos_ >= size) return false;
  const char* base = file_->data() + pos_;
  const std::size_t avail = size - pos_;
  std::size_t take = avail;
  if (avail > window_) {
    if (const void* nl = memrchr(base, '\n', window_)) {
      take = static_cast<std::size_t>(static_cast<const char*>(nl) - base) + 1;
    } else {
      // One line longer than the window: whole if within the limit, as
      // LineReader grows its buffer; else cut out and reported.
      const void* nl_after = std::memchr(base + window_, '\n', avail - window_);
      const std::size_t len = nl_after ? static_cast<std::size_t>(static_cast<const char*>(nl_after) - base) : avail;
      if (len > max_line_ + 1) {
        chunk = LineChunk{};
        chunk.oversized_line = next_line_++;
        chunk.oversized_bytes = len - (len > 0 && base[len - 1] == '\r');
        pos_ += nl_after ? len + 1 : len;
        return true;
      }
      take = nl_after ? len + 1 : avail;
    }
  }
  chunk = LineChunk{};
  chunk.size = take;
  chunk.first_line = next_line_;
  chunk.newlines = count_newlines(base, take);
  next_line_ += chunk.newlines + (base[take - 1] == '\n' ? 0 : 1);
  chunk.data = base;
  chunk.capacity = file_->readable() - pos_;  // past the end: zeros (MappedFile::open)
  pos_ += take;
  return true;
}

}  // namespace ta
