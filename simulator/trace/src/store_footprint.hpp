// The DRAM elements a launch has stored, per tensor argument.
//
// An Inductor kernel writes each element of its outputs at most once per
// launch, so a store DMA that writes an element a second time is an
// impossible trace: the producer's descriptor disagrees with the kernel
// (swapped or zero strides, an overlapping tile offset). Kept as merged
// half-open intervals [begin, end) of element offsets: a contiguous stream
// of stores stays one interval per argument.
#pragma once

#include <cstdint>
#include <map>

namespace npusim {

class StoreFootprint {
 public:
  // Records a store of the d1 x d0 descriptor; throws TraceError naming the
  // first element written twice.
  void add(int32_t arg, int64_t offset, int64_t d0, int64_t stride0, int64_t d1, int64_t stride1);

 private:
  void add_run(int32_t arg, int64_t begin, int64_t end);
  std::map<int32_t, std::map<int64_t, int64_t>> runs_;  // arg -> begin -> end
  int32_t last_arg_ = 0;                                  // runs_[last_arg_] is *last_runs_
  std::map<int64_t, int64_t> *last_runs_ = nullptr;
};

}  // namespace npusim
