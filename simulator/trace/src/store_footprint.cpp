#include "store_footprint.hpp"

#include <algorithm>
#include <iterator>
#include <limits>
#include <string>

#include "trace_error.hpp"

namespace npusim {
namespace {

[[noreturn]] void written_twice(int32_t arg, int64_t element) {
  throw TraceError("a DMA store writes element " + std::to_string(element) + " of tensor argument " +
                   std::to_string(arg) + " a second time in one launch (a kernel stores each output element " +
                   "once: the producer's store descriptors overlap)");
}

}  // namespace

void StoreFootprint::add_slow(Stored &s, int32_t arg, int64_t offset, int64_t d0, int64_t stride0, int64_t d1,
                              int64_t stride1) {
  flush_block(s, arg);
  if (!starts_block(s, offset, d0, stride0, d1, stride1)) add_searched(s, arg, offset, d0, stride0, d1, stride1);
}

void StoreFootprint::flush_block(Stored &s, int32_t arg) {
  const Block b = s.block;
  if (b.rows == 0) return;
  s.block.rows = 0;
  if (b.rows == 1 || b.length == b.step) {  // rows that close up are one run
    add_run(s, arg, b.begin, b.begin + (b.rows - 1) * b.step + b.length);
  } else {
    for (int64_t r = 0; r < b.rows; ++r) add_run(s, arg, b.begin + r * b.step, b.begin + r * b.step + b.length);
  }
}

bool StoreFootprint::starts_block(Stored &s, int64_t offset, int64_t d0, int64_t stride0, int64_t d1,
                                  int64_t stride1) {
  const Rows shape = rows_of(d0, stride0, d1, stride1);
  const int64_t rows = shape.rows, length = shape.length, step = shape.step;
  // rows of unit stride, each ending before the next begins; strided elements are not searched here
  if (stride0 != 1 || (rows > 1 && (step <= 0 || length > step)) || !s.pages.empty()) return false;
  constexpr int64_t kNone = std::numeric_limits<int64_t>::max();
  const int64_t last = offset + (rows - 1) * step;  // the last row's begin
  auto next = s.runs.upper_bound(offset);           // the first run starting after the first row's begin
  if (next != s.runs.begin() && std::prev(next)->second > offset) return false;
  int64_t room = rows > 1 ? step : kNone;
  if (next == s.runs.end() || next->first >= last + length) {
    // no run between the rows: only the last row has one after it
    if (next != s.runs.end()) room = std::min(room, next->first - last);
  } else {
    for (int64_t r = 0; r < rows; ++r) {  // runs between the rows: each row's own
      const int64_t begin = offset + r * step;
      next = s.runs.upper_bound(begin);
      if (next != s.runs.begin() && std::prev(next)->second > begin) return false;
      if (next == s.runs.end()) continue;
      if (next->first < begin + length) return false;
      room = std::min(room, next->first - begin);
    }
  }
  s.block = Block{offset, step, length, room, rows};
  return true;
}

void StoreFootprint::add_searched(Stored &s, int32_t arg, int64_t offset, int64_t d0, int64_t stride0, int64_t d1,
                                  int64_t stride1) {
  if (rows_of(d0, stride0, d1, stride1).contiguous) {
    add_run(s, arg, offset, offset + d0 * d1);
    return;
  }
  for (int64_t r = 0; r < d1; ++r) {
    const int64_t row = offset + r * stride1;
    if (stride0 == 1 || stride0 == -1) {
      const int64_t first = stride0 == 1 ? row : row - (d0 - 1);
      add_run(s, arg, first, first + d0);
    } else {  // a zero stride writes its row's first element twice
      for (int64_t i = 0; i < d0; ++i) add_element(s, arg, row + i * stride0);
    }
  }
}

void StoreFootprint::add_run(Stored &s, int32_t arg, int64_t begin, int64_t end) {
  auto &runs = s.runs;
  // the lowest element of [begin, end) already stored, by a run or a strided element
  int64_t twice = std::numeric_limits<int64_t>::max();
  auto next = runs.upper_bound(begin);  // the first run starting after begin
  const bool has_prev = next != runs.begin();
  if (has_prev && std::prev(next)->second > begin) twice = begin;
  else if (next != runs.end() && next->first < end) twice = next->first;
  if (!s.pages.empty()) {
    for (int64_t p = begin >> kPageBits; p <= (end - 1) >> kPageBits && p * kPageElements < twice; ++p) {
      auto page = s.pages.find(p);
      if (page == s.pages.end()) continue;
      const int64_t lo = std::max(begin, p * kPageElements), hi = std::min(end, (p + 1) * kPageElements);
      for (int64_t e = lo; e < hi && e < twice; ++e) {
        const int64_t within = e & (kPageElements - 1);
        if ((page->second[within >> 6] >> (within & 63)) & 1) twice = e;
      }
    }
  }
  if (twice != std::numeric_limits<int64_t>::max()) written_twice(arg, twice);

  const bool joins_next = next != runs.end() && next->first == end;
  if (has_prev) {
    auto prev = std::prev(next);
    if (prev->second == begin) {  // extends the run that ends here, in place
      prev->second = joins_next ? next->second : end;
      if (joins_next) runs.erase(next);
      return;
    }
  }
  if (joins_next) {  // joins the run that starts here
    end = next->second;
    next = runs.erase(next);
  }
  runs.emplace_hint(next, begin, end);
}

void StoreFootprint::add_element(Stored &s, int32_t arg, int64_t element) {
  if (!s.runs.empty()) {
    auto next = s.runs.upper_bound(element);
    if (next != s.runs.begin() && std::prev(next)->second > element) written_twice(arg, element);
  }
  const int64_t page_index = element >> kPageBits;  // floor division, negative offsets too
  if (!s.last_page || page_index != s.last_page_index) {
    auto &slot = s.pages[page_index];
    if (!slot) slot.reset(new uint64_t[kPageWords]());  // zeroed
    s.last_page = slot.get();
    s.last_page_index = page_index;
  }
  const int64_t within = element & (kPageElements - 1);
  uint64_t &word = s.last_page[within >> 6];
  const uint64_t bit = uint64_t{1} << (within & 63);
  if (word & bit) written_twice(arg, element);
  word |= bit;
}

}  // namespace npusim
