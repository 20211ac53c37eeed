#include "util/thread_group.h"

#include <pthread.h>

#include <cstdlib>
#include <new>
#include <string_view>
#include <utility>

namespace ta {
namespace {

// Test seam: TA_TEST_FAIL_THREAD=NAME[:N] makes the thread named NAME throw
// std::bad_alloc at its Nth poll of stopping() (the first when N is not
// given), or as it ends if it polls fewer times (a short-lived helper, such
// as the merge's), as if an allocation had failed there. Tests show with it
// that running out of memory in any thread ends the run cleanly.
thread_local unsigned t_fail_countdown = 0;

unsigned injected_failure(std::string_view thread) {
  const char* env = std::getenv("TA_TEST_FAIL_THREAD");
  if (!env) return 0;
  const std::string_view spec(env);
  const std::size_t colon = spec.find(':');
  if (spec.substr(0, colon) != thread) return 0;
  if (colon == std::string_view::npos) return 1;
  const unsigned n = static_cast<unsigned>(std::strtoul(env + colon + 1, nullptr, 10));
  return n ? n : 1;
}

}  // namespace

ThreadGroup::~ThreadGroup() {
  if (threads_.empty()) return;
  stop();
  for (std::thread& t : threads_)
    if (t.joinable()) t.join();
}

void ThreadGroup::enter(const char* name) {
  pthread_setname_np(pthread_self(), name);
  t_fail_countdown = injected_failure(name);
}

void ThreadGroup::leave() const {
  if (std::exchange(t_fail_countdown, 0u)) throw std::bad_alloc();
}

bool ThreadGroup::stopping() const {
  if (t_fail_countdown && --t_fail_countdown == 0) throw std::bad_alloc();
  return stopping_.load(std::memory_order_relaxed);
}

void ThreadGroup::stop() {
  std::call_once(stopped_, [this] {
    stopping_.store(true, std::memory_order_relaxed);
    if (on_stop_) on_stop_();
  });
}

void ThreadGroup::fail(std::exception_ptr e) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!error_) error_ = std::move(e);
  }
  stop();
}

void ThreadGroup::join() {
  for (std::thread& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
  std::exception_ptr e;
  {
    std::lock_guard<std::mutex> lock(mu_);
    e = std::exchange(error_, nullptr);
  }
  if (e) std::rethrow_exception(e);
}

}  // namespace ta
