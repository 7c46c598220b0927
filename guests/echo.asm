; echo: interrupt-driven serial input. The UART raises IRQ4 for each received
; byte (PIC remapped to 0x20, so vector 0x24); the handler drains the receiver
; and echoes every byte. At the terminator '.', input stops and the guest
; prints how many bytes it received (terminator included), then exits 0.
%include "boot.inc"

TERMINATOR equ '.'
IRQ4_VECTOR equ PIC_MASTER_VECTOR + 4

main:
    call uart_init
    IVT_SET IRQ4_VECTOR, serial_irq
    mov al, 0xEF                       ; only IRQ4 unmasked
    mov ah, 0xFF
    call pic_init
    mov dx, COM1 + 1                   ; IER: received-data interrupt
    mov al, 0x01
    out dx, al
.wait:
    cli
    cmp byte [done], 0
    jne .finished
    sti                                ; sti;hlt: no interrupt slips in between
    hlt
    jmp .wait
.finished:
    PRINT 10, "echo: received "
    mov eax, [received]
    call put_dec
    PRINT " bytes", 10
    EXIT 0

serial_irq:
    push ax
    push dx
.drain:
    mov dx, COM1 + 5                   ; LSR: data ready?
    in al, dx
    test al, 0x01
    jz .eoi
    mov dx, COM1
    in al, dx
    cmp byte [done], 0
    jne .drain                         ; after the terminator: discard
    inc dword [received]
    call putc
    cmp al, TERMINATOR
    jne .drain
    mov byte [done], 1
    mov dx, COM1 + 1                   ; no more receive interrupts
    xor al, al
    out dx, al
    jmp .drain
.eoi:
    PIC_EOI
    pop dx
    pop ax
    iret

received: dd 0
done: db 0

%include "console.inc"
%include "pic.inc"
BOOT_END
