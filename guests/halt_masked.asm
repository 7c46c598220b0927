; halt_masked: the PIT ticks at 1 kHz but IRQ0 is masked at the PIC, so a
; halted guest sees deadlines that never wake it; the run loop gives up
; after its idle wake-up limit (status 10).
%include "boot.inc"

main:
    call uart_init
    mov al, 0xFF                       ; IRQ0 masked too
    mov ah, 0xFF
    call pic_init
    mov ax, PIT_1KHZ_DIVISOR
    call pit_init
    PRINT "halt_masked: waiting behind a masked timer", 10
    sti
    hlt
    PRINT "halt_masked: woke up!", 10
    EXIT 7

%include "console.inc"
%include "pic.inc"
BOOT_END
