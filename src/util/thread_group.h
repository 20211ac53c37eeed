// Threads that run as one group. An exception in a thread (std::bad_alloc
// above all) would otherwise end the process in std::terminate: here the
// first one is kept, the other threads see stopping() and end early where
// they poll it, and join() rethrows it in the caller, whose handlers (main)
// turn it into a message and an exit code.
#pragma once

#include <atomic>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace ta {

class ThreadGroup {
 public:
  // `on_stop` runs once, on the first failure or when the group is left
  // without join() (the caller failed), before the threads are joined: it
  // wakes threads that may wait for the others (BlockingQueue::abandon).
  explicit ThreadGroup(std::function<void()> on_stop = {}) : on_stop_(std::move(on_stop)) {}
  ThreadGroup(const ThreadGroup&) = delete;
  ThreadGroup& operator=(const ThreadGroup&) = delete;
  // Stops and joins the threads not joined yet; their exception is dropped
  // (the caller is leaving with its own).
  ~ThreadGroup();

  // Runs f() on a new thread named `name` (15 bytes at most: top -H, gdb).
  template <typename F>
  void spawn(const char* name, F&& f) {
    threads_.emplace_back([this, name, f = std::forward<F>(f)]() mutable {
      enter(name);
      try {
        f();
        leave();
      } catch (...) {
        fail(std::current_exception());
      }
    });
  }

  // True once a thread failed or the group is being left: end early. The
  // group's threads poll it between units of work (a chunk, a partition).
  bool stopping() const;
  // Stops the group as a failure would, without an exception.
  void stop();
  // Joins every thread, then rethrows the first exception one threw.
  void join();
  bool empty() const { return threads_.empty(); }

 private:
  void enter(const char* name);
  void leave() const;  // the test seam's failure, if the thread never polled
  void fail(std::exception_ptr e);

  std::function<void()> on_stop_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
  std::once_flag stopped_;
  std::mutex mu_;
  std::exception_ptr error_;
};

}  // namespace ta
