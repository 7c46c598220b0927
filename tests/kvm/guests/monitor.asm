; Memory peek/poke driven by the host over ports, flat 32-bit:
;   in 0x40 -> command (1 read dword, 2 write byte, else hlt)
;   in 0x41 -> address; read: out 0x42 <- [address]; write: in 0x43 -> byte
bits 32
org 0x10000
next:
    in eax, 0x40
    cmp eax, 1
    je read
    cmp eax, 2
    je write
    hlt
    jmp next
read:
    in eax, 0x41
    mov eax, [eax]
    out 0x42, eax
    jmp next
write:
    in eax, 0x41
    mov ebx, eax
    in eax, 0x43
    mov [ebx], al
    jmp next
