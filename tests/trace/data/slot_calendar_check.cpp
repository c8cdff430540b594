// Checks SlotCalendar (simulator/trace/src/slot_calendar.hpp) against a plain set of busy slots:
// random bookings with and without a limit, prunings, idle gaps and long requests; prints
// "ok <bookings>" or the first disagreement and exits 1.
#include <cstdio>
#include <cstdint>
#include <random>
#include <vector>

#include "slot_calendar.hpp"

namespace {

// The reference: slot j busy iff busy[j]; a booking takes the first free slots at or after start.
struct Reference {
  std::vector<bool> busy;
  int64_t book(int64_t start, int64_t k, int64_t limit, int64_t &left) {
    left = k;
    int64_t last_end = start;
    for (int64_t j = start; left > 0 && j < limit; ++j) {
      if (static_cast<size_t>(j) >= busy.size()) busy.resize(static_cast<size_t>(j) + 1024, false);
      if (busy[static_cast<size_t>(j)]) continue;
      busy[static_cast<size_t>(j)] = true;
      --left;
      last_end = j + 1;
    }
    return last_end;
  }
};

}  // namespace

int main() {
  std::mt19937_64 rng(12345);
  int64_t bookings = 0;
  for (int round = 0; round < 200; ++round) {
    npusim::SlotCalendar cal;
    Reference ref;
    int64_t horizon = 0;
    for (int step = 0; step < 400; ++step) {
      const int64_t start = horizon + static_cast<int64_t>(rng() % (round % 3 == 0 ? 2000 : 300));
      const int64_t k = rng() % 8 == 0 ? 1 + static_cast<int64_t>(rng() % 300) : 1 + static_cast<int64_t>(rng() % 6);
      const bool limited = rng() % 3 == 0;
      int64_t got, want, got_left = 0, want_left = 0;
      if (limited) {
        const int64_t limit = start + static_cast<int64_t>(rng() % 40);
        got = cal.book_limited(start, k, limit, got_left);
        want = ref.book(start, k, limit, want_left);
        if (got_left != want_left || (want_left == 0 && got != want)) {
          std::printf("round %d step %d: book_limited(%lld, %lld, %lld) = %lld left %lld, reference %lld left %lld\n",
                      round, step, (long long)start, (long long)k, (long long)limit, (long long)got,
                      (long long)got_left, (long long)want, (long long)want_left);
          return 1;
        }
      } else {
        got = cal.book(start, k);
        want = ref.book(start, k, npusim::SlotCalendar::kNoLimit, want_left);
        if (got != want) {
          std::printf("round %d step %d: book(%lld, %lld) = %lld, reference %lld\n", round, step, (long long)start,
                      (long long)k, (long long)got, (long long)want);
          return 1;
        }
      }
      ++bookings;
      if (rng() % 16 == 0) {  // no later booking starts before the horizon
        horizon += static_cast<int64_t>(rng() % 200);
        cal.prune(horizon);
      }
    }
  }
  std::printf("ok %lld\n", (long long)bookings);
  return 0;
}
