; bench_io: 200,000 port writes to 0x80 and 200,000 reads of the UART line
; status register, then exit 0. Exit-heavy: measures exits per second and
; trace bytes per exit.
%include "boot.inc"

main:
    mov ecx, 200000
.loop:
    mov al, cl
    out 0x80, al
    mov dx, 0x3FD
    in al, dx
    dec ecx
    jnz .loop
    EXIT 0

%include "console.inc"
BOOT_END
