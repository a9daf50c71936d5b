; smc: code that rewrites itself — each iteration stores the loop counter into the immediate of
; an instruction it is about to execute, on the same page. 5 instructions per iteration.
; The checksum is the sum of the counter values, n(n+1)/2.
%define WORKLOAD_NAME "smc"
%define MODE 64
%define DEFAULT_ITERATIONS 200000
%define INSNS_PER_ITERATION 5
%include "boot.inc"

bits 64
workload:
    xor r8d, r8d
.loop:
    mov [rel .patch + 1], ecx
.patch:
    mov eax, 0x12345678               ; B8 imm32: the immediate is rewritten every iteration
    add r8, rax
    dec ecx
    jnz .loop
    mov rax, r8
    ret

%include "footer.inc"
