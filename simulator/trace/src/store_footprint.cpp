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

void StoreFootprint::add_searched(int32_t arg, int64_t offset, int64_t d0, int64_t stride0, int64_t d1,
                                  int64_t stride1) {
  recent_rows_ = 0;  // runs may be inserted or erased below
  Stored &s = stored(arg);
  const uint64_t erased_before = erased_runs_;
  const bool contiguous = stride0 == 1 && (d1 == 1 || stride1 == d0);
  if (contiguous) {
    recent_[0].run = add_run(s, arg, offset, offset + d0 * d1);
  } else {
    for (int64_t r = 0; r < d1; ++r) {
      const int64_t row = offset + r * stride1;
      if (stride0 == 1 || stride0 == -1) {
        const int64_t first = stride0 == 1 ? row : row - (d0 - 1);
        const auto run = add_run(s, arg, first, first + d0);
        if (r < kRecentRows) recent_[r].run = run;
      } else {  // a zero stride writes its row's first element twice
        for (int64_t i = 0; i < d0; ++i) add_element(arg, row + i * stride0);
      }
    }
  }
  // The rows' runs are the recent runs for the next store when they are all still there (no erase
  // since: an erase may have merged one into another) and the argument has no strided elements.
  const int64_t rows = contiguous ? 1 : d1;
  if (stride0 != 1 || rows > kRecentRows || erased_runs_ != erased_before || !s.pages.empty()) return;
  for (int64_t r = 0; r < rows; ++r) {
    const auto next = std::next(recent_[r].run);
    recent_[r].next_begin = next == s.runs.end() ? std::numeric_limits<int64_t>::max() : next->first;
  }
  recent_rows_ = rows;
  recent_arg_ = arg;
}

StoreFootprint::Stored &StoreFootprint::stored(int32_t arg) {
  if (arg != last_arg_ || !last_) {
    last_ = &args_[arg];
    last_arg_ = arg;
  }
  return *last_;
}

StoreFootprint::Runs::iterator StoreFootprint::add_run(Stored &s, int32_t arg, int64_t begin, int64_t end) {
  auto &runs = s.runs;
  // the lowest element of [begin, end) already stored, by a run or a strided element
  int64_t twice = std::numeric_limits<int64_t>::max();
  auto next = runs.upper_bound(begin);  // the first run starting after begin
  const bool has_prev = next != runs.begin();
  if (has_prev && std::prev(next)->second > begin) twice = begin;
  else if (next != runs.end() && next->first < end) twice = next->first;
  if (!s.pages.empty()) {
    for (int64_t p = begin >> kPageBits; p <= (end - 1) >> kPageBits && (p << kPageBits) < twice; ++p) {
      auto page = s.pages.find(p);
      if (page == s.pages.end()) continue;
      const int64_t lo = std::max(begin, p << kPageBits), hi = std::min(end, (p + 1) << kPageBits);
      for (int64_t e = lo; e < hi && e < twice; ++e) {
        const int64_t within = e & (kPageElements - 1);
        if ((page->second[within >> 6] >> (within & 63)) & 1) twice = e;
      }
    }
  }
  if (twice != std::numeric_limits<int64_t>::max()) written_twice(arg, twice);

  const bool joins_next = next != runs.end() && next->first == end;
  if (joins_next) ++erased_runs_;
  if (has_prev) {
    auto prev = std::prev(next);
    if (prev->second == begin) {  // extends the run that ends here, in place
      prev->second = joins_next ? next->second : end;
      if (joins_next) runs.erase(next);
      return prev;
    }
  }
  if (joins_next) {  // joins the run that starts here
    end = next->second;
    next = runs.erase(next);
  }
  return runs.emplace_hint(next, begin, end);
}

void StoreFootprint::add_element(int32_t arg, int64_t element) {
  recent_rows_ = 0;  // the recent runs are not checked against strided elements
  Stored &s = stored(arg);
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
