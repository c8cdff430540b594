#include "timing.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace npusim {

namespace {

const Json &member(const Json &v, const std::string &key, const std::string &where) {
  if (!v.is_object() || !v.contains(key)) throw std::runtime_error(where + ": missing key '" + key + "'");
  return v.at(key);
}

double number(const Json &v, const std::string &key, const std::string &where) {
  const Json &x = member(v, key, where);
  if (!x.is_number()) throw std::runtime_error(where + "." + key + ": expected a number, got " + x.dump());
  return x.get<double>();
}

double section_num(const Json &cfg, const char *section, const char *key) {
  return number(member(cfg, section, "config"), key, std::string("config: ") + section);
}

}  // namespace

Config Config::from_json(const Json &v) {
  Config c;
  c.cores = static_cast<int>(section_num(v, "core", "count"));
  c.core_freq_mhz = section_num(v, "core", "freq_mhz");
  c.vector_lanes = static_cast<int>(section_num(v, "vector", "lanes"));
  c.vector_vlen_bits = static_cast<int>(section_num(v, "vector", "vlen_bits"));
  for (const auto &kv : member(member(v, "vector", "config"), "op_classes", "config: vector").items()) {
    const std::string where = "config: vector.op_classes." + kv.key();
    OpClass oc{number(kv.value(), "issue_cycles", where), number(kv.value(), "latency_cycles", where)};
    if (oc.issue_cycles < 0 || oc.latency_cycles < 0) throw std::runtime_error(where + ": negative cycles");
    c.op_classes[kv.key()] = oc;
  }
  c.spad_bytes = static_cast<int64_t>(section_num(v, "scratchpad", "kb_per_lane")) * 1024 * c.vector_lanes;
  c.buffers_per_operand = static_cast<int>(section_num(v, "scratchpad", "buffers_per_operand"));
  c.systolic = SystolicConfig::from_json(member(v, "systolic", "config"));
  c.dma_queue_depth = static_cast<int>(section_num(v, "dma", "queue_depth"));
  c.dma_issue_cycles = section_num(v, "dma", "issue_cycles");
  c.dram_channels = static_cast<int>(section_num(v, "dram", "channels"));
  c.dram_freq_mhz = section_num(v, "dram", "freq_mhz");
  c.dram_gbps_per_channel = section_num(v, "dram", "gbps_per_channel");
  c.dram_read_latency = section_num(v, "dram", "read_latency_cycles");
  c.dram_write_latency = section_num(v, "dram", "write_latency_cycles");
  c.dram_burst_bytes = static_cast<int64_t>(section_num(v, "dram", "burst_bytes"));
  c.dram_interleave_bytes = static_cast<int64_t>(section_num(v, "dram", "interleave_bytes"));
  c.noc_latency = section_num(v, "noc", "latency_cycles");
  if (c.cores < 1 || c.dram_channels < 1 || c.dma_queue_depth < 1 || c.dram_burst_bytes < 1 ||
      c.dram_interleave_bytes < 1 || c.buffers_per_operand < 1 || c.vector_lanes < 1 || c.vector_vlen_bits < 1)
    throw std::runtime_error("config: a count is below 1");
  if (c.dram_gbps_per_channel <= 0 || c.core_freq_mhz <= 0 || c.dram_freq_mhz <= 0)
    throw std::runtime_error("config: a bandwidth or clock is not positive");
  if (c.dram_read_latency < 0 || c.dram_write_latency < 0 || c.noc_latency < 0 || c.dma_issue_cycles < 0 ||
      c.systolic.latency_cycles < 0 || c.systolic.hop_cycles < 0 || c.systolic.preload_cycles_per_row < 0)
    throw std::runtime_error("config: a latency is negative");
  return c;
}

KernelInfo KernelInfo::from_json(const Json &v) {
  KernelInfo info;
  for (const auto &s : member(v, "spads", "trace_info")) {
    int id = s.at("id").get<int>();
    info.spads[id].bytes = s.at("bytes").get<int64_t>();
  }
  info.n_size_args = static_cast<int>(member(v, "size_args", "trace_info").size());
  return info;
}

double TileCost::occupancy(int64_t n) const {
  if (n <= 0) return 0;
  double cycles = fixed_cycles + cycles_per_elem * static_cast<double>(n);
  for (const Width &w : widths) cycles += std::ceil(static_cast<double>(n) / w.elems_per_op) * w.issue_cycles;
  return cycles;
}

const TileCost::Memo *TileCost::remember(int64_t n) const {
  Memo &m = memo_[next_memo_];
  next_memo_ ^= 1;
  m.occupancy = occupancy(n);
  m.peak = peak_work(n);
  m.n = n;
  return &m;
}

double TileCost::peak_work(int64_t n) const {
  if (n <= 0) return 0;
  double cycles = fixed_cycles + cycles_per_elem * static_cast<double>(n);
  for (const Width &w : widths) cycles += static_cast<double>(n) / w.elems_per_op * w.issue_cycles;
  return cycles;
}

// cost.json (cost.py): per tile, either the ops of one element, each with
// its class, operand width and the ops it depends on, or a hand-given line
// {fixed_cycles, cycles_per_elem}. Every class must be in the config and no
// cost may be negative.
std::map<int, TileCost> load_cost_table(const Json &table, const Config &cfg) {
  std::map<int, TileCost> out;
  for (const auto &kv : member(table, "tiles", "cost table").items()) {
    const std::string where = "cost table: tile " + kv.key();
    const int tile_id = std::stoi(kv.key());
    const Json &t = kv.value();
    TileCost cost;
    cost.defined = true;
    if (t.contains("fixed_cycles")) {
      cost.fixed_cycles = number(t, "fixed_cycles", where);
      cost.cycles_per_elem = number(t, "cycles_per_elem", where);
      cost.latency = t.contains("latency_cycles") ? number(t, "latency_cycles", where) : 0;
    } else {
      const Json &ops = member(t, "ops", where);
      std::map<double, double> by_width;  // elems per vector op -> issue cycles
      std::vector<double> ready(ops.size(), 0);
      for (size_t i = 0; i < ops.size(); ++i) {
        const Json &op = ops[i];
        const std::string cls = member(op, "class", where).get<std::string>();
        auto it = cfg.op_classes.find(cls);
        if (it == cfg.op_classes.end())
          throw std::runtime_error(where + ": op " + op.value("op", std::string("?")) + " has class '" + cls +
                                   "', which the config's vector.op_classes does not define");
        const double bits = number(op, "bits", where);
        if (bits <= 0) throw std::runtime_error(where + ": op width must be positive");
        const double elems = cfg.vector_lanes * std::max(1.0, std::floor(cfg.vector_vlen_bits / bits));
        by_width[elems] += it->second.issue_cycles * (op.contains("count") ? number(op, "count", where) : 1.0);
        double start = 0;
        for (const auto &dep : op.value("deps", Json::array())) {
          const size_t d = dep.get<size_t>();
          if (d >= i) throw std::runtime_error(where + ": op " + std::to_string(i) + " depends on a later op");
          start = std::max(start, ready[d]);
        }
        ready[i] = start + it->second.latency_cycles;
        cost.latency = std::max(cost.latency, ready[i]);
      }
      for (const auto &w : by_width) cost.widths.push_back(TileCost::Width{w.first, w.second});
      cost.after_previous = t.value("after_previous", false);
    }
    if (cost.fixed_cycles < 0 || cost.cycles_per_elem < 0 || cost.latency < 0)
      throw std::runtime_error(where + ": negative cost");
    out[tile_id] = cost;
  }
  return out;
}

TimingCore::TimingCore(const Config &cfg, const KernelInfo &info, std::map<int, TileCost> costs,
                       bool allow_missing_costs)
    : cfg_(cfg), info_(info), costs_(std::move(costs)), allow_missing_costs_(allow_missing_costs) {
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
  cost_by_id_.assign(static_cast<size_t>(max_id + 1), TileCost{});
  for (const auto &kv : costs_) {
    if (kv.first < 0) throw std::runtime_error("cost table: negative tile id " + std::to_string(kv.first));
    cost_by_id_[static_cast<size_t>(kv.first)] = kv.second;
  }
  n_cost_ids_ = static_cast<uint32_t>(cost_by_id_.size());
  tile_stats_.resize(std::min<size_t>(cost_by_id_.size(), kTileStatsDense));

  double bytes_per_cycle = cfg_.dram_gbps_per_channel * 1000.0 / cfg_.core_freq_mhz;
  burst_cycles_ = std::max(static_cast<double>(cfg_.dram_burst_bytes) / bytes_per_cycle,
                           cfg_.core_freq_mhz / cfg_.dram_freq_mhz);
  inv_burst_cycles_ = 1.0 / burst_cycles_;
  channel_divisor_ = FixedDivisor(cfg_.dram_channels);
  burst_divisor_ = FixedDivisor(cfg_.dram_burst_bytes);
  interleave_divisor_ = FixedDivisor(cfg_.dram_interleave_bytes);
  channels_.assign(static_cast<size_t>(cfg_.dram_channels), Channel{});
  group_members_.assign(static_cast<size_t>(cfg_.dram_channels), 0);
  if (cfg_.dram_channels <= 64) {
    all_channels_ = cfg_.dram_channels == 64 ? ~uint64_t{0} : (uint64_t{1} << cfg_.dram_channels) - 1;
    group_members_[0] = all_channels_;
    live_groups_ = {0};
  } else {
    keep_channels_separate();
  }
  cores_.resize(static_cast<size_t>(cfg_.cores));
  core_ = &cores_[0];
  systolic_.assign(static_cast<size_t>(cfg_.cores), SystolicUnit(cfg_.systolic));
  for (Core &c : cores_) {
    // every id's slots up front (64 x a few): a slot is a plain index on the per-record path
    c.slots.assign(static_cast<size_t>(kMaxSpads * effective_slots_), Slot{});
    for (int b = 0; b < kMaxSpads; ++b) c.current[b] = first_slot(c, b);
    c.dma_outstanding.init(cfg_.dma_queue_depth);
  }
}

uint64_t TimingCore::spad_bit(int32_t spad, const char *what) {
  if (spad < 0 || spad >= kMaxSpads)
    throw TraceError(std::string(what) + ": scratchpad id " + std::to_string(spad) + " is outside 0.." +
                     std::to_string(kMaxSpads - 1));
  return uint64_t{1} << spad;
}

// Out of line: the message building kept read_ready's loop from being inlined.
[[noreturn]] __attribute__((noinline, cold)) static void read_unwritten(const char *reader, int32_t tile_id, int b,
                                                                      int slot) {
  throw TraceError(std::string(reader) + (tile_id >= 0 ? " " + std::to_string(tile_id) : std::string()) +
                   " reads scratchpad " + std::to_string(b) + " (slot " + std::to_string(slot) +
                   ") before anything wrote it");
}

inline double TimingCore::read_ready(Core &c, uint64_t mask, const char *reader, int32_t tile_id) {
  double t = 0;
  for_each_buffer(mask, [&](int b) {
    const Slot &s = current_slot(c, b);
    if (!s.written()) read_unwritten(reader, tile_id, b, slot_index(c, b));
    t = std::max(t, s.ready);
  });
  return t;
}

inline void TimingCore::mark_read(Core &c, uint64_t mask, double until) {
  for_each_buffer(mask, [&](int b) {
    Slot &s = current_slot(c, b);
    s.free = std::max(s.free, until);
  });
}

// A buffer that is written but not read gets a fresh slot (double
// buffering); one that is read and written is updated in place.
inline double TimingCore::write_slots_free(Core &c, uint64_t mask, uint64_t reads) {
  double t = 0;
  for_each_target_core(c, [&](Core &target) {
    for_each_buffer(mask, [&](int b) {
      const Slot &s = (reads >> b) & 1 ? current_slot(target, b) : next_slot(target, b);
      t = std::max(t, std::max(s.free, s.ready));  // (an unwritten slot's ready is below its free)
    });
  });
  return t;
}

inline void TimingCore::mark_written(Core &c, uint64_t mask, double ready) {
  for_each_target_core(c, [&](Core &target) {
    for_each_buffer(mask, [&](int b) {
      Slot &s = current_slot(target, b);
      s.ready = ready;
      s.free = std::max(s.free, ready);
    });
  });
}

// A DMA descriptor takes a queue entry and `issue_cycles` of the core's issue
// stream; afterwards c.issue is the earliest time its transfer may start.
inline void TimingCore::issue_descriptor(Core &c) {
  c.issue = std::max(c.issue, reserve_queue_entry(c)) + cfg_.dma_issue_cycles;
  c.busy_dma_issue += cfg_.dma_issue_cycles;
}

// A full queue waits for its earliest completion, whose entry this descriptor takes: finish_dma puts
// its completion in (nothing reads the queue in between).
inline double TimingCore::reserve_queue_entry(Core &c) {
  if (!c.dma_outstanding.full()) return 0;
  const double earliest = c.dma_outstanding.earliest();
  c.dma_outstanding.drop_earliest();
  return earliest;
}

// Every 16 DRAM requests the calendars drop what no future request can reach.
void TimingCore::count_request() {
  if (++bookings_since_prune_ >= 16) {
    bookings_since_prune_ = 0;
    prune_calendars();
  }
}

void TimingCore::prune_calendars() {
  // No future request starts before the earliest issue time of any core.
  double horizon = cores_[0].issue;
  for (const Core &c : cores_) horizon = std::min(horizon, c.issue);
  drain_writes(horizon);
  // every later booking starts at or after this slot (reads from a core's issue time, drains from
  // the horizon they were released at)
  const int64_t horizon_slot = slot_ceil_index(horizon);
  if (joint_) {
    calendar_peak_ = std::max(calendar_peak_, joint_slots_.window_words());
    joint_slots_.prune(horizon_slot);
    // as merge_equal_groups below: a try that fails backs off
    if (grouped_ && ++prunes_since_merge_try_ >= merge_try_interval_) {
      prunes_since_merge_try_ = 0;
      merge_try_interval_ = joint_to_lockstep() ? 1 : std::min(merge_try_interval_ * 2, 64);
    }
    return;
  }
  for (int id : live_groups_) {
    SlotCalendar &cal = channels_[static_cast<size_t>(id)].calendar;
    calendar_peak_ = std::max(calendar_peak_, cal.window_words());
    cal.prune(horizon_slot);
  }
  // Merging is optional (outcomes are the same either way), so a try that
  // merges nothing backs off: groups that keep differing are not compared at
  // every pruning.
  if (grouped_ && live_groups_.size() > 1 && ++prunes_since_merge_try_ >= merge_try_interval_) {
    prunes_since_merge_try_ = 0;
    const size_t before = live_groups_.size();
    merge_equal_groups();
    merge_try_interval_ = live_groups_.size() < before ? 1 : std::min(merge_try_interval_ * 2, 64);
  }
}

bool TimingCore::Channel::operator==(const Channel &o) const {
  // the newest entries differ first: compare them before the whole state
  if (writes.items.size() - writes.head != o.writes.items.size() - o.writes.head) return false;
  if (!writes.empty() && !(writes.items.back() == o.writes.items.back())) return false;
  return calendar == o.calendar && writes == o.writes;
}

void TimingCore::keep_channels_separate() {
  grouped_ = false;
  singletons_ = true;
  lockstep_ = false;
  live_groups_.clear();
  for (int c = 0; c < cfg_.dram_channels; ++c) {
    if (c > 0) channels_[static_cast<size_t>(c)] = channels_[0];
    group_members_[static_cast<size_t>(c)] = c < 64 ? uint64_t{1} << c : 0;
    live_groups_.push_back(c);
  }
  if (cfg_.dram_channels <= 64) to_joint();
}

// The groups' calendars and posted writes into the joint calendar and write list (channels <= 64):
// a group's booked slots are booked in each of its channels, its posted writes become one entry
// each, for its channels.
void TimingCore::to_joint() {
  int64_t lo = channels_[static_cast<size_t>(live_groups_[0])].calendar.window_start();
  for (int id : live_groups_) lo = std::min(lo, channels_[static_cast<size_t>(id)].calendar.window_start());
  joint_slots_.start_at(lo);
  joint_writes_.clear();
  for (int id : live_groups_) {
    const Channel &channel = channels_[static_cast<size_t>(id)];
    const uint64_t members = group_members_[static_cast<size_t>(id)];
    channel.calendar.for_each_booked([&](int64_t t) { joint_slots_.set(t, members); });
    for (size_t i = channel.writes.head; i < channel.writes.items.size(); ++i) {
      const PostedWrite &w = channel.writes.items[i];
      joint_writes_.push_back(JointWrite{w.release, w.slots, 0, members});
    }
  }
  // each group's writes are in release order: a stable sort keeps their order within a channel
  std::stable_sort(joint_writes_.begin(), joint_writes_.end(),
                   [](const JointWrite &a, const JointWrite &b) { return a.release < b.release; });
  joint_released_from_ = channels_[static_cast<size_t>(live_groups_[0])].writes.released_from;
  joint_head_ = 0;
  partly_booked_ = 0;
  joint_ = true;
  singletons_ = true;
  lockstep_ = false;
}

// Back to one state for all channels (lockstep) when every channel's state is equal: every slot
// of the window booked in all channels or none, and the same writes pending in all of them.
// Returns whether it did.
bool TimingCore::joint_to_lockstep() {
  if (partly_booked_ || !joint_slots_.uniform(all_channels_)) return false;
  // every channel's head the same write, every write from there on for all channels with one share
  // (joint_head_'s entry is pending somewhere: a drain moves the head past the landed ones)
  const size_t head = joint_head_;
  for (size_t i = head; i < joint_writes_.size(); ++i) {
    const JointWrite &w = joint_writes_[i];
    if (w.pending != all_channels_ || (w.plus != 0 && w.plus != all_channels_))  // (pending within touched)
      return false;
  }
  Channel channel;
  channel.calendar.prune(joint_slots_.window_start());
  joint_slots_.for_each_run(all_channels_, [&](int64_t a, int64_t b) { channel.calendar.book(a, b - a); });
  for (size_t i = head; i < joint_writes_.size(); ++i) {
    const JointWrite &w = joint_writes_[i];
    channel.writes.items.push_back(PostedWrite{w.release, w.plus ? w.less + 1 : w.less, slot_ceil_index(w.release)});
  }
  channel.writes.released_from = joint_released_from_;
  const int id = live_groups_[0];
  channels_[static_cast<size_t>(id)] = std::move(channel);
  std::fill(group_members_.begin(), group_members_.end(), 0);
  group_members_[static_cast<size_t>(id)] = all_channels_;
  live_groups_.assign(1, id);
  joint_writes_.clear();
  joint_head_ = 0;
  joint_ = false;
  singletons_ = false;
  lockstep_ = true;
  return true;
}

// drain_writes on the joint write list: each write is booked for the channels that reach it (it is
// pending in them and no earlier write of theirs was left over in this drain) in one pass; the same
// bookings, in the same order per channel, as the channels' own queues.
void TimingCore::drain_joint(double before, int64_t limit) {
  JointWrite *const q = joint_writes_.data();
  const size_t n = joint_writes_.size();
  const double released_from = joint_released_from_;
  const uint64_t all = all_channels_;
  uint64_t stopped = 0;  // the channels left over at a write of this drain: they book nothing after it
  uint64_t partly = partly_booked_;
  int64_t released_from_slot = -1;
  int64_t last_end = -1;  // the last end slot of a landed write: note_end once (its time is monotone in the slot)
  uint64_t bookings = 0;
  size_t head = joint_head_;  // moves past the entries every channel has landed, as they land
  // (nothing is released before `before` when the last drain's horizon is at or after it)
  for (size_t i = head; i < n && released_from < before; ++i) {
    JointWrite &w = q[i];
    if (w.release >= before) break;
    const uint64_t chans = w.pending & ~stopped;
    if (chans) {
      // slot_ceil_index(max(release, released_from)) (monotone: it commutes with max)
      int64_t release_slot;
      if (released_from > w.release) {
        if (released_from_slot < 0) released_from_slot = slot_ceil_index(released_from);
        release_slot = released_from_slot;
      } else {
        release_slot = slot_ceil_index(w.release);
      }
      bookings += static_cast<uint64_t>(chans == all ? cfg_.dram_channels : count_channels(chans));
      const uint64_t partial = chans & partly;
      // nothing of these channels is free before `from`; most writes find their shares free from there
      const int64_t from = joint_slots_.first_free(release_slot, limit, chans);
      // (most writes: every channel the same share, none partly booked; with no channel of `plus`, the
      // same booking as the general call, but book_two inlined with a constant mb: 2-D softmax, 2
      // cores, 4 instructions per record less with both this and book_read's)
      int64_t end = -1;
      if (!partial) {
        end = !(chans & w.plus) ? joint_slots_.book_two(from, chans, w.less, 0, limit)
                                : joint_slots_.book_two(from, chans & ~w.plus, w.less, chans & w.plus, limit);
      } else if (partial == chans) {  // all partly booked: with the same count left in each, one share
        const int64_t rest = write_rem_.uniform(partial);
        if (rest > 0 && (end = joint_slots_.book_two(from, chans, rest, 0, limit)) >= 0) write_rem_.drop(partial);
      }
      uint64_t left = 0;
      if (end < 0) end = book_joint_write(w, chans, partial, from, limit, left);
      partly = (partly & ~chans) | left;
      stopped |= left;
      w.pending &= ~(chans & ~left);
      if ((chans & ~left) && end > last_end) last_end = end;  // landed
      if (stopped == all) break;
    }
    if (i == head && w.pending == 0) head = i + 1;
  }
  partly_booked_ = partly;
  write_drain_bookings_ += bookings;
  if (last_end >= 0) note_end(static_cast<double>(last_end) * burst_cycles_ + cfg_.dram_write_latency + cfg_.noc_latency);
  if (before < std::numeric_limits<double>::infinity())
    joint_released_from_ = std::max(joint_released_from_, before);
  // drop the entries every channel has landed
  while (head < n && q[head].pending == 0) ++head;
  if (head == n) {
    joint_writes_.clear();
    head = 0;
  } else if (head >= 1024 && 2 * head >= n) {
    joint_writes_.erase(joint_writes_.begin(), joint_writes_.begin() + static_cast<std::ptrdiff_t>(head));
    head = 0;
  }
  joint_head_ = head;
}

// drain_joint's booking of write w in `chans` from `from` when some of them are partly booked or busy
// in its slots: slot by slot, with counts; `left` gets the channels left over (their rest in write_rem_).
int64_t TimingCore::book_joint_write(const JointWrite &w, uint64_t chans, uint64_t partial, int64_t from,
                                     int64_t limit, uint64_t &left) {
  const uint64_t whole = chans & ~partial;
  ChannelSlots::Counts counts;
  counts.two(whole & ~w.plus, w.less, whole & w.plus, w.less + 1);
  if (partial) counts.add(write_rem_, partial);  // their head, partly booked
  const int64_t end = joint_slots_.book(from, limit, counts, left);
  if (partial | left) write_rem_.replace(counts, left, partial);  // the rest only from the horizon on
  return end;
}

int TimingCore::split_group(int id, uint64_t members) {
  int fresh = 0;
  while (group_members_[static_cast<size_t>(fresh)]) ++fresh;  // a free id: there are as many as channels
  group_members_[static_cast<size_t>(id)] &= ~members;
  group_members_[static_cast<size_t>(fresh)] = members;
  channels_[static_cast<size_t>(fresh)] = channels_[static_cast<size_t>(id)];  // reuses the stale copy's storage
  live_groups_.push_back(fresh);
  return fresh;
}

void TimingCore::merge_equal_groups() {
  // All or nothing: merging some groups only for the next uneven request to split them again
  // costs a copy of the state per split (the compiler softmax's 63-burst rows start on every
  // channel in turn).
  const Channel &first = channels_[static_cast<size_t>(live_groups_[0])];
  for (size_t g = 1; g < live_groups_.size(); ++g)
    if (!(channels_[static_cast<size_t>(live_groups_[g])] == first)) return;
  for (size_t g = 1; g < live_groups_.size(); ++g) {
    group_members_[static_cast<size_t>(live_groups_[0])] |= group_members_[static_cast<size_t>(live_groups_[g])];
    group_members_[static_cast<size_t>(live_groups_[g])] = 0;  // its state stays allocated for a later split
  }
  live_groups_.resize(1);
  singletons_ = false;
  lockstep_ = true;
}

void TimingCore::number_singletons() {
  std::vector<Channel> by_channel(channels_.size());
  for (int id : live_groups_) {
    const uint64_t m = group_members_[static_cast<size_t>(id)];
    by_channel[static_cast<size_t>(__builtin_ctzll(m))] = std::move(channels_[static_cast<size_t>(id)]);
  }
  channels_.swap(by_channel);
  for (size_t c = 0; c < channels_.size(); ++c) {
    group_members_[c] = uint64_t{1} << c;
    live_groups_[c] = static_cast<int>(c);
  }
  singletons_ = true;
}

// Burst i of a request whose first burst is `first_burst` (its byte address /
// interleave_bytes) goes to channel (first_burst + i) % channels, so each of
// the min(bursts, channels) channels it touches gets floor or ceil of
// bursts / channels bursts, whatever the alignment: a bigger transfer never
// gets cheaper. `latency` is the read or write latency of the access.
//
// Every channel share of a read starts at the same slot and is one of two lengths, so the slot
// arithmetic is done once per request and length, not once per channel.
//
// Inline at the call site: the common read (joint calendar, every channel free from its start slot on:
// after every booking, or in an idle gap) takes its slots from there; the rest is book_read.
inline double TimingCore::dram_transfer(double start, int64_t first_burst, int64_t n_bursts, double latency) {
  const int64_t start_slot = slot_ceil_index(start);
  int64_t end_slot;
  if (__builtin_expect(joint_ && joint_slots_.free_from(start_slot), 1)) {
    ++per_channel_requests_;
    busy_dram_slots_ += n_bursts;
    const int64_t base = channel_divisor_.div(n_bursts), extra = channel_divisor_.mod(n_bursts);
    if (extra == 0) {  // whole shares (n_bursts > 0): every channel takes base slots
      // (the same booking as below with plus = 0, but book_free inlined with a constant mb: the 2-D
      // softmax's reads, 2.4 instructions per record less on 1 core)
      end_slot = joint_slots_.book_free(start_slot, all_channels_, base, 0);
    } else {
      const uint64_t plus = plus_channels(first_burst, extra), touched = base > 0 ? all_channels_ : plus;
      end_slot = joint_slots_.book_free(start_slot, touched & ~plus, base, plus);
    }
  } else {
    end_slot = book_read(start_slot, first_burst, n_bursts);
  }
  count_request();
  // a slot boundary is slot * burst_cycles_, the same double wherever it is computed
  const double done = std::max(start, static_cast<double>(end_slot) * burst_cycles_);
  return done + latency + cfg_.noc_latency;
}

// dram_transfer's bookings from `start_slot` when some channel is busy there, or the channels are not
// in the joint calendar; returns one past the last slot booked (at least start_slot).
int64_t TimingCore::book_read(int64_t start_slot, int64_t first_burst, int64_t n_bursts) {
  if (!joint_) {
    // every channel one state, the same share: for_each_channel_share's lockstep call with the share
    // in whole bursts (its duration * inv rounds back to them)
    if (lockstep_ && channel_divisor_.mod(n_bursts) == 0) {
      ++lockstep_requests_;
      busy_dram_slots_ += n_bursts;
      SlotCalendar &calendar = channels_[static_cast<size_t>(live_groups_[0])].calendar;
      return std::max(start_slot, calendar.book(start_slot, channel_divisor_.div(n_bursts)));
    }
    return book_read_channels(start_slot, first_burst, n_bursts);
  }
  ++per_channel_requests_;
  busy_dram_slots_ += n_bursts;
  const int64_t base = channel_divisor_.div(n_bursts), extra = channel_divisor_.mod(n_bursts);
  const uint64_t plus = plus_channels(first_burst, extra), touched = base > 0 ? all_channels_ : plus;
  if (joint_slots_.free_from(start_slot)) return joint_slots_.book_free(start_slot, touched & ~plus, base, plus);
  const int64_t from = joint_slots_.first_free(start_slot, SlotCalendar::kNoLimit, touched);
  int64_t end_slot = plus ? joint_slots_.book_two(from, touched & ~plus, base, plus)
                          : joint_slots_.book_two(from, touched, base, 0);  // whole shares: constant mb, as in drain_joint
  if (end_slot < 0) end_slot = joint_slots_.book_shares(from, touched & ~plus, base, plus);
  return std::max(start_slot, end_slot);
}

// book_read on the channels' own calendars (grouped, or one per channel).
int64_t TimingCore::book_read_channels(int64_t start_slot, int64_t first_burst, int64_t n_bursts) {
  int64_t end_slot = start_slot, slots = 0;
  if (singletons_) {
    // every channel its own state (the compiler softmax's 63-burst rows): for_each_channel_share's
    // per-channel path with the share in whole bursts (duration * inv rounds back to them)
    ++per_channel_requests_;
    const int64_t channels = cfg_.dram_channels;
    const int64_t base = channel_divisor_.div(n_bursts), extra = channel_divisor_.mod(n_bursts);
    const int64_t used = std::min(n_bursts, channels);
    int64_t channel = channel_divisor_.mod(first_burst);
    for (int64_t i = 0; i < used; ++i) {
      const int64_t k = i < extra ? base + 1 : base;
      if (k > 0) end_slot = std::max(end_slot, channels_[static_cast<size_t>(channel)].calendar.book(start_slot, k));
      if (++channel == channels) channel = 0;
    }
    busy_dram_slots_ += n_bursts;
  } else {
    double duration_of_slots = -1;
    for_each_channel_share(first_burst, n_bursts, [&](Channel &channel, double duration, int64_t copies) NPUSIM_INLINE {
      if (duration != duration_of_slots) {
        // duration is k * burst_cycles_ (whole bursts): duration * inv is within 1e-12 of k
        duration_of_slots = duration;
        slots = static_cast<int64_t>(duration * inv_burst_cycles_ + 0.5);
      }
      if (slots > 0) end_slot = std::max(end_slot, channel.calendar.book(start_slot, slots));
      busy_dram_slots_ += slots * copies;
    });
  }
  return end_slot;
}

// A store's bursts leave for the controller's write queue at the channels'
// rate (as if the channels were free); returns when the last has left. Its
// channel time is booked by drain_writes.
//
// Here a store on the joint calendar (one entry of the joint write list) and one in lockstep (one
// entry of the group's queue); the other groupings are post_write_channels (out of line: this
// function keeps a small stack frame).
double TimingCore::post_write(double start, int64_t first_burst, int64_t n_bursts) {
  if (!joint_) {
    if (lockstep_ && channel_divisor_.mod(n_bursts) == 0) {  // as in book_read
      ++lockstep_requests_;
      busy_dram_slots_ += n_bursts;
      const int64_t share = channel_divisor_.div(n_bursts);
      channels_[static_cast<size_t>(live_groups_[0])].writes.insert(PostedWrite{start, share, slot_ceil_index(start)});
      posted_write_shares_ += static_cast<uint64_t>(cfg_.dram_channels);
      const double accepted = std::max(start, start + static_cast<double>(share) * burst_cycles_);
      count_request();
      return accepted;
    }
    return post_write_channels(start, first_burst, n_bursts);
  }
  busy_dram_slots_ += n_bursts;  // booked by a drain before the trace ends (finish drains them all)
  ++per_channel_requests_;
  const int64_t base = channel_divisor_.div(n_bursts), extra = channel_divisor_.mod(n_bursts);
  const uint64_t plus = plus_channels(first_burst, extra), touched = base > 0 ? all_channels_ : plus;
  const JointWrite w{start, base, plus, touched};  // shares in burst slots
  // (every landed write, before joint_head_, was released before an earlier horizon: before this one)
  insert_by_release(joint_writes_, joint_head_, w);
  posted_write_shares_ += static_cast<uint64_t>(base > 0 ? cfg_.dram_channels : extra);  // the channels touched
  // the longest share leaves last (the same double for_each_channel_share's durations give)
  const double accepted = std::max(start, start + static_cast<double>(extra > 0 ? base + 1 : base) * burst_cycles_);
  count_request();
  return accepted;
}

double TimingCore::post_write_channels(double start, int64_t first_burst, int64_t n_bursts) {
  double accepted = start;
  busy_dram_slots_ += n_bursts;
  const int64_t start_slot = slot_ceil_index(start);
  for_each_channel_share(first_burst, n_bursts, [&](Channel &channel, double duration, int64_t copies) NPUSIM_INLINE {
    channel.writes.insert(PostedWrite{start, static_cast<int64_t>(duration * inv_burst_cycles_ + 0.5), start_slot});
    posted_write_shares_ += static_cast<uint64_t>(copies);
    accepted = std::max(accepted, start + duration);
  });
  count_request();
  return accepted;
}

// Books the posted writes released before `before` into the gaps reads left
// before it, oldest release first; what does not fit waits for the next
// horizon (or the end of the trace, when `before` is infinite). The trace
// ends when the last write has landed.
// Once a write is left over, it has taken every whole-burst gap from its
// release to `before`, so no later write (released no earlier) fits either:
// the channel's drain stops there. The writes left over are released again
// at the horizon, which every later release is at or after (a store starts
// after its core's issue time): `released_from` holds it, so a drain costs
// the writes it books plus one, not the whole queue.
void TimingCore::drain_writes(double before) {
  ++write_drains_;
  // slots wholly before `before` (a booking ends by it, to the same 1e-6 of a slot as elsewhere)
  const int64_t limit = before < std::numeric_limits<double>::infinity()
                            ? static_cast<int64_t>(std::floor(before / burst_cycles_ + 1e-6))
                            : SlotCalendar::kNoLimit;
  if (joint_) {
    drain_joint(before, limit);
    return;
  }
  for (int id : live_groups_) {
    const size_t i = static_cast<size_t>(id);
    const int64_t copies = grouped_ && !singletons_ ? count_channels(group_members_[i]) : 1;
    Channel &channel = channels_[i];
    WriteQueue &queue = channel.writes;
    int64_t released_from_slot = -1;  // slot_ceil_index(queue.released_from), once needed
    while (!queue.empty()) {
      PostedWrite &w = queue.front();
      const double release = std::max(w.release, queue.released_from);
      if (release >= before) break;
      // slot_ceil_index(release), from the slots computed once (monotone: it commutes with max)
      int64_t release_slot = w.release_slot;
      if (queue.released_from > w.release) {
        if (released_from_slot < 0) released_from_slot = slot_ceil_index(queue.released_from);
        release_slot = std::max(release_slot, released_from_slot);
      }
      int64_t left = 0;
      write_drain_bookings_ += static_cast<uint64_t>(copies);
      const int64_t end = channel.calendar.book_limited(release_slot, w.slots, limit, left);
      if (left > 0) {  // the rest only from the horizon on: the calendar before it is pruned
        w.slots = left;
        break;
      }
      note_end(static_cast<double>(end) * burst_cycles_ + cfg_.dram_write_latency + cfg_.noc_latency);
      queue.pop_front();  // landed
    }
    if (before < std::numeric_limits<double>::infinity())
      queue.released_from = std::max(queue.released_from, before);
  }
}

[[noreturn]] __attribute__((noinline, cold)) static void too_many_pending(size_t max_pending) {
  throw TraceError(std::to_string(max_pending) + " asynchronous DMAs are outstanding without a barrier "
                   "(the producer never waits for its loads)");
}

inline void TimingCore::finish_dma(Core &c, double done, int32_t tag, int64_t slot) {
  c.dma_outstanding.insert(done);
  note_end(done);
  if (tag < 0) {
    c.issue = std::max(c.issue, done);  // synchronous: the whole core waits
    c.gate = std::max(c.gate, done);
    return;
  }
  // the newest entries first: a barrier usually follows its DMA closely
  for (size_t i = c.n_pending; i-- > 0;) {
    PendingDma &p = c.pending[i];
    if (p.tag == tag && p.slot == slot) {
      p.done = std::max(p.done, done);
      return;
    }
  }
  if (c.n_pending == c.pending_capacity) {
    if (c.n_pending >= kMaxPending) too_many_pending(kMaxPending);
    c.pending_capacity = std::max<size_t>(8, 2 * c.n_pending);
    c.pending.resize(c.pending_capacity);
  }
  PendingDma &p = c.pending[c.n_pending++];  // written in place: no temporary copied in
  p.tag = tag;
  p.slot = slot;
  p.done = done;
}

void TimingCore::work_item_begin() {
  ++records_;
  if (in_work_item_) throw TraceError("work_item_begin inside a work item (work items do not nest)");
  ++n_work_items_;
  // The core that is free first takes the work item.
  auto free_at = [&](int i) {
    const Core &c = cores_[static_cast<size_t>(i)];
    return std::max({c.issue, c.gate, c.vector_free, systolic_[static_cast<size_t>(i)].free_at()});
  };
  int best = 0;
  if (cfg_.cores > 1) {
    double best_free = free_at(0);
    for (int i = 1; i < cfg_.cores; ++i) {
      const double t = free_at(i);
      if (t < best_free) best = i, best_free = t;
    }
  }
  current_core_ = best;
  core_ = &cores_[static_cast<size_t>(best)];
  in_work_item_ = true;
  ++core().work_items;
}

void TimingCore::work_item_end() {
  ++records_;
  if (!in_work_item_) throw TraceError("work_item_end without a work_item_begin");
  in_work_item_ = false;
  current_core_ = 0;
  core_ = &cores_[0];
}

// The checks of a DMA descriptor, in order, each with its message (reached only when one fails).
[[noreturn]] __attribute__((noinline, cold)) static void reject_dma(int32_t dir, int32_t arg, int32_t spad,
                                                                  int32_t elem_bits, int64_t offset, int64_t d0,
                                                                  int64_t d1, int max_spads) {
  if (dir != 0 && dir != 1) throw TraceError("DMA direction " + std::to_string(dir) + " is neither load nor store");
  if (arg < 0) throw TraceError("DMA on tensor argument " + std::to_string(arg));
  if (elem_bits <= 0 || elem_bits % 8) throw TraceError("DMA element width " + std::to_string(elem_bits) + " bits");
  if (d0 < 0 || d1 < 0 || offset < 0)
    throw TraceError("DMA descriptor with a negative offset or dim (offset " + std::to_string(offset) + ", dims " +
                     std::to_string(d1) + "x" + std::to_string(d0) + ")");
  throw TraceError(std::string(dir == 0 ? "a DMA load" : "a DMA store") + ": scratchpad id " + std::to_string(spad) +
                   " is outside 0.." + std::to_string(max_spads - 1));
}

void TimingCore::dma(int32_t dir, int32_t arg, int32_t spad, int32_t elem_bits, int64_t offset, int64_t d0,
                     int64_t stride0, int64_t d1, int64_t stride1, int32_t tag, int64_t slot) {
  ++records_;
  ++n_dma_;
  // every check of reject_dma as one branch (bitwise ors: no branch per check)
  if (__builtin_expect((static_cast<uint32_t>(dir) > 1) | (arg < 0) | (elem_bits <= 0) | ((elem_bits & 7) != 0) |
                           ((d0 | d1 | offset) < 0) | (static_cast<uint32_t>(spad) >= kMaxSpads),
                       0))
    reject_dma(dir, arg, spad, elem_bits, offset, d0, d1, kMaxSpads);
  // a load and a store share little past the checks: each its own straight path
  if (dir == 0)
    dma_transfer<false>(arg, spad, elem_bits, offset, d0, stride0, d1, stride1, tag, slot);
  else
    dma_transfer<true>(arg, spad, elem_bits, offset, d0, stride0, d1, stride1, tag, slot);
}

template <bool kStore>
inline void TimingCore::dma_transfer(int32_t arg, int32_t spad, int32_t elem_bits, int64_t offset, int64_t d0,
                                     int64_t stride0, int64_t d1, int64_t stride1, int32_t tag, int64_t slot) {
  if (kStore) stored_.add(arg, offset, d0, stride0, d1, stride1);
  Core &c = core();
  issue_descriptor(c);
  double start = c.issue;
  // One buffer: its slot directly (write_slots_free / read_ready, mark_written / mark_read for one
  // bit), except a load outside a work item, which writes every core's buffer.
  Slot *own = nullptr;
  if (!kStore) {
    if (in_work_item_) {
      own = &next_slot(c, spad);
      start = std::max(start, std::max(own->free, own->ready));
    } else {
      start = std::max(start, write_slots_free(c, uint64_t{1} << spad, 0));
    }
  } else {
    own = &current_slot(c, spad);
    if (!own->written()) read_unwritten("a DMA store", -1, spad, slot_index(c, spad));
    start = std::max(start, own->ready);
  }

  const int64_t elem_bytes = elem_bits / 8;
  const int64_t burst = cfg_.dram_burst_bytes;
  // A row moves as whole bursts from a burst boundary: ceil(span / burst)
  // bursts, or one per element when elements are a burst or more apart.
  // Address misalignment is deliberately not modelled: it would make a
  // bigger transfer cheaper (a 128-column row is 8 aligned bursts, a
  // 127-column row at an odd offset 9), breaking cycle monotonicity in size.
  auto row_bursts = [&](int64_t n, int64_t stride) -> int64_t {
    if (n <= 0) return 0;
    int64_t a = std::abs(stride);
    if (a <= 1 || n == 1) return burst_divisor_.div(n * elem_bytes + burst - 1);
    if (a * elem_bytes >= burst) return n;
    return burst_divisor_.div(((n - 1) * a + 1) * elem_bytes + burst - 1);
  };
  int64_t bursts = 0;
  if (d0 > 0 && d1 > 0) {
    if ((stride0 == 1 && (d1 == 1 || stride1 == d0)))
      bursts = row_bursts(d0 * d1, 1);
    else  // d1 rows of the same length and stride
      bursts = d1 * row_bursts(d0, stride0);
  }
  double done = start;
  if (bursts > 0) {
    dram_bursts_ += static_cast<uint64_t>(bursts);
    dram_bytes_ += static_cast<uint64_t>(d0 * d1 * elem_bytes);
    const int64_t first_burst = interleave_divisor_.div((static_cast<int64_t>(arg) << 32) + offset * elem_bytes);
    done = kStore ? post_write(start, first_burst, bursts)
                  : dram_transfer(start, first_burst, bursts, cfg_.dram_read_latency);
  }
  if (kStore) {  // the scratchpad slot is free once its data left for the controller's write queue
    own->free = std::max(own->free, done);
  } else if (own) {
    own->ready = done;
    own->free = std::max(own->free, done);
  } else {
    mark_written(c, uint64_t{1} << spad, done);
  }
  finish_dma(c, done, tag, slot);
}

void TimingCore::dma_gather(int32_t arg, int32_t spad, int32_t elem_bits, int64_t n_elems, int32_t tag,
                            int64_t slot) {
  ++records_;
  ++n_gather_;
  if (arg < 0 || n_elems < 0 || elem_bits <= 0 || elem_bits % 8)
    throw TraceError("gather DMA with argument " + std::to_string(arg) + ", " + std::to_string(n_elems) +
                     " elements of " + std::to_string(elem_bits) + " bits");
  const uint64_t mask = spad_bit(spad, "a gather DMA");
  Core &c = core();
  issue_descriptor(c);
  double start = std::max(c.issue, write_slots_free(c, mask, 0));
  double done = start;
  if (n_elems > 0) {
    // Addresses are data dependent: one burst per element.
    dram_bursts_ += static_cast<uint64_t>(n_elems);
    dram_bytes_ += static_cast<uint64_t>(n_elems * (elem_bits / 8));
    // Addresses are unknown: the elements spread over the channels from the argument's base.
    done = dram_transfer(start, (static_cast<int64_t>(arg) << 32) / cfg_.dram_interleave_bytes, n_elems,
                         cfg_.dram_read_latency);
  }
  mark_written(c, mask, done);
  finish_dma(c, done, tag, slot);
}

void TimingCore::dma_scatter(int32_t arg, int32_t spad, int32_t elem_bits, int64_t n_elems, int32_t tag,
                             int64_t slot) {
  ++records_;
  ++n_scatter_;
  if (arg < 0 || n_elems < 0 || elem_bits <= 0 || elem_bits % 8)
    throw TraceError("scatter DMA with argument " + std::to_string(arg) + ", " + std::to_string(n_elems) +
                     " elements of " + std::to_string(elem_bits) + " bits");
  const uint64_t mask = spad_bit(spad, "a scatter DMA");
  Core &c = core();
  issue_descriptor(c);
  double start = std::max(c.issue, read_ready(c, mask, "a scatter DMA"));
  double done = start;
  if (n_elems > 0) {
    // Addresses are not affine in the tile: one burst per element, as a gather.
    dram_bursts_ += static_cast<uint64_t>(n_elems);
    dram_bytes_ += static_cast<uint64_t>(n_elems * (elem_bits / 8));
    done = post_write(start, (static_cast<int64_t>(arg) << 32) / cfg_.dram_interleave_bytes, n_elems);
  }
  // a posted write: the scratchpad slot is free once its data left for the controller's write queue
  mark_read(c, mask, done);
  finish_dma(c, done, tag, slot);
}

void TimingCore::compute(int32_t tile_id, int64_t n_elems, uint64_t reads, uint64_t writes) {
  ++records_;
  ++n_compute_;
  if (n_elems < 0) throw TraceError("compute tile " + std::to_string(tile_id) + " with a negative element count");
  Core &c = core();
  const TileCost *cost = &no_cost_;
  if (static_cast<uint32_t>(tile_id) < n_cost_ids_ && cost_by_id_[static_cast<size_t>(tile_id)].defined)
    cost = &cost_by_id_[static_cast<size_t>(tile_id)];
  else
    missing_cost(tile_id);
  double occupancy, peak;
  cost->at(n_elems, occupancy, peak);
  const double latency = n_elems > 0 ? cost->latency : 0;
  double start = std::max({c.gate, c.vector_free, read_ready(c, reads, "compute tile", tile_id),
                           write_slots_free(c, writes, reads)});
  if (cost->after_previous) start = std::max(start, c.vector_result);
  const double done = start + occupancy + latency;
  mark_read(c, reads, start + occupancy);
  mark_written(c, writes, done);
  c.vector_free = start + occupancy;
  c.vector_result = std::max(c.vector_result, done);
  c.busy_vector += occupancy;
  c.vector_at_peak += peak;
  TileStats &ts = tile_stats(tile_id);
  ++ts.calls;
  ts.elems += n_elems;
  ts.max_elems = std::max(ts.max_elems, n_elems);
  ts.cycles += occupancy;
  note_end(done);
}

// A compute tile without a cost: an error, or (allow_missing_costs) costed 0 and listed in the report.
void TimingCore::missing_cost(int32_t tile_id) {
  if (!allow_missing_costs_)
    throw TraceError("no cost for compute tile_id " + std::to_string(tile_id) + " in the cost table");
  if (std::find(missing_costs_.begin(), missing_costs_.end(), tile_id) == missing_costs_.end())
    missing_costs_.push_back(tile_id);
}

void TimingCore::barrier(int32_t tag, int64_t slot) {
  ++records_;
  ++n_barrier_;
  Core &c = core();
  for (size_t i = c.n_pending; i-- > 0;) {
    PendingDma &p = c.pending[i];
    if (p.tag == tag && p.slot == slot) {
      // outside a work item the awaited data is the prologue's, which every work item reads (on any core)
      const double done = p.done;
      for_each_target_core(c, [&](Core &target) { target.gate = std::max(target.gate, done); });
      // the last entry fills the gap, field by field: it was usually written just now, field by
      // field, and one wide load of it waits for those stores (a store-forwarding stall)
      const PendingDma &last = c.pending[--c.n_pending];
      if (&p != &last) {
        p.tag = last.tag;
        p.slot = last.slot;
        p.done = last.done;
      }
      return;
    }
  }
  throw TraceError("barrier on tag " + std::to_string(tag) + " slot " + std::to_string(slot) +
                   " waits for no outstanding DMA");
}

void TimingCore::finish() {
  if (in_work_item_) throw TraceError("the trace ended inside a work item (no work_item_end)");
  drain_writes(std::numeric_limits<double>::infinity());
}

void TimingCore::systolic_preload(int32_t array, int64_t handle, int32_t weights_spad, int64_t k, int64_t n) {
  ++records_;
  ++n_preload_;
  Core &c = core();
  const uint64_t mask = spad_bit(weights_spad, "a systolic weight preload");
  double loaded = systolic_[static_cast<size_t>(current_core_)].preload(
      array, handle, std::max(c.gate, read_ready(c, mask, "a systolic weight preload")), k, n);
  mark_read(c, mask, loaded);
  note_end(loaded);
}

void TimingCore::systolic_accumulate(int32_t tile_id, int32_t array, int64_t handle, int64_t m, int64_t k,
                                     int64_t n, uint64_t reads, uint64_t writes) {
  ++records_;
  ++n_accumulate_;
  Core &c = core();
  SystolicUnit &unit = systolic_[static_cast<size_t>(current_core_)];
  const double out_ready = read_ready(c, writes, "the output of systolic accumulate", tile_id);
  double earliest = std::max({c.gate, read_ready(c, reads & ~writes, "systolic accumulate", tile_id),
                              unit.output_wait(writes, out_ready)});
  SystolicUnit::Pass pass = unit.accumulate(array, handle, earliest, m, k, n);
  mark_read(c, reads, pass.end);
  mark_written(c, writes, unit.output_written(writes, out_ready, pass.done));
  TileStats &ts = tile_stats(tile_id);
  ++ts.calls;
  ts.elems += m * n;
  ts.max_elems = std::max(ts.max_elems, m * n);
  ts.cycles += pass.end - pass.start;
  note_end(pass.done);
}

std::string TimingCore::report_json(double wall_s, double cpu_s, int32_t producer_status) const {
  double end = end_time_;
  double busy_vector = 0, busy_systolic = 0, busy_dma_issue = 0, vector_at_peak = 0;
  for (const SystolicUnit &unit : systolic_) busy_systolic += unit.busy_stream();
  for (const Core &c : cores_) {
    vector_at_peak += c.vector_at_peak;
    end = std::max(end, c.issue);
    busy_vector += c.busy_vector;
    busy_dma_issue += c.busy_dma_issue;
  }
  std::ostringstream o;
  o.precision(17);
  o << "{\"cycles\": " << static_cast<uint64_t>(std::ceil(end)) << ", \"trace_records\": " << records_
    << ", \"dram_bytes\": " << dram_bytes_ << ", \"dram_bursts\": " << dram_bursts_
    << ", \"busy_cycles\": {\"vector\": " << busy_vector << ", \"systolic\": " << busy_systolic
    << ", \"vector_at_peak\": " << vector_at_peak << ", \"dma_issue\": " << busy_dma_issue << ", \"dram_channel_avg\": " << static_cast<double>(busy_dram_slots_) * burst_cycles_ / cfg_.dram_channels
    << "}, \"events\": {\"work_items\": " << n_work_items_ << ", \"dma\": " << n_dma_ << ", \"dma_gather\": " << n_gather_ << ", \"dma_scatter\": " << n_scatter_
    << ", \"compute\": " << n_compute_ << ", \"barrier\": " << n_barrier_ << ", \"systolic_preload\": " << n_preload_
    << ", \"systolic_accumulate\": " << n_accumulate_ << "}, \"cores\": [";
  for (size_t i = 0; i < cores_.size(); ++i)
    o << (i ? ", " : "") << "{\"work_items\": " << cores_[i].work_items << ", \"vector_busy\": " << cores_[i].busy_vector
      << ", \"issue_end\": " << cores_[i].issue << "}";
  o << "], \"tiles\": {";
  bool first = true;
  std::map<int, TileStats> tiles = other_tile_stats_;
  for (size_t id = 0; id < tile_stats_.size(); ++id)
    if (tile_stats_[id].calls) tiles[static_cast<int>(id)] = tile_stats_[id];
  for (const auto &kv : tiles) {
    o << (first ? "" : ", ") << "\"" << kv.first << "\": {\"calls\": " << kv.second.calls << ", \"elems\": " << kv.second.elems
      << ", \"max_elems\": " << kv.second.max_elems << ", \"cycles\": " << kv.second.cycles << "}";
    first = false;
  }
  o << "}, \"write_drain\": {\"posted\": " << posted_write_shares_ << ", \"drains\": " << write_drains_
    << ", \"bookings\": " << write_drain_bookings_ << "}";
  o << ", \"dram_requests\": {\"lockstep\": " << lockstep_requests_ << ", \"per_channel\": " << per_channel_requests_
    << "}, \"dram_calendar_peak\": " << calendar_peak_ << ", \"scratchpad_slots\": " << effective_slots_ << ", \"missing_costs\": ["; 
  for (size_t i = 0; i < missing_costs_.size(); ++i) o << (i ? ", " : "") << missing_costs_[i];
  o << "]" << ", \"producer_status\": " << producer_status
    << ", \"sim_wall_s\": " << wall_s << ", \"sim_cpu_s\": " << cpu_s << "}";
  return o.str();
}

}  // namespace npusim
