// Weight-stationary systolic arrays of one core (the timing of npusim_systolic_preload /
// npusim_systolic_accumulate, trace ABI version 2).
//
// * A preload shifts a k x n weight tile into a weight slot of one array, one
//   row per `preload_cycles_per_row`; preloads on one array serialise (its
//   load path), and a slot is reused only after the last accumulate that read
//   it has streamed its rows (`weight_slots` slots per array, round robin).
// * An accumulate streams m input rows through the resident tile, one row per
//   cycle per (rows x cols) pass: its occupancy. Accumulates on one array run
//   back to back at occupancy (one output pipeline); a result is ready
//   `hop_cycles * (k + n - 2)` (skew fill and drain over the rows and columns
//   the tile really uses) plus `latency_cycles` after its last row went in,
//   and only its consumer waits for that.
// * The producer names the array and the weight handle: array a is the home of
//   the preload, physical array a % arrays_per_core; an accumulate uses the
//   weights its handle was last preloaded with.
// * Arrays split a C tile's rows as well as its columns: an accumulate streams
//   its m rows in runs of `rows` (one array height), each on the array that
//   finishes it first, the home array on a tie. An array that does not hold
//   the weights preloads them first (a copy of the home preload: same
//   occupancy, on its own load path and weight slots), so a C tile of one
//   weight column (N <= cols) still keeps every array busy.
// * A systolic event the arrays cannot run (no arrays in the config, a
//   negative array, a handle no resident preload holds) throws TraceError.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "trace_error.hpp"

namespace npusim {

struct SystolicConfig {
  int rows = 128, cols = 128, arrays = 2, weight_slots = 2;
  double preload_cycles_per_row = 1, hop_cycles = 1, latency_cycles = 0;

  // Every key must be present and a number (the config section `systolic:`).
  static SystolicConfig from_json(const nlohmann::json &systolic_section);
};

class SystolicUnit {
 public:
  struct Pass {
    double start = 0, end = 0, done = 0;  // streaming begins, ends; result ready
  };

  explicit SystolicUnit(const SystolicConfig &cfg);

  // Weights whose scratchpad data is ready at `earliest`; returns when they are resident.
  double preload(int32_t array, int64_t handle, double earliest, int64_t k, int64_t n);
  Pass accumulate(int32_t array, int64_t handle, double earliest, int64_t m, int64_t k, int64_t n);

  // The output pipeline of one accumulator (keyed by its scratchpad mask): accumulates into it
  // wait for what wrote it before the pipeline (its initialisation), not for each other's drain.
  double output_wait(uint64_t key, double slot_ready);
  double output_written(uint64_t key, double slot_ready, double done);

  // When every array has streamed its last accumulate (a core's arrays are part of its "free").
  double free_at() const;
  double busy_stream() const { return busy_stream_; }
  double busy_preload() const { return busy_preload_; }

 private:
  struct WeightSlot {
    double loaded = 0;    // weights resident
    double released = 0;  // last accumulate reading it has streamed
    int64_t handle = -1;
    uint64_t sequence = 0;  // preload order: a reused handle means its latest preload
    uint64_t origin = 0;    // the producer's preload these weights are (its sequence): copies match it
    double data_ready = 0;  // when the weights were in the scratchpad (a copy starts no earlier)
  };
  struct Array {
    double load_free = 0;  // preload path
    double free = 0;       // streaming path
    std::vector<WeightSlot> slots;
    int next_slot = 0;
  };
  struct Pipeline {
    uint64_t key = 0;
    double base = 0;  // ready time of the write before the pipeline's accumulates
    double last = -1;  // ready time the pipeline itself last set
  };

  Array &array_of(int32_t array, const char *event);
  WeightSlot *holding(Array &a, uint64_t origin);
  // When array `a` could hold the weights of `origin`: now (resident) or after a copy preload.
  double weights_ready(Array &a, const WeightSlot &home, double preload_occupancy);
  WeightSlot &copy_weights(Array &a, const WeightSlot &home, double preload_occupancy);
  int64_t passes(int64_t k, int64_t n) const;

  SystolicConfig cfg_;
  std::vector<Array> arrays_;
  std::vector<Pipeline> pipelines_;
  uint64_t preloads_ = 0;
  double busy_stream_ = 0, busy_preload_ = 0;
};

// Inline: every work item asks it of every core.
inline double SystolicUnit::free_at() const {
  double t = 0;
  for (const Array &a : arrays_) t = std::max(t, a.free);
  return t;
}

}  // namespace npusim
