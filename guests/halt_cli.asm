; halt_cli: ends in hlt with interrupts disabled (no debug exit): the run
; ends "halted forever" (status 10). The code after the hlt must never run,
; live or in replay: it prints and exits with another status.
%include "boot.inc"

main:
    call uart_init
    PRINT "halt_cli: halting with IF=0", 10
    cli
    hlt
    PRINT "halt_cli: ran past the final hlt!", 10
    EXIT 7

%include "console.inc"
BOOT_END
