; Self-modifying code for block counting: the block at `patch` runs, is
; rewritten (same size, another instruction count) and runs again, six
; times; then a store into the block that is running (the bytes just ahead
; of it). Ends in hlt. EAX, EBX, EDX tell what ran.
bits 32
org 0x10000
    mov ecx, 6
    xor eax, eax
    mov ebx, 3
again:
patch:
    inc eax               ; 40 40: two instructions; 01 D8 (add eax, ebx): one
    inc eax
    add eax, ebx
    dec ecx
    jz done
    mov dx, [patch]
    cmp dx, 0x4040
    jne .back
    mov word [patch], 0xD801
    jmp again
.back:
    mov word [patch], 0x4040
    jmp again
done:
    mov byte [ahead + 1], 7   ; the running block's own bytes: mov dl, 5 -> mov dl, 7
ahead:
    mov dl, 5
    add eax, edx
    mov esi, 0x10000
    mov edi, 0x30000
    mov ecx, 40
    rep movsb                 ; ends a block; 40 iterations and the final check
    hlt
