// The DRAM elements a launch has stored, per tensor argument.
//
// An Inductor kernel writes each element of its outputs at most once per
// launch, so a store DMA that writes an element a second time is an
// impossible trace: the producer's descriptor disagrees with the kernel
// (swapped or zero strides, an overlapping tile offset). Three forms, each
// checked against the others:
// * contiguous runs (rows of unit stride) as merged half-open intervals
//   [begin, end): a stream of tile stores stays one interval, with no memory
//   per element (a bitmap of a 2.6e8-element output costs 32 MB of page
//   faults, a fifth of the add launch);
// * elements of strided rows (a column of a row-major tensor) as one bit per
//   element in pages of 2^15 elements: a std::map run per element made
//   compiler_cumsum_middle run at ~1e4 records/s;
// * the rows a tile loop is filling (a block of rows with one stride), kept
//   apart and checked with one compare per store that continues them all (a
//   std::map operation per row cost the 8-row softmax tiles ~430
//   instructions per store), joined to the runs when the loop moves on.
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
  void add(int32_t arg, int64_t offset, int64_t d0, int64_t stride0, int64_t d1, int64_t stride1) {
    if (d0 <= 0 || d1 <= 0) return;
    Stored &s = stored(arg);
    const Block &b = s.block;
    const Rows r = rows_of(d0, stride0, d1, stride1);
    if (stride0 == 1 && r.rows == b.rows && (r.rows == 1 || r.step == b.step) && offset == b.begin + b.length &&
        r.length <= b.room - b.length) {
      s.block.length += r.length;  // every row continues where the last store stopped, inside its room
      return;
    }
    add_slow(s, arg, offset, d0, stride0, d1, stride1);
  }

 private:
  using Runs = std::map<int64_t, int64_t>;  // begin -> end

  // A descriptor's rows: one when its d1 rows of d0 close up (contiguous), else d1 rows of d0 at stride1.
  struct Rows {
    bool contiguous;
    int64_t rows, length, step;
  };
  static Rows rows_of(int64_t d0, int64_t stride0, int64_t d1, int64_t stride1) {
    if (stride0 == 1 && (d1 == 1 || stride1 == d0)) return Rows{true, 1, d0 * d1, 0};
    return Rows{false, d1, d0, stride1};
  }

  // The rows a tile loop is filling, kept out of the runs until a store does not continue them:
  // row r holds [begin + r * step, begin + r * step + length). The loop's next store usually
  // continues every row where the last one stopped (the next column chunk, the next 1-D tile),
  // checked for all rows by one compare: nothing else is stored in [row r's begin, row r's begin +
  // room) for any r, and room <= step when rows > 1. Written into the runs (one run when the rows
  // close up) by the first store that does not continue it; none while the argument has pages.
  struct Block {
    int64_t begin = 0, step = 0, length = 0, room = 0;
    int64_t rows = 0;  // 0: none; 1: a contiguous run
  };

  static constexpr int kPageBits = 15;
  static constexpr int64_t kPageElements = int64_t{1} << kPageBits;
  static constexpr int64_t kPageWords = kPageElements / 64;

  struct Stored {
    Runs runs;
    Block block;
    std::unordered_map<int64_t, std::unique_ptr<uint64_t[]>> pages;  // page index -> kPageWords words
    int64_t last_page_index = 0;                                      // pages[last_page_index] is last_page
    uint64_t *last_page = nullptr;
  };
  Stored &stored(int32_t arg) {
    if (arg != last_arg_ || !last_) {
      last_ = &args_[arg];
      last_arg_ = arg;
    }
    return *last_;
  }
  // A store that does not continue the block: the block goes into the runs, then the store starts
  // the next block or is checked and added row by row.
  void add_slow(Stored &s, int32_t arg, int64_t offset, int64_t d0, int64_t stride0, int64_t d1, int64_t stride1);
  void flush_block(Stored &s, int32_t arg);
  // Makes the store the block when its rows are of unit stride, apart and clear of every run;
  // otherwise changes nothing and returns false.
  bool starts_block(Stored &s, int64_t offset, int64_t d0, int64_t stride0, int64_t d1, int64_t stride1);
  void add_searched(Stored &s, int32_t arg, int64_t offset, int64_t d0, int64_t stride0, int64_t d1, int64_t stride1);
  // Adds [begin, end) after checking it against the runs and pages.
  void add_run(Stored &s, int32_t arg, int64_t begin, int64_t end);
  void add_element(Stored &s, int32_t arg, int64_t element);

  std::map<int32_t, Stored> args_;
  int32_t last_arg_ = 0;  // args_[last_arg_] is *last_
  Stored *last_ = nullptr;
};

}  // namespace npusim
