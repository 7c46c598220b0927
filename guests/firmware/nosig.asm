; nosig: a boot sector without the 55 AA signature. A BIOS must refuse to
; boot it ("not a bootable disk"); if one ran it anyway, it says so and exits
; with status 0x55 (rrvm: 0xAB).
bits 16
org 0x7C00
    mov al, 'X'
    out 0xE9, al
    mov al, 0x55
    out 0xF4, al
.halt:
    hlt
    jmp .halt
    times 512 - ($ - $$) db 0          ; bytes 510-511 stay 00 00
