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
#include <map>
#include <memory>
#include <unordered_map>

namespace npusim {

class StoreFootprint {
 public:
  // Records a store of the d1 x d0 descriptor; throws TraceError naming the
  // lowest element of the first row that writes one twice.
  void add(int32_t arg, int64_t offset, int64_t d0, int64_t stride0, int64_t d1, int64_t stride1);

 private:
  static constexpr int kPageBits = 15;
  static constexpr int64_t kPageElements = int64_t{1} << kPageBits;
  static constexpr int64_t kPageWords = kPageElements / 64;

  struct Stored {
    std::map<int64_t, int64_t> runs;                                   // begin -> end
    std::unordered_map<int64_t, std::unique_ptr<uint64_t[]>> pages;  // page index -> kPageWords words
    int64_t last_page_index = 0;                                      // pages[last_page_index] is last_page
    uint64_t *last_page = nullptr;
  };
  Stored &stored(int32_t arg);
  void add_run(int32_t arg, int64_t begin, int64_t end);
  void add_element(int32_t arg, int64_t element);

  std::map<int32_t, Stored> args_;
  int32_t last_arg_ = 0;  // args_[last_arg_] is *last_
  Stored *last_ = nullptr;
};

}  // namespace npusim
