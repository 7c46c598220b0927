; halt_idle: interrupts enabled, every PIC line masked and no timer: it halts
; waiting for an interrupt no device will raise (status 10).
%include "boot.inc"

main:
    call uart_init
    mov al, 0xFF
    mov ah, 0xFF
    call pic_init
    PRINT "halt_idle: waiting for nothing", 10
    sti
    hlt
    PRINT "halt_idle: woke up!", 10
    EXIT 7

%include "console.inc"
%include "pic.inc"
BOOT_END
