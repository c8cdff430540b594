# Minimal bare-metal program for `npusim doctor`: enable FP and vector state,
# run one vector instruction, then exit 0 through HTIF (tohost = (0 << 1) | 1).
    .section .text.init, "ax"
    .globl _start
_start:
    li      t0, (1 << 13) | (1 << 9)     # mstatus.FS = initial, mstatus.VS = initial
    csrs    mstatus, t0
    vsetivli t1, 4, e32, m1, ta, ma      # proves the V extension executes
    vmv.v.i v1, 0
    la      t2, tohost
    li      t3, 1                        # exit code 0: (0 << 1) | 1
    sd      t3, 0(t2)
1:  j       1b

    .section .tohost, "aw", @progbits
    .align  6
    .globl  tohost
tohost:   .dword 0
    .align  6
    .globl  fromhost
fromhost: .dword 0
