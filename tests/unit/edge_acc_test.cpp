#include <doctest/doctest.h>

#include "test_support.h"

#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "analyze/edge_acc.h"

using namespace ta;

namespace {

constexpr std::size_t kExact = std::numeric_limits<std::size_t>::max();

// `n` calls: every third unlogged (no gap), every fifth failed, and the
// first with a gap too wide for one call's place when `wide`.
EdgeAcc calls_of(int n, bool wide, std::vector<Nanos>& clients, std::uint64_t& errors) {
  EdgeAcc e;
  for (int i = 0; i < n; ++i) {
    const Nanos client = 1000 + 7 * i;
    const bool logged = i % 3 != 2;
    const Nanos gap = wide && i == 0 ? Nanos{5'000'000'000} : 10 + i;
    const bool error = i % 5 == 4;
    e.add(client, logged, gap, error, kExact);
    clients.push_back(client);
    errors += error;
  }
  return e;
}

// What the pair's values say its calls are, read from where they are kept.
std::uint64_t counted_in_values(const EdgeAcc& e) {
  if (const EdgeAcc::Samples* s = e.samples()) return s->client.count();
  if (const EdgeAcc::Few* f = e.few()) return f->calls;
  return e.calls();
}

}  // namespace

TEST_CASE("edge acc: calls counted in place through one call, a few and samples, and merged either way") {
  const std::vector<int> counts{0, 1, 2, 3, 31, 32, 33, 100};
  for (bool wide : {false, true}) {
    for (int n : counts) {
      for (int m : counts) {
        CAPTURE(wide);
        CAPTURE(n);
        CAPTURE(m);
        std::vector<Nanos> clients;
        std::uint64_t errors = 0;
        EdgeAcc a = calls_of(n, wide, clients, errors);
        EdgeAcc b = calls_of(m, false, clients, errors);
        CHECK(a.calls() == static_cast<std::uint64_t>(n));
        CHECK(b.calls() == static_cast<std::uint64_t>(m));
        CHECK(counted_in_values(a) == a.calls());
        CHECK(counted_in_values(b) == b.calls());
        a.merge(b);
        CHECK(a.calls() == static_cast<std::uint64_t>(n + m));
        CHECK(counted_in_values(a) == a.calls());
        CHECK(a.errors() == errors);
        // Moved, the count goes with the values.
        EdgeAcc moved = std::move(a);
        CHECK(moved.calls() == static_cast<std::uint64_t>(n + m));
        CHECK(a.calls() == 0);
        if (EdgeAcc::Samples* s = moved.samples()) {
          test_support::check_distribution(s->client.summarize(), distribution(clients));
        } else if (EdgeAcc::Few* f = moved.few()) {
          std::vector<Nanos> kept(f->client(), f->client() + f->calls);
          test_support::check_distribution(distribution(kept), distribution(clients));
        } else if (n + m == 1) {
          CHECK(moved.client() == clients.front());
        }
      }
    }
  }
}
