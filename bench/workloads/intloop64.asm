; intloop64: a CPU-bound integer loop in 64-bit long mode with 4-level paging — ALU operations,
; a data-dependent branch, and loads and stores to a 4 KiB array on its own page.
; 13 instructions per iteration on either path of the branch.
%define WORKLOAD_NAME "intloop64"
%define MODE 64
%define DEFAULT_ITERATIONS 20000000
%define INSNS_PER_ITERATION 13
%include "boot.inc"

%define ARRAY 0x80000

bits 64
workload:
    mov rdi, ARRAY
    push rcx
    mov ecx, 512
    xor eax, eax
    rep stosq
    pop rcx
    mov rsi, ARRAY
    mov rdx, 0x9e3779b97f4a7c15
    xor r8d, r8d
.loop:
    mov r9, [rsi + r8 * 8]
    add r9, rdx
    xor rax, r9
    rol rax, 13
    mov [rsi + r8 * 8], r9
    lea r8, [r8 + 1]
    and r8d, 511
    test r9b, 1
    jz .even
    add rax, rcx
    jmp .next
.even:
    sub rax, rcx
    nop
.next:
    dec ecx
    jnz .loop
    ret

%include "footer.inc"
