; cmos: reads the MC146818 RTC through ports 0x70/0x71 and prints
; "RTC: YYYY-MM-DD HH:MM:SS". It waits for update-in-progress (register A
; bit 7) to clear before reading, converts BCD unless register B bit 2 says
; binary, and converts 12-hour mode (register B bit 1 clear; PM in hour bit
; 7). The century comes from register 0x32 when it holds a plausible value
; (19 or 20), else 20 is assumed. Exits 0.
%include "boot.inc"

UIP_SPINS equ 0x100000                 ; bounded: a dead RTC must not hang the guest

main:
    call uart_init
    mov ecx, UIP_SPINS
.uip:
    mov al, 0x0A
    call cmos_read
    test al, 0x80
    jz .stable
    dec ecx
    jnz .uip
.stable:
    mov al, 0x0B
    call cmos_read
    mov [reg_b], al

    mov al, 0x00
    call cmos_value
    mov [second], al
    mov al, 0x02
    call cmos_value
    mov [minute], al
    mov al, 0x07
    call cmos_value
    mov [day], al
    mov al, 0x08
    call cmos_value
    mov [month], al
    mov al, 0x09
    call cmos_value
    mov [year], al
    mov al, 0x32
    call cmos_value
    cmp al, 19
    je .century_ok
    cmp al, 20
    je .century_ok
    mov al, 20
.century_ok:
    mov [century], al

    mov al, 0x04                       ; hour: PM flag must be taken off before BCD
    call cmos_read
    mov bl, al
    and al, 0x7F
    call from_bcd
    test byte [reg_b], 0x02            ; 24-hour mode?
    jnz .hour_ok
    cmp al, 12                         ; 12 AM is 0, 12 PM stays 12
    jne .not12
    xor al, al
.not12:
    test bl, 0x80
    jz .hour_ok
    add al, 12
.hour_ok:
    mov [hour], al

    PRINT "RTC: "
    mov al, [century]
    call put2
    mov al, [year]
    call put2
    mov al, '-'
    call putc
    mov al, [month]
    call put2
    mov al, '-'
    call putc
    mov al, [day]
    call put2
    mov al, ' '
    call putc
    mov al, [hour]
    call put2
    mov al, ':'
    call putc
    mov al, [minute]
    call put2
    mov al, ':'
    call putc
    mov al, [second]
    call put2
    mov al, 10
    call putc
    EXIT 0

; cmos_read: AL = register -> AL = raw value (NMI left enabled: bit 7 clear).
cmos_read:
    and al, 0x7F
    out 0x70, al
    in al, 0x71
    ret

; cmos_value: AL = register -> AL = binary value.
cmos_value:
    call cmos_read
; from_bcd: AL converted from BCD unless register B selects binary mode.
from_bcd:
    test byte [reg_b], 0x04
    jnz .binary
    push cx
    mov cl, al
    shr al, 4
    mov ch, 10
    mul ch                             ; AX = tens * 10
    and cl, 0x0F
    add al, cl
    pop cx
.binary:
    ret

; put2: AL (0..99) as two decimal digits.
put2:
    push ax
    xor ah, ah
    mov dl, 10
    div dl
    add ax, '00'
    call putc
    mov al, ah
    call putc
    pop ax
    ret

reg_b: db 0
second: db 0
minute: db 0
hour: db 0
day: db 0
month: db 0
year: db 0
century: db 0

%include "console.inc"
BOOT_END
