/* Start-up for the bare-metal kernel ELF on Spike (machine mode, hart 0).
 * Sets gp/sp, enables the FPU and the vector unit (FS and VS in mstatus;
 * float or vector code traps as illegal otherwise), installs a trap handler
 * that reports and exits instead of looping forever, zeroes .bss and calls
 * main; main's return value becomes the exit code. */

    .section .text.init, "ax", @progbits
    .globl _start
_start:
    .option push
    .option norelax
    la      gp, __global_pointer$
    .option pop

    /* Only hart 0 runs the launch; any other hart parks. */
    csrr    t0, mhartid
    bnez    t0, park

    la      sp, _stack_top

    la      t0, npusim_trap_entry
    csrw    mtvec, t0

    li      t0, (3 << 13) | (3 << 9)      /* mstatus.FS = dirty, mstatus.VS = dirty */
    csrs    mstatus, t0
    csrwi   fcsr, 0

    la      t0, _bss_start
    la      t1, _bss_end
zero_bss:
    bgeu    t0, t1, bss_done
    sd      zero, 0(t0)
    addi    t0, t0, 8
    j       zero_bss
bss_done:

    call    main
    call    npusim_exit            /* a0 = main's return value; never returns */

park:
    wfi
    j       park

/* Trap entry: mtvec must be 4-byte aligned (direct mode). */
    .align 4
    .globl npusim_trap_entry
npusim_trap_entry:
    la      sp, _stack_top         /* the faulting stack may be the problem */
    csrr    a0, mcause
    csrr    a1, mepc
    csrr    a2, mtval
    call    npusim_trap
1:  j       1b
