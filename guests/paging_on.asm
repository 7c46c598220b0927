; paging_on: turns paging on (CR0.PG with PE) without page tables. The emu
; backend refuses paging: the run ends with a backend error (status 12),
; the one ending a guest can cause on emu that is not a guest's own exit.
; (On kvm the CPU would fault through empty tables: a triple fault.)
%include "boot.inc"

main:
    call uart_init
    PRINT "paging_on: enabling paging", 10
    mov eax, cr0
    or eax, 0x80000001
    mov cr0, eax
    PRINT "paging_on: still running?!", 10
    EXIT 7

%include "console.inc"
BOOT_END
