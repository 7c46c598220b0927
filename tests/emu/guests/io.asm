; Port and MMIO exits in real mode. RAM ends at 0x80000; 0xA0000 is a hole.
bits 16
org 0x7C00
    mov al, 0x5A
    out 0x10, al
    mov ax, 0x1234
    out 0x12, ax
    mov eax, 0xDEADBEEF
    out 0x14, eax
    in al, 0x20
    mov [0x600], al
    in ax, 0x22
    mov [0x602], ax
    in eax, 0x24
    mov [0x604], eax
    mov ax, 0xA000
    mov es, ax
    mov byte [es:0], 0x11
    mov word [es:2], 0x2233
    mov dword [es:4], 0x44556677
    mov al, [es:8]
    mov [0x608], al
    mov bx, [es:0xA]
    mov [0x60A], bx
    mov ecx, [es:0xC]
    mov [0x60C], ecx
    xor ax, ax
    mov es, ax
    mov si, msg
    mov cx, 3
    mov dx, 0xE9
    cld
    rep outsb
    mov di, 0x610
    mov cx, 2
    mov dx, 0x30
    rep insb
    hlt
msg: db "abc"
