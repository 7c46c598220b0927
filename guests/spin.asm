; spin: prints a numbered line on the debug console and COM1 forever. Used
; by the crash-safety tests (a recorder killed while the guest runs) and to
; exercise --max-instructions.
%include "boot.inc"

main:
    call uart_init
    xor ebp, ebp
.again:
    PRINT "spin "
    mov eax, ebp
    call put_dec
    PRINT 10
    inc ebp
    jmp .again

%include "console.inc"
BOOT_END
