module attributes {npusim.abi_version = 1 : i64, npusim.arg_dtypes = ["float32", "float32"], npusim.config = "tpuv3-1core", npusim.kernel_name = "fused_neg"} {
  func.func @kernel(%arg0: memref<?xf32>, %arg1: memref<?xf32>, %arg2: i64) attributes {llvm.emit_c_interface} {
    %alloca = memref.alloca() {npusim.spad = 1 : i64} : memref<8192xf32>
    %alloca_0 = memref.alloca() {npusim.spad = 0 : i64} : memref<8192xf32>
    %0 = arith.index_cast %arg2 : i64 to index
    %c0_i64 = arith.constant 0 : i64
    %c8192 = arith.constant 8192 : index
    %c0 = arith.constant 0 : index
    scf.for %arg3 = %c0 to %0 step %c8192 {
      %1 = arith.index_cast %arg3 : index to i64
      %2 = arith.subi %0, %arg3 : index
      %3 = arith.minsi %c8192, %2 : index
      %c1_i64 = arith.constant 1 : i64
      %4 = arith.muli %c1_i64, %1 : i64
      %5 = arith.addi %c0_i64, %4 : i64
      %6 = arith.index_cast %5 : i64 to index
      %reinterpret_cast = memref.reinterpret_cast %arg0 to offset: [%6], sizes: [%3], strides: [1] : memref<?xf32> to memref<?xf32, strided<[1], offset: ?>>
      %subview = memref.subview %alloca_0[0] [%3] [1] : memref<8192xf32> to memref<?xf32, strided<[1]>>
      linalg.copy {cast = #linalg.type_fn<cast_signed>, npusim.dma = {arg = 0 : i64, dir = "load", spad = 0 : i64}} ins(%reinterpret_cast : memref<?xf32, strided<[1], offset: ?>>) outs(%subview : memref<?xf32, strided<[1]>>)
      %c1 = arith.constant 1 : index
      scf.for %arg4 = %c0 to %3 step %c1 {
        %7 = arith.index_cast %arg4 : index to i64
        %8 = memref.load %alloca_0[%arg4] : memref<8192xf32>
        %9 = arith.negf %8 : f32
        memref.store %9, %alloca[%arg4] : memref<8192xf32>
      } {npusim.compute = {reads = [0], tile_id = 0 : i64, unit = "vector", writes = [1]}}
      %reinterpret_cast_1 = memref.reinterpret_cast %arg1 to offset: [%6], sizes: [%3], strides: [1] : memref<?xf32> to memref<?xf32, strided<[1], offset: ?>>
      %subview_2 = memref.subview %alloca[0] [%3] [1] : memref<8192xf32> to memref<?xf32, strided<[1]>>
      linalg.copy {cast = #linalg.type_fn<cast_signed>, npusim.dma = {arg = 1 : i64, dir = "store", spad = 1 : i64}} ins(%subview_2 : memref<?xf32, strided<[1]>>) outs(%reinterpret_cast_1 : memref<?xf32, strided<[1], offset: ?>>)
    } {npusim.tile_loop = {dim = "x", parallel = true}}
    return
  }
}
