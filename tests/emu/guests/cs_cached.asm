; The CPU keeps the CS base it loaded at a far jump even when the descriptor
; in memory changes afterwards (firmware remaps the segment holding its GDT).
; A stop after the change must resume where the CPU is, not where the new
; descriptor points. Flat GDT from rrvm: 0x08 code, 0x10 data.
bits 32
org 0x10000
    cli
    lgdt [gdtr]
    jmp 0x18:reloaded
reloaded:
    mov byte [gdt+0x18+3], 0x01   ; the descriptor's base becomes 0x100
    out 0x80, al                  ; the test stops at the boundary after this
after_out:
    mov eax, 0x1234
    out 0x81, eax
    hlt
align 8
gdt:
    dq 0
    dq 0x00CF9A000000FFFF         ; 0x08 flat code
    dq 0x00CF92000000FFFF         ; 0x10 flat data
    dq 0x00CF9A000000FFFF         ; 0x18 flat code, rewritten above
gdt_end:
gdtr:
    dw gdt_end - gdt - 1
    dd gdt
labels: dd after_out
