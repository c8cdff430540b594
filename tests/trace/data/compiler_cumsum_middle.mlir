module attributes {npusim.abi_version = 2 : i64, npusim.arg_dtypes = ["float32", "float32"], npusim.config = "tpuv3-1core", npusim.kernel_name = "fused_cumsum", npusim.x_tiled_extent = "16"} {
  func.func @kernel(%arg0: memref<?xf32>, %arg1: memref<?xf32>, %arg2: i64, %arg3: i64) attributes {llvm.emit_c_interface} {
    %alloca = memref.alloca() {npusim.spad = 1 : i64} : memref<8192xf32>
    %alloca_0 = memref.alloca() {npusim.spad = 0 : i64} : memref<8192xf32>
    %c0 = arith.constant 0 : index
    %0 = arith.index_cast %arg2 : i64 to index
    %c1 = arith.constant 1 : index
    scf.for %arg4 = %c0 to %0 step %c1 {
      %1 = arith.index_cast %arg4 : index to i64
      %c16_i64 = arith.constant 16 : i64
      %2 = arith.index_cast %c16_i64 : i64 to index
      scf.for %arg5 = %c0 to %2 step %c1 {
        %3 = arith.index_cast %arg5 : index to i64
        %4 = arith.index_cast %arg3 : i64 to index
        %5 = arith.muli %c16_i64, %arg3 : i64
        %6 = arith.muli %5, %1 : i64
        %7 = arith.addi %3, %6 : i64
        %cst = arith.constant 0.000000e+00 : f64
        %c8192 = arith.constant 8192 : index
        %8 = scf.for %arg6 = %c0 to %4 step %c8192 iter_args(%arg7 = %cst) -> (f64) {
          %9 = arith.index_cast %arg6 : index to i64
          %10 = arith.subi %4, %arg6 : index
          %11 = arith.minsi %c8192, %10 : index
          %12 = arith.muli %c16_i64, %9 : i64
          %13 = arith.addi %7, %12 : i64
          %14 = arith.index_cast %13 : i64 to index
          %reinterpret_cast = memref.reinterpret_cast %arg0 to offset: [%14], sizes: [%11], strides: [16] : memref<?xf32> to memref<?xf32, strided<[16], offset: ?>>
          %subview = memref.subview %alloca_0[0] [%11] [1] : memref<8192xf32> to memref<?xf32, strided<[1]>>
          linalg.copy {cast = #linalg.type_fn<cast_signed>, npusim.dma = {arg = 0 : i64, dir = "load", spad = 0 : i64}} ins(%reinterpret_cast : memref<?xf32, strided<[16], offset: ?>>) outs(%subview : memref<?xf32, strided<[1]>>)
          %15 = scf.for %arg8 = %c0 to %11 step %c1 iter_args(%arg9 = %arg7) -> (f64) {
            %16 = arith.index_cast %arg8 : index to i64
            %17 = memref.load %alloca_0[%arg8] : memref<8192xf32>
            %18 = arith.extf %17 : f32 to f64
            %19 = arith.addf %arg9, %18 : f64
            %20 = arith.truncf %19 : f64 to f32
            memref.store %20, %alloca[%arg8] : memref<8192xf32>
            scf.yield %19 : f64
          } {npusim.compute = {reads = [0], tile_id = 0 : i64, unit = "vector", writes = [1]}}
          %reinterpret_cast_1 = memref.reinterpret_cast %arg1 to offset: [%14], sizes: [%11], strides: [16] : memref<?xf32> to memref<?xf32, strided<[16], offset: ?>>
          %subview_2 = memref.subview %alloca[0] [%11] [1] : memref<8192xf32> to memref<?xf32, strided<[1]>>
          linalg.copy {cast = #linalg.type_fn<cast_signed>, npusim.dma = {arg = 1 : i64, dir = "store", spad = 1 : i64}} ins(%subview_2 : memref<?xf32, strided<[1]>>) outs(%reinterpret_cast_1 : memref<?xf32, strided<[16], offset: ?>>)
          scf.yield %15 : f64
        } {npusim.tile_loop = {dim = "r", parallel = false}}
      } {npusim.tile_loop = {dim = "x", parallel = true}}
    }
    return
  }
}
