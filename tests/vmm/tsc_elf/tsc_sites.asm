; A kernel-like image for tsc_sites_test: TSC reads in several executable
; sections (one named .altinstr_replacement, as Linux's alternatives), the
; bytes of rdtsc and rdtscp inside other instructions' immediates (never
; instruction starts), and the same bytes in a data section (never swept).
; Assembled as ELF32 and ELF64 (-DBITS64); tsc_sites_test.cpp knows the
; layout below.
%ifdef BITS64
bits 64
%else
bits 32
%endif

section .text progbits alloc exec nowrite align=16
global _start
_start:
    nop
    rdtsc                          ; site 1
    mov eax, 0x12310F90            ; B8 90 0F 31 12: 0F 31 in an immediate
    mov ecx, 0xF9010F00            ; B9 00 0F 01 F9: 0F 01 F9 in an immediate
    rdtscp                         ; site 2
    lfence
    rdtsc                          ; site 3
    cmp dword [eax + 0x310F], 7    ; 0F 31 in a displacement
    ret

section .init.text progbits alloc exec nowrite align=16
    xor eax, eax
    rdtsc                          ; site 4
    ret

section .altinstr_replacement progbits alloc exec nowrite align=1
    lfence                         ; "lfence; rdtsc"
    rdtsc                          ; site 5
    rdtscp                         ; site 6

section .rodata progbits alloc noexec nowrite align=4
    db 0x0F, 0x31, 0x0F, 0x01, 0xF9  ; data: not an executable section
