; Writes one byte each to pages 3 and 5, then hlt.
bits 16
org 0x7C00
    mov byte [0x3010], 1
    mov word [0x5FFE], 2
    hlt
