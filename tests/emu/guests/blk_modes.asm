; The same bytes at the same address run as 16-bit code (a 16-bit code
; segment), as 32-bit code and as 16-bit code again (Unicorn keeps a
; translation for each, of the same size): 4 instructions, then 2, then 4.
; Ends in hlt.
bits 16
org 0x7C00
    cli
    lgdt [gdtr]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp 0x18:p16a
p16a:
    mov ax, 0x10
    mov ss, ax
    mov esp, 0x7000
    call shared
    jmp 0x08:p32
bits 32
p32:
    call shared
    jmp 0x18:p16b
bits 16
p16b:
    call shared
    hlt
shared:
    db 0xB8, 0x01, 0x00, 0x40, 0x40   ; 16-bit: mov ax, 1; inc ax; inc ax. 32-bit: mov eax, 0x40400001
    ret
align 8
gdt:
    dq 0
    dq 0x00CF9A000000FFFF             ; 0x08: flat 32-bit code
    dq 0x00CF92000000FFFF             ; 0x10: flat data
    dq 0x00009A000000FFFF             ; 0x18: 16-bit code, base 0, limit 64 KiB
gdtr:
    dw 4 * 8 - 1
    dd gdt
