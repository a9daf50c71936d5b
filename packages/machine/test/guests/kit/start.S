/* Multiboot v1 entry of every kit guest: our own GDT, a stack, then test_main(magic, mbi). */
        .set MB_MAGIC, 0x1badb002
        .set MB_FLAGS, 0x00000003      /* page-align modules, memory info */
        .section .multiboot, "a"
        .align 4
        .long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

        .text
        .code32
        .globl _start
_start:
        cli
        mov $stack_top, %esp
        mov %eax, %esi
        mov %ebx, %edi
        lgdt gdt_ptr
        ljmp $0x08, $1f
1:      mov $0x10, %cx
        mov %cx, %ds
        mov %cx, %es
        mov %cx, %fs
        mov %cx, %gs
        mov %cx, %ss
        call serial_init
        push %edi
        push %esi
        call test_main
        push $no_return
        call fail

        .section .rodata
no_return: .asciz "test_main returned"
        .align 8
        .globl gdt
gdt:    .quad 0
        .quad 0x00cf9a000000ffff       /* 0x08: 32-bit code */
        .quad 0x00cf92000000ffff       /* 0x10: data */
        .quad 0x00af9a000000ffff       /* 0x18: 64-bit code */
gdt_end:
gdt_ptr: .word gdt_end - gdt - 1
        .long gdt

/* Exception stubs: push a dummy error code where the CPU pushes none, then the vector. */
        .text
.macro STUB v
exc_\v:
        .if (\v == 8) || (\v >= 10 && \v <= 14) || (\v == 17) || (\v == 21)
        .else
        push $0
        .endif
        push $\v
        jmp exc_common
.endm
        .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        STUB \v
        .endr
exc_common:
        /* stack: vector, error, eip: call exception_report(vector, error, eip) */
        call exception_report

        .section .rodata
        .align 4
        .globl exception_stubs
exception_stubs:
        .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        .long exc_\v
        .endr

        .bss
        .align 16
        .space 16384
stack_top:

/* IRQ stubs: save the caller-saved registers, irq_dispatch(irq) (which sends the EOI), iret. */
        .text
.macro IRQ n
        .globl irq\n\()_stub
irq\n\()_stub:
        push %eax                      /* the registers C may clobber (PUSHA is not used: */
        push %ecx                      /* the Turtles CPU lacks it) */
        push %edx
        push $\n
        call irq_dispatch
        add $4, %esp
        pop %edx
        pop %ecx
        pop %eax
        iret
.endm
        IRQ 0
        IRQ 8
        .section .note.GNU-stack, "", @progbits
