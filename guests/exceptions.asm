; exceptions: real-mode interrupt and exception delivery through the guest's
; own IVT: a software interrupt (int 0x40), a breakpoint (int3, vector 3, a
; trap: saved IP is past it), a divide error (#DE, vector 0) and an invalid
; opcode (#UD from ud2, vector 6). Both are faults: the saved IP is the
; faulting instruction, and the handlers skip it (2 bytes each). The guest
; checks the vector and saved IP itself and prints one yes/no line each.
; Exit 0 when every check held, EXIT_FAILED otherwise.
%include "boot.inc"

SOFT_VECTOR equ 0x40
EXIT_FAILED equ 0x3D

; HANDLER name, vector, bytes to skip -- records the vector and saved IP.
%macro HANDLER 3
%1:
    push bp
    mov bp, sp
    push ax
    mov byte [seen_vector], %2
    mov ax, [bp + 2]
    mov [saved_ip], ax
    add word [bp + 2], %3
    pop ax
    pop bp
    iret
%endmacro

; EXPECT vector, ip_label, "text" -- checks what the last handler recorded.
%macro EXPECT 3
    PRINT "exceptions: ", %3, ": "
    mov al, 1
    cmp byte [seen_vector], %1
    jne %%bad
    cmp word [saved_ip], %2
    jne %%bad
    xor al, al
%%bad:
    or [failed], al
    test al, al
    PRINT_YESNO z
    mov byte [seen_vector], 0xFF
%endmacro

main:
    call uart_init
    IVT_SET 0, divide_error
    IVT_SET 3, breakpoint
    IVT_SET 6, invalid_opcode
    IVT_SET SOFT_VECTOR, soft_interrupt
    mov byte [seen_vector], 0xFF

    int SOFT_VECTOR
after_int:
    EXPECT SOFT_VECTOR, after_int, "int 0x40 returned past the int"

    int3
after_int3:
    EXPECT 3, after_int3, "int3 (vector 3) returned past the int3"

    mov ax, 1000
    xor cl, cl
faulting_div:
    div cl                             ; 2 bytes: F6 F1
    EXPECT 0, faulting_div, "#DE (vector 0) saved IP at the div, skipped"

faulting_ud2:
    ud2                                ; 2 bytes: 0F 0B
    EXPECT 6, faulting_ud2, "#UD (vector 6) saved IP at the ud2, skipped"

    PRINT "exceptions: done", 10
    cmp byte [failed], 0
    jne .failed
    EXIT 0
.failed:
    EXIT EXIT_FAILED

HANDLER soft_interrupt, SOFT_VECTOR, 0
HANDLER breakpoint, 3, 0
HANDLER divide_error, 0, 2
HANDLER invalid_opcode, 6, 2

seen_vector: db 0xFF
failed: db 0
saved_ip: dw 0

%include "console.inc"
BOOT_END
