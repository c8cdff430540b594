// One DRAM channel's calendar: which burst slots are booked, one bit per slot.
//
// A channel moves whole bursts in burst slots (slot j is [j, j + 1) burst times from cycle 0), so
// a calendar is a set of busy slots, and booking k slots from slot s is taking the first k free
// slots at or after s (burst by burst in the gaps, as a controller interleaves requests), below
// an optional limit slot. The bits live in a ring of 64-bit words over the live window
// [lo_word * 64, ...): a booking sets bits, pruning moves the window's start (no erase at the
// front), a booking in the middle of the calendar finds the free slots with a few word operations
// (no insert in the middle of a vector). Times stay integer slots here; the caller turns a slot
// into cycles as slot * burst_cycles (the same double the interval calendar computed).
#pragma once

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace npusim {

// The index of the first burst slot boundary at or after time t >= 0 (slot j starts at
// j * burst_cycles; a time within 1e-6 of a slot past a boundary counts as at it, against rounding
// drift): the least integer >= t / burst_cycles - 1e-6, both operations rounded as doubles.
// Integer conversion, not std::ceil: a library call on x86-64 without SSE4.1.
//
// The division is a long-latency instruction on every DRAM request's dependency chain, so the
// product with inv_burst_cycles (= 1 / burst_cycles, rounded) comes first: below 2^25 slots the two
// quotients (each rounded, minus 1e-6) differ by less than 2e-8 (a few units in the last place), so
// where the product's fraction is more than 1e-7 from an integer both have the same ceiling; only
// near an integer (or beyond 2^25 slots) the division decides. (slot_calendar_check.cpp checks it
// against the division alone.)
inline int64_t slot_ceil_index(double t, double burst_cycles, double inv_burst_cycles) {
  const double approx = t * inv_burst_cycles - 1e-6;
  const int64_t whole = static_cast<int64_t>(approx);
  const double fraction = approx - static_cast<double>(whole);  // exact
  if (__builtin_expect((fraction > 1e-7) & (fraction < 1 - 1e-7) & (approx < 0x1p25), 1)) return whole + 1;
  const double slots = t / burst_cycles - 1e-6;
  int64_t slot = static_cast<int64_t>(slots);
  if (static_cast<double>(slot) < slots) ++slot;
  return slot;
}

class SlotCalendar {
 public:
  static constexpr int64_t kNoLimit = INT64_MAX;

  // Books the first `k` free slots at or after `start` (k > 0); returns one past the last.
  __attribute__((always_inline)) int64_t book(int64_t start, int64_t k) {
    if (start >= tail_from_) {  // the common case: at or after the start of the last run
      if (start > end_) {       // after an idle gap: a new last run
        settle_tail();
        tail_from_ = start;
        return end_ = start + k;
      }
      return end_ += k;  // the last run is busy up to end_, everything after it free
    }
    if (start >= busy_from_ && start < busy_to_) start = busy_to_;  // no free slot before busy_to_
    if (start < tail_from_) {  // the first free run at or after start, when it is in start's word and fits
      int64_t a = 0;
      if (free_run_in_word(start, a) >= k && a + k <= tail_from_) {
        set_range(a, a + k);
        note_busy(start, a + k);
        return a + k;
      }
    }
    int64_t left = k;
    return book_in_gaps(start, left, kNoLimit);
  }

  // Books up to `k` free slots (k > 0) at or after `start`, none at or after `limit`; `left` gets what
  // did not fit. Returns one past the last slot booked (`start` when none was).
  int64_t book_limited(int64_t start, int64_t k, int64_t limit, int64_t &left) {
    left = k;
    if (start >= tail_from_) {
      const int64_t from = std::max(start, end_);
      const int64_t take = from >= limit ? 0 : std::min(k, limit - from);
      if (take <= 0) return start;
      if (from > end_) {
        settle_tail();
        tail_from_ = from;
      }
      left = k - take;
      return end_ = from + take;
    }
    const int64_t from = start >= busy_from_ && start < busy_to_ ? busy_to_ : start;
    if (from < tail_from_) {  // as in book: the first free run in from's word, when it fits
      int64_t a = 0;
      if (free_run_in_word(from, a) >= k && a + k <= tail_from_ && a + k <= limit) {
        set_range(a, a + k);
        note_busy(from, a + k);
        left = 0;
        return a + k;
      }
    }
    return book_in_gaps(start, left, limit);
  }

  // No booking will start before slot `horizon`: the words wholly below it leave the window.
  void prune(int64_t horizon) {
    if (horizon <= 0) return;
    const int64_t word = horizon >> 6;
    if (word > lo_word_) {
      // the ring positions of the words leaving the window will hold words after it: zero
      for (int64_t w = lo_word_; w < std::min(word, lo_word_ + cap_); ++w) ring_[static_cast<size_t>(w) & mask_] = 0;
      lo_word_ = word;
    }
    // what lies below the window does not count (canonical, so equal futures compare equal)
    const int64_t lo_slot = lo_word_ << 6;
    if (end_ < lo_slot) end_ = lo_slot;
    if (tail_from_ < lo_slot) tail_from_ = lo_slot;
    if (busy_to_ <= lo_slot) busy_from_ = busy_to_ = 0;
  }

  // Live window in words (a performance diagnostic).
  int64_t window_words() const { return ((end_ + 63) >> 6) - lo_word_; }
  int64_t window_start() const { return lo_word_ << 6; }
  // Calls f(slot) for every booked slot of the window, ascending.
  template <typename F>
  void for_each_booked(F &&f) const {
    for (int64_t t = lo_word_ << 6; t < end_; ++t)
      if ((t >= tail_from_) || ((bits(t >> 6) >> (t & 63)) & 1)) f(t);
  }

  // Equal states book the same from now on (the window's bits and the last run).
  bool operator==(const SlotCalendar &o) const {
    if (end_ != o.end_ || tail_from_ != o.tail_from_ || lo_word_ != o.lo_word_) return false;
    for (int64_t w = ((end_ + 63) >> 6) - 1; w >= lo_word_; --w)  // the newest words differ first
      if (bits(w) != o.bits(w)) return false;
    return true;
  }

 private:
  // The ring holds words [lo_word_, lo_word_ + size) at position w & mask_; every word there that
  // nothing set is zero, and so is every word after the ring's reach.
  uint64_t &word(int64_t w) { return ring_[static_cast<size_t>(w) & mask_]; }
  bool in_ring(int64_t w) const { return w - lo_word_ < cap_; }
  uint64_t bits(int64_t w) const { return in_ring(w) ? ring_[static_cast<size_t>(w) & mask_] : 0; }

  // The first free run at or after slot `from` within from's word: its first slot goes to `a`,
  // its length (up to the word's end) is returned; 0 when the rest of the word is booked.
  __attribute__((always_inline)) int64_t free_run_in_word(int64_t from, int64_t &a) const {
    const int64_t w = from >> 6;
    const uint64_t free = ~bits(w) & (~uint64_t{0} << (from & 63));
    if (!free) return 0;
    const int t = __builtin_ctzll(free);
    const uint64_t run = free >> t;
    a = (w << 6) + t;
    return ~run == 0 ? 64 - t : __builtin_ctzll(~run);
  }

  __attribute__((noinline)) void grow(int64_t last_word) {
    const size_t old_cap = ring_.size();
    size_t cap = old_cap ? old_cap : 16;
    while (static_cast<int64_t>(cap) <= last_word - lo_word_) cap *= 2;
    std::vector<uint64_t> bigger(cap, 0);
    for (int64_t w = lo_word_; w < lo_word_ + static_cast<int64_t>(old_cap); ++w)
      bigger[static_cast<size_t>(w) & (cap - 1)] = word(w);
    ring_.swap(bigger);
    mask_ = cap - 1;
    cap_ = static_cast<int64_t>(cap);
  }

  // Sets slots [a, b) (a < b).
  __attribute__((always_inline)) void set_range(int64_t a, int64_t b) {
    const int64_t wa = a >> 6, wb = (b - 1) >> 6;
    const uint64_t head = ~uint64_t{0} << (a & 63);
    const uint64_t tail = ~uint64_t{0} >> (63 - ((b - 1) & 63));
    if (wa == wb && in_ring(wb)) {  // most bookings: a few slots in one word
      word(wa) |= head & tail;
      return;
    }
    set_range_slow(wa, wb, head, tail);
  }
  __attribute__((noinline)) void set_range_slow(int64_t wa, int64_t wb, uint64_t head, uint64_t tail) {
    if (!in_ring(wb)) grow(wb);
    if (wa == wb) {
      word(wa) |= head & tail;
      return;
    }
    word(wa) |= head;
    for (int64_t w = wa + 1; w < wb; ++w) word(w) = ~uint64_t{0};
    word(wb) |= tail;
  }

  // The last run [tail_from_, end_) is busy without its bits set (extending it is one addition);
  // its bits are set when a new last run starts after an idle gap.
  void settle_tail() {
    if (end_ > tail_from_) set_range(tail_from_, end_);
    tail_from_ = end_;
  }

  // A booking that starts before the last run: free runs in the bits from `start` up to the last
  // run (and `limit`), then after the last run.
  __attribute__((noinline)) int64_t book_in_gaps(int64_t start, int64_t &left, int64_t limit) {
    if (start >= busy_from_ && start < busy_to_) start = busy_to_;  // no free slot before busy_to_
    int64_t pos = start, last_end = start;
    const int64_t stop = std::min(limit, tail_from_);
    while (left > 0 && pos < stop) {
      const int64_t w = pos >> 6;
      uint64_t free = ~bits(w) & (~uint64_t{0} << (pos & 63));
      const int64_t word_stop = stop - (w << 6);
      if (word_stop < 64) free &= (uint64_t{1} << word_stop) - 1;
      if (!free) {
        pos = (w + 1) << 6;
        continue;
      }
      const int t = __builtin_ctzll(free);
      const uint64_t run = free >> t;  // the free run from bit t, as low ones
      const int64_t len = ~run == 0 ? 64 - t : __builtin_ctzll(~run);
      const int64_t take = std::min(len, left);
      const int64_t a = (w << 6) + t;
      set_range(a, a + take);
      left -= take;
      last_end = pos = a + take;
    }
    if (left > 0 && stop == tail_from_ && end_ < limit) {  // [start, end_) is taken: extend the last run
      const int64_t take = std::min(left, limit - end_);
      left -= take;
      last_end = end_ += take;
    }
    note_busy(start, last_end);  // every free slot from start to last_end was taken
    return last_end;
  }

  // Remembers one run of booked slots [busy_from_, busy_to_) (bits are only ever set, so it stays
  // true): a booking that starts inside it starts at its end, so write drains (releases in order)
  // and reads behind a busy channel do not scan the same booked words again.
  void note_busy(int64_t a, int64_t b) {
    if (a >= b) return;
    if (a >= busy_from_ && a <= busy_to_) {
      if (b > busy_to_) busy_to_ = b;
    } else {
      busy_from_ = a;
      busy_to_ = b;
    }
  }

  std::vector<uint64_t> ring_;
  int64_t busy_from_ = 0, busy_to_ = 0;
  size_t mask_ = 0;
  int64_t cap_ = 0;  // ring_.size()
  int64_t lo_word_ = 0;  // first word of the window
  int64_t tail_from_ = 0, end_ = 0;  // the last run of bookings; nothing booked from end_ on
};

// The burst slots of up to 64 DRAM channels in one calendar, slot-major: the word of slot t holds
// one bit per channel (bit c: channel c has slot t booked). A request books every channel it
// touches from the same start slot, so one pass over the slots books them all (the word's free
// bits take the slot), instead of one calendar search per channel. Booking semantics are
// SlotCalendar's: each channel takes the first k_c free slots at or after the start (below an
// optional limit), k_c given per channel as bit-sliced counts.
class ChannelSlots {
 public:
  // Remaining slots per channel, bit-sliced: bit c of plane i is bit i of channel c's count.
  struct Counts {
    uint64_t plane[64];  // planes [0, max(planes, 4)) are set
    int planes = 0;
    Counts() { plane[0] = plane[1] = plane[2] = plane[3] = 0; }
    // Count a for the channels in ma, b for those in mb (disjoint masks), 0 for the others.
    __attribute__((always_inline)) void two(uint64_t ma, int64_t a, uint64_t mb, int64_t b) {
      const int64_t top = std::max(a, b);
      planes = top == 0 ? 0 : 64 - __builtin_clzll(static_cast<uint64_t>(top));
      // plane i by bit i of a and of b: a table lookup instead of a mask built per count
      const uint64_t pick[4] = {0, ma, mb, ma | mb};
      auto bits = [&](int i) { return pick[((a >> i) & 1) | (((b >> i) & 1) << 1)]; };
      plane[0] = bits(0);
      plane[1] = bits(1);
      plane[2] = bits(2);
      plane[3] = bits(3);
      for (int i = 4; i < planes; ++i) plane[i] = bits(i);
    }
    // Sets the count of the channels in `mask` to `value` (> 0 or 0).
    void set(uint64_t mask, int64_t value) {
      while (planes < 63 && (value >> planes) != 0) plane[planes++] = 0;
      for (int i = 0; i < planes; ++i) plane[i] = (plane[i] & ~mask) | (((value >> i) & 1) ? mask : 0);
    }
    // Gives the channels of `mask` (count 0 here) their counts in `o`.
    void add(const Counts &o, uint64_t mask) {
      const int valid = std::max(planes, 4), n = std::max(o.planes, 4);
      for (int i = valid; i < n; ++i) plane[i] = 0;
      for (int i = 0; i < n; ++i) plane[i] |= o.plane[i] & mask;
      planes = std::max(planes, o.planes);
    }
    // The channels of `mask` take their counts from `o`, those of `drop` (outside mask) 0.
    void replace(const Counts &o, uint64_t mask, uint64_t drop) {
      const int valid = std::max(planes, 4), n = std::max(o.planes, 4);
      for (int i = valid; i < n; ++i) plane[i] = 0;
      const uint64_t clear = mask | drop;
      for (int i = 0; i < std::max(valid, n); ++i) plane[i] = (plane[i] & ~clear) | (i < n ? o.plane[i] & mask : 0);
      planes = std::max(planes, o.planes);
      while (planes > 0 && plane[planes - 1] == 0) --planes;
    }
    // The count of every channel of `mask` when they are all equal, else -1.
    int64_t uniform(uint64_t mask) const {
      int64_t v = 0;
      for (int i = 0; i < planes; ++i) {
        const uint64_t b = plane[i] & mask;
        if (b == mask)
          v |= int64_t{1} << i;
        else if (b)
          return -1;
      }
      return v;
    }
    // Sets the counts of `mask` to 0 (replace's planes: the top zero planes dropped).
    void drop(uint64_t mask) {
      for (int i = 0; i < std::max(planes, 4); ++i) plane[i] &= ~mask;
      while (planes > 0 && plane[planes - 1] == 0) --planes;
    }
    int64_t get(int c) const {
      int64_t v = 0;
      for (int i = 0; i < planes; ++i) v |= static_cast<int64_t>((plane[i] >> c) & 1) << i;
      return v;
    }
    uint64_t nonzero() const {
      uint64_t m = 0;
      for (int i = 0; i < planes; ++i) m |= plane[i];
      return m;
    }
  };

  // Books each channel's count of free slots at or after `start`, none at or after `limit`.
  // `counts` keeps what did not fit, `left` gets the channels left over. Returns one past the last
  // slot of the channels that got all their slots here (`start` when none did).
  __attribute__((always_inline)) int64_t book(int64_t start, int64_t limit, Counts &counts, uint64_t &left) {
    if (start < lo_) before_window(start);
    if (counts.planes > 4) {
      const int64_t end = book_many(start, limit, counts);
      left = counts.nonzero();
      return end;
    }
    // a few slots per channel: slot by slot, in the busy part and after it
    int64_t last_done = start;
    int64_t t = start;
    uint64_t r0 = counts.plane[0], r1 = counts.plane[1], r2 = counts.plane[2], r3 = counts.plane[3];
    uint64_t active = r0 | r1 | r2 | r3;
    // subtracts one from the counts of the channels that took slot t
    auto took = [&](uint64_t take) __attribute__((always_inline)) {
      uint64_t borrow = take;
      const uint64_t n0 = r0 ^ borrow;
      borrow &= ~r0;
      const uint64_t n1 = r1 ^ borrow;
      borrow &= ~r1;
      const uint64_t n2 = r2 ^ borrow;
      borrow &= ~r2;
      r3 ^= borrow;
      r0 = n0;
      r1 = n1;
      r2 = n2;
      const uint64_t still = r0 | r1 | r2 | r3;
      if (still != active) last_done = t + 1;
      active = still;
    };
    // the scan ends by the window's end plus the largest count (< 16): the ring holds that far
    const int64_t reach = std::max(t, hi_) + 16;
    if (reach - lo_ > cap_) grow(reach - 1);
    // locals: a store through the ring (uint64_t) may alias the int64_t members for the compiler
    uint64_t *const ring = ring_.data();
    const size_t mask = mask_;
    const int64_t busy_end = std::min(hi_, limit);
    for (; active && t < busy_end; ++t) {  // the busy part: the free channels of each slot take it
      uint64_t &w = ring[static_cast<size_t>(t) & mask];
      const uint64_t take = active & ~w;
      if (take) {
        w |= take;
        took(take);
      }
    }
    if (active && t < limit) {  // from hi_ on every channel is free: each slot goes to all left
      if (t > hi_) clear(hi_, t);  // an idle gap: its stale words become part of the window
      for (; active && t < limit; ++t) {
        ring[static_cast<size_t>(t) & mask] = active;
        took(active);
      }
      hi_ = t;
    }
    counts.plane[0] = r0;
    counts.plane[1] = r1;
    counts.plane[2] = r2;
    counts.plane[3] = r3;
    left = active;
    return last_done;
  }

 private:
  __attribute__((noinline)) int64_t book_many(int64_t start, int64_t limit, Counts &counts) {
    uint64_t active = counts.nonzero();
    int64_t last_done = start;
    int64_t t = start;
    while (active && t < limit && t < hi_) {  // the busy part, slot by slot
      uint64_t &w = ring_[static_cast<size_t>(t) & mask_];
      const uint64_t take = active & ~w;
      if (take) {
        w |= take;
        uint64_t borrow = take;
        for (int i = 0; i < counts.planes && borrow; ++i) {
          const uint64_t r = counts.plane[i];
          counts.plane[i] = r ^ borrow;
          borrow &= ~r;
        }
        const uint64_t still = counts.nonzero();
        if (still != active) last_done = t + 1;
        active = still;
      }
      ++t;
    }
    if (!active || t >= limit) return last_done;
    // from t on every channel is free: channel c takes [t, t + count_c), in runs by ascending count
    int n = 0;
    struct Run {
      int64_t count;
      int channel;
    } runs[64];
    for (uint64_t m = active; m; m &= m - 1) {
      const int c = __builtin_ctzll(m);
      Run r{counts.get(c), c};
      int i = n++;
      while (i > 0 && runs[i - 1].count > r.count) runs[i] = runs[i - 1], --i;
      runs[i] = r;
    }
    uint64_t cur = active;
    int64_t pos = t;
    for (int i = 0; i < n; ++i) {
      const int64_t end = t + runs[i].count;
      const int64_t stop = std::min(end, limit);
      if (stop > pos) {
        fill(pos, stop, cur);
        pos = stop;
      }
      const uint64_t bit = uint64_t{1} << runs[i].channel;
      if (end <= limit) {
        last_done = end;
        counts.set(bit, 0);
      } else {
        counts.set(bit, end - limit);
      }
      cur &= ~bit;
    }
    return last_done;
  }

 public:
  // Whether every channel is free from `start` on.
  bool free_from(int64_t start) const { return start >= hi_; }
  // book() from a start where every channel is free (free_from), with counts a on the channels of
  // ma and a + 1 on those of mb: each takes the slots from start on, no scan. Returns one past the last.
  // Always inline (and clear with it): the common read, at its call site; left to the inliner's
  // budget, a change elsewhere in the program moved it out of line (softmax +8 instructions per record).
  __attribute__((always_inline)) int64_t book_free(int64_t start, uint64_t ma, int64_t a, uint64_t mb) {
    const int64_t end = start + a + (mb ? 1 : 0);
    if (end - lo_ > cap_) grow(end - 1);
    if (start > hi_) clear(hi_, start);  // an idle gap: its stale words become part of the window
    // locals: a store through the ring (uint64_t) may alias mask_ (size_t) for the compiler
    uint64_t *const ring = ring_.data();
    const size_t mask = mask_;
    const uint64_t both = ma | mb;
    for (int64_t t = start; t < start + a; ++t) ring[static_cast<size_t>(t) & mask] = both;
    if (mb) ring[static_cast<size_t>(start + a) & mask] = mb;
    hi_ = end;  // (start >= hi_)
    return end;
  }
  // The first slot at or after `start` where one of the channels of `m` is free, or a slot at or
  // after `limit` when there is none before it: a booking of those channels from `start` (below
  // `limit`) books the same from there.
  int64_t first_free(int64_t start, int64_t limit, uint64_t m) const {
    const int64_t stop = std::min(hi_, limit);
    while (start < stop && (ring_[static_cast<size_t>(start) & mask_] & m) == m) ++start;
    return start;
  }
  // book() with counts a on the channels of ma and a + 1 on those of mb (a request's shares; ma | mb
  // not empty) when each is free in the slots it needs from `start` on ([start, start + a), and
  // slot start + a for mb) and they end by `limit`: each takes those, without the slot-by-slot
  // count. Returns one past the last slot (`start` for no slots), or -1 (nothing booked) when one of
  // them is busy there.
  __attribute__((always_inline)) int64_t book_two(int64_t start, uint64_t ma, int64_t a, uint64_t mb,
                                                  int64_t limit = INT64_MAX) {
    if (start < lo_) before_window(start);
    const uint64_t both = ma | mb;
    if (!both) return start;
    const int64_t end = start + a + (mb ? 1 : 0);
    if (end > limit) return -1;
    if (start >= hi_) return book_free(start, ma, a, mb);  // after every booking
    if (end - lo_ > cap_) grow(end - 1);
    uint64_t *const ring = ring_.data();
    const size_t mask = mask_;
    const int64_t last = start + a;  // the slot only mb takes
    const int64_t busy_end = std::min(last, hi_);
    const bool last_busy = last < hi_;
    int64_t t = start;
    for (; t < busy_end; ++t) {  // booked as checked (one pass), taken back when one is busy
      uint64_t &w = ring[static_cast<size_t>(t) & mask];
      if (w & both) break;
      w |= both;
    }
    if (t < busy_end || (mb && last_busy && (ring[static_cast<size_t>(last) & mask] & mb))) {
      for (int64_t u = start; u < t; ++u) ring[static_cast<size_t>(u) & mask] &= ~both;  // (they were free)
      return -1;
    }
    for (; t < last; ++t) ring[static_cast<size_t>(t) & mask] = both;
    if (mb) {
      uint64_t &w = ring[static_cast<size_t>(last) & mask];
      w = last_busy ? w | mb : mb;
    }
    if (end > hi_) hi_ = end;
    return end;
  }

  // book() with counts a on the channels of ma and a + 1 on those of mb, no limit (where book_two
  // found a busy slot): out of line, the counts' planes stay off the callers' stack frames.
  __attribute__((noinline)) int64_t book_shares(int64_t start, uint64_t ma, int64_t a, uint64_t mb) {
    Counts counts;
    counts.two(ma, a, mb, a + 1);
    uint64_t left = 0;
    return book(start, INT64_MAX, counts, left);
  }

  // Books slot t in the channels of `m`.
  void set(int64_t t, uint64_t m) {
    if (t - lo_ >= cap_) grow(t);
    if (t < hi_) {
      ring_[static_cast<size_t>(t) & mask_] |= m;
      return;
    }
    clear(hi_, t);
    ring_[static_cast<size_t>(t) & mask_] = m;
    hi_ = t + 1;
  }
  // The channels with slot t booked (t in the window).
  uint64_t at(int64_t t) const { return t < hi_ ? ring_[static_cast<size_t>(t) & mask_] : 0; }
  // Whether every slot of the window is booked in all of `all` or in none.
  bool uniform(uint64_t all) const {
    for (int64_t t = hi_ - 1; t >= lo_; --t) {  // the newest slots differ first
      const uint64_t w = ring_[static_cast<size_t>(t) & mask_];
      if (w != 0 && w != all) return false;
    }
    return true;
  }
  // Calls f(a, b) for each run [a, b) of slots booked in all of `all`, ascending.
  template <typename F>
  void for_each_run(uint64_t all, F &&f) const {
    int64_t a = -1;
    for (int64_t t = lo_; t < hi_; ++t) {
      const bool booked = ring_[static_cast<size_t>(t) & mask_] == all;
      if (booked && a < 0) a = t;
      if (!booked && a >= 0) f(a, t), a = -1;
    }
    if (a >= 0) f(a, hi_);
  }
  int64_t window_start() const { return lo_; }

  // No booking will start before slot `horizon`: the slots below it leave the window (their ring
  // words are stale, not cleared: a ring word counts only below hi_, and is cleared or overwritten
  // when the window's busy part reaches it).
  void prune(int64_t horizon) {
    if (horizon <= lo_) return;
    lo_ = horizon;
    if (hi_ < lo_) hi_ = lo_;
  }
  // Empty, with its window from `slot` on.
  void start_at(int64_t slot) { lo_ = hi_ = slot; }

  // Live window in 64-slot words (a performance diagnostic).
  int64_t window_words() const { return (hi_ - lo_ + 63) >> 6; }

 private:
  [[noreturn]] __attribute__((noinline, cold)) void before_window(int64_t start) const {
    throw std::logic_error("DRAM booking at slot " + std::to_string(start) + " before the pruned window (" +
                           std::to_string(lo_) + ")");
  }
  // Zeroes the ring positions of slots [a, b) (b - a <= cap_), in at most two pieces.
  __attribute__((always_inline)) void clear(int64_t a, int64_t b) {
    if (a >= b) return;
    if (b - a <= 8) {  // most idle gaps are a few slots: no library call
      for (int64_t t = a; t < b; ++t) ring_[static_cast<size_t>(t) & mask_] = 0;
      return;
    }
    const size_t pa = static_cast<size_t>(a) & mask_, n = static_cast<size_t>(b - a);
    const size_t first = std::min(n, ring_.size() - pa);
    std::fill_n(ring_.begin() + static_cast<std::ptrdiff_t>(pa), first, uint64_t{0});
    std::fill_n(ring_.begin(), n - first, uint64_t{0});
  }
  // Books slots [a, b) in the channels of `m`.
  void fill(int64_t a, int64_t b, uint64_t m) {
    if (b - 1 - lo_ >= cap_) grow(b - 1);
    for (int64_t t = a; t < std::min(b, hi_); ++t) ring_[static_cast<size_t>(t) & mask_] |= m;
    if (b <= hi_) return;
    if (a > hi_) clear(hi_, a);
    for (int64_t t = std::max(a, hi_); t < b; ++t) ring_[static_cast<size_t>(t) & mask_] = m;
    hi_ = b;
  }
  __attribute__((noinline)) void grow(int64_t last) {
    const size_t old_cap = ring_.size();
    size_t cap = old_cap ? old_cap : 1024;
    while (static_cast<int64_t>(cap) <= last - lo_) cap *= 2;
    std::vector<uint64_t> bigger(cap, 0);
    for (int64_t t = lo_; t < std::min(hi_, lo_ + static_cast<int64_t>(old_cap)); ++t)
      bigger[static_cast<size_t>(t) & (cap - 1)] = ring_[static_cast<size_t>(t) & mask_];
    ring_.swap(bigger);
    mask_ = cap - 1;
    cap_ = static_cast<int64_t>(cap);
  }

  std::vector<uint64_t> ring_;  // slot t at t & mask_, for t in [lo_, hi_) (hi_ - lo_ <= cap_); other words stale
  size_t mask_ = 0;
  int64_t cap_ = 0;
  int64_t lo_ = 0;  // first slot of the window
  int64_t hi_ = 0;  // every slot from hi_ on is free in every channel (hi_ <= lo_ + cap_)
};

}  // namespace npusim
