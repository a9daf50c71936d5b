/* A Multiboot v1 kernel that prints what its loader gave it, as text on the 0xE9 debug console:
 * EAX/EBX, the information structure's fields, the command line, every module (addresses,
 * string, first dword), the memory map and the boot loader name; then it exits through
 * isa-debug-exit (port 0xF4) with status 0x10. test/guests.test.ts boots it in QEMU (where
 * installed) and compares QEMU's answers with what our loader writes. Assembled with
 * --defsym AOUT=1 and flattened with objcopy, it is multiboot-info-aout.bin, loaded by the
 * header's address fields instead of ELF program headers.
 */
    .section .multiboot, "a"
    .align 4
.ifdef AOUT
    /* The a.out kludge: the loader places the flat image by these addresses (flag bit 16). */
mb_header:
    .long 0x1BADB002
    .long 0x00010003
    .long -(0x1BADB002 + 0x00010003)
    .long mb_header                 /* header_addr */
    .long _image_start              /* load_addr */
    .long _load_end                 /* load_end_addr */
    .long _bss_end                  /* bss_end_addr */
    .long _start                    /* entry_addr */
.else
    .long 0x1BADB002
    .long 0x00000003
    .long -(0x1BADB002 + 3)
.endif

    .text
    .code32
    .globl _start
_start:
    mov $stack_top, %esp
    mov %ebx, %ebp                  /* EBP = info structure */
    push %eax
    mov $s_eax, %esi
    call puts
    pop %eax
    call puthex
    mov $s_ebx, %esi
    call puts
    mov %ebp, %eax
    call puthex
    mov $s_flags, %esi
    call puts
    mov 0(%ebp), %eax
    call puthex
    mov $s_lower, %esi
    call puts
    mov 4(%ebp), %eax
    call puthex
    mov $s_upper, %esi
    call puts
    mov 8(%ebp), %eax
    call puthex
    mov $s_bootdev, %esi
    call puts
    mov 12(%ebp), %eax
    call puthex
    mov $s_cmdline, %esi
    call puts
    mov 16(%ebp), %esi
    call puts
    mov $s_mods, %esi
    call puts
    mov 20(%ebp), %eax
    call puthex
    mov $s_modsaddr, %esi
    call puts
    mov 24(%ebp), %eax
    call puthex

    mov 24(%ebp), %edi              /* EDI = module entry, ECX = modules left */
    mov 20(%ebp), %ecx
1:  test %ecx, %ecx
    jz 2f
    mov $s_mod, %esi
    call puts
    mov 0(%edi), %eax
    call puthex
    mov $s_end, %esi
    call puts
    mov 4(%edi), %eax
    call puthex
    mov $s_first, %esi
    call puts
    mov 0(%edi), %eax
    mov (%eax), %eax
    call puthex
    mov $s_string, %esi
    call puts
    mov 8(%edi), %esi
    call puts
    add $16, %edi
    dec %ecx
    jmp 1b

2:  mov $s_mmap, %esi
    call puts
    mov 44(%ebp), %eax
    call puthex
    mov 48(%ebp), %edi              /* EDI = entry, EBX = end */
    mov %edi, %ebx
    add 44(%ebp), %ebx
3:  cmp %ebx, %edi
    jae 4f
    mov $s_entry, %esi
    call puts
    mov 8(%edi), %eax
    call puthex
    mov 4(%edi), %eax
    call puthex
    mov $s_len, %esi
    call puts
    mov 16(%edi), %eax
    call puthex
    mov 12(%edi), %eax
    call puthex
    mov $s_type, %esi
    call puts
    mov 20(%edi), %eax
    call puthex
    add (%edi), %edi
    add $4, %edi
    jmp 3b

4:  mov $s_loader, %esi
    call puts
    mov 64(%ebp), %esi
    call puts
    mov $s_nl, %esi
    call puts
    mov $0x10, %al
    outb %al, $0xF4
    hlt

/* puts: prints the NUL-terminated string at ESI. */
puts:
    push %eax
5:  lodsb
    test %al, %al
    jz 6f
    outb %al, $0xE9
    jmp 5b
6:  pop %eax
    ret

/* puthex: prints EAX as 8 hexadecimal digits. */
puthex:
    push %ecx
    push %edx
    mov $8, %ecx
7:  rol $4, %eax
    mov %eax, %edx
    and $0xF, %edx
    movb hexdigits(%edx), %dl
    push %eax
    mov %dl, %al
    outb %al, $0xE9
    pop %eax
    dec %ecx
    jnz 7b
    pop %edx
    pop %ecx
    ret

    .section .rodata
hexdigits: .ascii "0123456789abcdef"
s_eax:     .asciz "eax="
s_ebx:     .asciz "\nebx="
s_flags:   .asciz "\nflags="
s_lower:   .asciz "\nmem_lower="
s_upper:   .asciz "\nmem_upper="
s_bootdev: .asciz "\nboot_device="
s_cmdline: .asciz "\ncmdline="
s_mods:    .asciz "\nmods_count="
s_modsaddr: .asciz "\nmods_addr="
s_mod:     .asciz "\nmod start="
s_end:     .asciz " end="
s_first:   .asciz " first="
s_string:  .asciz " string="
s_mmap:    .asciz "\nmmap_length="
s_entry:   .asciz "\nmmap base="
s_len:     .asciz " length="
s_type:    .asciz " type="
s_loader:  .asciz "\nloader="
s_nl:      .asciz "\n"

    .bss
    .align 16
    .skip 4096
stack_top:
