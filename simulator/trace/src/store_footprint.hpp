// The DRAM elements a launch has stored, per tensor argument.
//
// An Inductor kernel writes each element of its outputs at most once per
// launch, so a store DMA that writes an element a second time is an
// impossible trace: the producer's descriptor disagrees with the kernel
// (swapped or zero strides, an overlapping tile offset). Kept as one bit per
// element in pages of 2^15 elements, allocated when first written: a strided
// store (a column of a row-major tensor) costs a bit test per element, not a
// map insertion (a map of intervals made compiler_cumsum_middle run at ~1e4
// records/s).
#pragma once

#include <cstdint>
#include <memory>
#include <unordered_map>

namespace npusim {

class StoreFootprint {
 public:
  // Records a store of the d1 x d0 descriptor; throws TraceError naming the
  // first element written twice.
  void add(int32_t arg, int64_t offset, int64_t d0, int64_t stride0, int64_t d1, int64_t stride1);

 private:
  static constexpr int kPageBits = 15;
  static constexpr int64_t kPageElements = int64_t{1} << kPageBits;
  static constexpr int64_t kPageWords = kPageElements / 64;

  uint64_t *page(int32_t arg, int64_t page_index);
  void add_run(int32_t arg, int64_t begin, int64_t end);
  void add_element(int32_t arg, int64_t element);

  // (arg, page index) -> kPageWords words of bits
  std::unordered_map<uint64_t, std::unique_ptr<uint64_t[]>> pages_;
  uint64_t last_key_ = 0;  // pages_[last_key_] is last_page_ (consecutive stores hit one page)
  uint64_t *last_page_ = nullptr;
};

}  // namespace npusim
