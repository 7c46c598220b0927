; A loop that stores to 0x200000 and then writes port 0x80, three times. The
; test maps a dirty-logged slot there after the first pass, when the loop is
; already translated and no write hook existed: every later store must still
; be reported (in Unicorn a store that hits its TLB fast path skips the write
; hook unless the code is translated again).
bits 32
org 0x10000
    mov ecx, 3
again:
    mov byte [0x200000], cl
    out 0x80, al
    dec ecx
    jnz again
    hlt
