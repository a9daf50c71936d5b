; intloop32: the integer loop of intloop64 in 32-bit protected mode (flat segments, no paging),
; on a 64-bit checksum kept in EDX:EAX. 15 instructions per iteration on either path.
%define WORKLOAD_NAME "intloop32"
%define MODE 32
%define DEFAULT_ITERATIONS 20000000
%define INSNS_PER_ITERATION 15
%include "boot.inc"

%define ARRAY 0x80000

bits 32
workload:
    push ebx
    push esi
    push edi
    push ebp
    mov edi, ARRAY
    push ecx
    mov ecx, 1024
    xor eax, eax
    rep stosd
    pop ecx
    mov esi, ARRAY
    xor eax, eax
    xor edx, edx
    xor ebp, ebp
.loop:
    mov ebx, [esi + ebp * 4]
    add ebx, 0x9e3779b9
    xor eax, ebx
    adc edx, eax
    rol eax, 13
    mov [esi + ebp * 4], ebx
    lea ebp, [ebp + 1]
    and ebp, 1023
    xor edx, ecx
    test bl, 1
    jz .even
    add eax, ecx
    jmp .next
.even:
    sub eax, ecx
    nop
.next:
    dec ecx
    jnz .loop
    pop ebp
    pop edi
    pop esi
    pop ebx
    ret

%include "footer.inc"
