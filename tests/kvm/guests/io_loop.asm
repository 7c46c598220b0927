; Endless port writes: exit-rate measurement.
bits 16
org 0x7C00
again:
    out 0x10, al
    jmp again
