/* (d) Long mode: 4-level paging (the first GiB identity-mapped with 2 MiB pages), the switch through
 * EFER.LME and CR0.PG, a 64-bit IDT whose #PF handler checks CR2 and the error code of a write to
 * an address whose page-directory entry is not present, maps it, and lets the write retry. test_main(magic, mbi) is called by start.S. */
        .set COM1, 0x3f8
        .set TARGET, 0x3fe00123        /* 1 GiB - 2 MiB + 0x123: its PD entry (511) is left not present */

        .text
        .code32
        .globl test_main
test_main:
        /* The identity map: PML4[0] -> PDPT, PDPT[0] -> PD, PD[i] = i * 2 MiB (present, writable, large), i < 511. */
        mov $pd, %edi
        xor %ecx, %ecx
1:      mov %ecx, %eax
        shl $21, %eax
        or $0x83, %eax
        mov %eax, (%edi,%ecx,8)
        movl $0, 4(%edi,%ecx,8)
        inc %ecx
        cmp $511, %ecx
        jne 1b
        movl $pdpt + 3, pml4
        movl $pd + 3, pdpt
        /* The 64-bit IDT: every vector to `unexpected`, #PF (14) to `page_fault`. */
        xor %ecx, %ecx
2:      mov $unexpected, %eax
        cmp $14, %ecx
        jne 3f
        mov $page_fault, %eax
3:      mov %ecx, %edx
        shl $4, %edx
        mov %ax, idt64(%edx)
        movw $0x18, idt64+2(%edx)
        movw $0x8e00, idt64+4(%edx)
        shr $16, %eax
        mov %ax, idt64+6(%edx)
        movl $0, idt64+8(%edx)
        movl $0, idt64+12(%edx)
        inc %ecx
        cmp $32, %ecx
        jne 2b
        /* PAE, CR3, EFER.LME, then paging: long mode (compatibility), then a far jump to 64-bit code. */
        mov %cr4, %eax
        or $0x20, %eax
        mov %eax, %cr4
        mov $pml4, %eax
        mov %eax, %cr3
        mov $0xc0000080, %ecx
        rdmsr
        or $0x100, %eax
        wrmsr
        mov %cr0, %eax
        or $0x80000000, %eax
        mov %eax, %cr0
        ljmp $0x18, $long_mode

        .code64
long_mode:
        lidt idt64_ptr(%rip)
        mov $0x10, %ax
        mov %ax, %ds
        mov %ax, %ss
        /* EFER.LMA must be set now. */
        mov $0xc0000080, %ecx
        rdmsr
        test $0x400, %eax
        jz fail64
        lea msg_long(%rip), %rsi
        call puts64
        movl $0x42, TARGET             /* #PF: not present, write, supervisor (error code 2) */
        cmpl $0x42, TARGET
        jne fail64
        cmpq $TARGET, saved_cr2(%rip)
        jne fail64
        cmpq $2, saved_error(%rip)
        jne fail64
        cmpl $1, faults(%rip)
        jne fail64
        lea msg_pf(%rip), %rsi
        call puts64
        lea msg_pass(%rip), %rsi
        call puts64
        xor %eax, %eax
        jmp exit64

page_fault:
        push %rax
        mov %cr2, %rax
        mov %rax, saved_cr2(%rip)
        mov 8(%rsp), %rax              /* the error code, under the saved RAX */
        mov %rax, saved_error(%rip)
        incl faults(%rip)
        /* Map the faulting 2 MiB to physical 4 MiB: PD[511] = 4 MiB, large page. */
        movq $0x400083, pd+511*8(%rip)
        pop %rax
        add $8, %rsp                   /* drop the error code */
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
4:      lodsb
        test %al, %al
        jz 6f
        mov %al, %ah
5:      in %dx, %al
        test $0x20, %al
        jz 5b
        mov $COM1, %dx
        mov %ah, %al
        out %al, %dx
        mov $COM1 + 5, %dx
        jmp 4b
6:      ret

        .section .rodata
msg_long: .asciz "long mode: 64-bit code running, EFER.LMA set\n"
msg_pf:   .asciz "long mode: #PF at 0x3fe00123 with error code 2 handled, write retried\n"
msg_pass: .asciz "PASS\n"
msg_fail: .asciz "FAIL: long mode check\n"
        .align 8
idt64_ptr: .word 32 * 16 - 1
        .long idt64, 0                 /* a 64-bit base (the image is below 4 GiB) */

        .data
        .align 8
saved_cr2:   .quad 0
saved_error: .quad 0
faults:      .long 0

        .bss
        .align 4096
pml4:   .space 4096
pdpt:   .space 4096
pd:     .space 4096
idt64:  .space 32 * 16
        .section .note.GNU-stack, "", @progbits
