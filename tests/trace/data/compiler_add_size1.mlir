module attributes {npusim.abi_version = 1 : i64, npusim.arg_dtypes = ["float32", "float32", "float32"], npusim.config = "tpuv3-1core", npusim.kernel_name = "fused_add"} {
  func.func @kernel(%arg0: memref<1xf32>, %arg1: memref<1xf32>, %arg2: memref<1xf32>) attributes {llvm.emit_c_interface} {
    %alloca = memref.alloca() {npusim.spad = 2 : i64} : memref<8xf32>
    %alloca_0 = memref.alloca() {npusim.spad = 1 : i64} : memref<1xf32>
    %alloca_1 = memref.alloca() {npusim.spad = 0 : i64} : memref<1xf32>
    %c0_i64 = arith.constant 0 : i64
    %0 = arith.index_cast %c0_i64 : i64 to index
    %reinterpret_cast = memref.reinterpret_cast %arg0 to offset: [%0], sizes: [1], strides: [1] : memref<1xf32> to memref<1xf32, strided<[1], offset: ?>>
    %subview = memref.subview %alloca_1[0] [1] [1] : memref<1xf32> to memref<1xf32, strided<[1]>>
    linalg.copy {cast = #linalg.type_fn<cast_signed>, npusim.dma = {arg = 0 : i64, dir = "load", spad = 0 : i64}} ins(%reinterpret_cast : memref<1xf32, strided<[1], offset: ?>>) outs(%subview : memref<1xf32, strided<[1]>>)
    %c0 = arith.constant 0 : index
    %1 = memref.load %alloca_1[%c0] : memref<1xf32>
    %reinterpret_cast_2 = memref.reinterpret_cast %arg1 to offset: [%0], sizes: [1], strides: [1] : memref<1xf32> to memref<1xf32, strided<[1], offset: ?>>
    %subview_3 = memref.subview %alloca_0[0] [1] [1] : memref<1xf32> to memref<1xf32, strided<[1]>>
    linalg.copy {cast = #linalg.type_fn<cast_signed>, npusim.dma = {arg = 1 : i64, dir = "load", spad = 1 : i64}} ins(%reinterpret_cast_2 : memref<1xf32, strided<[1], offset: ?>>) outs(%subview_3 : memref<1xf32, strided<[1]>>)
    %2 = memref.load %alloca_0[%c0] : memref<1xf32>
    %3 = arith.addf %1, %2 : f32
    %c1_i64 = arith.constant 1 : i64
    %4 = arith.index_cast %c1_i64 : i64 to index
    %c8 = arith.constant 8 : index
    scf.for %arg3 = %c0 to %4 step %c8 {
      %5 = arith.index_cast %arg3 : index to i64
      %6 = arith.subi %4, %arg3 : index
      %7 = arith.minsi %c8, %6 : index
      %c1 = arith.constant 1 : index
      scf.for %arg4 = %c0 to %7 step %c1 {
        %11 = arith.index_cast %arg4 : index to i64
        memref.store %3, %alloca[%arg4] : memref<8xf32>
      } {npusim.compute = {reads = [], tile_id = 0 : i64, unit = "vector", writes = [2]}}
      %8 = arith.muli %c0_i64, %5 : i64
      %9 = arith.addi %c0_i64, %8 : i64
      %10 = arith.index_cast %9 : i64 to index
      %reinterpret_cast_4 = memref.reinterpret_cast %arg2 to offset: [%10], sizes: [%7], strides: [0] : memref<1xf32> to memref<?xf32, strided<[0], offset: ?>>
      %subview_5 = memref.subview %alloca[0] [%7] [1] : memref<8xf32> to memref<?xf32, strided<[1]>>
      linalg.copy {cast = #linalg.type_fn<cast_signed>, npusim.dma = {arg = 2 : i64, dir = "store", spad = 2 : i64}} ins(%subview_5 : memref<?xf32, strided<[1]>>) outs(%reinterpret_cast_4 : memref<?xf32, strided<[0], offset: ?>>)
    } {npusim.tile_loop = {dim = "x", parallel = true}}
    return
  }
}
