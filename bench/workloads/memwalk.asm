; memwalk: touches every 4 KiB page of 64 MiB under 4-level paging, reloading CR3 before each
; round so that every touch needs a translation (TLB refill). One round = 16384 page touches,
; 4 instructions per touch; `iterations` is the number of rounds.
%define WORKLOAD_NAME "memwalk"
%define MODE 64
%define DEFAULT_ITERATIONS 200
%define INSNS_PER_ITERATION (16384 * 4 + 5)
%include "boot.inc"

%define REGION     0x1000000          ; 16 MiB .. 80 MiB
%define PAGES      16384
%define PT_BASE    0x200000           ; 32 page tables (128 KiB), inside the first 2 MiB... mapped by PD0[1]

bits 64
workload:
    push rcx
    ; Page tables for the region: PD0 entries 8..39 point to 4 KiB-page tables.
    mov rdi, PT_BASE
    mov rax, REGION | 7               ; P | RW | US
    mov ecx, PAGES
.pte:
    mov [rdi], rax
    add rax, 0x1000
    add rdi, 8
    dec ecx
    jnz .pte
    mov rdi, PD0 + 8 * 8
    mov rax, PT_BASE | 7
    mov ecx, 32
.pde:
    mov [rdi], rax
    add rax, 0x1000
    add rdi, 8
    dec ecx
    jnz .pde
    mov rax, cr3
    mov cr3, rax
    ; Give each page a value: its index.
    mov rdi, REGION
    xor eax, eax
.init:
    mov [rdi], rax
    add rdi, 0x1000
    inc eax
    cmp eax, PAGES
    jne .init
    pop rcx
    xor eax, eax
.round:
    mov rdx, cr3
    mov cr3, rdx                      ; flush the TLB's non-global entries
    mov rsi, REGION
    mov edx, PAGES
.touch:
    add rax, [rsi]
    add rsi, 0x1000
    dec edx
    jnz .touch
    dec ecx
    jnz .round
    ret

%include "footer.inc"
