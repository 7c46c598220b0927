; hello: the smallest complete guest. Prints one line on COM1 and the debug
; console, then exits with status 0.
%include "boot.inc"

main:
    call uart_init
    PRINT "Hello from rrvm guest", 10
    EXIT 0

%include "console.inc"
BOOT_END
