#include "util/memory.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>

namespace ta {

std::uint64_t resident_bytes() {
  const int fd = ::open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char text[128];
  const ssize_t n = ::read(fd, text, sizeof text - 1);
  ::close(fd);
  if (n <= 0) return 0;
  text[n] = '\0';
  // "size resident shared ...", in pages.
  char* end = nullptr;
  std::strtoull(text, &end, 10);
  const unsigned long long resident = std::strtoull(end, nullptr, 10);
  return static_cast<std::uint64_t>(resident) * static_cast<std::uint64_t>(::sysconf(_SC_PAGE_SIZE));
}

}  // namespace ta
