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

/* memref.copy between non-identity layouts lowers to a call of MLIR's
 * runtime-library function memrefCopy(elem_size, unranked src, unranked dst);
 * this is our version: a strided N-d copy, rows by memcpy when contiguous. */
typedef struct {
  int64_t rank;
  void *descriptor; /* {base, data, offset, sizes[rank], strides[rank]} */
} unranked_memref;

#define MEMREF_COPY_MAX_RANK 16

void npusim_exit(int code) __attribute__((noreturn));
void npusim_log(const char *text);

void memrefCopy(int64_t elem_size, unranked_memref *source, unranked_memref *destination) {
  int64_t rank = source->rank;
  int64_t *src = source->descriptor, *dst = destination->descriptor;
  if (rank > MEMREF_COPY_MAX_RANK) {
    npusim_log("npusim runtime: memrefCopy of rank > 16\n");
    npusim_exit(12);
  }
  const uint8_t *src_data = (const uint8_t *)src[1] + src[2] * elem_size;
  uint8_t *dst_data = (uint8_t *)dst[1] + dst[2] * elem_size;
  if (rank == 0) {
    memcpy(dst_data, src_data, (size_t)elem_size);
    return;
  }
  const int64_t *sizes = src + 3, *src_strides = src + 3 + rank, *dst_strides = dst + 3 + rank;
  for (int64_t d = 0; d < rank; d++)
    if (sizes[d] == 0) return;
  int64_t index[MEMREF_COPY_MAX_RANK] = {0};
  int64_t inner = rank - 1, row = sizes[inner];
  int contiguous_rows = src_strides[inner] == 1 && dst_strides[inner] == 1;
  for (;;) {
    int64_t src_at = 0, dst_at = 0;
    for (int64_t d = 0; d < inner; d++) {
      src_at += index[d] * src_strides[d];
      dst_at += index[d] * dst_strides[d];
    }
    if (contiguous_rows) {
      memmove(dst_data + dst_at * elem_size, src_data + src_at * elem_size, (size_t)(row * elem_size));
    } else {
      for (int64_t k = 0; k < row; k++)
        memmove(dst_data + (dst_at + k * dst_strides[inner]) * elem_size,
                src_data + (src_at + k * src_strides[inner]) * elem_size, (size_t)elem_size);
    }
    int64_t d = inner - 1; /* odometer over the outer dims */
    while (d >= 0 && ++index[d] == sizes[d]) index[d--] = 0;
    if (d < 0) return;
  }
}
