; Real-mode interrupt delivery: IF=0 blocks, the window opens after sti's
; shadow, and an interrupt injected at hlt wakes the guest.
bits 16
org 0x7C00
VEC equ 0x20
    mov word [VEC*4], handler
    mov word [VEC*4+2], 0
    cli
    out 0x10, al            ; host: cannot inject here
    nop
    sti
    mov al, 1               ; in sti's interrupt shadow
after_shadow:
    out 0x11, al
    hlt
after_hlt:
    out 0x12, al
    cli
    hlt
handler:
    push ax
    mov al, [count]
    inc al
    mov [count], al
    out 0x20, al
    pop ax
    iret
count: db 0
; trailer read by the test
    dd after_shadow, after_hlt, count
