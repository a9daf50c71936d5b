/* A tiny Multiboot v1 kernel: prints "hello from multiboot" to the 0xE9 debug console, checks
 * EAX, then reports success through isa-debug-exit (port 0xF4). Built by build.sh with GNU as/ld
 * into multiboot-hello.elf (committed); test/guests.test.ts checks the image matches this source.
 */
    .section .multiboot, "a"
    .align 4
    .long 0x1BADB002            /* magic */
    .long 0x00000003            /* flags: page-align modules, memory info */
    .long -(0x1BADB002 + 3)     /* checksum */

    .text
    .globl _start
    .code32
_start:
    cmpl $0x2BADB002, %eax
    jne fail
    mov $message, %esi
1:  lodsb
    test %al, %al
    jz done
    outb %al, $0xE9
    jmp 1b
done:
    mov $0x10, %al              /* exit status (0x10 << 1) | 1 = 33 */
    outb %al, $0xF4
    hlt
fail:
    mov $0x11, %al
    outb %al, $0xF4
    hlt

    .section .rodata
message:
    .asciz "hello from multiboot\n"

    .bss
    .align 16
stack:
    .skip 4096
