/* (q) 64-bit system architecture (SDM vol. 3, 5.8.8, 6.14, and SYSCALL/SYSRET, SWAPGS in vol. 2):
 * from long mode (as in longmode.S: 4-level paging, the first GiB in 2 MiB user pages), a 64-bit
 * TSS with RSP0 and IST1; a #PF delivered on the IST1 stack (its RSP, the error code, CR2);
 * IRETQ to ring 3; SYSCALL to the LSTAR entry (RCX, R11, CS/SS from STAR, RFLAGS masked by FMASK)
 * and SYSRETQ back; INT 0x80 from ring 3 through a DPL-3 gate onto RSP0 with a 16-byte-aligned
 * frame of SS, RSP, RFLAGS, CS, RIP; SWAPGS exchanging GS.base and KERNEL_GS_BASE; #GP(0) for a
 * non-canonical address; a far jump to 32-bit compatibility mode and back; a far CALL from ring
 * 3 through a 64-bit call gate (CPL 0 on RSP0, null SS) and LRETQ back. test_main is called by
 * start.S in 32-bit protected mode. */
        .set COM1, 0x3f8
        .set K_CS, 0x18                /* 64-bit code, DPL 0 (SYSCALL CS) */
        .set K_SS, 0x20                /* data, DPL 0 (SYSCALL SS) */
        .set U_SS, 0x33                /* data, DPL 3 (SYSRET SS = STAR[63:48] + 8) */
        .set U_CS, 0x3b                /* 64-bit code, DPL 3 (SYSRET CS = STAR[63:48] + 16) */
        .set TSS_SEL, 0x40
        .set GATE_SEL, 0x50            /* 64-bit call gate, DPL 3, to K_CS:gate64_entry */
        .set HOLE, 0x3fe00000          /* PD entry 511 is left not present */

        .text
        .code32
        .globl test_main
test_main:
        /* Identity map of the first GiB minus its last 2 MiB, user pages. */
        mov $pd, %edi
        xor %ecx, %ecx
1:      mov %ecx, %eax
        shl $21, %eax
        or $0x87, %eax
        mov %eax, (%edi,%ecx,8)
        movl $0, 4(%edi,%ecx,8)
        inc %ecx
        cmp $511, %ecx
        jne 1b
        movl $pdpt + 7, pml4
        movl $pd + 7, pdpt
        /* The 64-bit TSS descriptor (16 bytes) at TSS_SEL. */
        mov $tss64, %eax
        mov %ax, gdt64 + TSS_SEL + 2
        shr $16, %eax
        mov %al, gdt64 + TSS_SEL + 4
        mov %ah, gdt64 + TSS_SEL + 7
        movl $ist1_top, tss64 + 36     /* IST1 */
        movl $rsp0_top, tss64 + 4      /* RSP0 */
        /* The IDT: every vector 0-31 to `unexpected`, #PF (14) to page_fault on IST1, #GP (13) to
         * general_protection, 0x80 to int80 with DPL 3. */
        xor %ecx, %ecx
2:      mov $unexpected, %eax
        mov $0x8e00, %edx
        cmp $14, %ecx
        jne 3f
        mov $page_fault, %eax
        mov $0x8e01, %edx              /* IST 1 */
3:      cmp $13, %ecx
        jne 4f
        mov $general_protection, %eax
4:      cmp $0x80, %ecx
        jne 5f
        mov $int80, %eax
        mov $0xee00, %edx              /* DPL 3 */
5:      mov %ecx, %ebx
        shl $4, %ebx
        mov %ax, idt64(%ebx)
        movw $K_CS, idt64+2(%ebx)
        mov %dx, idt64+4(%ebx)
        shr $16, %eax
        mov %ax, idt64+6(%ebx)
        movl $0, idt64+8(%ebx)
        movl $0, idt64+12(%ebx)
        inc %ecx
        cmp $0x81, %ecx
        jne 2b
        /* The 64-bit call gate (16 bytes) at GATE_SEL. */
        mov $gate64_entry, %eax
        mov %ax, gdt64 + GATE_SEL
        shr $16, %eax
        mov %ax, gdt64 + GATE_SEL + 6
        lgdt gdt64_ptr
        /* PAE, CR3, EFER.LME and SCE, paging: then 64-bit code. */
        mov %cr4, %eax
        or $0x20, %eax
        mov %eax, %cr4
        mov $pml4, %eax
        mov %eax, %cr3
        mov $0xc0000080, %ecx
        rdmsr
        or $0x101, %eax
        wrmsr
        mov %cr0, %eax
        or $0x80000000, %eax
        mov %eax, %cr0
        ljmp $K_CS, $long_mode

        .code64
long_mode:
        lidt idt64_ptr(%rip)
        mov $K_SS, %ax
        mov %ax, %ds
        mov %ax, %es
        mov %ax, %ss
        mov $TSS_SEL, %ax
        ltr %ax
        lea msg_start(%rip), %rsi
        call puts64

        /* #PF on IST1. */
        movl $0x42, HOLE + 0x40
        cmpl $1, pf_count(%rip)
        jne fail64
        cmpq $HOLE + 0x40, pf_cr2(%rip)
        jne fail64
        cmpq $2, pf_error(%rip)
        jne fail64
        lea ist1_top(%rip), %rax
        sub $48, %rax                  /* RAX slot, error code, RIP, CS, RFLAGS, RSP, SS: 7 quadwords */
        sub $8, %rax
        cmp %rax, pf_rsp(%rip)
        jne fail64
        lea msg_pf(%rip), %rsi
        call puts64

        /* SWAPGS. */
        mov $0xc0000101, %ecx          /* GS.base */
        mov $0x1111, %eax
        xor %edx, %edx
        wrmsr
        mov $0xc0000102, %ecx          /* KERNEL_GS_BASE */
        mov $0x2222, %eax
        wrmsr
        swapgs
        mov $0xc0000101, %ecx
        rdmsr
        cmp $0x2222, %eax
        jne fail64
        mov $0xc0000102, %ecx
        rdmsr
        cmp $0x1111, %eax
        jne fail64
        lea msg_swapgs(%rip), %rsi
        call puts64

        /* #GP(0) for a non-canonical address. */
        mov $0x0000800000000000, %rax
        lea 1f(%rip), %rbx
        mov %rbx, gp_resume(%rip)
        mov (%rax), %rcx
1:      cmpl $1, gp_count(%rip)
        jne fail64
        cmpq $0, gp_error(%rip)
        jne fail64
        lea msg_gp(%rip), %rsi
        call puts64

        /* Compatibility mode: a far jump to the 32-bit code segment, and back. */
        lea compat_ret(%rip), %rax
        mov %eax, compat_back(%rip)
        ljmp *compat_ptr(%rip)
        .code32
compat:
        movl $1, compat_ran            /* EFER.LMA is still set here */
        ljmp *compat_back_ptr
        .code64
compat_ret:
        cmpl $1, compat_ran(%rip)
        jne fail64
        lea msg_compat(%rip), %rsi
        call puts64

        /* SYSCALL/SYSRET MSRs: STAR (kernel CS at 47:32, SYSRET base at 63:48), LSTAR, FMASK. */
        mov $0xc0000081, %ecx
        xor %eax, %eax
        mov $((0x28 << 16) | K_CS), %edx
        wrmsr
        mov $0xc0000082, %ecx
        lea syscall_entry(%rip), %rax
        xor %edx, %edx
        wrmsr
        mov $0xc0000084, %ecx
        mov $0x400, %eax               /* FMASK: DF */
        wrmsr
        /* IRETQ to ring 3. */
        mov %rsp, kernel_rsp(%rip)
        push $U_SS
        lea user_stack_top(%rip), %rax
        push %rax
        push $0x2
        push $U_CS
        lea user(%rip), %rax
        push %rax
        iretq

        /* Ring 3. */
user:
        mov %cs, %ax
        mov %ax, user_cs(%rip)
        std                            /* FMASK clears DF on SYSCALL */
        lea user_after_syscall(%rip), %rax
        mov %rax, expect_rcx(%rip)
        mov $0x77, %rdi
        syscall
user_after_syscall:
        cld
        mov %cs, %ax
        mov %ax, user_cs2(%rip)
        mov %ss, %ax
        mov %ax, user_ss2(%rip)
        lea user_after_gate(%rip), %rax
        mov %rax, expect_gate_rip(%rip)
        lcall *gate64_ptr(%rip)
user_after_gate:
        mov %cs, %ax
        mov %ax, user_cs3(%rip)
        mov %ss, %ax
        mov %ax, user_ss3(%rip)
        int $0x80                      /* back to ring 0 for good */
        jmp .

syscall_entry:
        /* CPL 0: CS and SS from STAR, RCX the return RIP, R11 the RFLAGS (DF set), DF now clear. */
        mov %cs, %ax
        cmp $K_CS, %ax
        jne fail64
        mov %ss, %ax
        cmp $K_SS, %ax
        jne fail64
        cmp expect_rcx(%rip), %rcx
        jne fail64
        test $0x400, %r11
        jz fail64
        pushfq
        pop %rax
        test $0x400, %rax
        jnz fail64
        cmp $0x77, %rdi
        jne fail64
        sysretq

gate64_entry:
        /* CPL 0 through the call gate: SS is a null selector, on RSP0 a frame of RIP, CS, RSP, SS. */
        mov %ss, %ax
        test %ax, %ax
        jnz fail64
        lea rsp0_top(%rip), %rax
        sub $32, %rax
        cmp %rax, %rsp
        jne fail64
        mov (%rsp), %rax
        cmp expect_gate_rip(%rip), %rax
        jne fail64
        cmpq $U_CS, 8(%rsp)
        jne fail64
        lea user_stack_top(%rip), %rax
        cmp %rax, 16(%rsp)
        jne fail64
        cmpq $U_SS, 24(%rsp)
        jne fail64
        incl gate_count(%rip)
        lretq

int80:
        /* From ring 3 onto RSP0: SS, RSP, RFLAGS, CS, RIP at RSP0 - 40. */
        lea rsp0_top(%rip), %rax
        sub $40, %rax
        cmp %rax, %rsp
        jne fail64
        cmpq $U_CS, 8(%rsp)
        jne fail64
        cmpq $U_SS, 32(%rsp)
        jne fail64
        lea user_stack_top(%rip), %rax
        cmp %rax, 24(%rsp)
        jne fail64
        mov kernel_rsp(%rip), %rsp
        cmpw $U_CS, user_cs(%rip)
        jne fail64
        cmpw $U_CS, user_cs2(%rip)
        jne fail64
        cmpw $U_SS, user_ss2(%rip)
        jne fail64
        cmpl $1, gate_count(%rip)
        jne fail64
        cmpw $U_CS, user_cs3(%rip)
        jne fail64
        cmpw $U_SS, user_ss3(%rip)
        jne fail64
        lea msg_user(%rip), %rsi
        call puts64
        lea msg_syscall(%rip), %rsi
        call puts64
        lea msg_gate(%rip), %rsi
        call puts64
        lea msg_int80(%rip), %rsi
        call puts64
        lea msg_pass(%rip), %rsi
        call puts64
        xor %eax, %eax
        jmp exit64

page_fault:
        push %rax
        mov %rsp, pf_rsp(%rip)
        mov %cr2, %rax
        mov %rax, pf_cr2(%rip)
        mov 8(%rsp), %rax
        mov %rax, pf_error(%rip)
        incl pf_count(%rip)
        movq $0x400087, pd+511*8(%rip)         /* map it to physical 4 MiB */
        pop %rax
        add $8, %rsp
        iretq

general_protection:
        push %rax
        mov 8(%rsp), %rax
        mov %rax, gp_error(%rip)
        incl gp_count(%rip)
        mov gp_resume(%rip), %rax
        mov %rax, 16(%rsp)
        pop %rax
        add $8, %rsp
        iretq

unexpected:
fail64:
        lea msg_fail(%rip), %rsi
        call puts64
        mov $1, %eax
exit64:
        out %al, $0xf4
        cli
        hlt
        jmp exit64

/* Prints the NUL-terminated string at RSI on COM1. */
puts64:
        mov $COM1 + 5, %dx
6:      lodsb
        test %al, %al
        jz 8f
        mov %al, %ah
7:      in %dx, %al
        test $0x20, %al
        jz 7b
        mov $COM1, %dx
        mov %ah, %al
        out %al, %dx
        mov $COM1 + 5, %dx
        jmp 6b
8:      ret

        .section .rodata
msg_start:   .asciz "long64: long mode with a 64-bit TSS (RSP0, IST1) and IDT\n"
msg_pf:      .asciz "long64: #PF (error code 2, CR2) delivered on the IST1 stack\n"
msg_swapgs:  .asciz "long64: SWAPGS exchanged GS.base and KERNEL_GS_BASE\n"
msg_gp:      .asciz "long64: a non-canonical address is #GP(0)\n"
msg_compat:  .asciz "long64: a far jump to 32-bit compatibility mode and back\n"
msg_user:    .asciz "long64: IRETQ to ring 3 (CS=003b SS=0033)\n"
msg_syscall: .asciz "long64: SYSCALL to LSTAR at CPL 0 (CS=0018 SS=0020, RCX the return RIP, R11 RFLAGS, DF masked by FMASK); SYSRETQ back to 003b/0033\n"
msg_gate:    .asciz "long64: far CALL from ring 3 through a 64-bit call gate: CPL 0 on RSP0 with a null SS, RIP/CS/RSP/SS pushed; LRETQ back to ring 3\n"
msg_int80:   .asciz "long64: INT 0x80 from ring 3 through a DPL-3 gate onto RSP0: SS, RSP, RFLAGS, CS, RIP\n"
msg_pass:    .asciz "PASS\n"
msg_fail:    .asciz "FAIL: long64 check\n"

        .data
        .align 8
gdt64:  .quad 0
        .quad 0x00cf9a000000ffff       /* 0x08: 32-bit code */
        .quad 0x00cf92000000ffff       /* 0x10: data */
        .quad 0x00af9a000000ffff       /* 0x18: 64-bit code */
        .quad 0x00cf92000000ffff       /* 0x20: data */
        .quad 0x00cffa000000ffff       /* 0x28: 32-bit code, DPL 3 (SYSRET to compatibility mode) */
        .quad 0x00cff2000000ffff       /* 0x30: data, DPL 3 */
        .quad 0x00affa000000ffff       /* 0x38: 64-bit code, DPL 3 */
        .quad 0x0000890000000067       /* 0x40: 64-bit TSS (base filled in) */
        .quad 0
        .quad 0x0000ec0000180000       /* 0x50: 64-bit call gate, DPL 3, to 0x18 (offset filled in) */
        .quad 0
gdt64_end:
gdt64_ptr: .word gdt64_end - gdt64 - 1
        .long gdt64
idt64_ptr: .word 0x81 * 16 - 1
        .long idt64, 0
compat_ptr: .long compat
        .word 0x08
gate64_ptr: .long 0
        .word GATE_SEL | 3
        .align 8
pf_cr2:     .quad 0
pf_error:   .quad 0
pf_rsp:     .quad 0
pf_count:   .long 0
gp_count:   .long 0
gp_error:   .quad 0
gp_resume:  .quad 0
kernel_rsp: .quad 0
expect_rcx: .quad 0
compat_ran: .long 0
compat_back_ptr:
compat_back: .long 0
        .word K_CS
user_cs:    .word 0
user_cs2:   .word 0
user_ss2:   .word 0
user_cs3:   .word 0
user_ss3:   .word 0
        .align 8
expect_gate_rip: .quad 0
gate_count: .long 0

        .bss
        .align 4096
pml4:   .space 4096
pdpt:   .space 4096
pd:     .space 4096
idt64:  .space 0x81 * 16
        .align 16
tss64:  .space 104
        .align 16
        .space 4096
ist1_top:
        .space 4096
rsp0_top:
        .space 4096
user_stack_top:
        .section .note.GNU-stack, "", @progbits
