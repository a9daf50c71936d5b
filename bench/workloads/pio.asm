; pio: port I/O round trips to a device register present on every PC emulator — the 16550's
; scratch register (COM1 + 7). Two port accesses and 7 instructions per iteration.
%define WORKLOAD_NAME "pio"
%define MODE 64
%define DEFAULT_ITERATIONS 10000000
%define INSNS_PER_ITERATION 7
%include "boot.inc"

bits 64
workload:
    mov dx, 0x3ff
    xor r8d, r8d
.loop:
    mov eax, ecx
    out dx, al
    in al, dx
    movzx eax, al
    add r8, rax
    dec ecx
    jnz .loop
    mov rax, r8
    ret

%include "footer.inc"
