; mmio: MMIO round trips to a device register present on every PC emulator — the I/O APIC's
; register-select latch (IOREGSEL at 0xFEC00000). Two MMIO accesses and 7 instructions per iteration.
%define WORKLOAD_NAME "mmio"
%define MODE 64
%define DEFAULT_ITERATIONS 10000000
%define INSNS_PER_ITERATION 7
%include "boot.inc"

bits 64
workload:
    mov edi, 0xfec00000
    xor r8d, r8d
.loop:
    mov eax, ecx
    mov [rdi], eax
    mov eax, [rdi]
    and eax, 0xff
    add r8, rax
    dec ecx
    jnz .loop
    mov dword [rdi], 0
    mov rax, r8
    ret

%include "footer.inc"
