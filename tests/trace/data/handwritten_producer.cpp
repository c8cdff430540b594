// Hand-written trace producers for the simulator's own tests: a faulty one
// (segfault / never returns / wrong ABI version, chosen by a #define the test
// prepends) and ones exercising the systolic-array events directly.
#include "npusim/trace_abi.h"

#define EXPORT extern "C" __attribute__((visibility("default")))

#ifdef PRODUCER_WRONG_VERSION
EXPORT int32_t npusim_trace_abi_version(void) { return 42; }
#else
EXPORT int32_t npusim_trace_abi_version(void) { return NPUSIM_TRACE_ABI_VERSION; }
#endif

EXPORT int32_t npusim_trace_main(npusim_ctx *ctx, const int64_t *shape_args, int32_t n) {
  if (n != 1) return NPUSIM_ERR_SHAPE_ARGS;
  int64_t tiles = shape_args[0];
  for (int64_t t = 0; t < tiles; ++t) {
    npusim_work_item_begin(ctx);
#if defined(PRODUCER_SEGFAULT)
    if (t == 2) {
      volatile int *nowhere = (int *)0;
      *nowhere = 1;
    }
#elif defined(PRODUCER_HANG)
    if (t == 2)
      for (volatile int64_t spin = 0;; spin = spin + 1) {
      }
#endif
#if defined(PRODUCER_SYSTOLIC_REUSED_HANDLE)
    // every tile preloads its weights under handle 0 on array 0: the accumulate must use the
    // latest preload of the handle (regression: it took the other slot's stale weights)
    // inputs (spad 1) and the accumulator's initial value (spad 2) are loaded: every
    // scratchpad read needs a write before it
    npusim_dma(ctx, NPUSIM_DMA_LOAD, 0, 0, 32, t * 16384, 16384, 1, 1, 0, 0, t);
    npusim_dma(ctx, NPUSIM_DMA_LOAD, 1, 1, 32, t * 512, 512, 1, 1, 0, 1, t);
    npusim_dma(ctx, NPUSIM_DMA_LOAD, 2, 2, 32, t * 512, 512, 1, 1, 0, 2, t);
    npusim_barrier(ctx, 0, t);
    npusim_barrier(ctx, 1, t);
    npusim_barrier(ctx, 2, t);
    npusim_systolic_preload(ctx, 0, 0, 0, 128, 128);
    npusim_systolic_accumulate(ctx, 0, 0, 0, 4, 128, 128, 0x2, 0x4);
#elif defined(PRODUCER_SYSTOLIC)
    // weights (spad 0) -> array, inputs (spad 1) streamed, outputs accumulate into spad 2
    // (loaded first: an accumulate adds to what its output holds)
    npusim_dma(ctx, NPUSIM_DMA_LOAD, 0, 0, 32, t * 16384, 16384, 1, 1, 0, 0, t);
    npusim_dma(ctx, NPUSIM_DMA_LOAD, 1, 1, 32, t * 16384, 16384, 1, 1, 0, 1, t);
    npusim_dma(ctx, NPUSIM_DMA_LOAD, 2, 2, 32, t * 16384, 16384, 1, 1, 0, 2, t);
    npusim_barrier(ctx, 0, t);
    npusim_barrier(ctx, 1, t);
    npusim_barrier(ctx, 2, t);
    npusim_systolic_preload(ctx, (int32_t)(t % 2), t, 0, 128, 128);
    npusim_systolic_accumulate(ctx, 0, (int32_t)(t % 2), t, 128, 128, 128, 0x2, 0x4);
    npusim_dma(ctx, NPUSIM_DMA_STORE, 2, 2, 32, t * 16384, 16384, 1, 1, 0, 66, 0);
#elif defined(PRODUCER_BAD_SPAD)
    npusim_dma(ctx, NPUSIM_DMA_LOAD, 0, 64, 32, t * 1024, 1024, 1, 1, 0, 0, t);
#elif defined(PRODUCER_UNMATCHED_BARRIER)
    npusim_barrier(ctx, 7, t);
#elif defined(PRODUCER_READ_UNWRITTEN)
    npusim_compute(ctx, 0, 1024, 0x1, 0x2);
#elif defined(PRODUCER_STORE_UNWRITTEN)
    npusim_dma(ctx, NPUSIM_DMA_STORE, 1, 1, 32, t * 1024, 1024, 1, 1, 0, 65, 0);
#elif defined(PRODUCER_STORE_TWICE)
    // the tiles' store offsets overlap by one element
    npusim_dma(ctx, NPUSIM_DMA_LOAD, 0, 0, 32, t * 1024, 1024, 1, 1, 0, 0, t);
    npusim_barrier(ctx, 0, t);
    npusim_compute(ctx, 0, 1024, 0x1, 0x2);
    npusim_dma(ctx, NPUSIM_DMA_STORE, 1, 1, 32, t * 1023, 1024, 1, 1, 0, 65, 0);
#elif defined(PRODUCER_STORE_ZERO_STRIDE)
    // a 1-D store whose stride is 0 (its two strides swapped): every element to one address
    npusim_dma(ctx, NPUSIM_DMA_LOAD, 0, 0, 32, t * 1024, 1024, 1, 1, 0, 0, t);
    npusim_barrier(ctx, 0, t);
    npusim_compute(ctx, 0, 1024, 0x1, 0x2);
    npusim_dma(ctx, NPUSIM_DMA_STORE, 1, 1, 32, t * 1024, 1024, 0, 1, 1, 65, 0);
#elif defined(PRODUCER_STORE_COLUMNS)
    // tile t stores column t of a 1024 x tiles matrix (strided): no element twice
    npusim_dma(ctx, NPUSIM_DMA_LOAD, 0, 0, 32, t * 1024, 1024, 1, 1, 0, 0, t);
    npusim_barrier(ctx, 0, t);
    npusim_compute(ctx, 0, 1024, 0x1, 0x2);
    npusim_dma(ctx, NPUSIM_DMA_STORE, 1, 1, 32, t, 1024, tiles, 1, 0, 65, 0);
#elif defined(PRODUCER_STORE_COLUMNS_TWICE)
    // tile t stores rows 0..1022 of column t of a 1023 x (tiles - 1) matrix; the last tile's column
    // wraps to column 0 one row down, so it writes element tiles - 1 (row 1, column 0) again
    npusim_dma(ctx, NPUSIM_DMA_LOAD, 0, 0, 32, t * 1024, 1024, 1, 1, 0, 0, t);
    npusim_barrier(ctx, 0, t);
    npusim_compute(ctx, 0, 1023, 0x1, 0x2);
    npusim_dma(ctx, NPUSIM_DMA_STORE, 1, 1, 32, t, 1023, tiles - 1, 1, 0, 65, 0);
#elif defined(PRODUCER_STORE_ROW_OVER_COLUMNS)
    // tile t stores column t of a 1024 x tiles matrix, but the last tile stores row 3 whole:
    // a contiguous run over the strided elements the other tiles stored (row 3 starts at 3 * tiles)
    npusim_dma(ctx, NPUSIM_DMA_LOAD, 0, 0, 32, t * 1024, 1024, 1, 1, 0, 0, t);
    npusim_barrier(ctx, 0, t);
    npusim_compute(ctx, 0, 1024, 0x1, 0x2);
    if (t < tiles - 1)
      npusim_dma(ctx, NPUSIM_DMA_STORE, 1, 1, 32, t, 1024, tiles, 1, 0, 65, 0);
    else
      npusim_dma(ctx, NPUSIM_DMA_STORE, 1, 1, 32, 3 * tiles, tiles, 1, 1, 0, 65, 0);
#elif defined(PRODUCER_STORE_ROW_TILES_TWICE)
    // a 64-column matrix stored in tiles of 4 rows x 16 columns, row tile t / 4, column chunk t % 4
    // (each row continues its run from the last store); the last store is one column too wide, so
    // its rows run into the next rows' first elements: row 0 writes element (4 * (t / 4) + 1) * 64
    npusim_dma(ctx, NPUSIM_DMA_LOAD, 0, 0, 32, t * 64, 64, 1, 1, 0, 0, t);
    npusim_barrier(ctx, 0, t);
    npusim_compute(ctx, 0, 64, 0x1, 0x2);
    npusim_dma(ctx, NPUSIM_DMA_STORE, 1, 1, 32, (t / 4) * 4 * 64 + (t % 4) * 16, t == tiles - 1 ? 17 : 16, 1, 4,
               64, 65, 0);
#elif defined(PRODUCER_NEVER_WAITS)
    npusim_dma(ctx, NPUSIM_DMA_LOAD, 0, 0, 32, t * 1024, 1024, 1, 1, 0, 0, t);
#elif defined(PRODUCER_NESTED_WORK_ITEM)
    npusim_work_item_begin(ctx);
#else
    npusim_dma(ctx, NPUSIM_DMA_LOAD, 0, 0, 32, t * 1024, 1024, 1, 1, 0, 0, t);
    npusim_barrier(ctx, 0, t);
    npusim_compute(ctx, 0, 1024, 0x1, 0x2);
    npusim_dma(ctx, NPUSIM_DMA_STORE, 1, 1, 32, t * 1024, 1024, 1, 1, 0, 65, 0);
#endif
    npusim_work_item_end(ctx);
  }
  return 0;
}
