; Real mode with a non-zero CS base (as the VGA BIOS runs at C000:xxxx):
; loaded at 0x7C00, it continues at 07C0:start. Ends with out 0x10 = 9, hlt.
bits 16
org 0
    jmp 0x07C0:start
start:
    mov ax, 1
    inc ax
    inc ax
    inc ax
    inc ax
    inc ax
    inc ax
    inc ax
    inc ax
    out 0x10, al
    hlt
