module attributes {npusim.kernel_name = "npusim_stridedcopy_test", npusim.abi_version = 1 : i64} {
  // memref.copy with runtime layouts lowers to a call of memrefCopy (the
  // runtime provides it): out viewed as [rows, cols] = the transpose of in
  // viewed as [cols, rows], i.e. out[r * cols + c] = in[c * rows + r].
  func.func @kernel(%in: memref<?xf32>, %out: memref<?xf32>, %s0: i64, %s1: i64) attributes {llvm.emit_c_interface} {
    %rows = arith.index_cast %s0 : i64 to index
    %cols = arith.index_cast %s1 : i64 to index
    %c1 = arith.constant 1 : index
    %from = memref.reinterpret_cast %in to offset: [0], sizes: [%rows, %cols], strides: [%c1, %rows] : memref<?xf32> to memref<?x?xf32, strided<[?, ?]>>
    %to = memref.reinterpret_cast %out to offset: [0], sizes: [%rows, %cols], strides: [%cols, 1] : memref<?xf32> to memref<?x?xf32, strided<[?, 1]>>
    memref.copy %from, %to : memref<?x?xf32, strided<[?, ?]>> to memref<?x?xf32, strided<[?, 1]>>
    return
  }
}
