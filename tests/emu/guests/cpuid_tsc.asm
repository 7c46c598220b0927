; CPUID from rrvm's table, virtual RDTSC, RDRAND -> #UD.
bits 16
org 0x7C00
    mov word [6*4], h_ud
    mov word [6*4+2], 0
    xor eax, eax
    cpuid
    out 0x40, eax
    mov eax, ebx
    out 0x41, eax
    rdtsc
    out 0x42, eax
    rdtsc
    out 0x43, eax
rd: rdrand eax
    hlt
h_ud:
    push bp
    mov bp, sp
    mov ax, [bp+2]
    out 0x44, ax
    add word [bp+2], 4    ; 66 0F C7 F0
    pop bp
    iret
labels: dw rd
