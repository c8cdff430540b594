/* Bare-metal runtime of the functional path: HTIF I/O, exit codes, heap.
 * The exit codes are mirrored in simulator/functional/errors.py
 * (RUNTIME_EXIT_CODES); keep both in step. */
#ifndef NPUSIM_RT_H
#define NPUSIM_RT_H

#include <stddef.h>
#include <stdint.h>

/* End of the RAM Spike provides with -m2048 (0x80000000 + 2 GiB). */
#define NPUSIM_RAM_END 0x100000000ULL

#define NPUSIM_MAX_ARGS 1024 /* == launch_args.MAX_KERNEL_ARGS */

enum npusim_exit_code {
  NPUSIM_EXIT_OK = 0,
  NPUSIM_EXIT_LAUNCH_OPEN = 2,     /* launch.bin could not be opened */
  NPUSIM_EXIT_LAUNCH_SHORT = 3,    /* launch.bin shorter than its header says */
  NPUSIM_EXIT_TOO_MANY_ARGS = 4,   /* n_args < 0 or > NPUSIM_MAX_ARGS */
  NPUSIM_EXIT_BAD_ARG = 5,         /* unknown kind, elem_bytes or negative count */
  NPUSIM_EXIT_HEAP = 6,            /* buffers do not fit in RAM */
  NPUSIM_EXIT_ARG_OPEN = 7,        /* arg<i>.bin could not be opened */
  NPUSIM_EXIT_ARG_SHORT = 8,       /* arg<i>.bin shorter than count * elem_bytes */
  NPUSIM_EXIT_OUT_OPEN = 9,        /* out<i>.bin could not be created */
  NPUSIM_EXIT_OUT_SHORT = 10,      /* out<i>.bin short write */
  NPUSIM_EXIT_INSTRET = 11,        /* instret.bin could not be written */
  NPUSIM_EXIT_ABORT = 12,          /* the kernel called abort (e.g. cf.assert) */
  NPUSIM_EXIT_INDEX = 13,          /* an indirect index out of range (index_error.bin) */
  NPUSIM_EXIT_TRAP_BASE = 100,     /* 100 + mcause: an exception trapped */
};

/* HTIF proxied syscalls; return value or -errno like Linux. */
long npusim_open(const char *path, int flags, int mode);
long npusim_read(int fd, void *buf, size_t len);
long npusim_write(int fd, const void *buf, size_t len);
long npusim_close(int fd);
void npusim_exit(int code) __attribute__((noreturn));

/* Formatted-enough diagnostics on Spike's stderr. */
void npusim_log(const char *text);
void npusim_log_u64(uint64_t value);
void npusim_log_hex(uint64_t value);

void *npusim_heap_alloc(size_t bytes, size_t align);

#endif
