/*
 * BCD instructions (DAA, DAS, AAA, AAS, AAM, AAD) are invalid in 64-bit mode, so the oracle runs
 * them in 32-bit compatibility mode: a far call to Linux's 32-bit user code segment (0x23), a
 * stub that executes the instruction, and a far return to the 64-bit segment. The binary is
 * linked non-PIE, so the stubs, the stack below and the I/O block all lie below 4 GiB.
 *
 * io block (uint32_t[4]): [0] EAX in, [1] EFLAGS in, [2] EAX out, [3] EFLAGS out.
 */
        .section .note.GNU-stack,"",@progbits

        .bss
        .align 16
stack32:
        .skip 4096
stack32_top:
saved_rsp:
        .skip 8
farptr:
        .skip 8

        .text
        .code64
/* void call32(uint32_t entry, uint32_t *io) */
        .globl call32
call32:
        push %rbx
        push %rbp
        push %r12
        push %r13
        push %r14
        push %r15
        mov %rsp, saved_rsp(%rip)
        mov %edi, farptr(%rip)
        movw $0x23, farptr+4(%rip)
        mov %esi, %ebx
        mov $0x2b, %eax
        mov %eax, %ds
        mov %eax, %es
        lea stack32_top(%rip), %rsp
        lcall *farptr(%rip)
        mov saved_rsp(%rip), %rsp
        pop %r15
        pop %r14
        pop %r13
        pop %r12
        pop %rbp
        pop %rbx
        ret

        .macro STUB name, insn:vararg
        .globl \name
\name:
        movl (%ebx), %eax
        pushl 4(%ebx)
        popfl
        \insn
        pushfl
        popl 12(%ebx)
        movl %eax, 8(%ebx)
        lret
        .endm

        .code32
        STUB stub_daa, daa
        STUB stub_das, das
        STUB stub_aaa, aaa
        STUB stub_aas, aas
        .irp imm, 10, 0, 1, 2, 7, 16, 100, 255
        STUB stub_aam_\imm, aam $\imm
        STUB stub_aad_\imm, aad $\imm
        .endr
        .code64
