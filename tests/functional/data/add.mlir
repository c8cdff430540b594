module attributes {npusim.kernel_name = "npusim_add_0", npusim.abi_version = 1 : i64} {
  func.func @kernel(%in_ptr0: memref<?xf32>, %in_ptr1: memref<?xf32>, %out_ptr0: memref<?xf32>, %s0: i64) attributes {llvm.emit_c_interface} {
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
      } {npusim.compute = {tile_id = 0 : i64}}
      %src2 = memref.subview %sp2[0] [%len] [1] : memref<1024xf32> to memref<?xf32, strided<[1]>>
      %dst2 = memref.reinterpret_cast %out_ptr0 to offset: [%xbase], sizes: [%len], strides: [1] : memref<?xf32> to memref<?xf32, strided<[1], offset: ?>>
      linalg.copy {npusim.dma = {dir = "store", arg = 2 : i64, spad = 2 : i64}} ins(%src2 : memref<?xf32, strided<[1]>>) outs(%dst2 : memref<?xf32, strided<[1], offset: ?>>)
    } {npusim.tile_loop = {dim = "x", parallel = true}}
    return
  }
}
