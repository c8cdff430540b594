module attributes {npusim.abi_version = 6 : i64, npusim.arg_dtypes = ["float32", "float32"], npusim.config = "tpuv3-2core", npusim.kernel_name = "fused_renorm"} {
  func.func @kernel(%arg0: memref<?xf32>, %arg1: memref<?xf32>, %arg2: i64) attributes {llvm.emit_c_interface} {
    %alloca = memref.alloca() {npusim.spad = 3 : i64} : memref<8192xf32>
    %alloca_0 = memref.alloca() {npusim.spad = 2 : i64} : memref<8192xf32>
    %alloca_1 = memref.alloca() {npusim.spad = 1 : i64} : memref<8192xf32>
    %alloca_2 = memref.alloca() {npusim.spad = 0 : i64} : memref<8192xf32>
    %c8192 = arith.constant 8192 : index
    %0 = arith.index_cast %arg2 : i64 to index
    %c0 = arith.constant 0 : index
    scf.for %arg3 = %c0 to %0 step %c8192 {
      %1 = arith.index_cast %arg3 : index to i64
      %2 = arith.subi %0, %arg3 : index
      %3 = arith.minsi %c8192, %2 : index
      %c1 = arith.constant 1 : index
      scf.for %arg4 = %c0 to %3 step %c1 {
        %cst = arith.constant 0.000000e+00 : f32
        memref.store %cst, %alloca_2[%arg4] : memref<8192xf32>
      } {npusim.compute = {reads = [], tile_id = 0 : i64, unit = "vector", writes = [0]}}
      scf.for %arg4 = %c0 to %3 step %c1 {
        %cst = arith.constant 0.000000e+00 : f32
        memref.store %cst, %alloca_1[%arg4] : memref<8192xf32>
      } {npusim.compute = {reads = [], tile_id = 1 : i64, unit = "vector", writes = [1]}}
      %c25_i64 = arith.constant 25 : i64
      %4 = arith.index_cast %c25_i64 : i64 to index
      %c64 = arith.constant 64 : index
      scf.for %arg4 = %c0 to %4 step %c64 {
        %8 = arith.subi %4, %arg4 : index
        %9 = arith.minsi %c64, %8 : index
        scf.for %arg5 = %c0 to %9 step %c1 {
          %10 = arith.addi %arg4, %arg5 : index
          %11 = arith.index_cast %10 : index to i64
          %12 = arith.muli %arg2, %11 : i64
          %c1_i64_3 = arith.constant 1 : i64
          %13 = arith.muli %c1_i64_3, %1 : i64
          %14 = arith.addi %12, %13 : i64
          %15 = arith.index_cast %14 : i64 to index
          %reinterpret_cast_4 = memref.reinterpret_cast %arg0 to offset: [%15], sizes: [%3], strides: [1] : memref<?xf32> to memref<?xf32, strided<[1], offset: ?>>
          %subview_5 = memref.subview %alloca_0[0] [%3] [1] : memref<8192xf32> to memref<?xf32, strided<[1]>>
          linalg.copy {cast = #linalg.type_fn<cast_signed>, npusim.dma = {arg = 0 : i64, dir = "load", spad = 2 : i64}} ins(%reinterpret_cast_4 : memref<?xf32, strided<[1], offset: ?>>) outs(%subview_5 : memref<?xf32, strided<[1]>>)
          scf.for %arg6 = %c0 to %3 step %c1 {
            %16 = arith.index_cast %arg6 : index to i64
            %17 = memref.load %alloca_0[%arg6] : memref<8192xf32>
            %18 = arith.mulf %17, %17 : f32
            %19 = memref.load %alloca_1[%arg6] : memref<8192xf32>
            %20 = arith.addf %19, %18 : f32
            memref.store %20, %alloca_1[%arg6] : memref<8192xf32>
          } {npusim.compute = {reads = [2, 1], tile_id = 2 : i64, unit = "vector", writes = [1]}}
        } {npusim.tile_loop = {dim = "r", parallel = false}}
        scf.for %arg5 = %c0 to %3 step %c1 {
          %10 = memref.load %alloca_2[%arg5] : memref<8192xf32>
          %11 = memref.load %alloca_1[%arg5] : memref<8192xf32>
          %12 = arith.addf %10, %11 : f32
          memref.store %12, %alloca_2[%arg5] : memref<8192xf32>
          %cst = arith.constant 0.000000e+00 : f32
          memref.store %cst, %alloca_1[%arg5] : memref<8192xf32>
        } {npusim.compute = {reads = [1, 0], tile_id = 3 : i64, unit = "vector", writes = [1, 0]}}
      }
      %c0_i64 = arith.constant 0 : i64
      scf.for %arg4 = %c0 to %3 step %c1 {
        %8 = arith.index_cast %arg4 : index to i64
        %9 = memref.load %alloca_2[%arg4] : memref<8192xf32>
        memref.store %9, %alloca[%arg4] : memref<8192xf32>
      } {npusim.compute = {reads = [0], tile_id = 4 : i64, unit = "vector", writes = [3]}}
      %c1_i64 = arith.constant 1 : i64
      %5 = arith.muli %c1_i64, %1 : i64
      %6 = arith.addi %c0_i64, %5 : i64
      %7 = arith.index_cast %6 : i64 to index
      %reinterpret_cast = memref.reinterpret_cast %arg1 to offset: [%7], sizes: [%3], strides: [1] : memref<?xf32> to memref<?xf32, strided<[1], offset: ?>>
      %subview = memref.subview %alloca[0] [%3] [1] : memref<8192xf32> to memref<?xf32, strided<[1]>>
      linalg.copy {cast = #linalg.type_fn<cast_signed>, npusim.dma = {arg = 1 : i64, dir = "store", spad = 3 : i64}} ins(%subview : memref<?xf32, strided<[1]>>) outs(%reinterpret_cast : memref<?xf32, strided<[1], offset: ?>>)
    } {npusim.tile_loop = {dim = "x", parallel = true}}
    return
  }
}
