; ECX out instructions to port 0x99, then hlt.
bits 32
org 0x10000
top:
    out 0x99, al
    dec ecx
    jnz top
    hlt
