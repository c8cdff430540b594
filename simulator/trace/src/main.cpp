// npusim-trace-sim: load a trace producer (trace.so), feed its events to the
// timing core, print the totals as JSON.
//
//   npusim-trace-sim --config cfg.json --attribute launch.json --info trace_info.json
//                    --cost cost.json --trace-so trace.so [--out result.json]
//                    [--allow-missing-costs]
//
// Exit codes: 0 ok, 2 bad input, 3 trace.so could not be loaded or has the
// wrong ABI version, 4 the producer reported an error, 5 the timing model
// rejected the trace.
#include <dlfcn.h>

#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "npusim/trace_abi.h"
#include "timing.hpp"

namespace {

using npusim::TimingCore;

std::string read_file(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// nlohmann::json rejects what JSON does not allow (NaN, Infinity, bad escapes).
npusim::Json read_json(const std::string &path) {
  try {
    return npusim::Json::parse(read_file(path));
  } catch (const std::exception &e) {
    throw std::runtime_error(path + ": " + e.what());
  }
}

[[noreturn]] void die(int code, const std::string &msg) {
  std::fprintf(stderr, "npusim-trace-sim: error: %s\n", msg.c_str());
  std::exit(code);
}

TimingCore *sim_of(void *p) { return static_cast<TimingCore *>(p); }

// A trace the timing model rejects ends the run at that event (exit 5): the
// exception does not unwind through the producer's frames.
template <typename F>
void guarded(F &&f) {
  try {
    f();
  } catch (const std::exception &e) {
    die(5, std::string("the timing model rejected the trace: ") + e.what());
  }
}

const npusim_callbacks kCallbacks = {
    [](void *s) { guarded([&] { sim_of(s)->work_item_begin(); }); },
    [](void *s) { guarded([&] { sim_of(s)->work_item_end(); }); },
    [](void *s, int32_t dir, int32_t arg, int32_t spad, int32_t bits, int64_t off, int64_t d0, int64_t st0,
       int64_t d1, int64_t st1, int32_t tag, int64_t slot) {
      guarded([&] { sim_of(s)->dma(dir, arg, spad, bits, off, d0, st0, d1, st1, tag, slot); });
    },
    [](void *s, int32_t arg, int32_t spad, int32_t bits, int64_t n, int32_t tag, int64_t slot) {
      guarded([&] { sim_of(s)->dma_gather(arg, spad, bits, n, tag, slot); });
    },
    [](void *s, int32_t tile, int64_t n, uint64_t r, uint64_t w) {
      guarded([&] { sim_of(s)->compute(tile, n, r, w); });
    },
    [](void *s, int32_t tag, int64_t slot) { guarded([&] { sim_of(s)->barrier(tag, slot); }); },
    [](void *s, int32_t array, int64_t handle, int32_t spad, int64_t k, int64_t n) {
      guarded([&] { sim_of(s)->systolic_preload(array, handle, spad, k, n); });
    },
    [](void *s, int32_t tile, int32_t array, int64_t handle, int64_t m, int64_t k, int64_t n, uint64_t r,
       uint64_t w) { guarded([&] { sim_of(s)->systolic_accumulate(tile, array, handle, m, k, n, r, w); }); },
    [](void *s, int32_t arg, int32_t spad, int32_t bits, int64_t n, int32_t tag, int64_t slot) {
      guarded([&] { sim_of(s)->dma_scatter(arg, spad, bits, n, tag, slot); });
    },
};

}  // namespace

int main(int argc, char **argv) {
  std::string config_path, attribute_path, info_path, cost_path, so_path, out_path;
  bool allow_missing_costs = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die(2, "missing value after " + a);
      return argv[++i];
    };
    if (a == "--config") config_path = value();
    else if (a == "--attribute") attribute_path = value();
    else if (a == "--info") info_path = value();
    else if (a == "--cost") cost_path = value();
    else if (a == "--trace-so") so_path = value();
    else if (a == "--out") out_path = value();
    else if (a == "--allow-missing-costs") allow_missing_costs = true;
    else die(2, "unknown argument " + a);
  }
  if (config_path.empty() || attribute_path.empty() || info_path.empty() || so_path.empty())
    die(2, "usage: npusim-trace-sim --config C --attribute A --info I [--cost T] --trace-so S [--out O]");

  std::vector<int64_t> shape_args;
  std::unique_ptr<TimingCore> sim;
  try {
    std::string stage = config_path;
    try {
      npusim::Config cfg = npusim::Config::from_json(read_json(config_path));
      stage = info_path;
      npusim::KernelInfo info = npusim::KernelInfo::from_json(read_json(info_path));
      stage = attribute_path;
      const npusim::Json attributes = read_json(attribute_path);
      for (const auto &v : attributes.at("shape_args")) shape_args.push_back(v.get<int64_t>());
      std::map<int, npusim::TileCost> costs;
      stage = cost_path;
      if (!cost_path.empty()) costs = npusim::load_cost_table(read_json(cost_path), cfg);
      stage = "the timing model";
      if (static_cast<int>(shape_args.size()) != info.n_size_args)
        die(2, "the attribute file has " + std::to_string(shape_args.size()) + " shape_args, the kernel takes " +
                   std::to_string(info.n_size_args));
      sim = std::make_unique<TimingCore>(cfg, info, std::move(costs), allow_missing_costs);
      const char *separate = std::getenv("NPUSIM_TRACE_CHANNELS_SEPARATE");  // for tests: no channel lockstep
      if (separate && *separate && std::string(separate) != "0") sim->keep_channels_separate();
    } catch (const std::exception &e) {
      die(2, stage + ": " + e.what());
    }
  } catch (const std::exception &e) {
    die(2, e.what());
  }

  // dlopen searches the library path for a bare file name; we mean the file.
  if (so_path.find('/') == std::string::npos) so_path = "./" + so_path;
  void *handle = dlopen(so_path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) die(3, std::string("dlopen failed: ") + dlerror());
  auto version_fn = reinterpret_cast<npusim_trace_abi_version_fn>(dlsym(handle, "npusim_trace_abi_version"));
  auto main_fn = reinterpret_cast<npusim_trace_main_fn>(dlsym(handle, "npusim_trace_main"));
  if (!version_fn || !main_fn) die(3, so_path + " does not export npusim_trace_abi_version / npusim_trace_main");
  if (version_fn() != NPUSIM_TRACE_ABI_VERSION)
    die(3, so_path + " has trace ABI version " + std::to_string(version_fn()) + ", the simulator speaks " +
               std::to_string(NPUSIM_TRACE_ABI_VERSION));

  npusim_ctx ctx{NPUSIM_TRACE_ABI_VERSION, sim.get(), &kCallbacks};
  // CPU time beside wall time: on a loaded machine the wall time counts other processes' turns.
  auto cpu_now = [] {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
  };
  const double cpu0 = cpu_now();
  auto t0 = std::chrono::steady_clock::now();
  int32_t status = main_fn(&ctx, shape_args.data(), static_cast<int32_t>(shape_args.size()));
  if (status != 0) die(4, "the producer returned status " + std::to_string(status));
  guarded([&] { sim->finish(); });  // the end-of-trace drain is simulation work: inside the timed span
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = cpu_now() - cpu0;

  std::string report = sim->report_json(wall, cpu, status);
  if (out_path.empty()) {
    std::cout << report << "\n";
  } else {
    std::string tmp = out_path + ".tmp";
    std::ofstream(tmp) << report << "\n";
    if (std::rename(tmp.c_str(), out_path.c_str()) != 0) die(2, "cannot write " + out_path);
  }
  return 0;
}
