// The DRAM elements a launch has stored, per tensor argument.
//
// An Inductor kernel writes each element of its outputs at most once per
// launch, so a store DMA that writes an element a second time is an
// impossible trace: the producer's descriptor disagrees with the kernel
// (swapped or zero strides, an overlapping tile offset). Two forms, each
// checked against the other:
// * contiguous runs (rows of unit stride) as merged half-open intervals
//   [begin, end): a stream of tile stores stays one interval, with no memory
//   per element (a bitmap of a 2.6e8-element output costs 32 MB of page
//   faults, a fifth of the add launch);
// * elements of strided rows (a column of a row-major tensor) as one bit per
//   element in pages of 2^15 elements: a std::map run per element made
//   compiler_cumsum_middle run at ~1e4 records/s.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <unordered_map>

namespace npusim {

class StoreFootprint {
 public:
  // Records a store of the d1 x d0 descriptor; throws TraceError naming the
  // lowest element of the first row that writes one twice.
  void add(int32_t arg, int64_t offset, int64_t d0, int64_t stride0, int64_t d1, int64_t stride1) {
    if (d0 <= 0 || d1 <= 0) return;
    if (!extends_recent_runs(arg, offset, d0, stride0, d1, stride1)) add_searched(arg, offset, d0, stride0, d1, stride1);
  }

 private:
  using Runs = std::map<int64_t, int64_t>;  // begin -> end
  // The runs the last store's rows ended in, each with the begin of the run after it: a tile loop's
  // next store usually continues each row where the last one stopped (the next column chunk, the
  // next 1-D tile), which is then one compare per row, no search. Valid while no run was inserted
  // or erased since (only these runs grew); strided elements (pages) of the argument disable it.
  static constexpr int kRecentRows = 64;
  struct RecentRun {
    Runs::iterator run;
    int64_t next_begin;  // the following run's begin (int64 max: none)
  };
  RecentRun recent_[kRecentRows];
  int64_t recent_rows_ = 0;  // 0: none
  int32_t recent_arg_ = 0;
  // Extends the recent runs when every row of the descriptor continues one and stays short of the
  // next run; otherwise changes nothing and returns false.
  bool extends_recent_runs(int32_t arg, int64_t offset, int64_t d0, int64_t stride0, int64_t d1, int64_t stride1) {
    const bool contiguous = stride0 == 1 && (d1 == 1 || stride1 == d0);
    const int64_t rows = contiguous ? 1 : d1;
    if (rows != recent_rows_ || arg != recent_arg_ || stride0 != 1) return false;
    const int64_t length = contiguous ? d0 * d1 : d0, step = contiguous ? 0 : stride1;
    int64_t begin = offset;
    for (int64_t r = 0; r < rows; ++r, begin += step)
      if (recent_[r].run->second != begin || begin + length >= recent_[r].next_begin) return false;
    begin = offset;
    for (int64_t r = 0; r < rows; ++r, begin += step) recent_[r].run->second = begin + length;
    return true;
  }
  void add_searched(int32_t arg, int64_t offset, int64_t d0, int64_t stride0, int64_t d1, int64_t stride1);

  static constexpr int kPageBits = 15;
  static constexpr int64_t kPageElements = int64_t{1} << kPageBits;
  static constexpr int64_t kPageWords = kPageElements / 64;

  struct Stored {
    Runs runs;
    std::unordered_map<int64_t, std::unique_ptr<uint64_t[]>> pages;  // page index -> kPageWords words
    int64_t last_page_index = 0;                                      // pages[last_page_index] is last_page
    uint64_t *last_page = nullptr;
  };
  Stored &stored(int32_t arg);
  // Adds [begin, end) after checking it; returns the run that holds it now.
  Runs::iterator add_run(Stored &s, int32_t arg, int64_t begin, int64_t end);
  void add_element(int32_t arg, int64_t element);

  std::map<int32_t, Stored> args_;
  int32_t last_arg_ = 0;  // args_[last_arg_] is *last_
  Stored *last_ = nullptr;
  uint64_t erased_runs_ = 0;
};

}  // namespace npusim
