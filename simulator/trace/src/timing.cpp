#include "timing.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

namespace npusim {

namespace {

double section_num(const json::Value &cfg, const char *section, const char *key) {
  try {
    return cfg.at(section).at(key).num();
  } catch (const std::exception &e) {
    throw std::runtime_error(std::string("config: ") + section + "." + key + ": " + e.what());
  }
}

const char *const kVectorClasses[] = {"vector_load", "vector_store", "vector_fp", "vector_int",
                                      "vector_other"};
const char *const kAllClasses[] = {"vector_load", "vector_store", "vector_fp",  "vector_int",
                                   "vector_other", "scalar_mem",  "scalar_fp", "scalar"};

int64_t ceil_div(int64_t a, int64_t b) { return b <= 0 ? 0 : (a + b - 1) / b; }

}  // namespace

Config Config::from_json(const json::Value &v) {
  Config c;
  c.cores = static_cast<int>(section_num(v, "core", "count"));
  c.core_freq_mhz = section_num(v, "core", "freq_mhz");
  c.vector_lanes = static_cast<int>(section_num(v, "vector", "lanes"));
  c.vector_vlen_bits = static_cast<int>(section_num(v, "vector", "vlen_bits"));
  c.vector_latency = section_num(v, "vector", "latency_cycles");
  for (const auto &kv : v.at("vector").at("cycles_per_op").object) c.cycles_per_op[kv.first] = kv.second.num();
  c.spad_bytes = static_cast<int64_t>(section_num(v, "scratchpad", "kb_per_lane")) * 1024 * c.vector_lanes;
  c.buffers_per_operand = static_cast<int>(section_num(v, "scratchpad", "buffers_per_operand"));
  c.systolic = SystolicConfig::from_json(v.at("systolic"));
  c.dma_queue_depth = static_cast<int>(section_num(v, "dma", "queue_depth"));
  c.dma_issue_cycles = section_num(v, "dma", "issue_cycles");
  c.dram_channels = static_cast<int>(section_num(v, "dram", "channels"));
  c.dram_freq_mhz = section_num(v, "dram", "freq_mhz");
  c.dram_gbps_per_channel = section_num(v, "dram", "gbps_per_channel");
  c.dram_latency = section_num(v, "dram", "latency_cycles");
  c.dram_burst_bytes = static_cast<int64_t>(section_num(v, "dram", "burst_bytes"));
  c.noc_latency = section_num(v, "noc", "latency_cycles");
  if (c.cores < 1 || c.dram_channels < 1 || c.dma_queue_depth < 1 || c.dram_burst_bytes < 1 ||
      c.buffers_per_operand < 1 || c.vector_lanes < 1)
    throw std::runtime_error("config: a count is below 1");
  return c;
}

KernelInfo KernelInfo::from_json(const json::Value &v) {
  KernelInfo info;
  for (const auto &s : v.at("spads").array) {
    int id = static_cast<int>(s.at("id").i64());
    info.spads[id].bytes = s.at("bytes").i64();
  }
  info.n_size_args = static_cast<int>(v.at("size_args").array.size());
  return info;
}

// A tile's cost is linear in its element count: fixed + per_elem * n.
// Either given directly (a hand-written table) or derived from the
// instruction-class counts of two Spike samples of the tile, a full tile and
// a 1-element tile (cost.py documents the model).
std::map<int, TileCost> load_cost_table(const json::Value &table, const Config &cfg) {
  std::map<int, TileCost> out;
  if (!table.has("tiles")) return out;
  for (const auto &kv : table.at("tiles").object) {
    int tile_id = std::stoi(kv.first);
    const json::Value &t = kv.second;
    TileCost cost;
    if (t.has("fixed_cycles")) {
      cost.fixed_cycles = t.at("fixed_cycles").num();
      cost.cycles_per_elem = t.at("cycles_per_elem").num();
    } else {
      // Without a 1-element sample (a static kernel has no size to shrink)
      // the line goes through the origin: all of the tile's work per element.
      const json::Value empty_sample = json::parse("{\"n\": 0, \"counts\": {}}");
      const json::Value &full = t.at("full"), &one = t.has("one") ? t.at("one") : empty_sample;
      double n_full = full.at("n").num(), n_one = one.at("n").num();
      double elem_bits = t.at("elem_bits").num();
      double spike_vlen = table.has("spike_vlen_bits") ? table.at("spike_vlen_bits").num() : 128;
      auto count = [](const json::Value &sample, const char *cls) {
        const json::Value &counts = sample.at("counts");
        return counts.has(cls) ? counts.at(cls).num() : 0.0;
      };
      double dn = n_full - n_one;
      bool vectorised = false;
      for (const char *cls : kVectorClasses)
        if (count(full, cls) - count(one, cls) > 0) vectorised = true;
      // Elements one repetition of the per-element work covers on Spike (a
      // strip of VLEN/SEW when the loop is vectorised, else one element) and
      // on the NPU (one op of lanes x vlen / SEW elements).
      double spike_elems = vectorised ? std::max(1.0, spike_vlen / elem_bits) : 1.0;
      double npu_elems = std::max(1.0, cfg.vector_lanes * std::floor(cfg.vector_vlen_bits / elem_bits));
      double strip_scale = spike_elems / npu_elems;
      for (const char *cls : kAllClasses) {
        auto cpo_it = cfg.cycles_per_op.find(cls);
        double cpo = cpo_it == cfg.cycles_per_op.end() ? 1.0 : cpo_it->second;
        double slope = dn > 0 ? (count(full, cls) - count(one, cls)) / dn : 0.0;
        double intercept = count(one, cls) - slope * n_one;
        cost.cycles_per_elem += cpo * slope * strip_scale;
        cost.fixed_cycles += cpo * intercept;
      }
      cost.cycles_per_elem = std::max(0.0, cost.cycles_per_elem);
      cost.fixed_cycles = std::max(0.0, cost.fixed_cycles);
    }
    out[tile_id] = cost;
  }
  return out;
}

TimingCore::TimingCore(const Config &cfg, const KernelInfo &info, std::map<int, TileCost> costs)
    : cfg_(cfg), info_(info), costs_(std::move(costs)) {
  int64_t need = 0;
  for (const auto &kv : info_.spads) {
    if (kv.first < 0 || kv.first >= kMaxSpads)
      throw std::runtime_error("kernel info: scratchpad id " + std::to_string(kv.first) + " out of range");
    need += kv.second.bytes;
  }
  effective_slots_ = cfg_.buffers_per_operand;
  if (need > 0) {
    int64_t fit = cfg_.spad_bytes / need;
    if (fit < 1)
      throw std::runtime_error("scratchpad overflow: the kernel's buffers need " + std::to_string(need) +
                               " bytes, the config has " + std::to_string(cfg_.spad_bytes));
    effective_slots_ = static_cast<int>(std::min<int64_t>(effective_slots_, fit));
  }
  int max_id = costs_.empty() ? -1 : costs_.rbegin()->first;
  cost_by_id_.assign(static_cast<size_t>(max_id + 1), TileCost{-1, -1});
  for (const auto &kv : costs_)
    if (kv.first >= 0) cost_by_id_[static_cast<size_t>(kv.first)] = kv.second;

  double bytes_per_cycle = cfg_.dram_gbps_per_channel * 1000.0 / cfg_.core_freq_mhz;
  burst_cycles_ = std::max(static_cast<double>(cfg_.dram_burst_bytes) / bytes_per_cycle,
                           cfg_.core_freq_mhz / cfg_.dram_freq_mhz);
  calendars_.assign(static_cast<size_t>(cfg_.dram_channels), {});
  cores_.resize(static_cast<size_t>(cfg_.cores));
  systolic_.assign(static_cast<size_t>(cfg_.cores), SystolicUnit(cfg_.systolic));
  for (Core &c : cores_) {
    c.buffers.resize(kMaxSpads);
    c.dma_outstanding.reserve(static_cast<size_t>(cfg_.dma_queue_depth));
  }
}

TimingCore::Buffer &TimingCore::buffer(Core &c, int32_t spad) {
  if (spad < 0 || spad >= kMaxSpads) {
    if (error_.empty()) error_ = "scratchpad id " + std::to_string(spad) + " out of range";
    spad = 0;
  }
  Buffer &b = c.buffers[static_cast<size_t>(spad)];
  if (b.slots.empty()) b.slots.resize(static_cast<size_t>(effective_slots_));
  return b;
}

double TimingCore::read_ready(Core &c, uint64_t mask) {
  double t = 0;
  for_each_buffer(c, mask, [&](Buffer &buf, int) { t = std::max(t, buf.current_slot().ready); });
  return t;
}

void TimingCore::mark_read(Core &c, uint64_t mask, double until) {
  for_each_buffer(c, mask, [&](Buffer &buf, int) {
    Slot &s = buf.current_slot();
    s.free = std::max(s.free, until);
  });
}

// A buffer that is written but not read gets a fresh slot (double
// buffering); one that is read and written is updated in place.
double TimingCore::write_slots_free(Core &c, uint64_t mask, uint64_t reads) {
  double t = 0;
  for_each_buffer(c, mask, [&](Buffer &buf, int b) {
    if (!((reads >> b) & 1)) buf.current = (buf.current + 1) % effective_slots_;
    const Slot &s = buf.current_slot();
    t = std::max(t, std::max(s.free, s.ready));
  });
  return t;
}

void TimingCore::mark_written(Core &c, uint64_t mask, double ready) {
  for_each_buffer(c, mask, [&](Buffer &buf, int) {
    Slot &s = buf.current_slot();
    s.ready = ready;
    s.free = std::max(s.free, ready);
  });
}

double TimingCore::reserve_queue_entry(Core &c) {
  auto &q = c.dma_outstanding;
  if (static_cast<int>(q.size()) < cfg_.dma_queue_depth) return 0;
  auto oldest = std::min_element(q.begin(), q.end());
  double t = *oldest;
  *oldest = q.back();
  q.pop_back();
  return t;
}

// Book `duration` cycles on a channel in the first gap at or after
// `earliest`; returns the end of the booking.
double TimingCore::book_channel(int channel, double earliest, double duration) {
  auto &cal = calendars_[static_cast<size_t>(channel)];
  busy_dram_channel_ += duration;
  // No booking is shorter than one burst, so a gap shorter than that can
  // never be used: bookings that leave one are merged with their neighbour,
  // which keeps the calendars short without changing any outcome.
  const double unusable = burst_cycles_;
  // Common case: the request starts after everything booked so far.
  if (cal.empty() || earliest >= cal.back().end) {
    if (!cal.empty() && earliest - cal.back().end < unusable)
      cal.back().end = earliest + duration;
    else
      cal.push_back(Interval{earliest, earliest + duration});
    return earliest + duration;
  }
  auto it = std::partition_point(cal.begin(), cal.end(), [&](const Interval &iv) { return iv.end <= earliest; });
  double cand = earliest;
  while (it != cal.end() && it->begin < cand + duration) {
    cand = std::max(cand, it->end);
    ++it;
  }
  double end = cand + duration;
  bool joins_prev = it != cal.begin() && cand - std::prev(it)->end < unusable;
  bool joins_next = it != cal.end() && it->begin - end < unusable;
  if (joins_prev && joins_next) {
    std::prev(it)->end = it->end;
    cal.erase(it);
  } else if (joins_prev) {
    std::prev(it)->end = end;
  } else if (joins_next) {
    it->begin = std::min(it->begin, cand);
  } else {
    cal.insert(it, Interval{cand, end});
  }
  return end;
}

void TimingCore::prune_calendars() {
  // No future request starts before the earliest issue time of any core.
  double horizon = cores_[0].issue;
  for (const Core &c : cores_) horizon = std::min(horizon, c.issue);
  for (auto &cal : calendars_) {
    calendar_peak_ = std::max(calendar_peak_, cal.size());
    auto it = std::partition_point(cal.begin(), cal.end(), [&](const Interval &iv) { return iv.end <= horizon; });
    cal.erase(cal.begin(), it);
  }
}

// A request's bursts spread evenly over min(bursts, channels) channels (the
// interleaving of consecutive bursts), starting at a rotating channel so
// small requests share the channels out. Spreading by count, not address,
// keeps the cost monotone in the transfer size.
double TimingCore::dram_transfer(double start, int64_t n_bursts) {
  const int64_t channels = cfg_.dram_channels;
  const int64_t used = std::min(n_bursts, channels);
  const double per_channel = static_cast<double>(n_bursts) * burst_cycles_ / static_cast<double>(used);
  double done = start;
  for (int64_t i = 0; i < used; ++i)
    done = std::max(done, book_channel(static_cast<int>((next_channel_ + i) % channels), start, per_channel));
  next_channel_ = (next_channel_ + used) % channels;
  if (++bookings_since_prune_ >= 16) {
    bookings_since_prune_ = 0;
    prune_calendars();
  }
  return done + cfg_.dram_latency + cfg_.noc_latency;
}

void TimingCore::finish_dma(Core &c, double done, int32_t tag, int64_t slot) {
  c.dma_outstanding.push_back(done);
  if (tag < 0) {
    c.issue = std::max(c.issue, done);  // synchronous: the whole core waits
    c.gate = std::max(c.gate, done);
  } else {
    if (c.pending.size() >= kMaxPending) {
      // Loads nobody waits for: forget the oldest half, a barrier on them
      // would find them long complete.
      c.pending.erase(c.pending.begin(), c.pending.begin() + kMaxPending / 2);
    }
    for (PendingDma &p : c.pending)
      if (p.tag == tag && p.slot == slot) {
        p.done = done;
        note_end(done);
        return;
      }
    c.pending.push_back(PendingDma{tag, slot, done});
  }
  note_end(done);
}

void TimingCore::work_item_begin() {
  ++records_;
  ++n_work_items_;
  // The core that is free first takes the work item.
  auto free_at = [&](int i) {
    const Core &c = cores_[static_cast<size_t>(i)];
    return std::max({c.issue, c.gate, c.vector_free, systolic_[static_cast<size_t>(i)].free_at()});
  };
  int best = 0;
  for (int i = 1; i < cfg_.cores; ++i)
    if (free_at(i) < free_at(best)) best = i;
  current_core_ = best;
  in_work_item_ = true;
  ++core().work_items;
}

void TimingCore::work_item_end() {
  ++records_;
  in_work_item_ = false;
  current_core_ = 0;
}

void TimingCore::dma(int32_t dir, int32_t arg, int32_t spad, int32_t elem_bits, int64_t offset, int64_t d0,
                     int64_t stride0, int64_t d1, int64_t stride1, int32_t tag, int64_t slot) {
  (void)arg;
  ++records_;
  ++n_dma_;
  Core &c = core();
  double t = std::max(c.issue, reserve_queue_entry(c));
  c.issue = t + cfg_.dma_issue_cycles;
  c.busy_dma_issue += cfg_.dma_issue_cycles;
  const uint64_t mask = uint64_t{1} << (static_cast<unsigned>(spad) & 63);
  double start = c.issue;
  if (dir == 0)
    start = std::max(start, write_slots_free(c, mask, 0));
  else
    start = std::max(start, read_ready(c, mask));

  const int64_t elem_bytes = std::max<int64_t>(1, elem_bits / 8);
  const int64_t burst = cfg_.dram_burst_bytes;
  int64_t bursts = 0;
  auto add_run = [&](int64_t n) {
    if (n > 0) bursts += n;
  };
  // A row moves as whole bursts from a burst boundary: ceil(span / burst)
  // bursts, or one per element when elements are a burst or more apart.
  // Address misalignment is deliberately not modelled: it would make a
  // bigger transfer cheaper (a 128-column row is 8 aligned bursts, a
  // 127-column row at an odd offset 9), breaking cycle monotonicity in size.
  auto add_row = [&](int64_t row_offset, int64_t n, int64_t stride) {
    if (n <= 0) return;
    (void)row_offset;
    int64_t a = std::abs(stride);
    if (a <= 1 || n == 1)
      add_run(ceil_div(n * elem_bytes, burst));
    else if (a * elem_bytes >= burst)
      add_run(n);
    else
      add_run(ceil_div(((n - 1) * a + 1) * elem_bytes, burst));
  };
  if (d0 > 0 && d1 > 0) {
    if ((stride0 == 1 && (d1 == 1 || stride1 == d0)))
      add_row(offset, d0 * d1, 1);
    else
      for (int64_t r = 0; r < d1; ++r) add_row(offset + r * stride1, d0, stride0);
  }
  double done = start;
  if (bursts > 0) {
    dram_bursts_ += static_cast<uint64_t>(bursts);
    dram_bytes_ += static_cast<uint64_t>(d0 * d1 * elem_bytes);
    done = dram_transfer(start, bursts);
  }
  if (dir == 0)
    mark_written(c, mask, done);
  else  // the scratchpad slot is free once its data left for DRAM
    mark_read(c, mask, bursts > 0 ? done - cfg_.dram_latency - cfg_.noc_latency : done);
  finish_dma(c, done, tag, slot);
}

void TimingCore::dma_gather(int32_t arg, int32_t spad, int32_t elem_bits, int64_t n_elems, int32_t tag,
                            int64_t slot) {
  (void)arg;
  ++records_;
  ++n_gather_;
  Core &c = core();
  double t = std::max(c.issue, reserve_queue_entry(c));
  c.issue = t + cfg_.dma_issue_cycles;
  c.busy_dma_issue += cfg_.dma_issue_cycles;
  const uint64_t mask = uint64_t{1} << (static_cast<unsigned>(spad) & 63);
  double start = std::max(c.issue, write_slots_free(c, mask, 0));
  double done = start;
  if (n_elems > 0) {
    // Addresses are data dependent: one burst per element.
    dram_bursts_ += static_cast<uint64_t>(n_elems);
    dram_bytes_ += static_cast<uint64_t>(n_elems * std::max(1, elem_bits / 8));
    done = dram_transfer(start, n_elems);
  }
  mark_written(c, mask, done);
  finish_dma(c, done, tag, slot);
}

void TimingCore::compute(int32_t tile_id, int64_t n_elems, uint64_t reads, uint64_t writes) {
  ++records_;
  ++n_compute_;
  Core &c = core();
  double occupancy = 0;
  if (tile_id >= 0 && static_cast<size_t>(tile_id) < cost_by_id_.size() &&
      cost_by_id_[static_cast<size_t>(tile_id)].fixed_cycles >= 0) {
    const TileCost &cost = cost_by_id_[static_cast<size_t>(tile_id)];
    if (n_elems > 0) occupancy = cost.fixed_cycles + cost.cycles_per_elem * static_cast<double>(n_elems);
  } else if (error_.empty()) {
    error_ = "no cost for compute tile_id " + std::to_string(tile_id) + " in the cost table";
  }
  double start = std::max({c.gate, c.vector_free, read_ready(c, reads), write_slots_free(c, writes, reads)});
  c.vector_free = start + occupancy;
  double done = start + occupancy + cfg_.vector_latency;
  mark_read(c, reads, start + occupancy);
  mark_written(c, writes, done);
  c.busy_vector += occupancy;
  TileStats &ts = tile_stats_[tile_id];
  ++ts.calls;
  ts.elems += n_elems;
  ts.max_elems = std::max(ts.max_elems, n_elems);
  ts.cycles += occupancy;
  note_end(done);
}

void TimingCore::barrier(int32_t tag, int64_t slot) {
  ++records_;
  ++n_barrier_;
  Core &c = core();
  for (size_t i = c.pending.size(); i-- > 0;) {
    if (c.pending[i].tag == tag && c.pending[i].slot == slot) {
      c.gate = std::max(c.gate, c.pending[i].done);
      c.pending[i] = c.pending.back();
      c.pending.pop_back();
      return;
    }
  }
}

void TimingCore::systolic_preload(int32_t array, int64_t handle, int32_t weights_spad, int64_t k, int64_t n) {
  ++records_;
  ++n_preload_;
  Core &c = core();
  const uint64_t mask = uint64_t{1} << (static_cast<unsigned>(weights_spad) & 63);
  double loaded = systolic_[static_cast<size_t>(current_core_)].preload(
      array, handle, std::max(c.gate, read_ready(c, mask)), k, n, &error_);
  mark_read(c, mask, loaded);
  note_end(loaded);
}

void TimingCore::systolic_accumulate(int32_t tile_id, int32_t array, int64_t handle, int64_t m, int64_t k,
                                     int64_t n, uint64_t reads, uint64_t writes) {
  ++records_;
  ++n_accumulate_;
  Core &c = core();
  SystolicUnit &unit = systolic_[static_cast<size_t>(current_core_)];
  const double out_ready = read_ready(c, writes);
  double earliest = std::max({c.gate, read_ready(c, reads & ~writes), unit.output_wait(writes, out_ready)});
  SystolicUnit::Pass pass = unit.accumulate(array, handle, earliest, m, k, n, &error_);
  mark_read(c, reads, pass.end);
  mark_written(c, writes, unit.output_written(writes, out_ready, pass.done));
  TileStats &ts = tile_stats_[tile_id];
  ++ts.calls;
  ts.elems += m * n;
  ts.max_elems = std::max(ts.max_elems, m * n);
  ts.cycles += pass.end - pass.start;
  note_end(pass.done);
}

std::string TimingCore::report_json(double wall_s, int32_t producer_status) const {
  double end = end_time_;
  double busy_vector = 0, busy_systolic = 0, busy_dma_issue = 0;
  for (const SystolicUnit &unit : systolic_) busy_systolic += unit.busy_stream();
  for (const Core &c : cores_) {
    end = std::max(end, c.issue);
    busy_vector += c.busy_vector;
    busy_dma_issue += c.busy_dma_issue;
  }
  std::ostringstream o;
  o.precision(17);
  o << "{\"cycles\": " << static_cast<uint64_t>(std::ceil(end)) << ", \"trace_records\": " << records_
    << ", \"dram_bytes\": " << dram_bytes_ << ", \"dram_bursts\": " << dram_bursts_
    << ", \"busy_cycles\": {\"vector\": " << busy_vector << ", \"systolic\": " << busy_systolic
    << ", \"dma_issue\": " << busy_dma_issue << ", \"dram_channel_avg\": " << busy_dram_channel_ / cfg_.dram_channels
    << "}, \"events\": {\"work_items\": " << n_work_items_ << ", \"dma\": " << n_dma_ << ", \"dma_gather\": " << n_gather_
    << ", \"compute\": " << n_compute_ << ", \"barrier\": " << n_barrier_ << ", \"systolic_preload\": " << n_preload_
    << ", \"systolic_accumulate\": " << n_accumulate_ << "}, \"cores\": [";
  for (size_t i = 0; i < cores_.size(); ++i)
    o << (i ? ", " : "") << "{\"work_items\": " << cores_[i].work_items << ", \"vector_busy\": " << cores_[i].busy_vector
      << ", \"issue_end\": " << cores_[i].issue << "}";
  o << "], \"tiles\": {";
  bool first = true;
  for (const auto &kv : tile_stats_) {
    o << (first ? "" : ", ") << "\"" << kv.first << "\": {\"calls\": " << kv.second.calls << ", \"elems\": " << kv.second.elems
      << ", \"max_elems\": " << kv.second.max_elems << ", \"cycles\": " << kv.second.cycles << "}";
    first = false;
  }
  o << "}, \"dram_calendar_peak\": " << calendar_peak_ << ", \"scratchpad_slots\": " << effective_slots_ << ", \"producer_status\": " << producer_status
    << ", \"sim_wall_s\": " << wall_s << "}";
  return o.str();
}

}  // namespace npusim
