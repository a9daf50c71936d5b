/* A fake bzImage whose real-mode setup code prints, on the 0xE9 debug console, the setup-header
 * fields its loader filled in (QEMU's -kernel runs the setup code in real mode with DS = the
 * setup segment), then exits through isa-debug-exit (port 0xF4). test/guests.test.ts boots it in
 * QEMU (where installed) and compares with the boot_params our loadLinux writes. The
 * "protected-mode kernel" after the setup sectors is one sector of 0xF4 (HLT): our loader only
 * places it. Assembled as a flat binary from offset 0.
 */
    .code16
    .text
    .globl _start
_start:
    .org 0x1f1
setup_sects:    .byte 4
root_flags:     .word 0
syssize:        .long 1
ram_size:       .word 0
vid_mode:       .word 0xfffd        /* "ask": the loader writes its own */
root_dev:       .word 0
boot_flag:      .word 0xaa55
    .org 0x200
    jmp setup_main                  /* its second byte (0x201) gives the header's end */
    .org 0x202
    .ascii "HdrS"
version:        .word 0x020f
realmode_swtch: .long 0
start_sys_seg:  .word 0
kernel_version: .word 0
type_of_loader: .byte 0
loadflags:      .byte 0x01          /* LOADED_HIGH */
setup_move_size: .word 0x8000
code32_start:   .long 0x100000
ramdisk_image:  .long 0
ramdisk_size:   .long 0
bootsect_kludge: .long 0
heap_end_ptr:   .word 0
ext_loader_ver: .byte 0
ext_loader_type: .byte 0
cmd_line_ptr:   .long 0
initrd_addr_max: .long 0x01ffffff   /* low, so QEMU and we pick the same initrd limit */
kernel_alignment: .long 0x200000
relocatable_kernel: .byte 1
min_alignment:  .byte 21
xloadflags:     .word 0x0001        /* XLF_KERNEL_64 (not above 4G: initrd_addr_max applies) */
cmdline_size:   .long 255
hardware_subarch: .long 0
hardware_subarch_data: .quad 0
payload_offset: .long 0
payload_length: .long 0
setup_data:     .quad 0
pref_address:   .quad 0x1000000
init_size:      .long 0x10000
handover_offset: .long 0
kernel_info_offset: .long 0
header_end:

setup_main:
    mov %cs, %ax                    /* CS = DS + 0x20 */
    sub $0x20, %ax
    mov %ax, %ds
    mov $s_loader, %si
    call puts
    movb type_of_loader - _start, %al
    call puthex8
    mov $s_loadflags, %si
    call puts
    movb loadflags - _start, %al
    call puthex8
    mov $s_heap, %si
    call puts
    mov heap_end_ptr - _start, %ax
    call puthex16
    mov $s_vid, %si
    call puts
    mov vid_mode - _start, %ax
    call puthex16
    mov $s_cmdline, %si
    call puts
    mov cmd_line_ptr - _start + 2, %ax
    call puthex16
    mov cmd_line_ptr - _start, %ax
    call puthex16
    mov $s_rdimage, %si
    call puts
    mov ramdisk_image - _start + 2, %ax
    call puthex16
    mov ramdisk_image - _start, %ax
    call puthex16
    mov $s_rdsize, %si
    call puts
    mov ramdisk_size - _start + 2, %ax
    call puthex16
    mov ramdisk_size - _start, %ax
    call puthex16
    mov $s_code32, %si
    call puts
    mov code32_start - _start + 2, %ax
    call puthex16
    mov code32_start - _start, %ax
    call puthex16
    /* The command line, through ES = cmd_line_ptr >> 4. */
    mov $s_text, %si
    call puts
    mov cmd_line_ptr - _start, %ax
    mov cmd_line_ptr - _start + 2, %dx
    mov %ax, %di
    and $0xf, %di
    shr $4, %ax
    shl $12, %dx
    or %dx, %ax
    mov %ax, %es
1:  movb %es:(%di), %al
    test %al, %al
    jz 2f
    outb %al, $0xe9
    inc %di
    jmp 1b
2:  mov $s_nl, %si
    call puts
    mov $0x10, %al
    outb %al, $0xf4
    hlt

/* puts: prints the NUL-terminated string at DS:SI. */
puts:
    lodsb
    test %al, %al
    jz 3f
    outb %al, $0xe9
    jmp puts
3:  ret

/* puthex16: AX as 4 hexadecimal digits; puthex8: AL as 2. */
puthex16:
    push %ax
    mov %ah, %al
    call puthex8
    pop %ax
puthex8:
    push %ax
    shr $4, %al
    call nibble
    pop %ax
nibble:
    and $0xf, %al
    add $'0', %al
    cmp $'9', %al
    jbe 4f
    add $('a' - '0' - 10), %al
4:  outb %al, $0xe9
    ret

s_loader:   .asciz "type_of_loader="
s_loadflags: .asciz "\nloadflags="
s_heap:     .asciz "\nheap_end_ptr="
s_vid:      .asciz "\nvid_mode="
s_cmdline:  .asciz "\ncmd_line_ptr="
s_rdimage:  .asciz "\nramdisk_image="
s_rdsize:   .asciz "\nramdisk_size="
s_code32:   .asciz "\ncode32_start="
s_text:     .asciz "\ncmdline="
s_nl:       .asciz "\n"

    .org 5 * 512
kernel:
    .fill 512, 1, 0xf4
