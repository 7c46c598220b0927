; consoleodd: console accesses that a second decoding of the ports gets wrong.
; Bytes written to THR in loopback go to the receiver, not the line; a word
; out at 0x3FA writes FCR only (the 16550 takes the low byte); word outs that
; start one port below the debug console and below COM1 reach those devices
; only as the port bus splits them. `rrvm serial` must print exactly what the
; devices printed live.
%include "boot.inc"

main:
    call uart_init
    PRINT "consoleodd: start", 10
    mov dx, COM1 + 4                   ; MCR: loopback, OUT2
    mov al, 0x1B
    out dx, al
    mov si, looped
    mov dx, COM1
.loop:
    lodsb
    test al, al
    jz .looped
    out dx, al                         ; to the receiver
    push dx
    mov dx, COM1 + 5
    in al, dx                          ; LSR: data ready
    mov dx, COM1
    in al, dx                          ; RBR: take it back
    pop dx
    jmp .loop
.looped:
    mov dx, COM1 + 4                   ; MCR: loopback off
    mov al, 0x0B
    out dx, al
    mov dx, COM1 + 2
    mov ax, 0x8300                     ; FCR = 0; 0x83 is not an LCR write
    out dx, ax
    PRINT "consoleodd: after a word out at 0x3FA", 10
    mov ax, 0x5845                     ; 0xE8 <- 'E', 0xE9 <- 'X'
    out 0xE8, ax
    mov dx, COM1 - 1
    mov ax, 0x5946                     ; 0x3F7 <- 'F', 0x3F8 <- 'Y'
    out dx, ax
    PRINT 10, "consoleodd: done", 10
    EXIT 0

looped: db "LOOPED BACK", 0

%include "console.inc"
BOOT_END
