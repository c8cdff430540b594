#include "systolic.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace npusim {

namespace {

int64_t ceil_div(int64_t a, int64_t b) { return b <= 0 ? 0 : (a + b - 1) / b; }

double number(const nlohmann::json &section, const char *key) {
  if (!section.is_object() || !section.contains(key))
    throw std::runtime_error(std::string("config: systolic: missing key '") + key + "'");
  const nlohmann::json &x = section.at(key);
  if (!x.is_number())
    throw std::runtime_error(std::string("config: systolic.") + key + ": expected a number, got " + x.dump());
  return x.get<double>();
}

}  // namespace

SystolicConfig SystolicConfig::from_json(const nlohmann::json &s) {
  SystolicConfig c;
  c.rows = static_cast<int>(number(s, "rows"));
  c.cols = static_cast<int>(number(s, "cols"));
  c.arrays = static_cast<int>(number(s, "arrays_per_core"));
  c.weight_slots = static_cast<int>(number(s, "weight_slots"));
  c.preload_cycles_per_row = number(s, "preload_cycles_per_row");
  c.hop_cycles = number(s, "hop_cycles");
  c.latency_cycles = number(s, "latency_cycles");
  if (c.rows < 1 || c.cols < 1 || c.weight_slots < 1 || c.arrays < 0)
    throw std::runtime_error("config: systolic rows/cols/weight_slots below 1 or arrays_per_core below 0");
  if (c.preload_cycles_per_row < 0 || c.hop_cycles < 0 || c.latency_cycles < 0)
    throw std::runtime_error("config: a systolic latency is negative");
  return c;
}

SystolicUnit::SystolicUnit(const SystolicConfig &cfg) : cfg_(cfg) {
  arrays_.resize(static_cast<size_t>(cfg_.arrays));
  for (Array &a : arrays_) a.slots.resize(static_cast<size_t>(cfg_.weight_slots));
}

SystolicUnit::Array &SystolicUnit::array_of(int32_t array, const char *event) {
  if (arrays_.empty()) throw TraceError(std::string(event) + " on a config without systolic arrays");
  if (array < 0) throw TraceError(std::string(event) + " on array " + std::to_string(array));
  return arrays_[static_cast<size_t>(array) % arrays_.size()];
}

// A tile larger than the array runs as several (rows x cols) passes.
int64_t SystolicUnit::passes(int64_t k, int64_t n) const {
  return std::max<int64_t>(1, ceil_div(k, cfg_.rows)) * std::max<int64_t>(1, ceil_div(n, cfg_.cols));
}

double SystolicUnit::preload(int32_t array, int64_t handle, double earliest, int64_t k, int64_t n) {
  Array *a = &array_of(array, "a systolic preload");
  if (k < 0 || n < 0)
    throw TraceError("a systolic preload of a " + std::to_string(k) + " x " + std::to_string(n) + " weight tile");
  WeightSlot &slot = a->slots[static_cast<size_t>(a->next_slot)];
  a->next_slot = (a->next_slot + 1) % cfg_.weight_slots;
  double start = std::max({earliest, a->load_free, slot.released});
  // one weight row per step, the rows the tile really has
  double occupancy = cfg_.preload_cycles_per_row * static_cast<double>(std::min<int64_t>(k, cfg_.rows)) *
                     static_cast<double>(passes(k, n));
  a->load_free = start + occupancy;
  slot.loaded = start + occupancy;
  slot.handle = handle;
  slot.sequence = ++preloads_;
  slot.origin = slot.sequence;
  slot.data_ready = earliest;
  busy_preload_ += occupancy;
  return slot.loaded;
}

SystolicUnit::WeightSlot *SystolicUnit::holding(Array &a, uint64_t origin) {
  for (WeightSlot &s : a.slots)
    if (s.handle >= 0 && s.origin == origin) return &s;
  return nullptr;
}

double SystolicUnit::weights_ready(Array &a, const WeightSlot &home, double preload_occupancy) {
  if (const WeightSlot *s = holding(a, home.origin)) return s->loaded;
  const WeightSlot &next = a.slots[static_cast<size_t>(a.next_slot)];
  return std::max({home.data_ready, a.load_free, next.released}) + preload_occupancy;
}

SystolicUnit::WeightSlot &SystolicUnit::copy_weights(Array &a, const WeightSlot &home, double preload_occupancy) {
  if (WeightSlot *s = holding(a, home.origin)) return *s;
  WeightSlot &slot = a.slots[static_cast<size_t>(a.next_slot)];
  a.next_slot = (a.next_slot + 1) % cfg_.weight_slots;
  double start = std::max({home.data_ready, a.load_free, slot.released});
  a.load_free = start + preload_occupancy;
  slot.loaded = start + preload_occupancy;
  slot.handle = home.handle;
  slot.sequence = ++preloads_;
  slot.origin = home.origin;
  slot.data_ready = home.data_ready;
  busy_preload_ += preload_occupancy;
  return slot;
}

SystolicUnit::Pass SystolicUnit::accumulate(int32_t array, int64_t handle, double earliest, int64_t m, int64_t k,
                                            int64_t n) {
  Pass pass{earliest, earliest, earliest};
  Array *a = &array_of(array, "a systolic accumulate");
  WeightSlot *slot = nullptr;
  for (WeightSlot &s : a->slots)
    if (s.handle == handle && (!slot || s.sequence > slot->sequence)) slot = &s;
  if (!slot)
    throw TraceError("systolic accumulate on array " + std::to_string(array) + " with weight handle " +
                     std::to_string(handle) + " that no resident preload holds");
  if (m < 0 || k < 0 || n < 0)
    throw TraceError("a systolic accumulate of " + std::to_string(m) + " x " + std::to_string(k) + " x " +
                     std::to_string(n));
  if (m == 0 || k == 0 || n == 0) return pass;
  const double per_row = static_cast<double>(passes(k, n));
  const double preload_occupancy =
      cfg_.preload_cycles_per_row * static_cast<double>(std::min<int64_t>(k, cfg_.rows)) * per_row;
  const WeightSlot home = *slot;
  const size_t home_index = static_cast<size_t>(a - arrays_.data());
  pass.start = std::numeric_limits<double>::infinity();
  pass.end = earliest;
  for (int64_t row = 0; row < m; row += cfg_.rows) {
    const double occupancy = static_cast<double>(std::min<int64_t>(cfg_.rows, m - row)) * per_row;
    size_t best = home_index;
    double best_start = 0, best_end = std::numeric_limits<double>::infinity();
    for (size_t step = 0; step < arrays_.size(); ++step) {  // the home array first: it wins a tie
      const size_t i = (home_index + step) % arrays_.size();
      Array &candidate = arrays_[i];
      double start = std::max({earliest, candidate.free, weights_ready(candidate, home, preload_occupancy)});
      if (start + occupancy < best_end) best = i, best_start = start, best_end = start + occupancy;
    }
    Array &chosen = arrays_[best];
    WeightSlot &weights = copy_weights(chosen, home, preload_occupancy);
    chosen.free = best_end;
    weights.released = std::max(weights.released, best_end);
    pass.start = std::min(pass.start, best_start);
    pass.end = std::max(pass.end, best_end);
    busy_stream_ += occupancy;
  }
  int64_t used_rows = std::min<int64_t>(k, cfg_.rows), used_cols = std::min<int64_t>(n, cfg_.cols);
  pass.done = pass.end + cfg_.hop_cycles * static_cast<double>(used_rows + used_cols - 2) + cfg_.latency_cycles;
  return pass;
}

double SystolicUnit::output_wait(uint64_t key, double slot_ready) {
  for (Pipeline &p : pipelines_)
    if (p.key == key) {
      if (slot_ready != p.last) p.base = slot_ready;  // rewritten since: a new tile's initialisation
      return p.base;
    }
  pipelines_.push_back(Pipeline{key, slot_ready, -1});
  return slot_ready;
}

double SystolicUnit::output_written(uint64_t key, double slot_ready, double done) {
  double ready = std::max(slot_ready, done);
  for (Pipeline &p : pipelines_)
    if (p.key == key) p.last = ready;
  return ready;
}

}  // namespace npusim
