module attributes {npusim.abi_version = 1 : i64, npusim.kernel_name = "fused_add_mul"} {
  func.func @kernel(%arg0: memref<3000xf32>, %arg1: memref<3000xf32>, %arg2: memref<3000xf32>) attributes {llvm.emit_c_interface} {
    %alloca = memref.alloca() {npusim.spad = 2 : i64} : memref<1000xf32>
    %alloca_0 = memref.alloca() {npusim.spad = 1 : i64} : memref<1000xf32>
    %alloca_1 = memref.alloca() {npusim.spad = 0 : i64} : memref<1000xf32>
    %cst = arith.constant 1.000000e+00 : f32
    %c3000_i64 = arith.constant 3000 : i64
    %0 = arith.index_cast %c3000_i64 : i64 to index
    %c0_i64 = arith.constant 0 : i64
    %c1000 = arith.constant 1000 : index
    %c0 = arith.constant 0 : index
    scf.for %arg3 = %c0 to %0 step %c1000 {
      %1 = arith.index_cast %arg3 : index to i64
      %c1_i64 = arith.constant 1 : i64
      %2 = arith.muli %c1_i64, %1 : i64
      %3 = arith.addi %c0_i64, %2 : i64
      %4 = arith.index_cast %3 : i64 to index
      %reinterpret_cast = memref.reinterpret_cast %arg0 to offset: [%4], sizes: [1000], strides: [1] : memref<3000xf32> to memref<1000xf32, strided<[1], offset: ?>>
      %subview = memref.subview %alloca_1[0] [1000] [1] : memref<1000xf32> to memref<1000xf32, strided<[1]>>
      linalg.copy {cast = #linalg.type_fn<cast_signed>, npusim.dma = {arg = 0 : i64, dir = "load", spad = 0 : i64}} ins(%reinterpret_cast : memref<1000xf32, strided<[1], offset: ?>>) outs(%subview : memref<1000xf32, strided<[1]>>)
      %reinterpret_cast_2 = memref.reinterpret_cast %arg1 to offset: [%4], sizes: [1000], strides: [1] : memref<3000xf32> to memref<1000xf32, strided<[1], offset: ?>>
      %subview_3 = memref.subview %alloca_0[0] [1000] [1] : memref<1000xf32> to memref<1000xf32, strided<[1]>>
      linalg.copy {cast = #linalg.type_fn<cast_signed>, npusim.dma = {arg = 1 : i64, dir = "load", spad = 1 : i64}} ins(%reinterpret_cast_2 : memref<1000xf32, strided<[1], offset: ?>>) outs(%subview_3 : memref<1000xf32, strided<[1]>>)
      %c1 = arith.constant 1 : index
      scf.for %arg4 = %c0 to %c1000 step %c1 {
        %5 = arith.index_cast %arg4 : index to i64
        %6 = memref.load %alloca_1[%arg4] : memref<1000xf32>
        %7 = memref.load %alloca_0[%arg4] : memref<1000xf32>
        %8 = arith.mulf %6, %7 : f32
        %9 = arith.addf %8, %cst : f32
        memref.store %9, %alloca[%arg4] : memref<1000xf32>
      } {npusim.compute = {reads = [0, 1], tile_id = 0 : i64, unit = "vector", writes = [2]}}
      %reinterpret_cast_4 = memref.reinterpret_cast %arg2 to offset: [%4], sizes: [1000], strides: [1] : memref<3000xf32> to memref<1000xf32, strided<[1], offset: ?>>
      %subview_5 = memref.subview %alloca[0] [1000] [1] : memref<1000xf32> to memref<1000xf32, strided<[1]>>
      linalg.copy {cast = #linalg.type_fn<cast_signed>, npusim.dma = {arg = 2 : i64, dir = "store", spad = 2 : i64}} ins(%subview_5 : memref<1000xf32, strided<[1]>>) outs(%reinterpret_cast_4 : memref<1000xf32, strided<[1], offset: ?>>)
    } {npusim.tile_loop = {dim = "x", parallel = true}}
    return
  }
}
