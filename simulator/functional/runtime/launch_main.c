/* The launch entry (CONTRACTS.md section 3): read launch.bin and the input
 * files from Spike's working directory, build one rank-1 memref descriptor per
 * tensor, call _mlir_ciface_kernel, write the outputs and the instructions
 * retired inside the call. Sizes come only from launch.bin, so one ELF serves
 * every shape. */
#include "npusim_rt.h"

#define O_RDONLY 0
#define O_WRONLY 1
#define O_CREAT 0100
#define O_TRUNC 01000

enum arg_kind { KIND_INPUT = 0, KIND_OUTPUT = 1, KIND_INOUT = 2, KIND_SIZE = 3 };

typedef struct {
  void *allocated;
  void *aligned;
  int64_t offset;
  int64_t size;
  int64_t stride;
} memref_rank1;

/* Every argument travels as a 64-bit integer-class value. The ELF build links a
 * per-kernel shim (elf_build.call_shim) that calls _mlir_ciface_kernel with exactly
 * the kernel's argument count, so no arity is fixed here. */
typedef uint64_t u64;
extern void npusim_call_kernel(const u64 *args);

static void fail_arg(const char *what, int index, int code) __attribute__((noreturn));
static void fail_arg(const char *what, int index, int code) {
  npusim_log("npusim runtime: ");
  npusim_log(what);
  if (index >= 0) {
    npusim_log(" (argument ");
    npusim_log_u64((uint64_t)index);
    npusim_log(")");
  }
  npusim_log("\n");
  npusim_exit(code);
}

/* "arg" or "out" + decimal index + ".bin". */
static void file_name(char *buffer, const char *prefix, int index) {
  int at = 0;
  for (; prefix[at]; at++) buffer[at] = prefix[at];
  char digits[12];
  int n = 0;
  do {
    digits[n++] = (char)('0' + index % 10);
    index /= 10;
  } while (index);
  while (n) buffer[at++] = digits[--n];
  const char *suffix = ".bin";
  for (int k = 0; suffix[k]; k++) buffer[at++] = suffix[k];
  buffer[at] = 0;
}

/* Reads exactly `bytes`; returns 0 on success, -1 if the file ended early. */
static int read_exact(int fd, void *buffer, uint64_t bytes) {
  char *at = buffer;
  while (bytes) {
    long got = npusim_read(fd, at, bytes);
    if (got <= 0) return -1;
    at += got;
    bytes -= (uint64_t)got;
  }
  return 0;
}

static int write_exact(int fd, const void *buffer, uint64_t bytes) {
  const char *at = buffer;
  while (bytes) {
    long put = npusim_write(fd, at, bytes);
    if (put <= 0) return -1;
    at += put;
    bytes -= (uint64_t)put;
  }
  return 0;
}

static inline uint64_t read_minstret(void) {
  uint64_t value;
  __asm__ volatile("csrr %0, minstret" : "=r"(value));
  return value;
}

/* Called by a kernel whose indirect index is out of range (compiler/indirect.py): the index,
 * the extent it indexes and the index's number in the kernel go to index_error.bin, then the
 * run stops with NPUSIM_EXIT_INDEX before any out-of-range address is formed. */
void npusim_index_out_of_bounds(int64_t index, int64_t size, int64_t site) __attribute__((noreturn));
void npusim_index_out_of_bounds(int64_t index, int64_t size, int64_t site) {
  int64_t report[3] = {index, size, site};
  long out = npusim_open("index_error.bin", O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (out >= 0) {
    write_exact((int)out, report, sizeof report);
    npusim_close((int)out);
  }
  npusim_log("npusim runtime: indirect index out of range\n");
  npusim_exit(NPUSIM_EXIT_INDEX);
}

int main(void) {
  static int64_t header[1 + 3 * NPUSIM_MAX_ARGS];
  static memref_rank1 descriptors[NPUSIM_MAX_ARGS];
  u64 call_args[NPUSIM_MAX_ARGS] = {0};
  char name[24];

  long fd = npusim_open("launch.bin", O_RDONLY, 0);
  if (fd < 0) fail_arg("cannot open launch.bin", -1, NPUSIM_EXIT_LAUNCH_OPEN);
  if (read_exact((int)fd, header, 8)) fail_arg("launch.bin has no n_args word", -1, NPUSIM_EXIT_LAUNCH_SHORT);
  int64_t n_args = header[0];
  if (n_args < 0 || n_args > NPUSIM_MAX_ARGS)
    fail_arg("launch.bin: n_args is negative or above NPUSIM_MAX_ARGS", -1, NPUSIM_EXIT_TOO_MANY_ARGS);
  if (read_exact((int)fd, header + 1, (uint64_t)n_args * 24))
    fail_arg("launch.bin shorter than 3 words per argument", -1, NPUSIM_EXIT_LAUNCH_SHORT);
  npusim_close((int)fd);

  for (int i = 0; i < n_args; i++) {
    int64_t kind = header[1 + 3 * i], elem_bytes = header[2 + 3 * i], count = header[3 + 3 * i];
    if (kind == KIND_SIZE) {
      call_args[i] = (u64)count;
      continue;
    }
    if (kind < KIND_INPUT || kind > KIND_INOUT) fail_arg("launch.bin: unknown kind", i, NPUSIM_EXIT_BAD_ARG);
    if (!(elem_bytes == 1 || elem_bytes == 2 || elem_bytes == 4 || elem_bytes == 8))
      fail_arg("launch.bin: elem_bytes is not 1, 2, 4 or 8", i, NPUSIM_EXIT_BAD_ARG);
    if (count < 0 || (uint64_t)count > (NPUSIM_RAM_END >> 3))
      fail_arg("launch.bin: tensor count is negative or beyond RAM", i, NPUSIM_EXIT_BAD_ARG);
    uint64_t bytes = (uint64_t)count * (uint64_t)elem_bytes;
    void *buffer = npusim_heap_alloc(bytes ? bytes : 1, 64);
    if (!buffer) fail_arg("tensor buffers do not fit in RAM", i, NPUSIM_EXIT_HEAP);
    descriptors[i] = (memref_rank1){buffer, buffer, 0, count, 1};
    call_args[i] = (u64)(uintptr_t)&descriptors[i];
    if (kind == KIND_OUTPUT || bytes == 0) continue;
    file_name(name, "arg", i);
    long in = npusim_open(name, O_RDONLY, 0);
    if (in < 0) fail_arg("cannot open arg<i>.bin", i, NPUSIM_EXIT_ARG_OPEN);
    if (read_exact((int)in, buffer, bytes)) fail_arg("arg<i>.bin is short", i, NPUSIM_EXIT_ARG_SHORT);
    npusim_close((int)in);
  }

  uint64_t before = read_minstret();
  npusim_call_kernel(call_args);
  uint64_t retired = read_minstret() - before;

  for (int i = 0; i < n_args; i++) {
    int64_t kind = header[1 + 3 * i];
    if (kind != KIND_OUTPUT && kind != KIND_INOUT) continue;
    uint64_t bytes = (uint64_t)header[3 + 3 * i] * (uint64_t)header[2 + 3 * i];
    file_name(name, "out", i);
    long out = npusim_open(name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0) fail_arg("cannot create out<i>.bin", i, NPUSIM_EXIT_OUT_OPEN);
    if (write_exact((int)out, descriptors[i].aligned, bytes))
      fail_arg("short write of out<i>.bin", i, NPUSIM_EXIT_OUT_SHORT);
    npusim_close((int)out);
  }

  long counter = npusim_open("instret.bin", O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (counter < 0 || write_exact((int)counter, &retired, 8))
    fail_arg("cannot write instret.bin", -1, NPUSIM_EXIT_INSTRET);
  npusim_close((int)counter);
  return NPUSIM_EXIT_OK;
}
