; An MMIO store and load in the middle of register-only code: what follows
; an MMIO exit (a stop, an interrupt) must come right after that instruction.
bits 32
org 0x10000
    mov eax, 0x1234
    mov ebx, 1
    add eax, ebx
    mov [0x200000], eax       ; MMIO (outside the harness's 1 MiB of RAM)
after_store:
    inc ebx
    inc ebx
    mov ecx, [0x200010]       ; MMIO read
after_load:
    add ecx, ebx
    shl ecx, 1
    hlt
labels: dd after_store, after_load
