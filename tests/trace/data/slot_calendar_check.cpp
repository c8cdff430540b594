// Checks SlotCalendar and ChannelSlots (simulator/trace/src/slot_calendar.hpp) against a plain set
// of busy slots per channel: random bookings with and without a limit, prunings, idle gaps and long
// requests (ChannelSlots: several channels at once, each with its own count, and the counts'
// uniform / drop), and slot_ceil_index against the division it stands for; prints
// "ok <bookings>" or the first disagreement and exits 1.
#include <algorithm>
#include <cmath>
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

// slot_ceil_index(t, b, 1 / b) against the least integer >= t / b - 1e-6 (the division alone), on
// times at, and a few units in the last place around, the points where that ceiling steps (the
// product and the quotient round differently there), at slot boundaries, and at random, for burst
// lengths of real configs and random ones, up to 2^27 slots (past the product's range).
int check_slot_ceil_index(std::mt19937_64 &rng, int64_t &checks) {
  auto by_division = [](double t, double b) {
    const double slots = t / b - 1e-6;
    int64_t slot = static_cast<int64_t>(slots);
    if (static_cast<double>(slot) < slots) ++slot;
    return slot;
  };
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const double configs[] = {64.0 / (30.0 * 1000 / 940), 64.0 / (32.0 * 1000 / 940), 1.0, 2.0, 0.75, 1.7};
  for (int round = 0; round < 2000; ++round) {
    const double b = round < 6 ? configs[round] : 0.25 + 8 * unit(rng);
    const double inv = 1.0 / b;
    for (int step = 0; step < 500; ++step) {
      const int64_t k = static_cast<int64_t>(std::ldexp(unit(rng), static_cast<int>(rng() % 28)));
      double t;
      switch (rng() % 4) {
        case 0: t = (static_cast<double>(k) + 1e-6) * b; break;  // where the ceiling steps
        case 1: t = static_cast<double>(k) * b; break;           // a slot boundary
        case 2: t = (static_cast<double>(k) + 1e-6 + (unit(rng) - 0.5) * 2e-7) * b; break;  // near the step
        default: t = (static_cast<double>(k) + unit(rng)) * b; break;
      }
      for (int ulps = static_cast<int>(rng() % 9) - 4; ulps < 0; ++ulps) t = std::nextafter(t, 0.0);
      for (int ulps = static_cast<int>(rng() % 9) - 4; ulps > 0; --ulps) t = std::nextafter(t, 1e300);
      if (t < 0) t = 0;
      const int64_t got = npusim::slot_ceil_index(t, b, inv), want = by_division(t, b);
      ++checks;
      if (got != want) {
        std::printf("slot_ceil_index(%.17g, burst %.17g) = %lld, by division %lld\n", t, b, (long long)got,
                    (long long)want);
        return 1;
      }
    }
  }
  return 0;
}

}  // namespace

// ChannelSlots against one Reference per channel: each booking gives a random set of channels
// counts of two neighbouring values (as a DRAM request's shares) or arbitrary ones (writes left
// over), few or many slots, from one start, with or without a limit.
int check_channel_slots(std::mt19937_64 &rng, int64_t &bookings) {
  for (int round = 0; round < 100; ++round) {
    const int channels = 1 + static_cast<int>(rng() % 64);
    npusim::ChannelSlots cal;
    std::vector<Reference> ref(static_cast<size_t>(channels));
    int64_t horizon = static_cast<int64_t>(rng() % 100);
    cal.start_at(horizon);
    for (int step = 0; step < 300; ++step) {
      const int64_t start = horizon + static_cast<int64_t>(rng() % (round % 3 == 0 ? 2000 : 200));
      const bool long_request = rng() % 8 == 0;
      const int64_t base = long_request ? static_cast<int64_t>(rng() % 400) : static_cast<int64_t>(rng() % (step % 2 ? 6 : 15));
      const bool mixed = rng() % 4 == 0;
      npusim::ChannelSlots::Counts counts;
      std::vector<int64_t> k(static_cast<size_t>(channels), 0);
      for (int c = 0; c < channels; ++c) {
        if (step % 3 && rng() % 5 == 0) continue;  // not touched (every channel in a third of the bookings)
        k[static_cast<size_t>(c)] = mixed ? static_cast<int64_t>(rng() % (base + 2)) : base + static_cast<int64_t>(rng() % 2);
        if (mixed) counts.set(uint64_t{1} << c, k[static_cast<size_t>(c)]);
      }
      if (!mixed) {  // as a request's shares
        uint64_t less = 0, more = 0;
        for (int c = 0; c < channels; ++c)
          if (k[static_cast<size_t>(c)] == base + 1) more |= uint64_t{1} << c;
          else if (k[static_cast<size_t>(c)] == base && base > 0) less |= uint64_t{1} << c;
        counts.two(less, base, more, base + 1);
      }
      const int64_t limit = rng() % 3 == 0 ? start + static_cast<int64_t>(rng() % 60) : npusim::SlotCalendar::kNoLimit;
      // from a start after every booking, with a request's shares: the booking without a scan
      uint64_t more = 0, less = 0;
      for (int c = 0; c < channels; ++c)
        if (k[static_cast<size_t>(c)] == base + 1) more |= uint64_t{1} << c;
        else if (k[static_cast<size_t>(c)] == base) less |= uint64_t{1} << c;
      uint64_t booking = 0;  // the channels with slots to book
      for (int c = 0; c < channels; ++c)
        if (k[static_cast<size_t>(c)] > 0) booking |= uint64_t{1} << c;
      // from the first slot where one of them is free (the same bookings; none completed: got == from)
      const int64_t from = rng() % 2 ? cal.first_free(start, limit, booking) : start;
      // a request's shares: first without the count, when their slots are free (as a DRAM read)
      int64_t got = -1;
      if (!mixed && (less | more) && cal.free_from(from) && from + base + 1 <= limit && rng() % 2)
        got = cal.book_free(from, less, base, more);  // (a request touches some channel)
      else if (!mixed && rng() % 2)
        got = cal.book_two(from, less, base, more, limit);
      const bool two = got >= 0;
      if (two) counts = npusim::ChannelSlots::Counts();  // nothing left
      uint64_t left_mask = 0;
      if (!two) got = cal.book(from, limit, counts, left_mask);
      if (!two && left_mask != counts.nonzero()) {
        std::printf("channel slots round %d step %d: channels left %llx, counts %llx\n", round, step,
                    (unsigned long long)left_mask, (unsigned long long)counts.nonzero());
        return 1;
      }
      if (!two) {  // uniform and drop (drain_joint's partly booked heads) against the counts one by one
        const uint64_t mask = rng() % 2 ? left_mask : rng() & counts.nonzero();
        int64_t same = -2;  // the one count of mask's channels, -1 when they differ
        for (int c = 0; c < channels; ++c)
          if ((mask >> c) & 1) same = same == -2 || same == counts.get(c) ? counts.get(c) : -1;
        if (mask && counts.uniform(mask) != same) {
          std::printf("channel slots round %d step %d: uniform(%llx) = %lld, reference %lld\n", round, step,
                      (unsigned long long)mask, (long long)counts.uniform(mask), (long long)same);
          return 1;
        }
        npusim::ChannelSlots::Counts dropped = counts;
        dropped.drop(mask);
        for (int c = 0; c < channels; ++c)
          if (dropped.get(c) != ((mask >> c) & 1 ? 0 : counts.get(c)) ||
              (dropped.planes > 0 && dropped.plane[dropped.planes - 1] == 0)) {
            std::printf("channel slots round %d step %d: drop(%llx) gives channel %d %lld (planes %d)\n", round, step,
                        (unsigned long long)mask, c, (long long)dropped.get(c), dropped.planes);
            return 1;
          }
      }
      int64_t want = from;
      for (int c = 0; c < channels; ++c) {
        int64_t left = 0;
        if (k[static_cast<size_t>(c)] == 0) continue;
        const int64_t end = ref[static_cast<size_t>(c)].book(start, k[static_cast<size_t>(c)], limit, left);
        if (left == 0 && end > want) want = end;
        if (counts.get(c) != left) {
          std::printf("channel slots round %d step %d channel %d: %lld left, reference %lld\n", round, step, c,
                      (long long)counts.get(c), (long long)left);
          return 1;
        }
      }
      if (got != want) {
        std::printf("channel slots round %d step %d: book(%lld, limit %lld) = %lld, reference %lld\n", round, step,
                    (long long)start, (long long)limit, (long long)got, (long long)want);
        return 1;
      }
      ++bookings;
      if (rng() % 16 == 0) {
        horizon += static_cast<int64_t>(rng() % 300);
        cal.prune(horizon);
      }
      if (rng() % 8 == 0) {  // single slots booked directly (as a change of representation does)
        const int64_t t = horizon + static_cast<int64_t>(rng() % 2500);
        const uint64_t m = rng() & (channels == 64 ? ~uint64_t{0} : (uint64_t{1} << channels) - 1);
        cal.set(t, m);
        for (int c = 0; c < channels; ++c)
          if ((m >> c) & 1) {
            std::vector<bool> &busy = ref[static_cast<size_t>(c)].busy;
            if (static_cast<size_t>(t) >= busy.size()) busy.resize(static_cast<size_t>(t) + 1024, false);
            busy[static_cast<size_t>(t)] = true;
          }
      }
      if (rng() % 4 == 0) {  // every slot of the window as the references have it (pruned words are stale, not cleared)
        const uint64_t all = channels == 64 ? ~uint64_t{0} : (uint64_t{1} << channels) - 1;
        bool uniform = true;
        size_t reach = 0;  // past every slot a reference has booked (the calendar's window can reach far)
        for (const Reference &r : ref) reach = std::max(reach, r.busy.size());
        for (int64_t t = horizon; t < static_cast<int64_t>(reach); ++t) {
          uint64_t want_m = 0;
          for (int c = 0; c < channels; ++c) {
            const std::vector<bool> &busy = ref[static_cast<size_t>(c)].busy;
            if (static_cast<size_t>(t) < busy.size() && busy[static_cast<size_t>(t)]) want_m |= uint64_t{1} << c;
          }
          if (cal.at(t) != want_m) {
            std::printf("channel slots round %d step %d: slot %lld booked in %llx, reference %llx\n", round, step,
                        (long long)t, (unsigned long long)cal.at(t), (unsigned long long)want_m);
            return 1;
          }
          if (want_m != 0 && want_m != all) uniform = false;
        }
        if (cal.uniform(all) != uniform) {
          std::printf("channel slots round %d step %d: uniform %d, reference %d\n", round, step, cal.uniform(all), uniform);
          return 1;
        }
      }
    }
  }
  return 0;
}

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
  if (check_channel_slots(rng, bookings)) return 1;
  if (check_slot_ceil_index(rng, bookings)) return 1;
  std::printf("ok %lld\n", (long long)bookings);
  return 0;
}
