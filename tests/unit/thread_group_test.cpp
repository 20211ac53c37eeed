#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <new>
#include <stdexcept>
#include <thread>

#include "util/blocking_queue.h"
#include "util/memory.h"
#include "util/thread_group.h"

using namespace ta;

TEST_CASE("a thread's exception is rethrown by join, after the others stopped where they poll") {
  ThreadGroup group;
  std::atomic<int> stopped{0};
  for (int k = 0; k < 3; ++k)
    group.spawn("ta-test", [&] {
      while (!group.stopping()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      ++stopped;
    });
  group.spawn("ta-test", [] { throw std::bad_alloc(); });
  CHECK_THROWS_AS(group.join(), std::bad_alloc);
  CHECK(stopped == 3);
}

TEST_CASE("threads that end without an exception: join returns, and on_stop never runs") {
  bool on_stop = false;
  ThreadGroup group([&] { on_stop = true; });
  std::atomic<int> ran{0};
  for (int k = 0; k < 4; ++k) group.spawn("ta-test", [&] { ++ran; });
  group.join();
  CHECK(ran == 4);
  CHECK_FALSE(on_stop);
  CHECK_FALSE(group.stopping());
}

TEST_CASE("a consumer that dies does not leave its producer waiting on a full queue") {
  BlockingQueue<int> queue(2);
  ThreadGroup group([&] { queue.abandon(); });
  group.spawn("ta-test", [&] {
    queue.pop();
    throw std::bad_alloc();
  });
  int dropped = 0;
  for (int k = 0; k < 100; ++k) dropped += queue.push(k) ? 0 : 1;  // waits while full, until abandoned
  CHECK(dropped > 0);
  CHECK_THROWS_AS(group.join(), std::bad_alloc);
  CHECK_FALSE(queue.pop());
}

TEST_CASE("leaving the group by the caller's exception stops and joins its threads") {
  BlockingQueue<int> queue(1);
  std::atomic<bool> ended{false};
  try {
    ThreadGroup group([&] { queue.abandon(); });
    group.spawn("ta-test", [&] {
      while (queue.pop()) {
      }
      ended = true;
    });
    throw std::runtime_error("the caller failed");
  } catch (const std::runtime_error&) {
  }
  CHECK(ended);
}

TEST_CASE("resident memory is read, and a watch looks at it once per interval of work") {
  CHECK(resident_bytes() > 0);
  MemoryWatch none(0, 1);
  CHECK_FALSE(none.over(1'000'000));
  CHECK_FALSE(none.no_room_for(std::uint64_t{1} << 60));
  MemoryWatch tiny(1, 10);  // any process is over one byte
  CHECK_FALSE(tiny.over(9));  // not looked at yet
  CHECK(tiny.over(1));
  CHECK(tiny.over(0));  // stays over
  MemoryWatch large(std::uint64_t{1} << 60, 1);
  CHECK_FALSE(large.over(1));
  CHECK(large.no_room_for(std::uint64_t{1} << 60));
}
