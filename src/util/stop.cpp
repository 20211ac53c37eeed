#include "util/stop.h"

#include <csignal>

namespace ta {
namespace {

volatile std::sig_atomic_t g_stop = 0;
bool g_interruptible = false;

extern "C" void on_stop_signal(int) { g_stop = 1; }

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

bool stop_requested() { return g_stop != 0; }
void request_stop() { g_stop = 1; }
bool interruptible_reads() { return g_interruptible; }

}  // namespace ta
