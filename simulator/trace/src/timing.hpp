// The timing core: turns the producer's event stream into cycles.
//
// Model (every number comes from the NPU config, see npusim/config.py):
// * Cores. Each parallel work item runs on the core whose issue stream is
//   free first (ties: lowest index). Events outside work items run on core
//   0; a barrier there holds back every core's compute (the prologue's data
//   reaches every work item). A core's DMA descriptors issue in program order
//   and run ahead of its compute (decoupled access/execute): a barrier holds
//   back the compute that follows it, not the DMA stream; only a full DMA queue or a
//   synchronous DMA stalls issue. So the next tile's loads overlap this
//   tile's compute, as far as the scratchpad slots allow.
// * Dependencies. Every scratchpad buffer has `buffers_per_operand` physical
//   slots (fewer when the kernel's buffers do not fit the capacity). A DMA
//   load or a compute that writes a buffer without reading it fills the next
//   slot (waiting for that slot's last reader: write-after-read); a reader
//   waits for the current slot's data (read-after-write).
//   Every scratchpad write is a dependency: a read of a slot nothing wrote
//   is an error, not a read of data ready at cycle 0. Data written outside a
//   work item (a scalar loaded once) is written to every core's buffer.
// * DMA engine. A per-core queue of `queue_depth` outstanding requests; each
//   descriptor costs `issue_cycles` to issue. DRAM is shared by all cores:
//   each row of a transfer moves as whole `burst_bytes` bursts; burst i of a
//   row starting at byte address a goes to channel
//   ((a / interleave_bytes) + i) % channels (an argument's base address is
//   arg * 2^32, so equal offsets of two tensors share a channel), each channel
//   moving `gbps_per_channel` (at least one DRAM clock per burst), then the
//   read or write latency plus `noc.latency`. Channels are booked on a
//   calendar with gap filling, so a request that became ready early is not
//   queued behind one issued earlier that waits for its data.
//   Writes are posted and reads have priority, as in a DRAM controller with a
//   write queue: a store's scratchpad slot and DMA queue entry free once its
//   bursts have left for the controller; its channel time is booked later, in
//   the gaps reads leave, when no future read can start before it (the
//   calendar's pruning horizon) or at the end of the trace. So a store that
//   becomes ready earlier (faster compute) never pushes back a later load: the
//   program-order booking of stores made more vector lanes cost cycles.
// * Vector unit. A tile's occupancy is the issue cycles of its NPU vector
//   ops (cost.json lists the ops of one element with their class and width;
//   the config gives each class's issue cycles and latency): per op,
//   ceil(n / (lanes * vlen / width)) vector ops. Occupancy serialises tiles
//   on one core's unit; the result is ready after the tile's critical path
//   (sum of class latencies along the longest dependency chain of one
//   element), so pipelined tiles overlap and consumers wait.
// * Errors. A malformed event (scratchpad id out of range, a read of a
//   never-written slot, a barrier nobody issued a DMA for, unmatched work
//   item brackets, an overflowing list of unawaited DMAs, a tile without
//   cost, a store that writes a DRAM element twice in one launch) throws TraceError; the driver exits non-zero with its message.
// * Systolic arrays (systolic.hpp): weight-stationary preloads and
//   accumulates with explicit array and weight handles; the core's gate and
//   scratchpad dependencies apply to them as to vector compute.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "slot_calendar.hpp"
#include "store_footprint.hpp"
#include "systolic.hpp"
#include "trace_error.hpp"

// The per-share lambdas of a DRAM request: three call sites in for_each_channel_share (per group
// share length, per channel), which GCC otherwise stops inlining.
#if defined(__GNUC__)
#define NPUSIM_INLINE __attribute__((always_inline))
#else
#define NPUSIM_INLINE
#endif

namespace npusim {

using Json = nlohmann::json;

struct Config {
  int cores = 1;
  double core_freq_mhz = 940;
  int vector_lanes = 128;
  int vector_vlen_bits = 256;
  struct OpClass {
    double issue_cycles = 1;    // per NPU vector op (1 / throughput)
    double latency_cycles = 1;  // until its result can be used
  };
  std::map<std::string, OpClass> op_classes;
  int64_t spad_bytes = 0;
  int buffers_per_operand = 2;
  SystolicConfig systolic;
  int dma_queue_depth = 16;
  double dma_issue_cycles = 1;
  int dram_channels = 16;
  double dram_freq_mhz = 940;
  double dram_gbps_per_channel = 30;
  double dram_read_latency = 100;
  double dram_write_latency = 100;
  int64_t dram_burst_bytes = 64;
  int64_t dram_interleave_bytes = 64;
  double noc_latency = 10;

  static Config from_json(const Json &v);
};

// Cost of compute(tile_id, n) (cost.py documents the model). Either the ops
// of one element (occupancy = sum over op widths of ceil(n / elems per vector
// op) * issue cycles), or a hand-given line fixed + per_elem * n.
struct TileCost {
  bool defined = false;
  struct Width {
    double elems_per_op;  // elements one NPU vector op covers at this width
    double issue_cycles;  // summed over the element's ops of this width
  };
  std::vector<Width> widths;
  double fixed_cycles = 0, cycles_per_elem = 0;  // hand-given line
  double latency = 0;                            // result ready after occupancy
  bool after_previous = false;  // uses a register result of the previous compute
  double occupancy(int64_t n) const;
  // The same ops at the unit's peak throughput (no partial vector op rounded
  // up): what the physical-limit check takes as the vector work.
  double peak_work(int64_t n) const;
  // occupancy and peak_work of the last two n asked for: a tile loop repeats its full size, then
  // its tail's (the 2-D softmax: 15 tiles of 1024, one of 640, per pass), and the per-width ceil
  // and division cost more than the rest of a compute event
  void at(int64_t n, double &occupancy_out, double &peak_out) const {
    const Memo *m = &memo_[0];
    if (n != m->n) {
      m = &memo_[1];
      if (n != m->n) m = remember(n);
    }
    occupancy_out = m->occupancy;
    peak_out = m->peak;
  }

 private:
  struct Memo {
    int64_t n = -1;
    double occupancy = 0, peak = 0;
  };
  // Out of line: inlined, its vectorised loops made every compute event realign the stack.
  // Replaces the entries in turn.
  __attribute__((noinline)) const Memo *remember(int64_t n) const;
  mutable Memo memo_[2];
  mutable int next_memo_ = 0;  // the entry remember() replaces next
};

struct SpadBuffer {
  int64_t bytes = 0;
};

struct KernelInfo {
  std::map<int, SpadBuffer> spads;
  int n_size_args = 0;
  static KernelInfo from_json(const Json &v);
};

std::map<int, TileCost> load_cost_table(const Json &table, const Config &cfg);

// Division of a non-negative int64 by a fixed positive divisor: a shift and a mask when the divisor
// is a power of two (channel, burst and interleave sizes usually are; a 64-bit idiv per request
// and per channel share cost tens of cycles each), the plain division otherwise. Same results.
class FixedDivisor {
 public:
  explicit FixedDivisor(int64_t d = 1) : d_(d), pow2_(d > 0 && (d & (d - 1)) == 0) {
    while (pow2_ && (int64_t{1} << shift_) != d) ++shift_;
  }
  int64_t div(int64_t a) const { return pow2_ ? a >> shift_ : a / d_; }
  int64_t mod(int64_t a) const { return pow2_ ? a & (d_ - 1) : a % d_; }

 private:
  int64_t d_;
  bool pow2_;
  int shift_ = 0;
};

class TimingCore {
 public:
  TimingCore(const Config &cfg, const KernelInfo &info, std::map<int, TileCost> costs,
             bool allow_missing_costs = false);
  TimingCore(const TimingCore &) = delete;  // core_ points into cores_
  TimingCore &operator=(const TimingCore &) = delete;

  // Event handlers (called from the ABI callbacks).
  void work_item_begin();
  void work_item_end();
  void dma(int32_t dir, int32_t arg, int32_t spad, int32_t elem_bits, int64_t offset, int64_t d0,
           int64_t stride0, int64_t d1, int64_t stride1, int32_t tag, int64_t slot);
  void dma_gather(int32_t arg, int32_t spad, int32_t elem_bits, int64_t n_elems, int32_t tag,
                  int64_t slot);
  void dma_scatter(int32_t arg, int32_t spad, int32_t elem_bits, int64_t n_elems, int32_t tag, int64_t slot);
  void compute(int32_t tile_id, int64_t n_elems, uint64_t reads, uint64_t writes);
  void barrier(int32_t tag, int64_t slot);
  void systolic_preload(int32_t array, int64_t handle, int32_t weights_spad, int64_t k, int64_t n);
  void systolic_accumulate(int32_t tile_id, int32_t array, int64_t handle, int64_t m, int64_t k, int64_t n,
                           uint64_t reads, uint64_t writes);

  // wall_s / cpu_s: wall and process CPU time of the producer's run
  std::string report_json(double wall_s, double cpu_s, int32_t producer_status) const;
  uint64_t records() const { return records_; }
  // Keeps every DRAM channel's state separately from the start (no lockstep):
  // the same outcomes, more work; tests compare the two.
  void keep_channels_separate();
  // Checks at the end of the trace (unclosed work item); throws TraceError.
  void finish();

 private:
  static constexpr int kMaxSpads = 64;
  static constexpr size_t kMaxPending = 4096;

  // No flag of its own for "written": a bool store may alias any field, which made the compiler
  // reload the core's state after every slot update.
  struct Slot {
    double ready = -1;  // data written (times are >= 0: below 0, nothing wrote the slot yet)
    double free = 0;    // last reader done
    bool written() const { return ready >= 0; }
  };
  // The completion times of a core's outstanding DMAs (at most the queue depth), kept sorted in a
  // ring: a full queue waits for the earliest (the front), and completions mostly arrive in time
  // order, so the new one usually goes at the back. The same multiset of times as a heap, so the
  // same waits, without a sift per descriptor.
  class DmaQueue {
   public:
    void init(int depth) {
      size_t cap = 1;
      while (cap < static_cast<size_t>(depth)) cap *= 2;
      times_.assign(cap, 0);
      mask_ = cap - 1;
      depth_ = static_cast<size_t>(depth);
    }
    bool full() const { return size_ == depth_; }
    double earliest() const { return times_[head_]; }
    void drop_earliest() {
      head_ = (head_ + 1) & mask_;
      --size_;
    }
    void insert(double t) {  // size_ < depth_
      size_t pos = size_;
      for (; pos > 0; --pos) {
        const double before = times_[(head_ + pos - 1) & mask_];
        if (!(before > t)) break;
        times_[(head_ + pos) & mask_] = before;
      }
      times_[(head_ + pos) & mask_] = t;
      ++size_;
    }

   private:
    std::vector<double> times_;
    size_t mask_ = 0, head_ = 0, size_ = 0, depth_ = 1;
  };
  // The asynchronous DMAs no barrier has waited for yet, one entry per (tag, slot).
  struct PendingDma {
    int32_t tag;
    int64_t slot;
    double done;
  };
  struct Core {
    double issue = 0;        // DMA issue stream
    double gate = 0;         // compute may not start before (barriers)
    double vector_free = 0;
    double vector_result = 0;  // result of the last compute ready
    DmaQueue dma_outstanding;
    std::vector<PendingDma> pending;  // entries [0, n_pending) are live; grown on demand up to kMaxPending
    size_t n_pending = 0, pending_capacity = 0;  // pending.size()
    // Slot (b, i) of scratchpad buffer b is slots[b * slots_per_buffer + i]; current[b] points at b's slot in
    // use (a pointer, not an index: one load less on every buffer a record touches).
    std::vector<Slot> slots;
    Slot *current[kMaxSpads] = {};
    uint64_t work_items = 0;
    double busy_vector = 0, busy_dma_issue = 0;
    double vector_at_peak = 0;
  };
  struct TileStats {
    uint64_t calls = 0;
    int64_t elems = 0;
    int64_t max_elems = 0;
    double cycles = 0;
  };

  Core &core() { return *core_; }
  Slot &current_slot(Core &c, int b) { return *c.current[b]; }
  Slot *first_slot(Core &c, int b) { return c.slots.data() + static_cast<ptrdiff_t>(b) * effective_slots_; }
  // Index of buffer b's slot in use (for messages).
  int slot_index(Core &c, int b) { return static_cast<int>(c.current[b] - first_slot(c, b)); }
  // Moves buffer b of core c to its next slot (a write that does not read it) and returns that slot.
  Slot &next_slot(Core &c, int b) {
    Slot *&p = c.current[b];
    Slot *const first = first_slot(c, b);
    if (++p == first + effective_slots_) p = first;
    return *p;
  }
  // Calls f(spad id) for every scratchpad buffer whose bit is set in mask.
  template <typename F>
  static void for_each_buffer(uint64_t mask, F &&f) {
    for (; mask; mask &= mask - 1) f(__builtin_ctzll(mask));  // ascending ids, jumping to the next set bit
  }
  // The cores whose buffers a write reaches: this one, or all outside a work item.
  template <typename F>
  void for_each_target_core(Core &c, F &&f) {
    if (in_work_item_)
      f(c);
    else
      for (Core &other : cores_) f(other);
  }
  static uint64_t spad_bit(int32_t spad, const char *what);
  NPUSIM_INLINE double reserve_queue_entry(Core &c);
  NPUSIM_INLINE void issue_descriptor(Core &c);
  NPUSIM_INLINE double read_ready(Core &c, uint64_t mask, const char *reader, int32_t tile_id = -1);
  NPUSIM_INLINE void mark_read(Core &c, uint64_t mask, double until);
  NPUSIM_INLINE double write_slots_free(Core &c, uint64_t mask, uint64_t reads);
  NPUSIM_INLINE void mark_written(Core &c, uint64_t mask, double ready);
  struct Channel;
  double slot_ceil(double t) const;
  int64_t slot_ceil_index(double t) const;  // slot_ceil(t) / burst_cycles_
  NPUSIM_INLINE double dram_transfer(double start, int64_t first_burst, int64_t n_bursts, double latency);
  __attribute__((noinline)) int64_t book_read(int64_t start_slot, int64_t first_burst, int64_t n_bursts);
  __attribute__((noinline)) int64_t book_read_channels(int64_t start_slot, int64_t first_burst, int64_t n_bursts);
  double post_write(double start, int64_t first_burst, int64_t n_bursts);
  __attribute__((noinline)) double post_write_channels(double start, int64_t first_burst, int64_t n_bursts);
  void drain_writes(double before);
  NPUSIM_INLINE void finish_dma(Core &c, double done, int32_t tag, int64_t slot);
  // dma() past its checks, for a load or a store
  template <bool kStore>
  NPUSIM_INLINE void dma_transfer(int32_t arg, int32_t spad, int32_t elem_bits, int64_t offset, int64_t d0,
                                  int64_t stride0, int64_t d1, int64_t stride1, int32_t tag, int64_t slot);
  void note_end(double t) {
    if (t > end_time_) end_time_ = t;
  }
  void prune_calendars();
  void count_request();
  // Calls f(channel state, cycles, channels it stands for) for each channel a
  // request of n_bursts bursts from first_burst touches: min(bursts, channels)
  // channels, floor or ceil of bursts / channels bursts each, the ceil on the
  // `extra` channels from first_burst's on (cyclically). Channels whose states
  // are equal share one state (a group): each group the request touches is one
  // call per share length, after the group is split where the request gives its
  // channels different shares (or touches only some). While every request
  // spreads evenly, all channels stay one group (lockstep).
  template <typename F>
  void for_each_channel_share(int64_t first_burst, int64_t n_bursts, F &&f) {
    const int64_t channels = cfg_.dram_channels;
    if (lockstep_ && channel_divisor_.mod(n_bursts) == 0) {  // the common case first, with the least work
      ++lockstep_requests_;
      f(channels_[static_cast<size_t>(live_groups_[0])],
        static_cast<double>(channel_divisor_.div(n_bursts)) * burst_cycles_, channels);
      return;
    }
    const int64_t base = channel_divisor_.div(n_bursts), extra = channel_divisor_.mod(n_bursts);
    const double more = static_cast<double>(base + 1) * burst_cycles_, less = static_cast<double>(base) * burst_cycles_;
    if (grouped_ && !singletons_) {
      ++per_channel_requests_;
      // the channels that get base + 1 bursts, and all the request touches
      const uint64_t plus = plus_channels(first_burst, extra), touched = base > 0 ? all_channels_ : plus;
      const size_t n_live = live_groups_.size();  // groups split off below are handled with their origin
      for (size_t g = 0; g < n_live; ++g) {
        const int id = live_groups_[g];
        const uint64_t members = group_members_[static_cast<size_t>(id)];
        const uint64_t with_more = members & plus, with_less = members & touched & ~plus,
                       untouched = members & ~touched;
        if (!(with_more | with_less)) continue;
        // the group keeps its state for its first part; the others get copies before any booking
        int more_id = id, less_id = id;
        if (with_more) {
          if (with_less) less_id = split_group(id, with_less);
          if (untouched) split_group(id, untouched);
        } else if (untouched) {
          split_group(id, untouched);
        }
        if (with_more) f(channels_[static_cast<size_t>(more_id)], more, count_channels(with_more));
        if (with_less) f(channels_[static_cast<size_t>(less_id)], less, count_channels(with_less));
      }
      lockstep_ = live_groups_.size() == 1;
      if (!lockstep_) {  // uneven shares: all channels in one slot-major calendar (at most 64), or singletons
        if (channels <= 64)
          to_joint();
        else if (static_cast<int64_t>(live_groups_.size()) == channels)
          number_singletons();
      }
      return;
    }
    ++per_channel_requests_;
    const int64_t used = std::min(n_bursts, channels);
    int64_t channel = channel_divisor_.mod(first_burst);
    for (int64_t i = 0; i < used; ++i) {
      f(channels_[static_cast<size_t>(channel)], i < extra ? more : less, int64_t{1});
      if (++channel == channels) channel = 0;
    }
  }
  // The channels (a mask, channels <= 64) that get base + 1 bursts of a request: `extra` of them
  // from first_burst's channel on, cyclically.
  uint64_t plus_channels(int64_t first_burst, int64_t extra) const {
    if (extra == 0) return 0;  // whole shares (most requests): no channel takes more
    const int64_t channels = cfg_.dram_channels, first = channel_divisor_.mod(first_burst);
    const uint64_t ones = extra >= 64 ? ~uint64_t{0} : (uint64_t{1} << extra) - 1;
    return ((ones << first) | (first ? ones >> (channels - first) : 0)) & all_channels_;
  }
  // Channels in a member mask (no popcnt instruction in a portable build: a library call).
  static int64_t count_channels(uint64_t m) {
    m = m - ((m >> 1) & 0x5555555555555555ULL);
    m = (m & 0x3333333333333333ULL) + ((m >> 2) & 0x3333333333333333ULL);
    m = (m + (m >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
    return static_cast<int64_t>((m * 0x0101010101010101ULL) >> 56);
  }
  // Once every channel is a group of its own, group c becomes channel c's, and requests take the
  // per-channel path (no masks) until the groups merge.
  void number_singletons();
  // Moves `members` out of group `id` into a new group with a copy of its state; returns its id.
  int split_group(int id, uint64_t members);
  // Merges the groups into one when all their states are equal (a prune can drop what made them differ).
  void merge_equal_groups();

  Config cfg_;
  KernelInfo info_;
  std::map<int, TileCost> costs_;
  std::vector<TileCost> cost_by_id_;
  uint32_t n_cost_ids_ = 0;  // cost_by_id_.size() (a size() of 88-byte entries is a multiply per event)
  const TileCost no_cost_{};  // a tile without a cost (allow_missing_costs): occupancy and latency 0
  __attribute__((noinline, cold)) void missing_cost(int32_t tile_id);
  bool allow_missing_costs_ = false;
  std::vector<Core> cores_;
  std::vector<SystolicUnit> systolic_;  // per core
  int current_core_ = 0;
  Core *core_ = nullptr;  // &cores_[current_core_]
  bool in_work_item_ = false;
  int effective_slots_ = 1;
  double burst_cycles_ = 1, inv_burst_cycles_ = 1;
  FixedDivisor channel_divisor_, burst_divisor_, interleave_divisor_;  // dram channels, burst and interleave bytes
  struct PostedWrite {
    double release;
    int64_t slots;         // burst slots still to book
    int64_t release_slot;  // slot_ceil_index(release): the drain books from there (computed once per store)
    bool operator==(const PostedWrite &o) const { return release == o.release && slots == o.slots; }
  };
  // Puts w into items[head..] after the entries released no later than it (stable among equal
  // releases): an insertion step, the few later entries move up one by one (two cores' stores may
  // arrive out of release order, usually near the back).
  template <typename Write>
  static void insert_by_release(std::vector<Write> &items, size_t head, const Write &w) {
    items.push_back(w);
    Write *const q = items.data();
    size_t at = items.size() - 1;
    for (; at > head && q[at - 1].release > w.release; --at) q[at] = q[at - 1];
    q[at] = w;
  }
  // A channel's posted writes in release order (stable: program order among
  // equal releases): a vector whose consumed front is dropped in bulk.
  struct WriteQueue {
    std::vector<PostedWrite> items;
    size_t head = 0;           // items before it have landed
    double released_from = 0;  // no write is booked before this (the last drain's horizon)
    bool empty() const { return head == items.size(); }
    PostedWrite &front() { return items[head]; }
    void pop_front() {
      if (++head == items.size()) {
        items.clear();
        head = 0;
      } else if (head >= 4096 && 2 * head >= items.size()) {
        items.erase(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(head));
        head = 0;
      }
    }
    void insert(const PostedWrite &w) { insert_by_release(items, head, w); }
    bool operator==(const WriteQueue &o) const {
      return released_from == o.released_from && items.size() - head == o.items.size() - o.head &&
             std::equal(items.begin() + static_cast<std::ptrdiff_t>(head), items.end(),
                        o.items.begin() + static_cast<std::ptrdiff_t>(o.head));
    }
  };
  // One DRAM channel: its calendar of booked burst slots and its posted writes.
  struct Channel {
    SlotCalendar calendar;
    WriteQueue writes;
    bool operator==(const Channel &o) const;
  };
  // Channel states by group id. A group stands for the channels in its member
  // mask (bit c: channel c), whose states are all equal: requests that give
  // them the same share book once, not once per channel; a request that does
  // not splits the group, and groups whose states become equal merge at a
  // pruning. With all channels in one group they run in lockstep. Outcomes
  // are the same as with one state per channel (keep_channels_separate, and
  // configs of more than 64 channels: group c is channel c).
  std::vector<Channel> channels_;
  // Once every channel is a group of its own (and there are at most 64), the channels' calendars
  // are one slot-major calendar and a store is one entry of one write list, whatever channels it
  // touches (channels_ is then unused): a request books all its channels in one pass.
  bool joint_ = false;
  ChannelSlots joint_slots_;
  struct JointWrite {  // 32 bytes: the insertion by release moves a few of them per store
    double release;
    int64_t less;          // burst slots of the touched channels outside `plus`; those in it take less + 1
    uint64_t plus;
    uint64_t pending;  // the channels it touches that have not landed it (a channel lands its writes in order)
  };
  // In release order (stable); entries before joint_head_ have landed in every channel. A channel's
  // first pending entry is its head: the per-channel queues' front, without a head per channel.
  std::vector<JointWrite> joint_writes_;
  size_t joint_head_ = 0;
  // The slots left of the head write of the channels in partly_booked_ (bit-sliced, as the counts a
  // booking takes: a drain merges and splits them with mask operations, not channel by channel).
  ChannelSlots::Counts write_rem_;
  uint64_t partly_booked_ = 0;
  double joint_released_from_ = 0;  // WriteQueue::released_from, the same for every channel
  void to_joint();
  bool joint_to_lockstep();
  void drain_joint(double before, int64_t limit);
  __attribute__((noinline)) int64_t book_joint_write(const JointWrite &w, uint64_t chans, uint64_t partial,
                                                     int64_t from, int64_t limit, uint64_t &left);
  std::vector<uint64_t> group_members_;  // per group id; 0: the id is free
  std::vector<int> live_groups_;         // the ids in use
  uint64_t all_channels_ = 0;
  bool grouped_ = true;
  bool singletons_ = false;  // every channel a group of its own, group c is channel c
  bool lockstep_ = true;     // one group (grouped_ and live_groups_.size() == 1)
  int prunes_since_merge_try_ = 0, merge_try_interval_ = 1;
  uint64_t lockstep_requests_ = 0, per_channel_requests_ = 0;
  // Work of the write drains (a performance diagnostic: bookings stay within
  // one per posted channel share plus one per channel and drain).
  uint64_t posted_write_shares_ = 0, write_drains_ = 0, write_drain_bookings_ = 0;
  int64_t calendar_peak_ = 0;  // widest channel calendar window seen, in 64-slot words (a performance diagnostic)
  uint64_t bookings_since_prune_ = 0;
  double end_time_ = 0;
  uint64_t records_ = 0;
  uint64_t dram_bytes_ = 0, dram_bursts_ = 0;
  uint64_t n_dma_ = 0, n_gather_ = 0, n_scatter_ = 0, n_compute_ = 0, n_barrier_ = 0, n_preload_ = 0,
           n_accumulate_ = 0, n_work_items_ = 0;
  int64_t busy_dram_slots_ = 0;  // channel time booked, in burst slots (whole bursts: an exact sum in any order)
  // Per tile id: a vector for the usual small ids, a map for the rest.
  static constexpr int kTileStatsDense = 4096;
  std::vector<TileStats> tile_stats_;
  std::map<int, TileStats> other_tile_stats_;
  // (tile_stats_ starts sized for the cost table's ids: the common case is one compare)
  TileStats &tile_stats(int32_t id) {
    if (static_cast<uint32_t>(id) < tile_stats_.size()) return tile_stats_[static_cast<size_t>(id)];
    return other_tile_stats(id);
  }
  __attribute__((noinline)) TileStats &other_tile_stats(int32_t id) {
    if (id < 0 || id >= kTileStatsDense) return other_tile_stats_[id];
    tile_stats_.resize(static_cast<size_t>(id) + 1);
    return tile_stats_[static_cast<size_t>(id)];
  }
  std::vector<int> missing_costs_;
  StoreFootprint stored_;
};

// A channel moves bursts in burst slots (multiples of one burst time from 0): a booking starts on
// the next slot boundary, so every gap between bookings is whole bursts and none is lost. (Bookings
// at any time left slivers shorter than a burst that nothing could use; their sum depended on
// fractional start times, so twice the vector lanes could cost a burst: add_row at N = 131079,
// 8709 -> 8711 cycles.) Ends are snapped to the grid against rounding drift (slot_ceil_index in
// slot_calendar.hpp).
inline int64_t TimingCore::slot_ceil_index(double t) const {
  return npusim::slot_ceil_index(t, burst_cycles_, inv_burst_cycles_);
}

inline double TimingCore::slot_ceil(double t) const {
  return static_cast<double>(slot_ceil_index(t)) * burst_cycles_;
}


}  // namespace npusim
