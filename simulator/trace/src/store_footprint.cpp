#include "store_footprint.hpp"

#include <algorithm>
#include <string>

#include "trace_error.hpp"

namespace npusim {
namespace {

[[noreturn]] void written_twice(int32_t arg, int64_t element) {
  throw TraceError("a DMA store writes element " + std::to_string(element) + " of tensor argument " +
                   std::to_string(arg) + " a second time in one launch (a kernel stores each output element " +
                   "once: the producer's store descriptors overlap)");
}

// floor division by a power of two, for negative offsets too
inline int64_t page_of(int64_t element, int bits) { return element >> bits; }

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
      for (int64_t i = 0; i < d0; ++i) add_element(arg, row + i * stride0);
    }
  }
}

uint64_t *StoreFootprint::page(int32_t arg, int64_t page_index) {
  const uint64_t key = (uint64_t(uint32_t(arg)) << 48) ^ (uint64_t(page_index) & ((uint64_t{1} << 48) - 1));
  if (last_page_ && key == last_key_) return last_page_;
  auto &slot = pages_[key];
  if (!slot) slot.reset(new uint64_t[kPageWords]());  // zeroed
  last_key_ = key;
  last_page_ = slot.get();
  return last_page_;
}

void StoreFootprint::add_element(int32_t arg, int64_t element) {
  const int64_t within = element & (kPageElements - 1);
  uint64_t &word = page(arg, page_of(element, kPageBits))[within >> 6];
  const uint64_t bit = uint64_t{1} << (within & 63);
  if (word & bit) written_twice(arg, element);
  word |= bit;
}

// Marks [begin, end): per page, the partial first and last words by mask and the whole words between
// (a 1024-element store is 16 words), checked before any is set. On a collision the lowest element
// already stored is named.
void StoreFootprint::add_run(int32_t arg, int64_t begin, int64_t end) {
  for (int64_t at = begin; at < end;) {
    const int64_t page_index = page_of(at, kPageBits);
    const int64_t page_end = std::min(end, (page_index + 1) * kPageElements);
    uint64_t *bits = page(arg, page_index);
    const int64_t lo = at & (kPageElements - 1), hi = lo + (page_end - at);  // [lo, hi) in the page
    const int64_t w0 = lo >> 6, w1 = (hi - 1) >> 6;
    const uint64_t head = ~uint64_t{0} << (lo & 63), tail = ~uint64_t{0} >> (63 - ((hi - 1) & 63));
    if (w0 == w1) {
      const uint64_t mask = head & tail;
      if (bits[w0] & mask) written_twice(arg, at + __builtin_ctzll(bits[w0] & mask) - (lo & 63));
      bits[w0] |= mask;
    } else {
      uint64_t taken = (bits[w0] & head) | (bits[w1] & tail);
      for (int64_t w = w0 + 1; w < w1; ++w) taken |= bits[w];
      if (taken) {
        for (int64_t w = w0; w <= w1; ++w) {
          const uint64_t hit = bits[w] & (w == w0 ? head : w == w1 ? tail : ~uint64_t{0});
          if (hit) written_twice(arg, (page_index << kPageBits) + w * 64 + __builtin_ctzll(hit));
        }
      }
      bits[w0] |= head;
      for (int64_t w = w0 + 1; w < w1; ++w) bits[w] = ~uint64_t{0};
      bits[w1] |= tail;
    }
    at = page_end;
  }
}

}  // namespace npusim
