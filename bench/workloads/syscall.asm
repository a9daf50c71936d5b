; syscall: privilege round trips from ring 3 — per iteration one SYSCALL/SYSRET pair and one
; INT 0x80/IRETQ pair through a DPL-3 interrupt gate (stack switch through TSS.RSP0).
; 12 instructions per iteration (6 in ring 3, 6 in the two handlers).
%define WORKLOAD_NAME "syscall"
%define MODE 64
%define DEFAULT_ITERATIONS 1000000
%define INSNS_PER_ITERATION 12
%include "boot.inc"

%define USER_STACK   0x70000
%define KERNEL_STACK 0x60000
%define IDT          0x8e000          ; 256 gates x 16 bytes

bits 64
workload:
    mov [rel saved_rsp], rsp
    mov r12d, ecx                     ; iterations, kept in ring 3
    ; TSS: RSP0 for the interrupt gate's stack switch.
    lea rax, [rel tss]
    mov qword [rax + 4], KERNEL_STACK
    mov word [rax + 102], 104         ; I/O map base beyond the limit: no bitmap
    lea rdi, [rel tss_desc]
    mov word [rdi], 103               ; limit
    mov [rdi + 2], ax                 ; base 15:0
    shr rax, 16
    mov [rdi + 4], al                 ; base 23:16
    mov byte [rdi + 5], 0x89          ; present, 64-bit TSS (available)
    mov byte [rdi + 6], 0
    mov [rdi + 7], ah                 ; base 31:24
    mov dword [rdi + 8], 0            ; base 63:32
    mov ax, 0x40
    ltr ax
    ; IDT: vector 0x80 -> int80_handler, DPL 3.
    mov rdi, IDT
    xor eax, eax
    mov ecx, 512
    rep stosq
    lea rax, [rel int80_handler]
    mov rdi, IDT + 0x80 * 16
    mov [rdi], ax
    mov word [rdi + 2], 0x18
    mov word [rdi + 4], 0xee00        ; present, DPL 3, 64-bit interrupt gate
    shr rax, 16
    mov [rdi + 6], ax
    mov dword [rdi + 8], 0
    mov dword [rdi + 12], 0
    lidt [rel idt_desc]
    ; SYSCALL: STAR (kernel CS 0x18, user base 0x28 -> SYSRET CS 0x3b, SS 0x33), LSTAR, FMASK.
    mov ecx, 0xc0000081
    xor eax, eax
    mov edx, 0x002b0018
    wrmsr
    mov ecx, 0xc0000082
    lea rax, [rel syscall_handler]
    mov rdx, rax
    shr rdx, 32
    wrmsr
    mov ecx, 0xc0000084
    mov eax, 0x200                    ; clear IF on entry
    xor edx, edx
    wrmsr
    ; Enter ring 3.
    xor r8d, r8d
    push qword 0x33                   ; SS
    push qword USER_STACK             ; RSP
    push qword 0x002                  ; RFLAGS (IF clear)
    push qword 0x3b                   ; CS
    lea rax, [rel user_loop]
    push rax
    iretq

user_loop:
    mov eax, 1
    syscall
    add r8, rax
    int 0x80
    dec r12d
    jnz user_loop
    xor eax, eax                      ; function 0: leave ring 3 for good
    syscall

syscall_handler:                      ; RCX = return RIP, R11 = RFLAGS
    test eax, eax
    jz .leave
    add eax, r12d
    o64 sysret
.leave:
    mov ax, 0x20
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov rsp, [rel saved_rsp]
    mov rax, r8
    ret

int80_handler:
    add r8, 3
    iretq

align 8
saved_rsp: dq 0
idt_desc:
    dw 256 * 16 - 1
    dq IDT
align 16
tss: times 104 db 0

%include "footer.inc"
