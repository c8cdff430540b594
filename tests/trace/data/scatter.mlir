module attributes {npusim.kernel_name = "npusim_scatter_add_0", npusim.abi_version = 1 : i64} {
  func.func @kernel(%in_ptr0: memref<?xf32>, %in_ptr1: memref<?xf32>, %out_ptr0: memref<?xf32>, %s0: i64, %ks0: i64) attributes {llvm.emit_c_interface} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %tile = arith.constant 1024 : index
    %xnumel = arith.index_cast %s0 : i64 to index
    %sp0 = memref.alloca() {npusim.spad = 0 : i64} : memref<1024xf32>
    %sp1 = memref.alloca() {npusim.spad = 1 : i64} : memref<1024xf32>
    %sp2 = memref.alloca() {npusim.spad = 2 : i64} : memref<1024xf32>
    scf.for %xbase = %c0 to %xnumel step %tile {
      %len = affine.min affine_map<(d0)[s0] -> (1024, s0 - d0)>(%xbase)[%xnumel]
      %src0 = memref.reinterpret_cast %in_ptr0 to offset: [%xbase], sizes: [%len], strides: [1] : memref<?xf32> to memref<?xf32, strided<[1], offset: ?>>
      %dst0 = memref.subview %sp0[0] [%len] [1] : memref<1024xf32> to memref<?xf32, strided<[1]>>
      linalg.copy {npusim.dma = {dir = "load", arg = 0 : i64, spad = 0 : i64}} ins(%src0 : memref<?xf32, strided<[1], offset: ?>>) outs(%dst0 : memref<?xf32, strided<[1]>>)
      %src1 = memref.reinterpret_cast %in_ptr1 to offset: [%xbase], sizes: [%len], strides: [1] : memref<?xf32> to memref<?xf32, strided<[1], offset: ?>>
      %dst1 = memref.subview %sp1[0] [%len] [1] : memref<1024xf32> to memref<?xf32, strided<[1]>>
      linalg.copy {npusim.dma = {dir = "load", arg = 1 : i64, spad = 1 : i64}} ins(%src1 : memref<?xf32, strided<[1], offset: ?>>) outs(%dst1 : memref<?xf32, strided<[1]>>)
      scf.for %i = %c0 to %len step %c1 {
        %a = memref.load %sp0[%i] : memref<1024xf32>
        %b = memref.load %sp1[%i] : memref<1024xf32>
        %r = arith.addf %a, %b : f32
        memref.store %r, %sp2[%i] : memref<1024xf32>
      } {npusim.compute = {tile_id = 0 : i64, unit = "vector", reads = [0, 1], writes = [2]}}
      %rows = arith.divsi %s0, %ks0 : i64
      scf.for %i = %c0 to %len step %c1 {
        %x = arith.addi %xbase, %i : index
        %x64 = arith.index_cast %x : index to i64
        %col = arith.remsi %x64, %ks0 : i64
        %row = arith.divsi %x64, %ks0 : i64
        %t0 = arith.muli %col, %rows : i64
        %t64 = arith.addi %t0, %row : i64
        %t = arith.index_cast %t64 : i64 to index
        %v = memref.load %sp2[%i] : memref<1024xf32>
        memref.store %v, %out_ptr0[%t] : memref<?xf32>
      } {npusim.dma = {dir = "store", arg = 2 : i64, spad = 2 : i64, mode = "scatter"}}
    } {npusim.tile_loop = {dim = "x", parallel = true}}
    return
  }
}
