; Port I/O of each size, with the host's `in` values echoed back out.
bits 16
org 0x7C00
    mov al, 0x41
    out 0x10, al            ; byte out
    in al, 0x11             ; byte in, value from the host
after_in:
    out 0x12, al            ; echo it
    mov dx, 0x1234
    mov ax, 0xBEEF
    out dx, ax              ; word out
    in eax, dx              ; dword in
    mov [result], eax
    out dx, eax             ; echo it
    hlt
after_hlt:
    jmp after_hlt
result: dd 0
; trailer read by the test
    dd after_hlt, result, after_in
