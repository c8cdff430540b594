module attributes {npusim.kernel_name = "npusim_wide_test", npusim.abi_version = 1 : i64} {
  // Twelve arguments, so the last four travel on the stack under the LP64
  // calling convention, plus an inout buffer:
  //   acc[i] += a[i];  out[i] = a[i] + b[i] + c[i] + d[i] + float(s1 + s2 + s3 + s4 + s5)  for i < s0
  func.func @kernel(%a: memref<?xf32>, %b: memref<?xf32>, %c: memref<?xf32>, %d: memref<?xf32>, %acc: memref<?xf32>, %out: memref<?xf32>, %s0: i64, %s1: i64, %s2: i64, %s3: i64, %s4: i64, %s5: i64) attributes {llvm.emit_c_interface} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %n = arith.index_cast %s0 : i64 to index
    %t1 = arith.addi %s1, %s2 : i64
    %t2 = arith.addi %t1, %s3 : i64
    %t3 = arith.addi %t2, %s4 : i64
    %t4 = arith.addi %t3, %s5 : i64
    %bias = arith.sitofp %t4 : i64 to f32
    scf.for %i = %c0 to %n step %c1 {
      %va = memref.load %a[%i] : memref<?xf32>
      %vb = memref.load %b[%i] : memref<?xf32>
      %vc = memref.load %c[%i] : memref<?xf32>
      %vd = memref.load %d[%i] : memref<?xf32>
      %vacc = memref.load %acc[%i] : memref<?xf32>
      %sum_acc = arith.addf %vacc, %va : f32
      memref.store %sum_acc, %acc[%i] : memref<?xf32>
      %ab = arith.addf %va, %vb : f32
      %abc = arith.addf %ab, %vc : f32
      %abcd = arith.addf %abc, %vd : f32
      %r = arith.addf %abcd, %bias : f32
      memref.store %r, %out[%i] : memref<?xf32>
    }
    return
  }
}
