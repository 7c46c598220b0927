; tsc_reads: an ELF32 guest (flat32.ld) that reads the TSC through rdtsc and
; rdtscp, for rrvm's TSC patching (vmm/tsc_sites.h; run it with
; --patch-tsc: every read is then an exit whose value rrvm records and
; replays). Prints 8 values, then reads LOOPS more in a tight loop checking
; that none goes back, prints the XOR of all of them, then checks rdtscp
; (ECX = TSC_AUX = 0) and that an immediate holding rdtsc's bytes was left
; alone. Exit 0. Without --patch-tsc on kvm the reads are the host's
; unrecorded TSC: a replay then diverges at the first printed digit.
%include "macros.inc"
bits 32

%ifndef LOOPS
LOOPS equ 2000
%endif

section .multiboot progbits alloc noexec nowrite align=4
    dd 0x1BADB002
    dd 0
    dd -0x1BADB002

section .text
global _start
_start:
    cli
    mov esp, stack_top
    call uart_init
    PRINT "tsc_reads: 8 reads", 10
    xor ebx, ebx                       ; previous value, high:low in edi:ebx
    xor edi, edi
    mov ebp, 8
.show:
    rdtsc
    call check_step
    push eax
    mov eax, edx
    mov cl, 8
    call put_hex
    pop eax
    call put_hex
    mov al, 10
    call putc
    dec ebp
    jnz .show
    PRINT "tsc_reads: "
    mov eax, LOOPS
    call put_dec
    PRINT " more", 10
    mov ebp, LOOPS
    xor esi, esi                       ; XOR of the low halves
.loop:
    rdtsc
    call check_step
    xor esi, eax
    dec ebp
    jnz .loop
    PRINT "tsc_reads: xor "
    mov eax, esi
    mov cl, 8
    call put_hex
    mov al, 10
    call putc
    PRINT "tsc_reads: rdtscp aux 0 and later: "
    mov ecx, 0x12345678
    rdtscp
    test ecx, ecx
    jnz .no
    call check_step
    PRINT "yes", 10
    jmp .imm
.no:
    PRINT "no", 10
.imm:
    PRINT "tsc_reads: immediate intact: "
    mov eax, 0x12310F90                ; B8 90 0F 31 12: not an rdtsc
    cmp eax, 0x12310F90
    PRINT_YESNO e
    EXIT 0

; edx:eax must not be below edi:ebx (then it becomes the previous value).
check_step:
    cmp edx, edi
    ja .ok
    jb .back
    cmp eax, ebx
    jae .ok
.back:
    PRINT "tsc_reads: the TSC went back", 10
    EXIT 1
.ok:
    mov edi, edx
    mov ebx, eax
    ret

%include "console.inc"

section .data                          ; keeps .bss out of the code's segment
    dd 0

section .bss
    resb 4096
stack_top:
