/* HTIF host interface: Spike polls `tohost`; a syscall is the address of a
 * 64-byte-aligned block {number, args...} written to tohost, answered through
 * `fromhost` with the return value in the block's first word. Exit is
 * tohost = (code << 1) | 1. Also the trap report, abort and the heap. */
#include "npusim_rt.h"

volatile uint64_t tohost __attribute__((section(".tohost"), aligned(64)));
volatile uint64_t fromhost __attribute__((section(".tohost"), aligned(64)));

#define SYS_OPENAT 56
#define SYS_CLOSE 57
#define SYS_READ 63
#define SYS_WRITE 64
#define AT_FDCWD (-100)

static long htif_syscall(uint64_t number, uint64_t a0, uint64_t a1, uint64_t a2,
                         uint64_t a3, uint64_t a4) {
  static volatile uint64_t block[8] __attribute__((aligned(64)));
  block[0] = number;
  block[1] = a0;
  block[2] = a1;
  block[3] = a2;
  block[4] = a3;
  block[5] = a4;
  __sync_synchronize();
  tohost = (uint64_t)(uintptr_t)block;
  while (fromhost == 0) {
  }
  fromhost = 0;
  __sync_synchronize();
  return (long)block[0];
}

static size_t string_length(const char *text) {
  size_t n = 0;
  while (text[n]) n++;
  return n;
}

long npusim_open(const char *path, int flags, int mode) {
  return htif_syscall(SYS_OPENAT, (uint64_t)AT_FDCWD, (uintptr_t)path, string_length(path) + 1,
                      (uint64_t)flags, (uint64_t)mode);
}

long npusim_read(int fd, void *buf, size_t len) {
  return htif_syscall(SYS_READ, (uint64_t)fd, (uintptr_t)buf, len, 0, 0);
}

long npusim_write(int fd, const void *buf, size_t len) {
  return htif_syscall(SYS_WRITE, (uint64_t)fd, (uintptr_t)buf, len, 0, 0);
}

long npusim_close(int fd) { return htif_syscall(SYS_CLOSE, (uint64_t)fd, 0, 0, 0, 0); }

void npusim_exit(int code) {
  __sync_synchronize();
  tohost = ((uint64_t)(uint32_t)code << 1) | 1;
  for (;;) {
  }
}

void npusim_log(const char *text) { npusim_write(2, text, string_length(text)); }

void npusim_log_u64(uint64_t value) {
  char digits[24];
  int at = 23;
  digits[at] = 0;
  do {
    digits[--at] = (char)('0' + value % 10);
    value /= 10;
  } while (value);
  npusim_log(digits + at);
}

void npusim_log_hex(uint64_t value) {
  char digits[19];
  digits[0] = '0';
  digits[1] = 'x';
  for (int i = 0; i < 16; i++) digits[2 + i] = "0123456789abcdef"[(value >> (60 - 4 * i)) & 15];
  digits[18] = 0;
  npusim_log(digits);
}

void npusim_trap(uint64_t mcause, uint64_t mepc, uint64_t mtval) {
  npusim_log("npusim runtime: trap mcause=");
  npusim_log_u64(mcause);
  npusim_log(" mepc=");
  npusim_log_hex(mepc);
  npusim_log(" mtval=");
  npusim_log_hex(mtval);
  npusim_log("\n");
  /* Interrupts (top bit) are never enabled; report the exception code. */
  npusim_exit(NPUSIM_EXIT_TRAP_BASE + (int)(mcause & 63));
}

void abort(void) {
  npusim_log("npusim runtime: abort() called by the kernel (failed assertion?)\n");
  npusim_exit(NPUSIM_EXIT_ABORT);
}

/* Bump allocator over [_heap_start, RAM end): one launch, nothing is freed. */
extern char _heap_start[];
static uintptr_t heap_next;

void *npusim_heap_alloc(size_t bytes, size_t align) {
  if (heap_next == 0) heap_next = (uintptr_t)_heap_start;
  if (align < 16) align = 16;
  uintptr_t start = (heap_next + align - 1) & ~(uintptr_t)(align - 1);
  if (start < heap_next || bytes > NPUSIM_RAM_END - start) return NULL;
  heap_next = start + bytes;
  return (void *)start;
}

/* memref.alloc lowers to malloc/free (and aligned_alloc with an alignment). */
void *malloc(size_t bytes) { return npusim_heap_alloc(bytes, 64); }
void *aligned_alloc(size_t align, size_t bytes) { return npusim_heap_alloc(bytes, align); }
void *calloc(size_t count, size_t size) {
  /* Fresh heap memory is zero: Spike's RAM starts zeroed and nothing is reused. */
  if (size && count > (size_t)-1 / size) return NULL;
  return npusim_heap_alloc(count * size, 64);
}
void free(void *pointer) { (void)pointer; }
