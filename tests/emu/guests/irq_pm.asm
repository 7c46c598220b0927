; 32-bit protected-mode external interrupt through an interrupt gate, and a
; software interrupt through a trap gate (IF kept). Flat GDT from rrvm.
bits 32
org 0x10000
    cli
    mov eax, handler
    mov [idt+0x20*8], ax
    mov word [idt+0x20*8+2], 0x08
    mov word [idt+0x20*8+4], 0x8E00   ; present, 32-bit interrupt gate
    shr eax, 16
    mov [idt+0x20*8+6], ax
    mov eax, trap_handler
    mov [idt+0x30*8], ax
    mov word [idt+0x30*8+2], 0x08
    mov word [idt+0x30*8+4], 0x8F00   ; present, 32-bit trap gate
    shr eax, 16
    mov [idt+0x30*8+6], ax
    lidt [idtr]
    out 0x80, al
    nop
    sti
shadowed:
    nop
after_shadow:
    nop
    nop
    out 0x82, al
    int 0x30
    hlt
handler:
    mov eax, [esp]        ; saved EIP
    out 0x81, eax
    pushfd
    pop eax
    out 0x83, eax
    iretd
trap_handler:
    pushfd
    pop eax
    out 0x84, eax
    iretd
idtr:
    dw 256*8-1
    dd idt
align 8
idt: times 256*8 db 0
labels: dd shadowed, after_shadow
