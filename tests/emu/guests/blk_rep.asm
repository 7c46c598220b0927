; rep string instructions and loop between ordinary blocks (block counting:
; stops inside rep iterations and loop bodies). Ends in hlt.
bits 32
org 0x10000
    cld
    mov esi, 0x10000
    mov edi, 0x20000
    mov ecx, 37
    rep movsb
    mov eax, 0x11223344
    mov ecx, 9
    rep stosd
    mov ecx, 5
.l: add eax, ecx
    rol eax, 3
    loop .l
    mov edi, 0x20000
    mov ecx, 64
    mov al, 0x44
    repne scasb
    mov esi, 0x20000
    mov edi, 0x10000
    mov ecx, 8
    repe cmpsb
    std
    mov esi, 0x20010
    mov edi, 0x20110
    mov ecx, 11
    rep movsw
    cld
    a16 rep movsb             ; CX = 0: no iteration
    hlt
