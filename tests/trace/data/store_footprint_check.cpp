// Differential check of StoreFootprint (simulator/trace/src/store_footprint.cpp) against a plain
// model that keeps every stored element in a std::set: random store sequences (tile walks of row
// blocks, contiguous tiles, strided / negative / zero strides, interleaved walks, two arguments)
// must be accepted or refused identically, with the same message (the same element named).
// Usage: store_footprint_check SEED SCENARIOS; prints one summary line, exits 1 on a difference.
#include <cstdint>
#include <algorithm>
#include <cstdio>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "store_footprint.hpp"
#include "trace_error.hpp"

namespace {

struct Store {
  int32_t arg;
  int64_t offset, d0, stride0, d1, stride1;
};

std::string twice_message(int32_t arg, int64_t element) {
  return "a DMA store writes element " + std::to_string(element) + " of tensor argument " + std::to_string(arg) +
         " a second time in one launch (a kernel stores each output element once: the producer's store " +
         "descriptors overlap)";
}

// What StoreFootprint promises, element by element: a unit-stride row (or a contiguous descriptor,
// taken whole) names its lowest element stored before it; other rows name their first element, in
// stride order, stored before it (by an earlier store, an earlier row or an earlier element).
class Model {
 public:
  std::string add(const Store &s) {
    if (s.d0 <= 0 || s.d1 <= 0) return "";
    auto &set = stored_[s.arg];
    const bool contiguous = s.stride0 == 1 && (s.d1 == 1 || s.stride1 == s.d0);
    if (contiguous) return add_range(set, s.arg, s.offset, s.offset + s.d0 * s.d1);
    for (int64_t r = 0; r < s.d1; ++r) {
      const int64_t row = s.offset + r * s.stride1;
      if (s.stride0 == 1 || s.stride0 == -1) {
        const int64_t first = s.stride0 == 1 ? row : row - (s.d0 - 1);
        const std::string error = add_range(set, s.arg, first, first + s.d0);
        if (!error.empty()) return error;
      } else {
        for (int64_t i = 0; i < s.d0; ++i)
          if (!set.insert(row + i * s.stride0).second) return twice_message(s.arg, row + i * s.stride0);
      }
    }
    return "";
  }

 private:
  static std::string add_range(std::set<int64_t> &set, int32_t arg, int64_t begin, int64_t end) {
    const auto hit = set.lower_bound(begin);
    if (hit != set.end() && *hit < end) return twice_message(arg, *hit);
    for (int64_t e = begin; e < end; ++e) set.insert(e);
    return "";
  }
  std::map<int32_t, std::set<int64_t>> stored_;
};

struct Totals {
  int64_t scenarios = 0, stores = 0, errors = 0;
};

// Runs one launch's stores through both; false (and a printed difference) when they disagree.
bool run(const std::vector<Store> &stores, Totals &totals) {
  npusim::StoreFootprint footprint;
  Model model;
  ++totals.scenarios;
  for (size_t i = 0; i < stores.size(); ++i) {
    const Store &s = stores[i];
    std::string got;
    try {
      footprint.add(s.arg, s.offset, s.d0, s.stride0, s.d1, s.stride1);
    } catch (const npusim::TraceError &e) {
      got = e.what();
    }
    const std::string want = model.add(s);
    ++totals.stores;
    if (got != want) {
      std::printf("DIFFERENCE at store %zu of %zu: arg %d offset %lld %lldx%lld strides %lld %lld\n  footprint: %s\n"
                  "  model:     %s\n",
                  i, stores.size(), s.arg, (long long)s.offset, (long long)s.d1, (long long)s.d0,
                  (long long)s.stride0, (long long)s.stride1, got.c_str(), want.c_str());
      for (size_t j = 0; j <= i; ++j)
        std::printf("  store %zu: arg %d offset %lld d0 %lld stride0 %lld d1 %lld stride1 %lld\n", j, stores[j].arg,
                    (long long)stores[j].offset, (long long)stores[j].d0, (long long)stores[j].stride0,
                    (long long)stores[j].d1, (long long)stores[j].stride1);
      return false;
    }
    if (!got.empty()) {  // the launch stops at its first refused store
      ++totals.errors;
      return true;
    }
  }
  return true;
}

// A tile walk over a row block: `chunks` stores of rows x chunk columns, each continuing the rows
// where the last one stopped, possibly with a narrower last chunk.
struct Walk {
  int32_t arg;
  int64_t begin, rows, step, chunk, last_chunk, chunks, done = 0;
  Store next() {
    const int64_t width = done == chunks - 1 ? last_chunk : chunk;
    Store s{arg, begin + done * chunk, width, 1, rows, rows == 1 ? width : step};
    ++done;
    return s;
  }
  bool finished() const { return done >= chunks; }
  int64_t end() const { return begin + (rows - 1) * step + chunk * (chunks - 1) + last_chunk; }
};

class Generator {
 public:
  explicit Generator(uint64_t seed) : rng_(seed) {}

  std::vector<Store> scenario() {
    std::vector<Store> stores;
    quiet_ = pick(0, 2) == 0;  // a launch without perturbed stores: mostly accepted, long
    const int kind = pick(0, quiet_ ? 3 : 5);
    const int64_t universe = pick(0, 3) == 0 ? 600 : 40000;
    int64_t cursor = pick(0, 50);
    const int n = pick(1, 60);
    for (int k = 0; k < n; ++k) {
      const int what = kind == 5 ? pick(0, 4) : kind;
      if (what <= 1) {  // one walk (a work item), laid after the last or anywhere
        Walk w = walk(quiet_ || pick(0, 3) ? cursor : pick(0, universe));
        cursor = w.end() + (quiet_ ? 0 : pick(0, 1) * pick(0, 40));
        while (!w.finished()) stores.push_back(perturbed(w.next()));
      } else if (what == 2) {  // two walks interleaved (two work items open at once)
        Walk a = walk(cursor);
        Walk b = walk(quiet_ ? a.end() : cursor + pick(-20, 3000));
        cursor = std::max(a.end(), b.end());
        while (!a.finished() || !b.finished()) {
          if (!a.finished() && (b.finished() || pick(0, 1))) stores.push_back(perturbed(a.next()));
          else if (!b.finished()) stores.push_back(perturbed(b.next()));
        }
      } else if (what == 3) {  // contiguous tiles
        const int64_t tile = pick(1, 300), tiles = pick(1, 12);
        for (int64_t t = 0; t < tiles; ++t) stores.push_back(perturbed(Store{static_cast<int32_t>(pick(0, 1)), cursor + t * tile, tile, 1, 1, 0}));
        cursor += tile * tiles;
      } else {  // any descriptor: strided, negative, zero strides, overlapping rows, empty dims
        static const int64_t strides0[] = {1, 1, 1, -1, 0, 2, 3, -2, 64, 1000, -1000};
        const int64_t d0 = pick(0, 40), d1 = pick(0, 6);
        const int64_t stride0 = strides0[pick(0, 10)];
        const int64_t strides1[] = {d0, d0 + 1, d0 - 1, 64, 100, 0, -64, pick(-200, 200), 2 * d0};
        stores.push_back(Store{static_cast<int32_t>(pick(0, 1)), pick(0, 3) ? cursor : pick(0, universe), d0, stride0, d1, strides1[pick(0, 8)]});
        cursor += pick(0, 200);
      }
    }
    return stores;
  }

 private:
  int64_t pick(int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng_); }

  Walk walk(int64_t begin) {
    static const int64_t rows_choice[] = {1, 2, 3, 8};
    Walk w{};
    w.arg = pick(0, 1) && pick(0, 1);
    w.begin = begin;
    w.rows = rows_choice[pick(0, 3)];
    w.chunk = pick(1, 40);
    w.chunks = pick(1, 6);
    w.last_chunk = pick(0, 1) ? w.chunk : pick(1, w.chunk + 1);
    const int64_t width = w.chunk * (w.chunks - 1) + w.last_chunk;
    w.step = pick(0, 2) ? width : width + pick(quiet_ ? 0 : -2, 30);  // often rows that close up exactly
    if (w.step <= 0) w.step = width;
    return w;
  }

  // Mostly the store as walked; sometimes one field off by a little (overlaps, gaps, other args).
  Store perturbed(Store s) {
    if (quiet_ || pick(0, 24)) return s;
    switch (pick(0, 5)) {
      case 0: s.offset += pick(-2, 2); break;
      case 1: s.d0 += pick(-1, 2); break;
      case 2: s.stride1 += pick(-2, 2); break;
      case 3: s.d1 += pick(-1, 1); break;
      case 4: s.arg = 1 - s.arg; break;
      default: s.stride0 = pick(-1, 2); break;
    }
    if (s.offset < 0) s.offset = 0;
    return s;
  }

  std::mt19937_64 rng_;
  bool quiet_ = false;
};

// Hand-picked launches, each with what it must give (empty: accepted).
struct Directed {
  const char *name;
  std::vector<Store> stores;
  std::string expected;
};

std::vector<Directed> directed() {
  std::vector<Directed> cases;
  // the softmax bench: 8 rows x 2000 columns per work item, 15 chunks of 128 then one of 80
  std::vector<Store> softmax;
  for (int64_t item = 0; item < 6; ++item)
    for (int64_t c = 0; c < 16; ++c)
      softmax.push_back(Store{1, item * 16000 + c * 128, c == 15 ? 80 : 128, 1, 8, 2000});
  cases.push_back({"softmax work items", softmax, ""});
  // its last chunk one column too wide: row 0 runs into row 1's first element
  auto wide = softmax;
  wide[15].d0 = 81;
  cases.push_back({"softmax chunk into the next row", wide, twice_message(1, 2000)});
  // a work item whose second row grows into a run stored before it (in row 9 of a 2000-wide matrix)
  std::vector<Store> second_row{{1, 18200, 100, 1, 1, 0}, {1, 16000, 128, 1, 8, 2000}, {1, 16128, 128, 1, 8, 2000}};
  cases.push_back({"second row over an earlier run", second_row, twice_message(1, 18200)});
  // a run stored inside the block's gap (row 3, columns 100..) before the block reaches it
  std::vector<Store> gap{{1, 0, 64, 1, 4, 1000}, {1, 3100, 50, 1, 1, 0}, {1, 64, 64, 1, 4, 1000}};
  cases.push_back({"block row grows into a run in its gap", gap, twice_message(1, 3100)});
  // the same rows continued with a different step: the second store's row 1 starts in row 1's run
  std::vector<Store> other_step{{1, 0, 64, 1, 4, 1000}, {1, 64, 64, 1, 4, 990}};
  cases.push_back({"continued with another step", other_step, twice_message(1, 1054)});
  // two work items interleaved chunk by chunk, the second one row too low at its end
  std::vector<Store> interleaved;
  for (int64_t c = 0; c < 4; ++c) {
    interleaved.push_back(Store{1, c * 16, 16, 1, 4, 64});
    interleaved.push_back(Store{1, 256 + c * 16, 16, 1, 4, 64});
  }
  cases.push_back({"interleaved work items", interleaved, ""});
  interleaved.push_back(Store{1, 192, 64, 1, 1, 0});
  cases.push_back({"interleaved work items, one row stored again", interleaved, twice_message(1, 192)});
  // strided elements (a column) then a block over them: the lowest element of the first row named
  std::vector<Store> column{{1, 5, 100, 50, 1, 0}, {1, 0, 10, 1, 3, 50}, {1, 10, 10, 1, 3, 50}};
  cases.push_back({"block over a strided column", column, twice_message(1, 5)});
  // zero and negative strides next to a block
  std::vector<Store> negative{{1, 0, 8, 1, 2, 100}, {1, 8, 8, 1, 2, 100}, {1, 50, 10, -1, 2, 100}, {1, 115, 4, 0, 1, 0}};
  cases.push_back({"negative and zero strides", negative, twice_message(1, 115)});
  // strided elements below 0 (a negative stride from offset 0), then a reversed row over them
  std::vector<Store> below_zero{{1, 0, 4, -2, 1, 0}, {1, 3, 10, -1, 1, 0}};
  cases.push_back({"elements below 0", below_zero, twice_message(1, -6)});
  return cases;
}

}  // namespace

int main(int argc, char **argv) {
  const uint64_t seed = argc > 1 ? std::stoull(argv[1]) : 1;
  const int64_t scenarios = argc > 2 ? std::stoll(argv[2]) : 20000;
  Totals totals;
  for (const Directed &d : directed()) {
    npusim::StoreFootprint footprint;
    std::string got;
    try {
      for (const Store &s : d.stores) footprint.add(s.arg, s.offset, s.d0, s.stride0, s.d1, s.stride1);
    } catch (const npusim::TraceError &e) {
      got = e.what();
    }
    if (got != d.expected) {
      std::printf("DIRECTED %s: got '%s', expected '%s'\n", d.name, got.c_str(), d.expected.c_str());
      return 1;
    }
    if (!run(d.stores, totals)) return 1;
  }
  Generator generator(seed);
  for (int64_t i = 0; i < scenarios; ++i)
    if (!run(generator.scenario(), totals)) return 1;
  std::printf("scenarios %lld stores %lld refused %lld\n", (long long)totals.scenarios, (long long)totals.stores,
              (long long)totals.errors);
  return 0;
}
