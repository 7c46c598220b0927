; triple: loads an empty interrupt table and raises an exception. The CPU
; cannot deliver it, nor the double fault that follows: a triple fault
; (shutdown). rrvm must end with its triple-fault status, not crash.
%include "boot.inc"

main:
    call uart_init
    PRINT "triple: faulting now", 10
    lidt [empty_idt]
    int3
    PRINT "triple: still alive?!", 10
    EXIT 1

empty_idt:
    dw 0
    dd 0

%include "console.inc"
BOOT_END
