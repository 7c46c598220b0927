; Real-mode external interrupt: vector 0x20 handler reports the saved IP.
bits 16
org 0x7C00
    cli
    mov word [0x20*4], handler
    mov word [0x20*4+2], 0
    out 0x80, al          ; marker: IF=0 here
    nop
    sti
shadowed:
    nop                   ; runs in the sti shadow
after_shadow:
    nop
    nop
    out 0x82, al          ; back from the handler
    hlt
handler:
    push bp
    mov bp, sp
    mov ax, [bp+2]        ; saved IP
    out 0x81, ax
    pushf
    pop ax
    out 0x83, ax          ; FLAGS inside the handler (IF must be 0)
    pop bp
    iret
labels: dw shadowed, after_shadow
