; MMIO writes and reads of 1, 2, 4 and 8 bytes (8 via MMX movq), flat 32-bit.
bits 32
org 0x10000
MM equ 0xE0000000
    mov byte [MM+0], 0x11
    mov word [MM+2], 0x2233
    mov dword [MM+4], 0x44556677
    movq mm0, [q_src]
    movq [MM+8], mm0
    mov al, [MM+0x10]
    mov [res1], al
    mov ax, [MM+0x12]
    mov [res2], ax
    mov eax, [MM+0x14]
    mov [res4], eax
    movq mm1, [MM+0x18]
    movq [res8], mm1
    hlt
align 8
q_src: dq 0x8877665544332211
res8:    dq 0
res4:    dd 0
res2:    dw 0
res1:    db 0
; trailer read by the test: addresses of the results
    dd res1, res2, res4, res8
