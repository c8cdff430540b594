module attributes {npusim.abi_version = 2 : i64, npusim.arg_dtypes = ["float32", "float32", "float32"], npusim.config = "tpuv3-1core", npusim.kernel_name = "fused_add", npusim.x_tiled_extent = "ks1"} {
  func.func @kernel(%arg0: memref<?xf32>, %arg1: memref<?xf32>, %arg2: memref<?xf32>, %arg3: i64, %arg4: i64) attributes {llvm.emit_c_interface} {
    %alloca = memref.alloca() {npusim.spad = 2 : i64} : memref<8192xf32>
    %alloca_0 = memref.alloca() {npusim.spad = 1 : i64} : memref<8192xf32>
    %alloca_1 = memref.alloca() {npusim.spad = 0 : i64} : memref<8192xf32>
    %c0 = arith.constant 0 : index
    %0 = arith.index_cast %arg3 : i64 to index
    %c1 = arith.constant 1 : index
    scf.for %arg5 = %c0 to %0 step %c1 {
      %1 = arith.index_cast %arg5 : index to i64
      %2 = arith.index_cast %arg4 : i64 to index
      %3 = arith.muli %arg4, %1 : i64
      %c0_i64 = arith.constant 0 : i64
      %c8192 = arith.constant 8192 : index
      scf.for %arg6 = %c0 to %2 step %c8192 {
        %4 = arith.index_cast %arg6 : index to i64
        %5 = arith.subi %2, %arg6 : index
        %6 = arith.minsi %c8192, %5 : index
        %c1_i64 = arith.constant 1 : i64
        %7 = arith.muli %c1_i64, %4 : i64
        %8 = arith.addi %3, %7 : i64
        %9 = arith.index_cast %8 : i64 to index
        %reinterpret_cast = memref.reinterpret_cast %arg0 to offset: [%9], sizes: [%6], strides: [1] : memref<?xf32> to memref<?xf32, strided<[1], offset: ?>>
        %subview = memref.subview %alloca_1[0] [%6] [1] : memref<8192xf32> to memref<?xf32, strided<[1]>>
        linalg.copy {cast = #linalg.type_fn<cast_signed>, npusim.dma = {arg = 0 : i64, dir = "load", spad = 0 : i64}} ins(%reinterpret_cast : memref<?xf32, strided<[1], offset: ?>>) outs(%subview : memref<?xf32, strided<[1]>>)
        %10 = arith.addi %c0_i64, %7 : i64
        %11 = arith.index_cast %10 : i64 to index
        %reinterpret_cast_2 = memref.reinterpret_cast %arg1 to offset: [%11], sizes: [%6], strides: [1] : memref<?xf32> to memref<?xf32, strided<[1], offset: ?>>
        %subview_3 = memref.subview %alloca_0[0] [%6] [1] : memref<8192xf32> to memref<?xf32, strided<[1]>>
        linalg.copy {cast = #linalg.type_fn<cast_signed>, npusim.dma = {arg = 1 : i64, dir = "load", spad = 1 : i64}} ins(%reinterpret_cast_2 : memref<?xf32, strided<[1], offset: ?>>) outs(%subview_3 : memref<?xf32, strided<[1]>>)
        scf.for %arg7 = %c0 to %6 step %c1 {
          %12 = arith.index_cast %arg7 : index to i64
          %13 = memref.load %alloca_1[%arg7] : memref<8192xf32>
          %14 = memref.load %alloca_0[%arg7] : memref<8192xf32>
          %15 = arith.addf %13, %14 : f32
          memref.store %15, %alloca[%arg7] : memref<8192xf32>
        } {npusim.compute = {reads = [0, 1], tile_id = 0 : i64, unit = "vector", writes = [2]}}
        %reinterpret_cast_4 = memref.reinterpret_cast %arg2 to offset: [%9], sizes: [%6], strides: [1] : memref<?xf32> to memref<?xf32, strided<[1], offset: ?>>
        %subview_5 = memref.subview %alloca[0] [%6] [1] : memref<8192xf32> to memref<?xf32, strided<[1]>>
        linalg.copy {cast = #linalg.type_fn<cast_signed>, npusim.dma = {arg = 2 : i64, dir = "store", spad = 2 : i64}} ins(%subview_5 : memref<?xf32, strided<[1]>>) outs(%reinterpret_cast_4 : memref<?xf32, strided<[1], offset: ?>>)
      } {npusim.tile_loop = {dim = "x", parallel = true}}
    }
    return
  }
}
