#include "store_footprint.hpp"

#include <iterator>
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

void StoreFootprint::add(int32_t arg, int64_t offset, int64_t d0, int64_t stride0, int64_t d1, int64_t stride1) {
  if (d0 <= 0 || d1 <= 0) return;
  if (stride0 == 1 && (d1 == 1 || stride1 == d0)) {
    add_run(arg, offset, offset + d0 * d1);
    return;
  }
  for (int64_t r = 0; r < d1; ++r) {
    const int64_t row = offset + r * stride1;
    if (stride0 == 1 || stride0 == -1) {
      const int64_t first = stride0 == 1 ? row : row - (d0 - 1);
      add_run(arg, first, first + d0);
    } else {  // a zero stride writes its row's first element twice
      for (int64_t i = 0; i < d0; ++i) add_run(arg, row + i * stride0, row + i * stride0 + 1);
    }
  }
}

void StoreFootprint::add_run(int32_t arg, int64_t begin, int64_t end) {
  if (arg != last_arg_ || !last_runs_) {
    last_runs_ = &runs_[arg];
    last_arg_ = arg;
  }
  auto &runs = *last_runs_;
  auto next = runs.upper_bound(begin);  // the first run starting after begin
  if (next != runs.end() && next->first < end) written_twice(arg, next->first);
  const bool joins_next = next != runs.end() && next->first == end;
  if (next != runs.begin()) {
    auto prev = std::prev(next);
    if (prev->second > begin) written_twice(arg, begin);
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

}  // namespace npusim
