module attributes {npusim.kernel_name = "npusim_mathfuncs_test", npusim.abi_version = 1 : i64} {
  // Test fixture for the math lowering + runtime libm: out[k * n + i] = f_k(x[i]) (or f_k(x[i], y[i]))
  // for the f32 functions in order: exp, log, tanh, erf, erfc, sqrt, rsqrt, expm1, log1p, sin, cos, tan, atan, asin, acos, sinh, cosh, exp2, log2, log10, cbrt, floor, ceil, round, roundeven, trunc, absf, powf, atan2, remf, copysign
  // and outd[k * n + i] likewise for f64: exp, log, tanh, erf, sin, cos, atan, expm1, log1p, cbrt, powf, atan2, remf
  func.func @kernel(%x: memref<?xf32>, %y: memref<?xf32>, %out: memref<?xf32>, %xd: memref<?xf64>, %yd: memref<?xf64>, %outd: memref<?xf64>, %s0: i64) attributes {llvm.emit_c_interface} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %n = arith.index_cast %s0 : i64 to index
    scf.for %i = %c0 to %n step %c1 {
      %a_f32 = memref.load %x[%i] : memref<?xf32>
      %b_f32 = memref.load %y[%i] : memref<?xf32>
      %k0_f32 = arith.constant 0 : index
      %base0_f32 = arith.muli %k0_f32, %n : index
      %at0_f32 = arith.addi %base0_f32, %i : index
      %r0_f32 = math.exp %a_f32 : f32
      memref.store %r0_f32, %out[%at0_f32] : memref<?xf32>
      %k1_f32 = arith.constant 1 : index
      %base1_f32 = arith.muli %k1_f32, %n : index
      %at1_f32 = arith.addi %base1_f32, %i : index
      %r1_f32 = math.log %a_f32 : f32
      memref.store %r1_f32, %out[%at1_f32] : memref<?xf32>
      %k2_f32 = arith.constant 2 : index
      %base2_f32 = arith.muli %k2_f32, %n : index
      %at2_f32 = arith.addi %base2_f32, %i : index
      %r2_f32 = math.tanh %a_f32 : f32
      memref.store %r2_f32, %out[%at2_f32] : memref<?xf32>
      %k3_f32 = arith.constant 3 : index
      %base3_f32 = arith.muli %k3_f32, %n : index
      %at3_f32 = arith.addi %base3_f32, %i : index
      %r3_f32 = math.erf %a_f32 : f32
      memref.store %r3_f32, %out[%at3_f32] : memref<?xf32>
      %k4_f32 = arith.constant 4 : index
      %base4_f32 = arith.muli %k4_f32, %n : index
      %at4_f32 = arith.addi %base4_f32, %i : index
      %r4_f32 = math.erfc %a_f32 : f32
      memref.store %r4_f32, %out[%at4_f32] : memref<?xf32>
      %k5_f32 = arith.constant 5 : index
      %base5_f32 = arith.muli %k5_f32, %n : index
      %at5_f32 = arith.addi %base5_f32, %i : index
      %r5_f32 = math.sqrt %a_f32 : f32
      memref.store %r5_f32, %out[%at5_f32] : memref<?xf32>
      %k6_f32 = arith.constant 6 : index
      %base6_f32 = arith.muli %k6_f32, %n : index
      %at6_f32 = arith.addi %base6_f32, %i : index
      %r6_f32 = math.rsqrt %a_f32 : f32
      memref.store %r6_f32, %out[%at6_f32] : memref<?xf32>
      %k7_f32 = arith.constant 7 : index
      %base7_f32 = arith.muli %k7_f32, %n : index
      %at7_f32 = arith.addi %base7_f32, %i : index
      %r7_f32 = math.expm1 %a_f32 : f32
      memref.store %r7_f32, %out[%at7_f32] : memref<?xf32>
      %k8_f32 = arith.constant 8 : index
      %base8_f32 = arith.muli %k8_f32, %n : index
      %at8_f32 = arith.addi %base8_f32, %i : index
      %r8_f32 = math.log1p %a_f32 : f32
      memref.store %r8_f32, %out[%at8_f32] : memref<?xf32>
      %k9_f32 = arith.constant 9 : index
      %base9_f32 = arith.muli %k9_f32, %n : index
      %at9_f32 = arith.addi %base9_f32, %i : index
      %r9_f32 = math.sin %a_f32 : f32
      memref.store %r9_f32, %out[%at9_f32] : memref<?xf32>
      %k10_f32 = arith.constant 10 : index
      %base10_f32 = arith.muli %k10_f32, %n : index
      %at10_f32 = arith.addi %base10_f32, %i : index
      %r10_f32 = math.cos %a_f32 : f32
      memref.store %r10_f32, %out[%at10_f32] : memref<?xf32>
      %k11_f32 = arith.constant 11 : index
      %base11_f32 = arith.muli %k11_f32, %n : index
      %at11_f32 = arith.addi %base11_f32, %i : index
      %r11_f32 = math.tan %a_f32 : f32
      memref.store %r11_f32, %out[%at11_f32] : memref<?xf32>
      %k12_f32 = arith.constant 12 : index
      %base12_f32 = arith.muli %k12_f32, %n : index
      %at12_f32 = arith.addi %base12_f32, %i : index
      %r12_f32 = math.atan %a_f32 : f32
      memref.store %r12_f32, %out[%at12_f32] : memref<?xf32>
      %k13_f32 = arith.constant 13 : index
      %base13_f32 = arith.muli %k13_f32, %n : index
      %at13_f32 = arith.addi %base13_f32, %i : index
      %r13_f32 = math.asin %a_f32 : f32
      memref.store %r13_f32, %out[%at13_f32] : memref<?xf32>
      %k14_f32 = arith.constant 14 : index
      %base14_f32 = arith.muli %k14_f32, %n : index
      %at14_f32 = arith.addi %base14_f32, %i : index
      %r14_f32 = math.acos %a_f32 : f32
      memref.store %r14_f32, %out[%at14_f32] : memref<?xf32>
      %k15_f32 = arith.constant 15 : index
      %base15_f32 = arith.muli %k15_f32, %n : index
      %at15_f32 = arith.addi %base15_f32, %i : index
      %r15_f32 = math.sinh %a_f32 : f32
      memref.store %r15_f32, %out[%at15_f32] : memref<?xf32>
      %k16_f32 = arith.constant 16 : index
      %base16_f32 = arith.muli %k16_f32, %n : index
      %at16_f32 = arith.addi %base16_f32, %i : index
      %r16_f32 = math.cosh %a_f32 : f32
      memref.store %r16_f32, %out[%at16_f32] : memref<?xf32>
      %k17_f32 = arith.constant 17 : index
      %base17_f32 = arith.muli %k17_f32, %n : index
      %at17_f32 = arith.addi %base17_f32, %i : index
      %r17_f32 = math.exp2 %a_f32 : f32
      memref.store %r17_f32, %out[%at17_f32] : memref<?xf32>
      %k18_f32 = arith.constant 18 : index
      %base18_f32 = arith.muli %k18_f32, %n : index
      %at18_f32 = arith.addi %base18_f32, %i : index
      %r18_f32 = math.log2 %a_f32 : f32
      memref.store %r18_f32, %out[%at18_f32] : memref<?xf32>
      %k19_f32 = arith.constant 19 : index
      %base19_f32 = arith.muli %k19_f32, %n : index
      %at19_f32 = arith.addi %base19_f32, %i : index
      %r19_f32 = math.log10 %a_f32 : f32
      memref.store %r19_f32, %out[%at19_f32] : memref<?xf32>
      %k20_f32 = arith.constant 20 : index
      %base20_f32 = arith.muli %k20_f32, %n : index
      %at20_f32 = arith.addi %base20_f32, %i : index
      %r20_f32 = math.cbrt %a_f32 : f32
      memref.store %r20_f32, %out[%at20_f32] : memref<?xf32>
      %k21_f32 = arith.constant 21 : index
      %base21_f32 = arith.muli %k21_f32, %n : index
      %at21_f32 = arith.addi %base21_f32, %i : index
      %r21_f32 = math.floor %a_f32 : f32
      memref.store %r21_f32, %out[%at21_f32] : memref<?xf32>
      %k22_f32 = arith.constant 22 : index
      %base22_f32 = arith.muli %k22_f32, %n : index
      %at22_f32 = arith.addi %base22_f32, %i : index
      %r22_f32 = math.ceil %a_f32 : f32
      memref.store %r22_f32, %out[%at22_f32] : memref<?xf32>
      %k23_f32 = arith.constant 23 : index
      %base23_f32 = arith.muli %k23_f32, %n : index
      %at23_f32 = arith.addi %base23_f32, %i : index
      %r23_f32 = math.round %a_f32 : f32
      memref.store %r23_f32, %out[%at23_f32] : memref<?xf32>
      %k24_f32 = arith.constant 24 : index
      %base24_f32 = arith.muli %k24_f32, %n : index
      %at24_f32 = arith.addi %base24_f32, %i : index
      %r24_f32 = math.roundeven %a_f32 : f32
      memref.store %r24_f32, %out[%at24_f32] : memref<?xf32>
      %k25_f32 = arith.constant 25 : index
      %base25_f32 = arith.muli %k25_f32, %n : index
      %at25_f32 = arith.addi %base25_f32, %i : index
      %r25_f32 = math.trunc %a_f32 : f32
      memref.store %r25_f32, %out[%at25_f32] : memref<?xf32>
      %k26_f32 = arith.constant 26 : index
      %base26_f32 = arith.muli %k26_f32, %n : index
      %at26_f32 = arith.addi %base26_f32, %i : index
      %r26_f32 = math.absf %a_f32 : f32
      memref.store %r26_f32, %out[%at26_f32] : memref<?xf32>
      %k27_f32 = arith.constant 27 : index
      %base27_f32 = arith.muli %k27_f32, %n : index
      %at27_f32 = arith.addi %base27_f32, %i : index
      %r27_f32 = math.powf %a_f32, %b_f32 : f32
      memref.store %r27_f32, %out[%at27_f32] : memref<?xf32>
      %k28_f32 = arith.constant 28 : index
      %base28_f32 = arith.muli %k28_f32, %n : index
      %at28_f32 = arith.addi %base28_f32, %i : index
      %r28_f32 = math.atan2 %a_f32, %b_f32 : f32
      memref.store %r28_f32, %out[%at28_f32] : memref<?xf32>
      %k29_f32 = arith.constant 29 : index
      %base29_f32 = arith.muli %k29_f32, %n : index
      %at29_f32 = arith.addi %base29_f32, %i : index
      %r29_f32 = arith.remf %a_f32, %b_f32 : f32
      memref.store %r29_f32, %out[%at29_f32] : memref<?xf32>
      %k30_f32 = arith.constant 30 : index
      %base30_f32 = arith.muli %k30_f32, %n : index
      %at30_f32 = arith.addi %base30_f32, %i : index
      %r30_f32 = math.copysign %a_f32, %b_f32 : f32
      memref.store %r30_f32, %out[%at30_f32] : memref<?xf32>
      %a_f64 = memref.load %xd[%i] : memref<?xf64>
      %b_f64 = memref.load %yd[%i] : memref<?xf64>
      %k0_f64 = arith.constant 0 : index
      %base0_f64 = arith.muli %k0_f64, %n : index
      %at0_f64 = arith.addi %base0_f64, %i : index
      %r0_f64 = math.exp %a_f64 : f64
      memref.store %r0_f64, %outd[%at0_f64] : memref<?xf64>
      %k1_f64 = arith.constant 1 : index
      %base1_f64 = arith.muli %k1_f64, %n : index
      %at1_f64 = arith.addi %base1_f64, %i : index
      %r1_f64 = math.log %a_f64 : f64
      memref.store %r1_f64, %outd[%at1_f64] : memref<?xf64>
      %k2_f64 = arith.constant 2 : index
      %base2_f64 = arith.muli %k2_f64, %n : index
      %at2_f64 = arith.addi %base2_f64, %i : index
      %r2_f64 = math.tanh %a_f64 : f64
      memref.store %r2_f64, %outd[%at2_f64] : memref<?xf64>
      %k3_f64 = arith.constant 3 : index
      %base3_f64 = arith.muli %k3_f64, %n : index
      %at3_f64 = arith.addi %base3_f64, %i : index
      %r3_f64 = math.erf %a_f64 : f64
      memref.store %r3_f64, %outd[%at3_f64] : memref<?xf64>
      %k4_f64 = arith.constant 4 : index
      %base4_f64 = arith.muli %k4_f64, %n : index
      %at4_f64 = arith.addi %base4_f64, %i : index
      %r4_f64 = math.sin %a_f64 : f64
      memref.store %r4_f64, %outd[%at4_f64] : memref<?xf64>
      %k5_f64 = arith.constant 5 : index
      %base5_f64 = arith.muli %k5_f64, %n : index
      %at5_f64 = arith.addi %base5_f64, %i : index
      %r5_f64 = math.cos %a_f64 : f64
      memref.store %r5_f64, %outd[%at5_f64] : memref<?xf64>
      %k6_f64 = arith.constant 6 : index
      %base6_f64 = arith.muli %k6_f64, %n : index
      %at6_f64 = arith.addi %base6_f64, %i : index
      %r6_f64 = math.atan %a_f64 : f64
      memref.store %r6_f64, %outd[%at6_f64] : memref<?xf64>
      %k7_f64 = arith.constant 7 : index
      %base7_f64 = arith.muli %k7_f64, %n : index
      %at7_f64 = arith.addi %base7_f64, %i : index
      %r7_f64 = math.expm1 %a_f64 : f64
      memref.store %r7_f64, %outd[%at7_f64] : memref<?xf64>
      %k8_f64 = arith.constant 8 : index
      %base8_f64 = arith.muli %k8_f64, %n : index
      %at8_f64 = arith.addi %base8_f64, %i : index
      %r8_f64 = math.log1p %a_f64 : f64
      memref.store %r8_f64, %outd[%at8_f64] : memref<?xf64>
      %k9_f64 = arith.constant 9 : index
      %base9_f64 = arith.muli %k9_f64, %n : index
      %at9_f64 = arith.addi %base9_f64, %i : index
      %r9_f64 = math.cbrt %a_f64 : f64
      memref.store %r9_f64, %outd[%at9_f64] : memref<?xf64>
      %k10_f64 = arith.constant 10 : index
      %base10_f64 = arith.muli %k10_f64, %n : index
      %at10_f64 = arith.addi %base10_f64, %i : index
      %r10_f64 = math.powf %a_f64, %b_f64 : f64
      memref.store %r10_f64, %outd[%at10_f64] : memref<?xf64>
      %k11_f64 = arith.constant 11 : index
      %base11_f64 = arith.muli %k11_f64, %n : index
      %at11_f64 = arith.addi %base11_f64, %i : index
      %r11_f64 = math.atan2 %a_f64, %b_f64 : f64
      memref.store %r11_f64, %outd[%at11_f64] : memref<?xf64>
      %k12_f64 = arith.constant 12 : index
      %base12_f64 = arith.muli %k12_f64, %n : index
      %at12_f64 = arith.addi %base12_f64, %i : index
      %r12_f64 = arith.remf %a_f64, %b_f64 : f64
      memref.store %r12_f64, %outd[%at12_f64] : memref<?xf64>
    }
    return
  }
}
