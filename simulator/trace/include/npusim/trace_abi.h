/*
 * npusim trace ABI, version 3 (CONTRACTS.md section 4).
 *
 * The single contract between a generated trace producer (trace.so) and the
 * C++ cycle simulator. trace.so exports two C symbols:
 *
 *   int32_t npusim_trace_abi_version(void);            // == NPUSIM_TRACE_ABI_VERSION
 *   int32_t npusim_trace_main(npusim_ctx *ctx,
 *                             const int64_t *shape_args, int32_t n);
 *
 * shape_args[k] is size arg k in the kernel's `size_args` order. The producer
 * reports events through the static inline helpers below, which dispatch
 * through the callback table in ctx, so trace.so has no undefined symbols.
 * npusim_trace_main returns 0 on success, NPUSIM_ERR_SHAPE_ARGS when n does
 * not match the kernel's size-arg count.
 *
 * Plain C (also valid C++), no includes beyond <stdint.h>.
 */
#ifndef NPUSIM_TRACE_ABI_H
#define NPUSIM_TRACE_ABI_H

#include <stdint.h>

#define NPUSIM_TRACE_ABI_VERSION 3

/* npusim_dma dir */
#define NPUSIM_DMA_LOAD 0  /* DRAM -> scratchpad */
#define NPUSIM_DMA_STORE 1 /* scratchpad -> DRAM */

/* tag of a synchronous DMA: the producer waits for it before its next event */
#define NPUSIM_TAG_SYNC (-1)

#define NPUSIM_ERR_SHAPE_ARGS (-2)

#ifdef __cplusplus
extern "C" {
#endif

typedef struct npusim_callbacks {
  /* One parallel work item (an iteration of a parallel tile loop); the
   * simulator chooses its core. */
  void (*work_item_begin)(void *sim);
  void (*work_item_end)(void *sim);
  /* A strided DMA of d1 rows of d0 elements: element (i1, i0) lives at DRAM
   * element offset + i1*stride1 + i0*stride0 of tensor arg `arg`. A 1-D
   * transfer has d1 = 1. tag >= 0 makes it asynchronous: it completes in the
   * background and npusim_barrier(tag, slot) waits for it. */
  void (*dma)(void *sim, int32_t dir, int32_t arg, int32_t spad, int32_t elem_bits,
              int64_t offset, int64_t d0, int64_t stride0, int64_t d1, int64_t stride1,
              int32_t tag, int64_t slot);
  /* n_elems single-element accesses at data-dependent addresses. */
  void (*dma_gather)(void *sim, int32_t arg, int32_t spad, int32_t elem_bits,
                     int64_t n_elems, int32_t tag, int64_t slot);
  /* Compute tile `tile_id` over n_elems elements; bit b of reads_mask /
   * writes_mask = scratchpad buffer b is read / written. */
  void (*compute)(void *sim, int32_t tile_id, int64_t n_elems, uint64_t reads_mask,
                  uint64_t writes_mask);
  /* Wait until the async DMA issued with (tag, slot) has completed. */
  void (*barrier)(void *sim, int32_t tag, int64_t slot);
  /* Systolic array (weight stationary). `array` names a logical array (the
   * simulator runs it on array % arrays_per_core of the current core);
   * `weight_handle` names the weight tile: a preload loads the k x n tile
   * from spad `weights_spad` into a free weight slot of that array ... */
  void (*systolic_preload)(void *sim, int32_t array, int64_t weight_handle, int32_t weights_spad,
                           int64_t k, int64_t n);
  /* ... and an accumulate streams m input rows through the slot holding
   * `weight_handle` on that array, accumulating into the output (writes_mask;
   * reads_mask without it are the streamed inputs). */
  void (*systolic_accumulate)(void *sim, int32_t tile_id, int32_t array, int64_t weight_handle,
                              int64_t m, int64_t k, int64_t n, uint64_t reads_mask,
                              uint64_t writes_mask);
  /* (version 3) n_elems single-element stores from scratchpad `spad` to
   * addresses not affine in the tile (a transpose, a cat, a strided slice);
   * posted like a strided store: tag >= 0 names it for a barrier. */
  void (*dma_scatter)(void *sim, int32_t arg, int32_t spad, int32_t elem_bits,
                      int64_t n_elems, int32_t tag, int64_t slot);
} npusim_callbacks;

typedef struct npusim_ctx {
  int32_t abi_version; /* NPUSIM_TRACE_ABI_VERSION of the simulator */
  void *sim;           /* opaque simulator state, first argument of every callback */
  const npusim_callbacks *cb;
} npusim_ctx;

static inline void npusim_work_item_begin(npusim_ctx *ctx) { ctx->cb->work_item_begin(ctx->sim); }

static inline void npusim_work_item_end(npusim_ctx *ctx) { ctx->cb->work_item_end(ctx->sim); }

static inline void npusim_dma(npusim_ctx *ctx, int32_t dir, int32_t arg, int32_t spad,
                              int32_t elem_bits, int64_t offset, int64_t d0, int64_t stride0,
                              int64_t d1, int64_t stride1, int32_t tag, int64_t slot) {
  ctx->cb->dma(ctx->sim, dir, arg, spad, elem_bits, offset, d0, stride0, d1, stride1, tag, slot);
}

static inline void npusim_dma_gather(npusim_ctx *ctx, int32_t arg, int32_t spad,
                                     int32_t elem_bits, int64_t n_elems, int32_t tag,
                                     int64_t slot) {
  ctx->cb->dma_gather(ctx->sim, arg, spad, elem_bits, n_elems, tag, slot);
}

static inline void npusim_dma_scatter(npusim_ctx *ctx, int32_t arg, int32_t spad,
                                      int32_t elem_bits, int64_t n_elems, int32_t tag,
                                      int64_t slot) {
  ctx->cb->dma_scatter(ctx->sim, arg, spad, elem_bits, n_elems, tag, slot);
}

static inline void npusim_compute(npusim_ctx *ctx, int32_t tile_id, int64_t n_elems,
                                  uint64_t reads_mask, uint64_t writes_mask) {
  ctx->cb->compute(ctx->sim, tile_id, n_elems, reads_mask, writes_mask);
}

static inline void npusim_barrier(npusim_ctx *ctx, int32_t tag, int64_t slot) {
  ctx->cb->barrier(ctx->sim, tag, slot);
}

static inline void npusim_systolic_preload(npusim_ctx *ctx, int32_t array, int64_t weight_handle,
                                           int32_t weights_spad, int64_t k, int64_t n) {
  ctx->cb->systolic_preload(ctx->sim, array, weight_handle, weights_spad, k, n);
}

static inline void npusim_systolic_accumulate(npusim_ctx *ctx, int32_t tile_id, int32_t array,
                                              int64_t weight_handle, int64_t m, int64_t k,
                                              int64_t n, uint64_t reads_mask,
                                              uint64_t writes_mask) {
  ctx->cb->systolic_accumulate(ctx->sim, tile_id, array, weight_handle, m, k, n, reads_mask,
                               writes_mask);
}

/* Exported by trace.so. */
typedef int32_t (*npusim_trace_abi_version_fn)(void);
typedef int32_t (*npusim_trace_main_fn)(npusim_ctx *ctx, const int64_t *shape_args, int32_t n);

#ifdef __cplusplus
}
#endif

#endif /* NPUSIM_TRACE_ABI_H */
