; Code in a page the VMM writes while the guest waits in hlt: the block at
; 0x12000 runs, the test rewrites it (a device's write), it runs again.
bits 32
org 0x10000
    xor eax, eax
    mov ecx, 3
.round:
    call 0x12000
    hlt                       ; the test writes new code at 0x12000 here
    dec ecx
    jnz .round
    hlt
times 0x2000 - ($ - $$) db 0
    inc eax                   ; at 0x12000: replaced by the test
    inc eax
    inc eax
    ret
