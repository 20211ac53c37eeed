// --max-memory: the process's resident memory, read from /proc at coarse
// intervals of work done, so that watching it costs nothing measurable.
#pragma once

#include <cstdint>

namespace ta {

// Resident memory from /proc/self/statm (no allocation); 0 if unknown.
std::uint64_t resident_bytes();

// One thread's view of the limit. Work is counted in any unit (bytes
// read, spans analysed); /proc is read once `interval` of it is done.
class MemoryWatch {
 public:
  // limit 0: no limit, never over.
  MemoryWatch(std::uint64_t limit, std::uint64_t interval) : limit_(limit), interval_(interval) {}
  // Counts `work` done; true once resident memory was found over the
  // limit (it stays true).
  bool over(std::uint64_t work) {
    if (!limit_ || over_) return over_;
    done_ += work;
    if (done_ < interval_) return false;
    done_ = 0;
    over_ = resident_bytes() > limit_;
    return over_;
  }
  // True when `extra` bytes more than are resident now would pass the
  // limit (read now: for a step known to be large before it is taken).
  bool no_room_for(std::uint64_t extra) const { return limit_ && resident_bytes() + extra > limit_; }
  std::uint64_t limit() const { return limit_; }

 private:
  std::uint64_t limit_;
  std::uint64_t interval_;
  std::uint64_t done_ = 0;
  bool over_ = false;
};

}  // namespace ta
