; A compute loop with stores and a rep movsb, ending in hlt. ECX = iterations
; (set by the test; 0 would mean 2^32).
bits 32
org 0x10000
    xor eax, eax
    mov ebx, 0x20000
top:
    add eax, ecx
    imul eax, eax, 3
    mov [ebx], eax
    xor ebx, 4
    or ebx, 0x20000
    dec ecx
    jnz top
    mov esi, 0x10000
    mov edi, 0x21000
    mov ecx, 16
    rep movsb
    hlt
