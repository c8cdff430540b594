module attributes {npusim.kernel_name = "npusim_bytecopy_test", npusim.abi_version = 1 : i64} {
  // Exercises the runtime's memset and memcpy at any alignment:
  //   out[0 : total] = 0x5a;  out[dst : dst + len] = in[src : src + len]
  func.func @kernel(%in: memref<?xi8>, %out: memref<?xi8>, %src: i64, %dst: i64, %len: i64, %total: i64) attributes {llvm.emit_c_interface} {
    %fill = arith.constant 90 : i8
    %s = arith.index_cast %src : i64 to index
    %d = arith.index_cast %dst : i64 to index
    %n = arith.index_cast %len : i64 to index
    %t = arith.index_cast %total : i64 to index
    %whole = memref.reinterpret_cast %out to offset: [0], sizes: [%t], strides: [1] : memref<?xi8> to memref<?xi8, strided<[1]>>
    linalg.fill ins(%fill : i8) outs(%whole : memref<?xi8, strided<[1]>>)
    %from = memref.reinterpret_cast %in to offset: [%s], sizes: [%n], strides: [1] : memref<?xi8> to memref<?xi8, strided<[1], offset: ?>>
    %to = memref.reinterpret_cast %out to offset: [%d], sizes: [%n], strides: [1] : memref<?xi8> to memref<?xi8, strided<[1], offset: ?>>
    linalg.copy ins(%from : memref<?xi8, strided<[1], offset: ?>>) outs(%to : memref<?xi8, strided<[1], offset: ?>>)
    return
  }
}
