; Pseudo-random ports, MMIO addresses (all >= 1 MiB, outside RAM), sizes and
; values, reads and writes; ECX iterations, then hlt.
bits 32
org 0x10000
    mov esi, 12345
top:
    imul esi, esi, 1103515245
    add esi, 12345
    mov edx, esi
    shr edx, 8
    mov eax, esi
    test esi, 0x100
    jz .in
    out dx, eax
    out dx, al
    jmp .mem
.in:
    in eax, dx
    in al, dx
.mem:
    mov edi, esi
    rol edi, 13
    or edi, 0x00100000
    and edi, 0xFFFFFFF0
    mov [edi], esi
    mov [edi+4], si
    mov [edi+8], al
    mov eax, [edi]
    mov ax, [edi+2]
    mov al, [edi+1]
    dec ecx
    jnz top
    hlt
