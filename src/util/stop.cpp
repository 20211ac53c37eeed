#include "util/stop.h"

#include <atomic>
#include <csignal>

namespace ta {
namespace {

// Set by a signal handler and read by two threads: a lock-free atomic is
// safe for both.
std::atomic<int> g_stop{0};
static_assert(std::atomic<int>::is_always_lock_free);
bool g_interruptible = false;

extern "C" void on_stop_signal(int) { g_stop.store(1, std::memory_order_relaxed); }

}  // namespace

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a blocked read returns with EINTR
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  g_interruptible = true;
}

bool stop_requested() { return g_stop.load(std::memory_order_relaxed) != 0; }
void request_stop() { g_stop.store(1, std::memory_order_relaxed); }
bool interruptible_reads() { return g_interruptible; }

}  // namespace ta
