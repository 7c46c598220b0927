; pm32: starts in real mode like any boot sector, then enters 32-bit
; protected mode itself (lgdt, CR0.PE, far jump), installs an IDT, takes a
; divide error (#DE, vector 0) and timer interrupts (PIC remapped to 0x20),
; and prints what it observed. Every fact is checked by the guest itself, so
; the output does not depend on addresses or timing. Exit 0 on success; a
; vector the guest did not expect exits EXIT_UNEXPECTED.
%include "boot.inc"

CODE32 equ 0x08
DATA32 equ 0x10
IDT_VECTORS equ 0x30                   ; exceptions and both PICs
TICKS_WANTED equ 5
EXIT_UNEXPECTED equ 0x3E

main:
    lgdt [gdt_descriptor]
    mov eax, cr0
    or eax, 1
    mov cr0, eax
    jmp CODE32:pm_entry

; Descriptors come pre-marked accessed, as Linux's boot GDT does, so no CPU
; writes the GDT when a segment is loaded. (QEMU's TCG, which runs the nested
; kvm tests, does not set the bit on a far jump; hardware and Unicorn do, and
; the final RAM hash would differ across backends.)
gdt:
    dq 0
    dq 0x00CF9B000000FFFF              ; 0x08: code, flat 4 GiB, 32-bit (accessed)
    dq 0x00CF93000000FFFF              ; 0x10: data, flat 4 GiB (accessed)
gdt_descriptor:
    dw gdt_descriptor - gdt - 1
    dd gdt

bits 32
pm_entry:
    mov ax, DATA32
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    mov esp, 0x7C00
    call uart_init

    ; Every vector first gets the "unexpected" handler, then the two we use.
    mov edi, idt
    mov ecx, IDT_VECTORS
.fill:
    mov eax, unexpected_vector
    call set_gate
    add edi, 8
    loop .fill
    mov edi, idt + 0 * 8
    mov eax, divide_error
    call set_gate
    mov edi, idt + PIC_MASTER_VECTOR * 8
    mov eax, timer_irq
    call set_gate
    lidt [idt_descriptor]

    PRINT "pm32: protected mode, CR0.PE=1: "
    mov eax, cr0
    test al, 1
    PRINT_YESNO nz

    ; #DE is a fault: the saved EIP is the div itself, the handler skips it.
    mov eax, 100
    xor edx, edx
    xor ecx, ecx
faulting_div:
    div ecx
after_div:
    PRINT "pm32: #DE taken: "
    cmp dword [de_count], 1
    PRINT_YESNO e
    PRINT "pm32: #DE saved EIP at the div, CS=0x08: "
    cmp byte [de_frame_ok], 1
    PRINT_YESNO e

    mov al, 0xFE                       ; only IRQ0 unmasked
    mov ah, 0xFF
    call pic_init
    mov ax, PIT_1KHZ_DIVISOR
    call pit_init
.wait:
    cli
    cmp dword [ticks], TICKS_WANTED
    jae .waited
    sti
    hlt
    jmp .wait
.waited:
    PRINT "pm32: timer interrupts through IDT vector 0x20: "
    cmp dword [ticks], TICKS_WANTED
    PRINT_YESNO ae
    PRINT "pm32: done", 10
    EXIT 0

; set_gate: EDI = gate address, EAX = handler (32-bit interrupt gate, DPL 0).
set_gate:
    mov [edi], ax
    mov word [edi + 2], CODE32
    mov word [edi + 4], 0x8E00
    shr eax, 16
    mov [edi + 6], ax
    ret

divide_error:
    inc dword [de_count]
    cmp dword [esp], faulting_div
    jne .bad
    cmp dword [esp + 4], CODE32
    jne .bad
    mov byte [de_frame_ok], 1
.bad:
    mov dword [esp], after_div         ; resume past the 2-byte div
    iretd

timer_irq:
    push eax
    inc dword [ticks]
    PIC_EOI
    pop eax
    iretd

unexpected_vector:
    PRINT "pm32: unexpected interrupt or exception", 10
    EXIT EXIT_UNEXPECTED

align 4
de_count: dd 0
ticks: dd 0
de_frame_ok: db 0
align 8
idt_descriptor:
    dw IDT_VECTORS * 8 - 1
    dd idt
idt:
    times IDT_VECTORS * 8 db 0

%include "console.inc"
%include "pic.inc"
BOOT_END
