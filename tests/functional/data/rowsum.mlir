module attributes {npusim.kernel_name = "npusim_rowsum_0", npusim.abi_version = 1 : i64} {
  // out[x] = sum_r in[x * s1 + r] over a [s0, s1] input: tiles of 4 rows x 64
  // columns, both tails clamped with affine.min; the row accumulators live in
  // scratchpad 1 across column tiles and in an iter_args value inside a tile.
  func.func @kernel(%in_ptr0: memref<?xf32>, %out_ptr0: memref<?xf32>, %s0: i64, %s1: i64) attributes {llvm.emit_c_interface} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %xtile = arith.constant 4 : index
    %rtile = arith.constant 64 : index
    %zero = arith.constant 0.0 : f32
    %xnumel = arith.index_cast %s0 : i64 to index
    %rnumel = arith.index_cast %s1 : i64 to index
    %sp0 = memref.alloca() {npusim.spad = 0 : i64} : memref<4x64xf32>
    %sp1 = memref.alloca() {npusim.spad = 1 : i64} : memref<4xf32>
    scf.for %xbase = %c0 to %xnumel step %xtile {
      %xlen = affine.min affine_map<(d0)[s0] -> (4, s0 - d0)>(%xbase)[%xnumel]
      scf.for %i = %c0 to %xlen step %c1 {
        memref.store %zero, %sp1[%i] : memref<4xf32>
      } {npusim.compute = {tile_id = 0 : i64, unit = "vector", reads = [], writes = [1]}}
      scf.for %rbase = %c0 to %rnumel step %rtile {
        %rlen = affine.min affine_map<(d0)[s0] -> (64, s0 - d0)>(%rbase)[%rnumel]
        %row0 = arith.muli %xbase, %rnumel : index
        %offset = arith.addi %row0, %rbase : index
        %src0 = memref.reinterpret_cast %in_ptr0 to offset: [%offset], sizes: [%xlen, %rlen], strides: [%rnumel, 1] : memref<?xf32> to memref<?x?xf32, strided<[?, 1], offset: ?>>
        %dst0 = memref.subview %sp0[0, 0] [%xlen, %rlen] [1, 1] : memref<4x64xf32> to memref<?x?xf32, strided<[64, 1]>>
        linalg.copy {npusim.dma = {dir = "load", arg = 0 : i64, spad = 0 : i64}} ins(%src0 : memref<?x?xf32, strided<[?, 1], offset: ?>>) outs(%dst0 : memref<?x?xf32, strided<[64, 1]>>)
        scf.for %i = %c0 to %xlen step %c1 {
          %acc0 = memref.load %sp1[%i] : memref<4xf32>
          %sum = scf.for %j = %c0 to %rlen step %c1 iter_args(%acc = %acc0) -> (f32) {
            %v = memref.load %sp0[%i, %j] : memref<4x64xf32>
            %next = arith.addf %acc, %v : f32
            scf.yield %next : f32
          }
          memref.store %sum, %sp1[%i] : memref<4xf32>
        } {npusim.compute = {tile_id = 1 : i64, unit = "vector", reads = [0, 1], writes = [1]}}
      } {npusim.tile_loop = {dim = "r", parallel = false}}
      %src1 = memref.subview %sp1[0] [%xlen] [1] : memref<4xf32> to memref<?xf32, strided<[1]>>
      %dst1 = memref.reinterpret_cast %out_ptr0 to offset: [%xbase], sizes: [%xlen], strides: [1] : memref<?xf32> to memref<?xf32, strided<[1], offset: ?>>
      linalg.copy {npusim.dma = {dir = "store", arg = 1 : i64, spad = 1 : i64}} ins(%src1 : memref<?xf32, strided<[1]>>) outs(%dst1 : memref<?xf32, strided<[1], offset: ?>>)
    } {npusim.tile_loop = {dim = "x", parallel = true}}
    return
  }
}
