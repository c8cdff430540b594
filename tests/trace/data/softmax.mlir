module attributes {npusim.kernel_name = "npusim_softmax_0", npusim.abi_version = 1 : i64} {
  func.func @kernel(%in_ptr0: memref<?xf32>, %out_ptr0: memref<?xf32>, %s0: i64, %s1: i64) attributes {llvm.emit_c_interface} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %xtile = arith.constant 8 : index
    %rtile = arith.constant 128 : index
    %zero = arith.constant 0.0 : f32
    %ninf = arith.constant 0xFF800000 : f32
    %xnumel = arith.index_cast %s0 : i64 to index
    %rnumel = arith.index_cast %s1 : i64 to index
    %sp0 = memref.alloca() {npusim.spad = 0 : i64} : memref<8x128xf32>
    %sp1 = memref.alloca() {npusim.spad = 1 : i64} : memref<8xf32>
    %sp2 = memref.alloca() {npusim.spad = 2 : i64} : memref<8xf32>
    %sp3 = memref.alloca() {npusim.spad = 3 : i64} : memref<8x128xf32>
    scf.for %xbase = %c0 to %xnumel step %xtile {
      %xlen = affine.min affine_map<(d0)[s0] -> (8, s0 - d0)>(%xbase)[%xnumel]
      scf.for %i = %c0 to %xlen step %c1 {
        memref.store %ninf, %sp1[%i] : memref<8xf32>
        memref.store %zero, %sp2[%i] : memref<8xf32>
      } {npusim.compute = {tile_id = 0 : i64, unit = "vector", reads = [], writes = [1, 2]}}
      scf.for %rbase = %c0 to %rnumel step %rtile {
        %rlen = affine.min affine_map<(d0)[s0] -> (128, s0 - d0)>(%rbase)[%rnumel]
        %off = affine.apply affine_map<(d0, d1)[s0] -> (d0 * s0 + d1)>(%xbase, %rbase)[%rnumel]
        %src = memref.reinterpret_cast %in_ptr0 to offset: [%off], sizes: [%xlen, %rlen], strides: [%rnumel, 1] : memref<?xf32> to memref<?x?xf32, strided<[?, 1], offset: ?>>
        %dst = memref.subview %sp0[0, 0] [%xlen, %rlen] [1, 1] : memref<8x128xf32> to memref<?x?xf32, strided<[128, 1]>>
        linalg.copy {npusim.dma = {dir = "load", arg = 0 : i64, spad = 0 : i64}} ins(%src : memref<?x?xf32, strided<[?, 1], offset: ?>>) outs(%dst : memref<?x?xf32, strided<[128, 1]>>)
        scf.for %i = %c0 to %xlen step %c1 {
          %m0 = memref.load %sp1[%i] : memref<8xf32>
          %m = scf.for %j = %c0 to %rlen step %c1 iter_args(%acc = %m0) -> (f32) {
            %v = memref.load %sp0[%i, %j] : memref<8x128xf32>
            %n = arith.maximumf %acc, %v : f32
            scf.yield %n : f32
          }
          memref.store %m, %sp1[%i] : memref<8xf32>
        } {npusim.compute = {tile_id = 1 : i64, unit = "vector", reads = [0, 1], writes = [1]}}
      } {npusim.tile_loop = {dim = "r", parallel = false}}
      scf.for %rbase = %c0 to %rnumel step %rtile {
        %rlen = affine.min affine_map<(d0)[s0] -> (128, s0 - d0)>(%rbase)[%rnumel]
        %off = affine.apply affine_map<(d0, d1)[s0] -> (d0 * s0 + d1)>(%xbase, %rbase)[%rnumel]
        %src = memref.reinterpret_cast %in_ptr0 to offset: [%off], sizes: [%xlen, %rlen], strides: [%rnumel, 1] : memref<?xf32> to memref<?x?xf32, strided<[?, 1], offset: ?>>
        %dst = memref.subview %sp0[0, 0] [%xlen, %rlen] [1, 1] : memref<8x128xf32> to memref<?x?xf32, strided<[128, 1]>>
        linalg.copy {npusim.dma = {dir = "load", arg = 0 : i64, spad = 0 : i64}} ins(%src : memref<?x?xf32, strided<[?, 1], offset: ?>>) outs(%dst : memref<?x?xf32, strided<[128, 1]>>)
        scf.for %i = %c0 to %xlen step %c1 {
          %m = memref.load %sp1[%i] : memref<8xf32>
          %s0v = memref.load %sp2[%i] : memref<8xf32>
          %s = scf.for %j = %c0 to %rlen step %c1 iter_args(%acc = %s0v) -> (f32) {
            %v = memref.load %sp0[%i, %j] : memref<8x128xf32>
            %d = arith.subf %v, %m : f32
            %e = math.exp %d : f32
            %n = arith.addf %acc, %e : f32
            scf.yield %n : f32
          }
          memref.store %s, %sp2[%i] : memref<8xf32>
        } {npusim.compute = {tile_id = 2 : i64, unit = "vector", reads = [0, 1, 2], writes = [2]}}
      } {npusim.tile_loop = {dim = "r", parallel = false}}
      scf.for %rbase = %c0 to %rnumel step %rtile {
        %rlen = affine.min affine_map<(d0)[s0] -> (128, s0 - d0)>(%rbase)[%rnumel]
        %off = affine.apply affine_map<(d0, d1)[s0] -> (d0 * s0 + d1)>(%xbase, %rbase)[%rnumel]
        %src = memref.reinterpret_cast %in_ptr0 to offset: [%off], sizes: [%xlen, %rlen], strides: [%rnumel, 1] : memref<?xf32> to memref<?x?xf32, strided<[?, 1], offset: ?>>
        %dst = memref.subview %sp0[0, 0] [%xlen, %rlen] [1, 1] : memref<8x128xf32> to memref<?x?xf32, strided<[128, 1]>>
        linalg.copy {npusim.dma = {dir = "load", arg = 0 : i64, spad = 0 : i64}} ins(%src : memref<?x?xf32, strided<[?, 1], offset: ?>>) outs(%dst : memref<?x?xf32, strided<[128, 1]>>)
        scf.for %i = %c0 to %xlen step %c1 {
          %m = memref.load %sp1[%i] : memref<8xf32>
          %s = memref.load %sp2[%i] : memref<8xf32>
          scf.for %j = %c0 to %rlen step %c1 {
            %v = memref.load %sp0[%i, %j] : memref<8x128xf32>
            %d = arith.subf %v, %m : f32
            %e = math.exp %d : f32
            %q = arith.divf %e, %s : f32
            memref.store %q, %sp3[%i, %j] : memref<8x128xf32>
          }
        } {npusim.compute = {tile_id = 3 : i64, unit = "vector", reads = [0, 1, 2], writes = [3]}}
        %osrc = memref.subview %sp3[0, 0] [%xlen, %rlen] [1, 1] : memref<8x128xf32> to memref<?x?xf32, strided<[128, 1]>>
        %odst = memref.reinterpret_cast %out_ptr0 to offset: [%off], sizes: [%xlen, %rlen], strides: [%rnumel, 1] : memref<?xf32> to memref<?x?xf32, strided<[?, 1], offset: ?>>
        linalg.copy {npusim.dma = {dir = "store", arg = 1 : i64, spad = 3 : i64}} ins(%osrc : memref<?x?xf32, strided<[128, 1]>>) outs(%odst : memref<?x?xf32, strided<[?, 1], offset: ?>>)
      } {npusim.tile_loop = {dim = "r", parallel = false}}
    } {npusim.tile_loop = {dim = "x", parallel = true}}
    return
  }
}
