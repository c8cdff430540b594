module attributes {npusim.abi_version = 1 : i64, npusim.kernel_name = "fused__softmax"} {
  func.func @kernel(%arg0: memref<?xf32>, %arg1: memref<?xf32>, %arg2: i64, %arg3: i64) attributes {llvm.emit_c_interface} {
    %alloca = memref.alloca() {npusim.spad = 3 : i64} : memref<1024xf32>
    %alloca_0 = memref.alloca() {npusim.spad = 2 : i64} : memref<1024xf32>
    %alloca_1 = memref.alloca() {npusim.spad = 1 : i64} : memref<1024xf32>
    %alloca_2 = memref.alloca() {npusim.spad = 0 : i64} : memref<1024xf32>
    %c0 = arith.constant 0 : index
    %0 = arith.index_cast %arg3 : i64 to index
    %c1 = arith.constant 1 : index
    scf.for %arg4 = %c0 to %0 step %c1 {
      %1 = arith.index_cast %arg4 : index to i64
      %2 = arith.index_cast %arg2 : i64 to index
      %3 = arith.muli %arg2, %1 : i64
      %cst = arith.constant 0xFF800000 : f32
      %c1024 = arith.constant 1024 : index
      %4 = scf.for %arg5 = %c0 to %2 step %c1024 iter_args(%arg6 = %cst) -> (f32) {
        %6 = arith.index_cast %arg5 : index to i64
        %7 = arith.subi %2, %arg5 : index
        %8 = arith.minsi %c1024, %7 : index
        %c1_i64 = arith.constant 1 : i64
        %9 = arith.muli %c1_i64, %6 : i64
        %10 = arith.addi %3, %9 : i64
        %11 = arith.index_cast %10 : i64 to index
        %reinterpret_cast = memref.reinterpret_cast %arg0 to offset: [%11], sizes: [%8], strides: [1] : memref<?xf32> to memref<?xf32, strided<[1], offset: ?>>
        %subview = memref.subview %alloca_2[0] [%8] [1] : memref<1024xf32> to memref<?xf32, strided<[1]>>
        linalg.copy {cast = #linalg.type_fn<cast_signed>, npusim.dma = {arg = 0 : i64, dir = "load", spad = 0 : i64}} ins(%reinterpret_cast : memref<?xf32, strided<[1], offset: ?>>) outs(%subview : memref<?xf32, strided<[1]>>)
        %12 = scf.for %arg7 = %c0 to %8 step %c1 iter_args(%arg8 = %arg6) -> (f32) {
          %13 = arith.index_cast %arg7 : index to i64
          %14 = memref.load %alloca_2[%arg7] : memref<1024xf32>
          %15 = arith.maximumf %arg8, %14 : f32
          scf.yield %15 : f32
        } {npusim.compute = {reads = [0], tile_id = 0 : i64, unit = "vector", writes = []}}
        scf.yield %12 : f32
      } {npusim.tile_loop = {dim = "r", parallel = false}}
      %cst_3 = arith.constant 0.000000e+00 : f32
      %5 = scf.for %arg5 = %c0 to %2 step %c1024 iter_args(%arg6 = %cst_3) -> (f32) {
        %6 = arith.index_cast %arg5 : index to i64
        %7 = arith.subi %2, %arg5 : index
        %8 = arith.minsi %c1024, %7 : index
        %c1_i64 = arith.constant 1 : i64
        %9 = arith.muli %c1_i64, %6 : i64
        %10 = arith.addi %3, %9 : i64
        %11 = arith.index_cast %10 : i64 to index
        %reinterpret_cast = memref.reinterpret_cast %arg0 to offset: [%11], sizes: [%8], strides: [1] : memref<?xf32> to memref<?xf32, strided<[1], offset: ?>>
        %subview = memref.subview %alloca_1[0] [%8] [1] : memref<1024xf32> to memref<?xf32, strided<[1]>>
        linalg.copy {cast = #linalg.type_fn<cast_signed>, npusim.dma = {arg = 0 : i64, dir = "load", spad = 1 : i64}} ins(%reinterpret_cast : memref<?xf32, strided<[1], offset: ?>>) outs(%subview : memref<?xf32, strided<[1]>>)
        %12 = scf.for %arg7 = %c0 to %8 step %c1 iter_args(%arg8 = %arg6) -> (f32) {
          %13 = arith.index_cast %arg7 : index to i64
          %14 = memref.load %alloca_1[%arg7] : memref<1024xf32>
          %15 = arith.subf %14, %4 : f32
          %16 = math.exp %15 : f32
          %17 = arith.addf %arg8, %16 : f32
          scf.yield %17 : f32
        } {npusim.compute = {reads = [1], tile_id = 1 : i64, unit = "vector", writes = []}}
        scf.yield %12 : f32
      } {npusim.tile_loop = {dim = "r", parallel = false}}
      scf.for %arg5 = %c0 to %2 step %c1024 {
        %6 = arith.index_cast %arg5 : index to i64
        %7 = arith.subi %2, %arg5 : index
        %8 = arith.minsi %c1024, %7 : index
        %c1_i64 = arith.constant 1 : i64
        %9 = arith.muli %c1_i64, %6 : i64
        %10 = arith.addi %3, %9 : i64
        %11 = arith.index_cast %10 : i64 to index
        %reinterpret_cast = memref.reinterpret_cast %arg0 to offset: [%11], sizes: [%8], strides: [1] : memref<?xf32> to memref<?xf32, strided<[1], offset: ?>>
        %subview = memref.subview %alloca_0[0] [%8] [1] : memref<1024xf32> to memref<?xf32, strided<[1]>>
        linalg.copy {cast = #linalg.type_fn<cast_signed>, npusim.dma = {arg = 0 : i64, dir = "load", spad = 2 : i64}} ins(%reinterpret_cast : memref<?xf32, strided<[1], offset: ?>>) outs(%subview : memref<?xf32, strided<[1]>>)
        scf.for %arg6 = %c0 to %8 step %c1 {
          %12 = arith.index_cast %arg6 : index to i64
          %13 = memref.load %alloca_0[%arg6] : memref<1024xf32>
          %14 = arith.subf %13, %4 : f32
          %15 = math.exp %14 : f32
          %16 = arith.divf %15, %5 : f32
          memref.store %16, %alloca[%arg6] : memref<1024xf32>
        } {npusim.compute = {reads = [2], tile_id = 2 : i64, unit = "vector", writes = [3]}}
        %reinterpret_cast_4 = memref.reinterpret_cast %arg1 to offset: [%11], sizes: [%8], strides: [1] : memref<?xf32> to memref<?xf32, strided<[1], offset: ?>>
        %subview_5 = memref.subview %alloca[0] [%8] [1] : memref<1024xf32> to memref<?xf32, strided<[1]>>
        linalg.copy {cast = #linalg.type_fn<cast_signed>, npusim.dma = {arg = 1 : i64, dir = "store", spad = 3 : i64}} ins(%subview_5 : memref<?xf32, strided<[1]>>) outs(%reinterpret_cast_4 : memref<?xf32, strided<[1], offset: ?>>)
      } {npusim.tile_loop = {dim = "r", parallel = false}}
    } {npusim.tile_loop = {dim = "x", parallel = true}}
    return
  }
}
