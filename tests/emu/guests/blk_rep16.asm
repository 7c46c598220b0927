; rep string instructions in real mode, both address sizes (CX and ECX),
; both directions, every conditional form, a port string instruction and
; counts of 1 and 0. Ends in hlt.
bits 16
org 0x7C00
    cld
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov si, 0x7C00
    mov di, 0x1000
    mov cx, 23
    rep movsb                 ; 23 iterations
    mov eax, 0x12345678
    mov cx, 5
    rep stosw                 ; 5
    mov ecx, 7
    mov edi, 0x2000
    a32 rep stosd             ; 7 (ECX)
    mov si, 0x7C00
    mov di, 0x1000
    mov cx, 30
    repe cmpsb                ; 23 equal, the 24th differs
    mov di, 0x1000
    mov al, 0x78
    mov cx, 40
    repne scasb               ; stops at the first 0x78
    mov cx, 1
    rep lodsb                 ; 1
    std
    mov si, 0x7CFF
    mov di, 0x30FF
    mov cx, 6
    rep movsb                 ; 6, downwards
    cld
    mov ecx, 0x10000          ; CX = 0, ECX not: no iteration
    rep movsb
    hlt
