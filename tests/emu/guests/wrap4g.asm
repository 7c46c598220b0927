; A dword store at 0xFFFFFFFE in 32-bit mode: its upper half wraps to
; physical 0 as on the CPU (the low half is outside RAM: an MMIO exit), and a
; dword load there reads back across the wrap. Reports 0x80: the word at 0.
bits 32
org 0x10000
    cli
    mov word [0], 0
    mov dword [0xFFFFFFFE], 0x11223344
    movzx eax, word [0]
    out 0x80, eax
    mov eax, [0xFFFFFFFE]
    out 0x81, eax
    hlt
