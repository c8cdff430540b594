module attributes {npusim.kernel_name = "npusim_rowsum_0", npusim.abi_version = 1 : i64} {
  func.func @kernel(%in_ptr0: memref<?xf32>, %out_ptr0: memref<?xf32>, %s0: i64, %s1: i64) attributes {llvm.emit_c_interface} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %xtile = arith.constant 8 : index
    %rtile = arith.constant 128 : index
    %zero = arith.constant 0.0 : f32
    %xnumel = arith.index_cast %s0 : i64 to index
    %rnumel = arith.index_cast %s1 : i64 to index
    %sp0 = memref.alloca() {npusim.spad = 0 : i64} : memref<8x128xf32>
    %sp1 = memref.alloca() {npusim.spad = 1 : i64} : memref<8xf32>
    scf.for %xbase = %c0 to %xnumel step %xtile {
      %xlen = affine.min affine_map<(d0)[s0] -> (8, s0 - d0)>(%xbase)[%xnumel]
      scf.for %i = %c0 to %xlen step %c1 {
        memref.store %zero, %sp1[%i] : memref<8xf32>
      } {npusim.compute = {tile_id = 0 : i64, unit = "vector", reads = [], writes = [1]}}
      scf.for %rbase = %c0 to %rnumel step %rtile {
        %rlen = affine.min affine_map<(d0)[s0] -> (128, s0 - d0)>(%rbase)[%rnumel]
        %off = affine.apply affine_map<(d0, d1)[s0] -> (d0 * s0 + d1)>(%xbase, %rbase)[%rnumel]
        %src = memref.reinterpret_cast %in_ptr0 to offset: [%off], sizes: [%xlen, %rlen], strides: [%rnumel, 1] : memref<?xf32> to memref<?x?xf32, strided<[?, 1], offset: ?>>
        %dst = memref.subview %sp0[0, 0] [%xlen, %rlen] [1, 1] : memref<8x128xf32> to memref<?x?xf32, strided<[128, 1]>>
        linalg.copy {npusim.dma = {dir = "load", arg = 0 : i64, spad = 0 : i64}} ins(%src : memref<?x?xf32, strided<[?, 1], offset: ?>>) outs(%dst : memref<?x?xf32, strided<[128, 1]>>)
        scf.for %i = %c0 to %xlen step %c1 {
          %init = memref.load %sp1[%i] : memref<8xf32>
          %sum = scf.for %j = %c0 to %rlen step %c1 iter_args(%acc = %init) -> (f32) {
            %v = memref.load %sp0[%i, %j] : memref<8x128xf32>
            %a = arith.addf %acc, %v : f32
            scf.yield %a : f32
          }
          memref.store %sum, %sp1[%i] : memref<8xf32>
        } {npusim.compute = {tile_id = 1 : i64, unit = "vector", reads = [0, 1], writes = [1]}}
      } {npusim.tile_loop = {dim = "r", parallel = false}}
      %osrc = memref.subview %sp1[0] [%xlen] [1] : memref<8xf32> to memref<?xf32, strided<[1]>>
      %odst = memref.reinterpret_cast %out_ptr0 to offset: [%xbase], sizes: [%xlen], strides: [1] : memref<?xf32> to memref<?xf32, strided<[1], offset: ?>>
      linalg.copy {npusim.dma = {dir = "store", arg = 1 : i64, spad = 1 : i64}} ins(%osrc : memref<?xf32, strided<[1]>>) outs(%odst : memref<?xf32, strided<[1], offset: ?>>)
    } {npusim.tile_loop = {dim = "x", parallel = true}}
    return
  }
}
