/* memcpy/memmove/memset/memcmp: LLVM emits calls to them (struct copies,
 * idiom-recognised copy loops in kernels). Strip-mined with RVV at LMUL=8 so a
 * DMA-style copy costs a handful of instructions per 128+ bytes, like the
 * vector code around it. Built with -fno-builtin so these bodies never turn
 * back into calls to themselves. */
#include <riscv_vector.h>
#include <stddef.h>
#include <stdint.h>

void *memcpy(void *restrict destination, const void *restrict source, size_t n) {
  uint8_t *d = destination;
  const uint8_t *s = source;
  /* Wide elements when everything is 8-byte aligned: Spike's cost is per
   * element, so this copies ~8x faster than bytes (same instruction count). */
  if ((((uintptr_t)d | (uintptr_t)s | n) & 7) == 0) {
    for (size_t words = n >> 3; words;) {
      size_t vl = __riscv_vsetvl_e64m8(words);
      __riscv_vse64_v_u64m8((uint64_t *)d, __riscv_vle64_v_u64m8((const uint64_t *)s, vl), vl);
      d += vl << 3;
      s += vl << 3;
      words -= vl;
    }
    return destination;
  }
  while (n) {
    size_t vl = __riscv_vsetvl_e8m8(n);
    __riscv_vse8_v_u8m8(d, __riscv_vle8_v_u8m8(s, vl), vl);
    d += vl;
    s += vl;
    n -= vl;
  }
  return destination;
}

void *memmove(void *destination, const void *source, size_t n) {
  uint8_t *d = destination;
  const uint8_t *s = source;
  if (d <= s || d >= s + n) return memcpy(destination, source, n);
  /* Overlap with the destination above the source: copy from the end. */
  while (n) {
    size_t vl = __riscv_vsetvl_e8m8(n);
    n -= vl;
    __riscv_vse8_v_u8m8(d + n, __riscv_vle8_v_u8m8(s + n, vl), vl);
  }
  return destination;
}

void *memset(void *destination, int value, size_t n) {
  uint8_t *d = destination;
  if ((((uintptr_t)d | n) & 7) == 0) { /* wide elements, as in memcpy */
    uint64_t pattern = 0x0101010101010101ULL * (uint8_t)value;
    vuint64m8_t fill = __riscv_vmv_v_x_u64m8(pattern, __riscv_vsetvlmax_e64m8());
    for (size_t words = n >> 3; words;) {
      size_t vl = __riscv_vsetvl_e64m8(words);
      __riscv_vse64_v_u64m8((uint64_t *)d, fill, vl);
      d += vl << 3;
      words -= vl;
    }
    return destination;
  }
  size_t vlmax = __riscv_vsetvlmax_e8m8();
  vuint8m8_t fill = __riscv_vmv_v_x_u8m8((uint8_t)value, vlmax);
  while (n) {
    size_t vl = __riscv_vsetvl_e8m8(n);
    __riscv_vse8_v_u8m8(d, fill, vl);
    d += vl;
    n -= vl;
  }
  return destination;
}

int memcmp(const void *left, const void *right, size_t n) {
  const uint8_t *a = left, *b = right;
  for (size_t i = 0; i < n; i++)
    if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
  return 0;
}
